"""python -m loadtest.plan.table [--plot FILE.png] PLAN_DIR...: one row per verified plan (its
verify.json), predicted vs achieved, and the model's error over them (docs/capacity.md's
table); --plot draws predicted against achieved at both steps of every run."""

import json
import math
import statistics
import sys
from pathlib import Path

from . import verify
from .output import plt

HEADER = (
    "| target | plan (plan.env) | predicted at the rate served: busiest, p99; binds first at | "
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
        _pushed(v) if pushed else "not reached",
        f"**{v['verdict']}**",
    ]
    return "| " + " | ".join(cells) + " |"


def _pushed(v: dict) -> str:
    """What saturated first at +headroom, and what the model named: for the node the plan
    assumed and, where it differs, for the node the run met (older runs recorded only the
    first)."""
    pushed = v["pushed"]
    here = pushed.get("binding_here", v["binding"])
    named = v["binding"] if here == v["binding"] else f"{v['binding']}; {here} for the node met"
    return f"{pushed['first_to_saturate']} (named {named})"


def errors(v: dict) -> dict[str, float]:
    """Achieved against predicted at the target: relative for rates and p99 (with the node
    load the plan assumed, and with the load the run met), in points for utilisation; a
    prediction that saturated (None) has no error."""
    at = v["at_target"]
    p99 = at["p99_excess_ms"]
    pairs = {
        "p99, % of predicted (plan)": (p99["achieved"], p99["predicted"]),
        "p99, % of predicted (node load seen)": (p99["achieved"], p99["predicted_here"]),
    }
    found = {"throughput, % of the target": at["served_rps"] / at["target_rps"] - 1}
    found |= {name: a / b - 1 for name, (a, b) in pairs.items() if None not in (a, b)}
    for name, u in at["utilisation"].items():
        if u["achieved"] is not None and u["predicted_here"] is not None:
            found[f"{name} utilisation, points (node load seen)"] = (
                u["achieved"] - u["predicted_here"]
            )
    return found


def load(plan_dirs: list[Path]) -> list[dict]:
    return [json.loads((d / verify.DATA_FILE).read_text()) for d in plan_dirs]


def table(plan_dirs: list[Path]) -> str:
    """The rows, then the model's error over the conclusive runs (an INCONCLUSIVE one met a
    node the plan could not have served on: its error is the neighbours')."""
    results = load(plan_dirs)
    conclusive = [v for v in results if v["verdict"] != "INCONCLUSIVE"]
    lines = [*HEADER, *(row(v) for v in results), ""]
    lines += [f"Model error over the {len(conclusive)} conclusive runs (median, range):", ""]
    found = [errors(v) for v in conclusive]
    for name in dict.fromkeys(n for e in found for n in e):
        values = [100 * e[name] for e in found if name in e]
        lines.append(
            f"- {name}: {statistics.median(values):+.0f} ({min(values):+.0f} to {max(values):+.0f})"
        )
    return "\n".join(lines) + "\n"


def plot(plan_dirs: list[Path], path: Path) -> None:
    """Predicted (at the node load the run met) against achieved, per run (a colour) and step
    (o at the target, ^ pushed): p99 beyond the designed delays, and utilisation per resource
    (a colour each)."""
    results = load(plan_dirs)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for n, v in enumerate(results):
        label = f"{v['target']['rps']:g} req/s, {v['verdict']}"
        for check, marker in ((v["at_target"], "o"), (v["pushed"], "^")):
            if check is None:
                continue
            p99 = check["p99_excess_ms"]
            left.scatter(
                p99["predicted_here"] or math.nan,
                p99["achieved"],
                marker=marker,
                color=colours[n % len(colours)],
                label=label if marker == "o" else None,
            )
            for k, (name, u) in enumerate(check["utilisation"].items()):
                if u["achieved"] is not None and u["predicted_here"] is not None:
                    right.scatter(
                        u["predicted_here"],
                        u["achieved"],
                        marker=marker,
                        color=colours[k],
                        label=name if n == 0 and marker == "o" else None,
                    )
    left.set(xscale="log", yscale="log")  # p99s from tens of ms to seconds
    right.set(xlim=(0, 1.3), ylim=(0, 1.3))  # past 1 a resource is saturated
    for axis, title, unit, low in (
        (left, "p99 beyond the designed delays", "ms", 1.0),
        (right, "utilisation at the target (o) and +30 % (^)", "fraction", 0.0),
    ):
        top = max(axis.get_xlim()[1], axis.get_ylim()[1])
        axis.plot([low, top], [low, top], color="grey", linewidth=0.8)  # achieved = predicted
        axis.set(title=title, xlabel=f"predicted at the node load seen, {unit}")
        axis.set(ylabel=f"achieved, {unit}")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--plot"]:
        plot([Path(a) for a in args[2:]], Path(args[1]))
        args = args[2:]
    print(table([Path(a) for a in args]), end="")
