"""The fault suite's results as a Markdown table: one row per scenario.

python -m tests.chaos.report [results.json]      # print the table of a saved run
"""

import json
import sys
from pathlib import Path

COLUMNS = (
    ("scenario", "scenario"),
    ("requests", "requests"),
    ("failed idempotent", "failed_idempotent"),
    ("5xx / no response", "status_5xx"),
    ("503 without Retry-After", "shed_503_without_retry_after"),
    ("acknowledged writes", "acknowledged"),
    ("lost", "lost"),
    ("duplicated", "duplicated"),
    ("409", "conflicts_409"),
    ("read-your-write misses", "read_your_write_misses"),
    ("client resends", "client_resends"),
    ("read p99 ms", "read_p99_ms"),
    ("error-free again after s", "recovery_seconds"),
    ("pools idle after", "pools_idle_after"),
    ("alerts raised", "alerts"),
)


def _cell(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{status}: {count}" for status, count in value.items()) or "–"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, list):
        return ", ".join(value) or "–"
    return str(value)


def table(rows: list[dict]) -> str:
    lines = [
        "| " + " | ".join(title for title, _ in COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(key, "–")) for _, key in COLUMNS) + " |")
    return "\n".join(lines)


# What a later run is compared on: the failure columns (throughput varies with the machine).
COMPARED = ("failed_idempotent", "failed_not_503", "lost", "duplicated", "conflicts_409")


def comparison(new: list[dict], old: list[dict]) -> str:
    """One row per scenario of `new`: each compared figure as `old -> new`."""
    before = {row["scenario"]: row for row in old}
    lines = ["| scenario | " + " | ".join(COMPARED) + " |", "|" + "---|" * (len(COMPARED) + 1)]
    for row in new:
        was = before.get(row["scenario"], {})
        cells = [f"{was.get(key, '–')} -> {row[key]}" for key in COMPARED]
        lines.append(f"| {row['scenario']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _scenarios(path: str) -> list[dict]:
    return json.loads(Path(path).read_text())["scenarios"]


if __name__ == "__main__":
    paths = sys.argv[1:] or [str(Path(__file__).parent / "results/latest.json")]
    if len(paths) == 2:
        print(comparison(_scenarios(paths[0]), _scenarios(paths[1])))
    else:
        print(table(_scenarios(paths[0])))
