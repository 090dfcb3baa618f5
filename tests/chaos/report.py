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
    ("alerts raised", "alerts"),
)


def _cell(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{status}: {count}" for status, count in value.items()) or "–"
    if isinstance(value, list):
        return ", ".join(value) or "–"
    return str(value)


def table(rows: list[dict]) -> str:
    lines = [
        "| " + " | ".join(title for title, _ in COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row[key]) for _, key in COLUMNS) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "results/latest.json")
    print(table(json.loads(path.read_text())["scenarios"]))
