"""The request-path goals (issue 9) from a matrix run: ratios to the framework-free ceiling,
metrics on against off, and this code against a baseline commit, each within the same run.

    python -m benchmarks.matrix.goals DIR      # DIR/raw.json -> DIR/goals.md

`make bench-goals` runs the matrix on the cells these need and then this report. Each figure
is given twice: as the ratio of median req/s (what wrk sees), and as the inverse ratio of the
servers' median CPU time per request, which load from other processes on a shared machine
moves far less (a server that needs half the CPU per request serves twice as many once it is
the bottleneck).
"""

import json
import sys
from pathlib import Path

from .modes import BASELINE
from .report import medians

CEILING = "raw-wsgi-gevent"
METRICS_OFF = "gunicorn-gevent-metrics-off"
# (goal, numerator cell, denominator (mode, cell), target): numerator's rate over the
# denominator's must reach the target (a target below 1 is a floor, above 1 a ceiling).
RATIOS = [
    ("`/db` ÷ the ceiling's `/db`", ("db", 64), (CEILING, ("db", 64)), "≥ 0.6×"),
    ("`GET /api/items/<id>` ÷ the ceiling's `/db`", ("item", 64), (CEILING, ("db", 64)), "≥ 0.5×"),
    ("`/json` ÷ the ceiling's `/json`", ("json", 64), (CEILING, ("json", 64)), "≥ 0.5×"),
]
METRICS_COST = [("`/db`", ("db", 64)), ("`/json`", ("json", 64))]
NO_REGRESSION = [("db_sleep", 256), ("sleep", 1000), ("json", 64)]


def _figure(summary: dict, a: tuple[str, tuple], b: tuple[str, tuple]) -> str:
    """ "req/s ratio · CPU ratio" of cell a over cell b (each (mode, (workload, c)))."""
    first, second = (summary.get((mode, *cell)) for mode, cell in (a, b))
    if not first or not second:
        return "–"
    rates = f"{first['rps'] / second['rps']:.2f}×"
    if first["cpu_us"] and second["cpu_us"]:
        return f"{rates} · {second['cpu_us'] / first['cpu_us']:.2f}×"
    return rates


def goals(raw: dict) -> str:
    """The goals table: each figure for this code and for the baseline commit (if measured)."""
    summary = medians(raw)
    before = next((m for m in raw["modes"] if m.startswith(f"{BASELINE}@")), None)
    ref = before.partition("@")[2] if before else None
    header = "before" + (f" (`{ref}`)" if ref else "")
    lines = [
        f"| goal (c=64) | target | after: req/s · CPU | {header}: req/s · CPU |",
        "|---|---|---|---|",
    ]
    for goal, cell, ceiling, target in RATIOS:
        figures = [_figure(summary, (m, cell), ceiling) if m else "–" for m in (BASELINE, before)]
        lines.append(f"| {goal} | {target} | {' | '.join(figures)} |")
    for label, cell in METRICS_COST:
        pairs = [(BASELINE, METRICS_OFF), (before, before and f"{METRICS_OFF}@{ref}")]
        figures = [_figure(summary, (off, cell), (on, cell)) if on else "–" for on, off in pairs]
        lines.append(f"| metrics off ÷ on, {label} | ≤ 1.05× | {' | '.join(figures)} |")
    lines += [
        "",
        "| no regression | after ÷ before: req/s · CPU | p99: after · before |",
        "|---|---|---|",
    ]
    for cell in NO_REGRESSION:
        after, earlier = (summary.get((mode, *cell)) for mode in (BASELINE, before))
        if not after or not earlier:
            continue
        p99s = " · ".join(
            f"{c['p99'] * 1000:.0f} ms" if c["p99"] else "–" for c in (after, earlier)
        )
        figure = _figure(summary, (BASELINE, cell), (before, cell))
        lines.append(f"| `{cell[0]}` c={cell[1]} | {figure} | {p99s} |")
    return "\n".join(lines)


def main() -> None:
    directory = Path(sys.argv[1])
    raw = json.loads((directory / "raw.json").read_text())
    text = [
        "## Request-path goals",
        "",
        f"Medians of {raw['rounds']} interleaved rounds of {raw['duration']} s; every ratio is "
        "between two modes of the same run: of median req/s, and (after the dot) the inverse "
        "ratio of median server CPU time per request.",
        "",
        goals(raw),
    ]
    (directory / "goals.md").write_text("\n".join(text) + "\n")
    print((directory / "goals.md").read_text())


if __name__ == "__main__":
    main()
