"""make plan TARGET_RPS=… P99_MS=… [RUN=dir] [VERIFY=1]: size a deployment from measurements.

Settings (environment variables, which make passes through; docs/capacity.md explains them):
  TARGET_RPS          requests/s of the mix to serve (required)
  P99_MS              p99 budget, ms beyond each endpoint's designed delay (required)
  RUN                 a stress run to plan from (loadtest/results/<run>); default: the planner
                      runs one on a throwaway Compose stack (START_RATE, STEP_RATE, STEPS,
                      STEP_DURATION, RAMP as for make loadtest)
  HEADROOM            every resource must saturate at >= (1 + HEADROOM) × TARGET_RPS (0.3)
  API_CPUS            CPUs per replica, one gevent worker each (1)
  CORES, NODES        cores per node and nodes (default: this machine, one node)
  DB_CPUS             the database's CPUs (default: CORES)
  DB_MAX_CONNECTIONS  the database's max_connections, if it is fixed (then maybe PgBouncer)
  MIX_TFB_CLIENTS, MIX_ITEM_READERS, MIX_ITEM_WRITERS, MIX_SLOW_CALLERS   the k6 mix's weights
  VERIFY              1: apply the plan to a Compose stack here and measure it
  VERIFY_DURATION     how long each verification step holds its rate (40s)
  LOADTEST_RESULTS    where the plan's directory goes (loadtest/results)
"""

import os
import re
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import costs as costs_lib
from . import measure, output, verify
from . import mix as mix_lib
from .model import Environment
from .planner import Target, plan
from .stack import ComposeStack

MEASURE_STRESS = {  # a short stress when no RUN is given: ~2.5 minutes
    "START_RATE": "50",
    "STEP_RATE": "50",
    "STEPS": "8",
    "STEP_DURATION": "15s",
    "RAMP": "3s",
}


class InputError(Exception):
    """A setting is wrong: one line, naming it."""


def number(env, name: str, default: float | None = None, *, positive=True, integer=False):
    text = env.get(name, "")
    if text == "":
        if default is None:
            raise InputError(f"{name} is required (e.g. make plan TARGET_RPS=200 P99_MS=250)")
        return default
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise InputError(f"{name} must be {kind}, not {text!r}") from None
    if (positive and value <= 0) or value < 0 or value != value or value == float("inf"):
        raise InputError(f"{name} must be {'positive' if positive else '>= 0'}, not {text!r}")
    return value


@dataclass
class Inputs:
    target: Target
    run: Path | None
    cores: int | None
    nodes: int
    db_cpus: float | None
    mix: dict[str, str]
    stress: dict[str, str]  # the measuring stress run's settings, when there is no RUN
    verify: bool
    verify_duration: str
    results: Path

    @classmethod
    def from_env(cls, env) -> "Inputs":
        run = env.get("RUN") or None
        if run and not (Path(run) / "run.json").is_file():
            raise InputError(f"RUN={run!r} is not a load-test results directory (no run.json)")
        mix = {name: env[name] for name in mix_lib.defaults() if env.get(name)}
        for name in mix:
            number(env, name, positive=False)
        try:
            mix_lib.weights(mix)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        verify_flag = env.get("VERIFY", "")
        if verify_flag not in ("", "0", "1"):
            raise InputError(f"VERIFY must be 1 or 0, not {verify_flag!r}")
        duration = env.get("VERIFY_DURATION") or verify.STEP_DURATION
        if not re.fullmatch(r"[1-9]\d*[sm]", duration):
            raise InputError(
                f"VERIFY_DURATION must be seconds or minutes (40s, 2m), not {duration!r}"
            )
        db_max = env.get("DB_MAX_CONNECTIONS")
        return cls(
            target=Target(
                rps=number(env, "TARGET_RPS"),
                p99_ms=number(env, "P99_MS"),
                headroom=number(env, "HEADROOM", 0.3, positive=False),
                cpus_per_replica=number(env, "API_CPUS", 1.0),
                db_max_connections=number(env, "DB_MAX_CONNECTIONS", integer=True)
                if db_max
                else None,
            ),
            run=Path(run) if run else None,
            cores=number(env, "CORES", integer=True) if env.get("CORES") else None,
            nodes=number(env, "NODES", 1, integer=True),
            db_cpus=number(env, "DB_CPUS") if env.get("DB_CPUS") else None,
            mix=mix,
            stress={name: env.get(name) or value for name, value in MEASURE_STRESS.items()},
            verify=verify_flag == "1",
            verify_duration=duration,
            results=Path(env.get("LOADTEST_RESULTS") or costs_lib.REPO / "loadtest" / "results"),
        )


def environment(inputs: Inputs, m: measure.Measurements, c: costs_lib.Costs) -> Environment:
    """This machine as measured, unless CORES names other nodes: then only the stack's own CPU
    per request counts on them (no load generator, no neighbours)."""
    here = inputs.cores is None
    cores = inputs.cores or m.node_cores or len(os.sched_getaffinity(0))
    return Environment(
        cores_per_node=cores,
        nodes=inputs.nodes,
        background_cores=c.node_background_cores if here else 0.0,
        node_cpu_per_request=c.node_cpu_s if here else c.stack_cpu_s,
        database_cpus=inputs.db_cpus or cores,
        nginx_workers=cores,
        nginx_keepalive=costs_lib.nginx_upstream_keepalive(),
    )


def measurements_for(inputs: Inputs, out: Path) -> measure.Measurements:
    if inputs.run:
        return measure.load(inputs.run)
    print("plan: no RUN given: measuring on a throwaway Compose stack (k6 stress)", flush=True)
    with ComposeStack({}) as stack:
        results = stack.stress({**inputs.stress, **inputs.mix}, out / "measure")
        return measure.measure(results, stack.stack.prometheus_url)


def main(env=os.environ) -> int:
    try:
        inputs = Inputs.from_env(env)
    except InputError as exc:
        print(f"plan: {exc}", file=sys.stderr)
        return 2
    out = inputs.results / f"{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-plan"
    try:
        m = measurements_for(inputs, out)
    except RuntimeError as exc:
        print(f"plan: {exc}", file=sys.stderr)
        return 2
    try:
        c = costs_lib.derive(m)
    except costs_lib.Unmeasurable as exc:
        print(f"plan: {exc}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    if inputs.mix:
        c = costs_lib.with_mix(c, m.mix, mix_lib.weights(inputs.mix))
    result = plan(c, inputs.target, environment(inputs, m, c))
    output.write_env(result, out / output.ENV_FILE, m.run, c)
    output.write_report(result, out / output.REPORT_FILE, m, c)
    output.write_plot(result, out / output.PLOT_FILE, m, c)
    print((out / output.ENV_FILE).read_text(), end="")
    print(f"plan: {out / output.REPORT_FILE}")
    if not result.feasible:
        return 1
    if inputs.verify:
        try:
            outcome = verify.verify(result, c, out, inputs.mix, inputs.verify_duration)
        except RuntimeError as exc:
            print(f"plan: verification failed: {exc}", file=sys.stderr)
            return 1
        print(f"{verify.summary(outcome)}\nverify: {out / verify.REPORT_FILE}")
        return 0 if outcome.passed else 1
    return 0


if __name__ == "__main__":
    # SIGTERM (timeout, kill PID) unwinds like Ctrl-C, so a Compose stack is still removed.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sys.exit(main())
