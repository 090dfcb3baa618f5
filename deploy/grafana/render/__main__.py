"""Render the dashboards to PNG from Prometheus data (`make dashboards-png`).

    python -m deploy.grafana.render --prometheus http://127.0.0.1:9090 --since 15m --out DIR
    python -m deploy.grafana.render --demo --out docs/img

--prometheus reads a running Prometheus (the Compose stack's: its scrape interval is 5 s).
--demo first runs the observability proof's overload (testkit/overload.py: the components
natively, one replica overloaded by k6, about a minute) and renders that run.
"""

import argparse
import sys
import time
from pathlib import Path

import requests

from . import model
from .render import render

RULES = Path(__file__).resolve().parents[2] / "prometheus" / "rules"


class Prometheus:
    """The two HTTP API calls the renderer needs."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")

    def _get(self, path: str, **params):
        body = requests.get(f"{self.url}/api/v1/{path}", params=params, timeout=60).json()
        if body.get("status") != "success":
            raise RuntimeError(f"{path} {params}: {body.get('error')}")
        return body["data"]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict]:
        return self._get("query_range", query=expr, start=start, end=end, step=step)["result"]

    def label_values(self, label: str, match: str, start: float, end: float) -> list[str]:
        return self._get(f"label/{label}/values", **{"match[]": match, "start": start, "end": end})


def render_all(
    prometheus: Prometheus, start: float, end: float, scrape_interval_s: float, out: Path
) -> list[Path]:
    """One PNG per dashboard (named after its uid), every variable on "All"."""
    out.mkdir(parents=True, exist_ok=True)
    range_s = end - start
    written = []
    for dashboard in model.load_all():
        variables = model.resolve_variables(
            dashboard,
            lambda label, match: prometheus.label_values(label, match, start, end),
            range_s,
            scrape_interval_s,
        )

        def fetch(panel: model.Panel, target: model.Target, variables=variables) -> list[dict]:
            expr, step = model.expand_target(panel, target, variables, range_s, scrape_interval_s)
            return prometheus.query_range(expr, start, end, step)

        path = out / f"dashboard-{dashboard.uid}.png"
        render(dashboard, fetch, start, end, path)
        written.append(path)
    return written


def _duration_s(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--prometheus", help="URL of a running Prometheus")
    source.add_argument("--demo", action="store_true", help="run the overload, render it")
    parser.add_argument("--since", default="15m", help="with --prometheus: how far back")
    parser.add_argument("--start", type=float, help="with --prometheus: epoch s (else --since)")
    parser.add_argument("--end", type=float, help="with --prometheus: epoch s (else now)")
    parser.add_argument("--scrape-interval", type=float, default=5, help="seconds")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.prometheus:
        end = args.end or time.time()
        paths = render_all(
            Prometheus(args.prometheus),
            args.start or end - _duration_s(args.since),
            end,
            args.scrape_interval,
            args.out,
        )
    else:
        from testkit.overload import SCRAPE_INTERVAL_SECONDS, ObservedStack

        with ObservedStack(sorted(RULES.glob("*.rules.yml"))) as stack:
            run = stack.run_overload()
            print(f"alerts fired: {', '.join(sorted(run.fired)) or 'none'}")
            paths = render_all(
                Prometheus(stack.prometheus.url),
                run.start,
                run.end,
                SCRAPE_INTERVAL_SECONDS,
                args.out,
            )
    for path in paths:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
