"""Turn a matrix run (raw.json) into medians, ratios to the baseline, a table and a chart.

python -m benchmarks.matrix.report DIR      # writes DIR/summary.md and DIR/matrix.png
"""

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .modes import BASELINE, WORKLOAD_PATHS  # noqa: E402


def medians(raw: dict) -> dict[tuple[str, str, int], dict]:
    """Median req/s, p99 and errors per (mode, workload, concurrency) over the rounds."""
    cells = defaultdict(list)
    for result in raw["results"]:
        cells[result["mode"], result["workload"], result["concurrency"]].append(result)
    summary = {}
    for key, runs in cells.items():
        p99s = [run["p99"] for run in runs if run["p99"] is not None]
        cpus = [run["cpu_us"] for run in runs if "cpu_us" in run]
        summary[key] = {
            "rps": statistics.median(run["rps"] for run in runs),
            "p99": statistics.median(p99s) if p99s else None,
            "errors": statistics.median(run["errors"] for run in runs),
            "cpu_us": statistics.median(cpus) if cpus else None,
            "rounds": len(runs),
        }
    return summary


def ratio(summary: dict, mode: str, workload: str, concurrency: int) -> float | None:
    """req/s of `mode` divided by the baseline's, in the same cell."""
    base = summary.get((BASELINE, workload, concurrency))
    cell = summary.get((mode, workload, concurrency))
    if not base or not cell or not base["rps"]:
        return None
    return cell["rps"] / base["rps"]


def table(raw: dict, summary: dict) -> str:
    """One Markdown table per workload: req/s (× baseline), p99, errors, per concurrency."""
    concurrencies = sorted({c for _, _, c in summary})
    lines = []
    for workload, path in WORKLOAD_PATHS.items():
        modes = [m for m in raw["modes"] if any((m, workload, c) in summary for c in concurrencies)]
        if not modes:
            continue
        lines += [
            f"\n#### `{path}`\n",
            "| mode | "
            + " | ".join(f"c={c}: req/s (× base) · p99 · errors" for c in concurrencies)
            + " |",
            "|---|" + "---|" * len(concurrencies),
        ]
        for mode in modes:
            cells = []
            for concurrency in concurrencies:
                cell = summary.get((mode, workload, concurrency))
                if cell is None:
                    cells.append("–")
                    continue
                factor = ratio(summary, mode, workload, concurrency)
                p99 = f"{cell['p99'] * 1000:.0f} ms" if cell["p99"] is not None else "–"
                cells.append(
                    f"{cell['rps']:,.0f} ({factor:.2f}×) · {p99} · {cell['errors']:.0f}"
                    if factor is not None
                    else f"{cell['rps']:,.0f} · {p99} · {cell['errors']:.0f}"
                )
            name = f"**{mode}**" if mode == BASELINE else mode
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def chart(raw: dict, summary: dict, path: Path, metric: str = "rps") -> None:
    """Grouped bars: the median `metric` (rps or p99) per mode, a panel per workload, a bar per
    concurrency."""
    concurrencies = sorted({c for _, _, c in summary})
    workloads = [w for w in WORKLOAD_PATHS if any(key[1] == w for key in summary)]
    fig, axes = plt.subplots(len(workloads), 1, figsize=(12, 4.2 * len(workloads)), squeeze=False)
    for ax, workload in zip(axes[:, 0], workloads, strict=True):
        modes = [m for m in raw["modes"] if any((m, workload, c) in summary for c in concurrencies)]
        width = 0.8 / len(concurrencies)
        for index, concurrency in enumerate(concurrencies):
            values = [
                (summary.get((m, workload, concurrency), {}).get(metric) or 0)
                * (1000 if metric == "p99" else 1)
                for m in modes
            ]
            positions = [
                i + (index - (len(concurrencies) - 1) / 2) * width for i in range(len(modes))
            ]
            ax.bar(positions, values, width, label=f"c={concurrency}")
        ax.set_xticks(range(len(modes)), modes, rotation=25, ha="right", fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("requests/s (median, log)" if metric == "rps" else "p99 latency, ms (log)")
        ax.set_title(f"{WORKLOAD_PATHS[workload]}")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)
    machine = raw["machine"]
    fig.suptitle(
        f"Serving modes ({'throughput' if metric == 'rps' else 'p99 latency'}), "
        f"{raw['rounds']} interleaved rounds of {raw['duration']} s · "
        f"{machine['cpus']} CPUs · Python {machine['python']}",
        fontsize=11,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> None:
    directory = Path(sys.argv[1])
    raw = json.loads((directory / "raw.json").read_text())
    summary = medians(raw)
    cooperative = {
        label: f"{statistics.median(times):.2f} s (rounds: {', '.join(f'{t:.2f}' for t in times)})"
        for label, times in raw.get("cooperative_io", {}).items()
        if times
    }
    text = [
        "## Serving-mode matrix",
        "",
        f"Machine: {raw['machine']['cpu']}, {raw['machine']['cpus']} CPUs, kernel "
        f"{raw['machine']['kernel']}, Python {raw['machine']['python']}, {raw['machine']['wrk']}, "
        f"{raw['machine']['postgres']}. Each cell: median of {raw['rounds']} rounds of "
        f"{raw['duration']} s (wrk, 2 threads), modes in a new random order every round. "
        f"× base = req/s relative to `{BASELINE}` in the same run.",
        "",
        "Modes:",
        *[
            f"- `{name}` ({info['group']}): {info['description']}"
            for name, info in raw["modes"].items()
        ],
        "",
        "Notes: " + ("; ".join(f"{k}: {v}" for k, v in raw.get("notes", {}).items()) or "none"),
        "",
        "Cooperative I/O, 20 concurrent `pg_sleep(0.2)` on one worker: "
        + ("; ".join(f"{k}: {v}" for k, v in cooperative.items()) or "not measured"),
        table(raw, summary),
    ]
    (directory / "summary.md").write_text("\n".join(text) + "\n")
    chart(raw, summary, directory / "matrix.png")
    chart(raw, summary, directory / "matrix-p99.png", metric="p99")
    print(f"{directory / 'summary.md'}\n{directory / 'matrix.png'}\n{directory / 'matrix-p99.png'}")


if __name__ == "__main__":
    main()
