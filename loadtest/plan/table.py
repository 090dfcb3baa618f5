"""python -m loadtest.plan.table PLAN_DIR...: one row per verified plan (its verify.json),
predicted vs achieved, and the model's error over them (docs/capacity.md's table)."""

import json
import statistics
import sys
from pathlib import Path

from . import verify

HEADER = (
    "| target | plan (plan.env) | predicted at the target: busiest, p99, binds first at | "
    "achieved at the target: req/s, p99, pool wait p99 | others' cores: plan / run | "
    "pushed +30 %: first to saturate | verdict |",
    "|---|---|---|---|---|---|---|",
)


def _shape(env: dict) -> str:
    return (
        f"{env['API_REPLICAS']} × {env['WEB_CONCURRENCY']} worker, "
        f"{env['GUNICORN_WORKER_CONNECTIONS']} slots, pool {env['DB_POOL_SIZE']}"
        f"+{env['DB_MAX_OVERFLOW']}, max_connections {env['POSTGRES_MAX_CONNECTIONS']}"
    )


def row(v: dict) -> str:
    """One verified plan as a table row."""
    at, used = v["at_target"], v["at_target"]["utilisation"]
    busiest = max(used, key=lambda name: used[name]["predicted"])
    p99, others = at["p99_excess_ms"], at["background_cores"]
    pushed = v["pushed"]
    cells = [
        f"{v['target']['rps']:g} req/s, p99 ≤ {v['target']['p99_ms']:g} ms",
        _shape(v["plan"]),
        f"{busiest} {used[busiest]['predicted']:.0%}, {p99['predicted']:.0f} ms, "
        f"{v['binding']} at {v['capacity_rps']:.0f} req/s",
        f"{at['served_rps']:.1f} ({at['served_rps'] / at['target_rps'] - 1:+.1%}), "
        f"{p99['achieved']:.0f} ms, {at['pool_wait_p99_ms']['achieved']:.1f} ms",
        f"{others['predicted']:.2f} / {others['achieved']:.2f}",
        f"{pushed['first_to_saturate']} (named {v['binding']})" if pushed else "not reached",
        f"**{v['verdict']}**",
    ]
    return "| " + " | ".join(cells) + " |"


def errors(v: dict) -> dict[str, float]:
    """Achieved against predicted at the target: relative for rates and p99 (with the node
    load the plan assumed, and with the load the run met), in points for utilisation."""
    at = v["at_target"]
    p99 = at["p99_excess_ms"]
    found = {
        "throughput, % of the target": at["served_rps"] / at["target_rps"] - 1,
        "p99, % of predicted (plan)": p99["achieved"] / p99["predicted"] - 1,
        "p99, % of predicted (node load seen)": p99["achieved"] / p99["predicted_here"] - 1,
    }
    for name, u in at["utilisation"].items():
        if u["achieved"] is not None and u["predicted_here"] is not None:
            found[f"{name} utilisation, points (node load seen)"] = (
                u["achieved"] - u["predicted_here"]
            )
    return found


def table(plan_dirs: list[Path]) -> str:
    results = [json.loads((d / verify.DATA_FILE).read_text()) for d in plan_dirs]
    lines = [*HEADER, *(row(v) for v in results), "", "Model error (median, range):", ""]
    found = [errors(v) for v in results]
    for name in found[0]:
        values = [100 * e[name] for e in found if name in e]
        lines.append(
            f"- {name}: {statistics.median(values):+.0f} ({min(values):+.0f} to {max(values):+.0f})"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(table([Path(a) for a in sys.argv[1:]]), end="")
