"""Command line: run a scenario and report on it, or rebuild the report of a past run.

python -m loadtest.report run k6 SCENARIO    # smoke | load | stress | spike | soak
python -m loadtest.report run locust         # the locustfile's step load
python -m loadtest.report build RESULTS_DIR  # summary.json, PNGs, report.md again
"""

import argparse
import sys
from pathlib import Path

from . import build, runner


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtest.report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a load test against the stack, then report")
    run.add_argument("tool", choices=("k6", "locust"))
    run.add_argument("scenario", nargs="?", help="k6: " + " | ".join(runner.SCENARIOS))
    rebuild = commands.add_parser("build", help="rebuild the report of a results directory")
    rebuild.add_argument("results", type=Path)
    args = parser.parse_args(argv)

    if args.command == "build":
        outcome = build.build(args.results)
        print(outcome.verdict)
        return 0 if outcome.passed else 99
    if args.tool == "k6" and not args.scenario:
        parser.error("k6 needs a scenario: " + ", ".join(runner.SCENARIOS))
    return runner.execute(args.tool, args.scenario or "step_load")


if __name__ == "__main__":
    sys.exit(main())
