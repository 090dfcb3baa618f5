"""Write every dashboard's JSON into deploy/grafana/dashboards/ (sorted keys, fixed uids).

python -m deploy.grafana.dashboards_src.generate           # write (make dashboards)
python -m deploy.grafana.dashboards_src.generate --check   # fail on stale JSON
"""

import argparse
import json
import sys
from pathlib import Path

from . import api_overview, capacity, edge, loadtest, postgres

OUTPUT = Path(__file__).resolve().parent.parent / "dashboards"
# File name -> module; api-overview.json is Grafana's home dashboard.
DASHBOARDS = {
    f"{module.UID}.json": module for module in (api_overview, postgres, edge, loadtest, capacity)
}


def render(module) -> str:
    """The dashboard as committed: two-space indent, sorted keys, trailing newline."""
    return json.dumps(module.build(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    stale = []
    for name, module in DASHBOARDS.items():
        path = args.output / name
        text = render(module)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path}")
    if stale:
        print(f"stale dashboards (run `make dashboards`): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
