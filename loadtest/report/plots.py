"""The report's PNGs: the run over time (client next to server), endpoints, stress steps."""

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from .knee import Knee  # noqa: E402
from .model import ClientSeries, RequestStats  # noqa: E402
from .prometheus import PANELS, Series  # noqa: E402

SERVER_PANELS = (
    "saturation",
    "open_connections",
    "listen_backlog",
    "pool_wait_p95",
    "event_loop_lag_p95",
)
PHASE_COLOURS = ("#f2f2f2", "#ffffff")


def _shade_phases(ax, windows: list[dict], label: bool) -> None:
    """Alternate light bands per phase (k6's phase tag), named on the top row."""
    for i, window in enumerate(windows):
        if window["phase"] == "ramp":
            continue
        ax.axvspan(window["start"], window["end"], color=PHASE_COLOURS[i % 2], zorder=0)
        if label:
            ax.text(
                (window["start"] + window["end"]) / 2,
                0.98,
                window["phase"],
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="top",
                fontsize=6,
                color="#666666",
            )


def _nothing(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="#999999")


def _top(lines: list[Series] | None) -> float:
    """A y-axis top with headroom above the highest finite value (1 if there is none)."""
    values = [v for line in lines or [] for v in line.values if math.isfinite(v)]
    return max(values, default=0) * 1.15 or 1.0


def _server_lines(ax, lines: list[Series] | None, style="-", prefix="") -> bool:
    if not lines:
        return False
    for line in lines:
        values = [v if not math.isnan(v) else None for v in line.values]
        ax.plot(line.times, values, style, linewidth=1.2, label=f"{prefix}{line.legend}")
    return True


def timeline_png(
    path: Path,
    title: str,
    client: ClientSeries,
    server: dict[str, list[Series]] | None,
    windows: list[dict],
) -> None:
    """Client-side throughput, latency, errors and load (left) next to the server (right)."""
    fig, axes = plt.subplots(5, 2, figsize=(15, 16), sharex=True)
    fig.suptitle(title, fontsize=12)
    times = client.times
    server = server or {}
    (throughput, latency, errors, load, versus) = axes[:, 0]

    # What each population sent, against the scenario's target.
    names = sorted(client.requests)
    if names:
        throughput.stackplot(
            times, [client.requests[n] for n in names], labels=names, alpha=0.7, step="post"
        )
    if client.iterations is not None:
        throughput.step(times, client.iterations, "k-", where="post", linewidth=1, label="it/s")
    if client.target is not None:
        throughput.plot(times, client.target, "k--", linewidth=1, label="target it/s")
    throughput.set_title("Client: requests/s by population")
    throughput.set_ylabel("per second")

    latency.plot(times, client.p50_ms, label="p50")
    latency.plot(times, client.p95_ms, label="p95")
    latency.plot(times, client.p99_ms, label="p99")
    latency.set_yscale("log")
    latency.set_title("Client: latency percentiles (log scale)")
    latency.set_ylabel("ms")

    for kind, values in sorted(client.errors.items()):
        errors.step(times, values, where="post", label=str(kind))
    api_errors = _server_lines(errors, server.get("server_errors"), ":", "API ")
    if not client.errors and not api_errors:
        _nothing(errors, "no failed requests")
    errors.set_title("Client: failed requests/s by status (API's own count dotted)")
    errors.set_ylabel("per second")

    load.step(times, client.active, where="post", label="VUs / users")
    if client.dropped is not None and any(client.dropped):
        load.step(times, client.dropped, "r-", where="post", label="dropped it/s")
    load.set_title("Client: concurrency (VUs / users) and dropped iterations")

    # The gap between what was sent and what the API counted is queueing in front of it.
    totals = [sum(values) for values in zip(*client.requests.values(), strict=True)]
    versus.step(times, totals or [0] * len(times), "k-", where="post", label="client sent")
    _server_lines(versus, server.get("server_rps"), ":", "API ")
    versus.set_title("Requests/s: sent by the client vs served by the API")
    versus.set_ylabel("per second")
    versus.set_xlabel("seconds since start")

    for key, ax in zip(SERVER_PANELS, axes[:, 1], strict=True):
        panel = next(p for p in PANELS if p.key == key)
        if not _server_lines(ax, server.get(key)):
            _nothing(ax, "no samples" if server else "no Prometheus data")
        ax.set_title(f"Server: {panel.title}")
        ax.set_ylabel(panel.unit)
        ax.set_ylim(0, _top(server.get(key)))
    axes[4][1].set_xlabel("seconds since start")

    for row, pair in enumerate(axes):
        for ax in pair:
            _shade_phases(ax, windows, label=row == 0)
            ax.grid(True, alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def endpoints_png(path: Path, title: str, endpoints: dict[str, RequestStats], budgets) -> None:
    """p50/p95/p99 per endpoint; the tick marks each endpoint's p95 budget."""
    names = sorted(endpoints, key=lambda e: e.split(" ", 1)[::-1])
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(names) + 1.5))
    y = range(len(names))
    for offset, (attr, label) in enumerate(
        (("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99"))
    ):
        values = [getattr(endpoints[n], attr) or 0 for n in names]
        ax.barh([i + (offset - 1) * 0.27 for i in y], values, height=0.27, label=label)
    for i, name in enumerate(names):
        if name in budgets:
            ax.plot([budgets[name]] * 2, [i - 0.45, i + 0.45], "k-", linewidth=2)
    ax.set_yticks(list(y), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("ms (log scale); black tick: p95 budget")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def knee_png(path: Path, title: str, knee: Knee, steps, p95_budget: float | None) -> None:
    """Per stress step: achieved vs target rate, and p95 and errors; the knee marked."""
    reached = [s for s in steps if s.reached]
    fig, (rates, latency) = plt.subplots(1, 2, figsize=(13, 4.5))
    fig.suptitle(title, fontsize=11)
    targets = [s.target_rate for s in reached]
    colours = ["tab:green" if s.met_slo else "tab:red" for s in reached]
    width = (targets[1] - targets[0]) * 0.6 if len(targets) > 1 else 1.0
    rates.bar(targets, [s.achieved_rate for s in reached], width=width, color=colours)
    rates.plot(targets, targets, "k--", linewidth=1, label="target")
    rates.set_xlabel("step target (iterations/s)")
    rates.set_ylabel("achieved iterations/s")
    rates.set_title("Achieved rate per step (green: met the SLO)")
    latency.plot(targets, [s.p95_ms for s in reached], "o-", label="p95, all requests")
    latency.set_yscale("log")
    latency.set_xlabel("step target (iterations/s)")
    latency.set_ylabel("ms (log scale)")
    latency.set_title("p95 per step; error rate annotated")
    for s in reached:
        if s.error_rate:
            latency.annotate(f"{s.error_rate:.1%}", (s.target_rate, s.p95_ms), fontsize=7)
    if p95_budget:
        latency.axhline(p95_budget, color="grey", linestyle=":", label="p95 budget")
    for ax in (rates, latency):
        if knee.knee is not None:
            ax.axvline(knee.rate, color="tab:green", linestyle="-.", label=f"knee {knee.rate:g}/s")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
