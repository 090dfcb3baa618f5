"""The request-path goals (issue 9) from a matrix run: ratios to the framework-free ceiling,
metrics on against off, and this code against a baseline commit, each within the same run.

    python -m benchmarks.matrix.goals DIR      # DIR/raw.json -> DIR/goals.md

`make bench-goals` runs the matrix on the cells these need and then this report.
"""

import json
import sys
from pathlib import Path

from .modes import BASELINE
from .report import medians

CEILING = "raw-wsgi-gevent"
METRICS_OFF = "gunicorn-gevent-metrics-off"
# (goal, numerator cell, denominator cell, target): numerator / denominator must reach target
# (a target below 1 is a floor, above 1 a ceiling).
RATIOS = [
    ("`/db` ÷ the ceiling's `/db` (c=64)", ("db", 64), (CEILING, "db", 64), 0.6),
    ("`GET /api/items/<id>` ÷ the ceiling's `/db` (c=64)", ("item", 64), (CEILING, "db", 64), 0.5),
    ("`/json` ÷ the ceiling's `/json` (c=64)", ("json", 64), (CEILING, "json", 64), 0.5),
]
METRICS_COST = [("`/db` (c=64)", ("db", 64)), ("`/json` (c=64)", ("json", 64))]
NO_REGRESSION = [("db_sleep", 256), ("sleep", 1000), ("json", 64)]
ROW = "| {} | {} | {} | {} |"


def _rps(summary: dict, mode: str, cell: tuple[str, int]) -> float | None:
    found = summary.get((mode, *cell))
    return found["rps"] if found else None


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}×" if a and b else "–"


def goals(raw: dict) -> str:
    """The goals table: each figure for this code and for the baseline commit (if measured)."""
    summary = medians(raw)
    before = next((m for m in raw["modes"] if m.startswith(f"{BASELINE}@")), None)
    ref = before.partition("@")[2] if before else None
    lines = [
        "| goal | target | after | before" + (f" (`{ref}`)" if ref else "") + " |",
        "|---|---|---|---|",
    ]
    for goal, cell, ceiling, target in RATIOS:
        ceiling_rps = _rps(summary, ceiling[0], ceiling[1:])
        figures = [
            _ratio(_rps(summary, mode, cell), ceiling_rps) if mode else "–"
            for mode in (BASELINE, before)
        ]
        lines.append(ROW.format(goal, f"≥ {target}×", *figures))
    for label, cell in METRICS_COST:
        figures = [
            _ratio(_rps(summary, off, cell), _rps(summary, on, cell)) if on else "–"
            for on, off in ((BASELINE, METRICS_OFF), (before, before and f"{METRICS_OFF}@{ref}"))
        ]
        lines.append(ROW.format(f"metrics off ÷ on, {label}", "≤ 1.05×", *figures))
    lines += [
        "",
        "| no regression: after ÷ before | req/s | p99 (after · before) |",
        "|---|---|---|",
    ]
    for cell in NO_REGRESSION:
        after, earlier = (summary.get((mode, *cell)) for mode in (BASELINE, before))
        if not after or not earlier:
            continue
        p99s = " · ".join(
            f"{c['p99'] * 1000:.0f} ms" if c["p99"] else "–" for c in (after, earlier)
        )
        lines.append(
            f"| `{cell[0]}` c={cell[1]} | {_ratio(after['rps'], earlier['rps'])} | {p99s} |"
        )
    return "\n".join(lines)


def main() -> None:
    directory = Path(sys.argv[1])
    raw = json.loads((directory / "raw.json").read_text())
    text = [
        "## Request-path goals",
        "",
        f"Medians of {raw['rounds']} interleaved rounds of {raw['duration']} s; every ratio is "
        "between two modes of the same run.",
        "",
        goals(raw),
    ]
    (directory / "goals.md").write_text("\n".join(text) + "\n")
    print((directory / "goals.md").read_text())


if __name__ == "__main__":
    main()
