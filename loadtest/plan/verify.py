"""VERIFY=1: apply a plan to a Compose stack on this machine and measure what it predicted.

k6's stress scenario with two steps: the target rate, then the target + headroom (30 % by
default). The first step checks the plan (throughput within 15 % of the target, p99 within the
budget); the second checks the bottleneck it named: the resource the metrics show busiest.
"""

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

from . import measure, observe, output
from .costs import Costs
from .model import Model, Prediction
from .planner import Plan, binding_resource
from .stack import CONTAINERS_FILE, ComposeStack

THROUGHPUT_TOLERANCE = 0.15
STEP_DURATION, RAMP = "40s", "10s"
REPORT_FILE, DATA_FILE = "verify.md", "verify.json"


@dataclass
class Check:
    """One step of the verification: what the model predicted at the rate served, what ran."""

    phase: str
    target_rps: float
    served_rps: float
    predicted: Prediction  # with the node's background load the plan assumed
    # with the background the run met (everyone else's load moves; this is the model's error
    # without that of guessing the neighbours)
    predicted_here: Prediction
    # at the rate asked for, with the background the run met: could the node have served it?
    asked_here: Prediction
    background_cores: float | None  # what everyone else kept busy during the step
    observed: dict[str, float]  # utilisation per resource
    saturates_at: dict[str, float]  # per resource on its own, extrapolated from what was seen
    # the bottleneck the model names with the background the run met: on a node quieter (or
    # busier) than the plan assumed, another resource may rightly bind first
    binding_here: str
    p99_excess_ms: float | None
    pool_wait_mean_ms: float
    pool_wait_p99_ms: float | None
    error_rate: float

    @property
    def busiest(self) -> str:
        return max(self.observed, key=self.observed.get)

    @property
    def first_to_saturate(self) -> str:
        """The bottleneck the measurements show: the resource that, its predicted curve (on its
        own) scaled to pass through what was measured, saturates at the lowest rate."""
        return binding_resource(self.saturates_at)


def measured_saturation(model: Model, rate: float, observed: dict) -> dict:
    """Per resource: the rate at which it saturates on its own if the model's curve is scaled
    to go through the utilisation measured at `rate` (a CPU busier than predicted saturates
    sooner)."""
    alone = model.utilisation(rate, alone=True)[0]
    rates = {}
    for name, seen in observed.items():
        expected = alone.get(name)
        if expected:
            rates[name] = model.saturation_rate(name, scale=seen / expected, alone=True)
    return rates


@dataclass
class Verification:
    plan: Plan
    run: str
    duration: str  # each step's
    at_target: Check
    pushed: Check | None  # None: the run stopped before the second step
    troubles: list[str]  # containers that restarted or died during the run

    @property
    def throughput_ok(self) -> bool:
        served, target = self.at_target.served_rps, self.at_target.target_rps
        return abs(served - target) <= THROUGHPUT_TOLERANCE * target

    @property
    def p99_ok(self) -> bool:
        p99 = self.at_target.p99_excess_ms
        return p99 is not None and p99 <= self.plan.target.p99_ms

    @property
    def bottleneck_ok(self) -> bool:
        return self.pushed is not None and self.pushed.first_to_saturate == self.pushed.binding_here

    @property
    def passed(self) -> bool:
        return self.throughput_ok and self.p99_ok and self.bottleneck_ok

    @property
    def node_allowed_it(self) -> bool:
        """Whether the node, with the load everyone else put on it during the run, could have
        served the target at all, by the model: if not, a miss says nothing about the plan."""
        here = self.at_target.asked_here  # at the target: a missed rate is the question
        return not here.saturated and here.p99_excess_ms <= self.plan.target.p99_ms

    @property
    def verdict(self) -> str:
        """PASS, FAIL, or INCONCLUSIVE: missed, on a node others kept too busy for the plan."""
        if self.passed:
            return "PASS"
        return "FAIL" if self.node_allowed_it else "INCONCLUSIVE"


def stress_settings(
    plan: Plan, costs: Costs, mix: dict[str, str], duration: str = STEP_DURATION
) -> dict[str, str]:
    """k6 stress settings: step 1 at the target, step 2 at target + headroom."""
    rate = plan.target.rps / costs.requests_per_iteration
    return {
        "START_RATE": f"{rate:.2f}",
        "STEP_RATE": f"{rate * plan.target.headroom:.2f}",
        "STEPS": "2",
        "STEP_DURATION": duration,
        "RAMP": RAMP,
        "SLO_P99_MS": f"{plan.target.p99_ms:g}",
        # The pushed step must run its course even when it saturates: that is what it checks.
        # Only a stack answering almost nothing stops it.
        "STRESS_ABORT_P95_MS": "60000",
        "STRESS_ABORT_ERROR_RATE": "0.5",
        **mix,
    }


def _check(window: measure.Window, target_rps: float, model: Model, m, costs) -> Check:
    waits = window.checkout_wait_s / window.checkouts if window.checkouts else 0.0
    p99 = window.pool_wait_p99_s
    predicted = model.predict(window.server_rate)
    observed = observe.utilisation(window, m.deployment, model.env, costs)
    background = None
    if window.node_cores_busy is not None and window.parts:
        background = max(0.0, window.node_cores_busy - sum(window.parts.values()))
    here = model
    if background is not None and model.env.node_cpu_per_request is not None:
        here = Model(model.costs, model.config, replace(model.env, background_cores=background))
    return Check(
        phase=window.phase,
        target_rps=target_rps,
        served_rps=window.server_rate,
        predicted=predicted,
        predicted_here=here.predict(window.server_rate),
        asked_here=here.predict(target_rps),
        background_cores=background,
        observed=observed,
        # The node's measured utilisation includes the background the run met, not the plan's.
        saturates_at=measured_saturation(here, window.server_rate, observed),
        binding_here=binding_resource(here.saturation_rates(alone=True)),
        p99_excess_ms=window.client_p99_excess_ms,
        pool_wait_mean_ms=waits * 1000,
        pool_wait_p99_ms=None if p99 is None or math.isnan(p99) else p99 * 1000,
        error_rate=window.client_error_rate,
    )


def verify(
    plan: Plan, costs: Costs, into: Path, mix: dict[str, str], duration: str = STEP_DURATION
) -> Verification:
    """Run the plan on a fresh Compose stack for `duration` per step; write verify.md and
    verify.json into `into`."""
    env = {name: output.env_text(value) for name, value in output.env_values(plan).items()}
    with ComposeStack(env) as stack:
        settings = stress_settings(plan, costs, mix, duration)
        results = stack.stress(settings, into / "verify")
        measured = measure.measure(results, stack.stack.prometheus_url)
    model = Model(costs, plan.config, plan.environment)
    windows = {w.phase: w for w in measured.windows}
    at_target = _check(windows["step_01"], plan.target.rps, model, measured, costs)
    pushed = None
    if "step_02" in windows:
        pushed = _check(windows["step_02"], plan.target.pushed, model, measured, costs)
    states = json.loads((results / CONTAINERS_FILE).read_text())
    troubles = [
        f"{name} restarted {state['restarts']} time(s)"
        + (" (OOM killed)" if state["oom_killed"] else "")
        for name, state in states.items()
        if state["restarts"] or state["oom_killed"] or not state["running"]
    ]
    verification = Verification(plan, results.name, duration, at_target, pushed, troubles)
    (into / REPORT_FILE).write_text(render(verification))
    (into / DATA_FILE).write_text(json.dumps(to_dict(verification), indent=2) + "\n")
    return verification


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _check_dict(check: Check) -> dict:
    p = check.predicted
    return {
        "phase": check.phase,
        "target_rps": check.target_rps,
        "served_rps": check.served_rps,
        "background_cores": {"predicted": p.background_cores, "achieved": check.background_cores},
        "p99_excess_ms": {
            "predicted": _finite(p.p99_excess_ms),
            "predicted_here": _finite(check.predicted_here.p99_excess_ms),
            "achieved": check.p99_excess_ms,
        },
        "pool_wait_mean_ms": {
            "predicted": _finite(p.pool_wait_mean_s * 1000),
            "achieved": check.pool_wait_mean_ms,
        },
        "pool_wait_p99_ms": {
            "predicted": _finite(p.pool_wait_p99_s * 1000),
            "achieved": check.pool_wait_p99_ms,
        },
        "utilisation": {
            name: {
                "predicted": _finite(value),
                "predicted_here": _finite(check.predicted_here.utilisation.get(name)),
                "achieved": check.observed.get(name),
            }
            for name, value in p.utilisation.items()
        },
        "saturates_at_rps": {name: _finite(r) for name, r in check.saturates_at.items()},
        "first_to_saturate": check.first_to_saturate,
        "binding_here": check.binding_here,
        "error_rate": check.error_rate,
    }


def to_dict(v: Verification) -> dict:
    """verify.json: the goals, and predicted vs achieved at both steps."""
    return {
        "run": v.run,
        "target": {"rps": v.plan.target.rps, "p99_ms": v.plan.target.p99_ms},
        "plan": output.env_values(v.plan),
        "binding": v.plan.binding,
        "capacity_rps": _finite(v.plan.capacity_rps),
        "verdict": v.verdict,
        "passed": v.passed,
        "throughput_ok": v.throughput_ok,
        "p99_ok": v.p99_ok,
        "bottleneck_ok": v.bottleneck_ok,
        "troubles": v.troubles,
        "at_target": _check_dict(v.at_target),
        "pushed": None if v.pushed is None else _check_dict(v.pushed),
    }


def _ms(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:,.1f}"


def summary(v: Verification) -> str:
    """One line: PASS/FAIL and the three goals."""
    t = v.at_target
    word = v.verdict
    if word == "INCONCLUSIVE":
        word += (
            f" (everyone else kept {_ms(t.background_cores)} cores of the node busy, the plan "
            f"assumed {t.predicted.background_cores:.2f})"
        )
    if v.pushed:
        first = v.pushed.first_to_saturate
        pushed = (
            f"at +{v.plan.target.headroom:.0%} the metrics show {first} saturating first (at "
            f"~{v.pushed.saturates_at[first]:,.0f} req/s), the plan named {v.plan.binding}"
        )
        if v.pushed.binding_here != v.plan.binding:
            pushed += f" ({v.pushed.binding_here} at the node load the run met)"
    else:
        pushed = "the run stopped before the pushed step"
    if v.troubles:
        pushed += "; " + "; ".join(v.troubles)
    return (
        f"{word}: served {t.served_rps:,.1f} of {t.target_rps:g} req/s "
        f"({t.served_rps / t.target_rps - 1:+.0%}); p99 {_ms(t.p99_excess_ms)} ms "
        f"(predicted {_ms(t.predicted.p99_excess_ms)}, at the node load seen "
        f"{_ms(t.predicted_here.p99_excess_ms)}; budget {v.plan.target.p99_ms:g}); {pushed}"
    )


def _percent(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.0%}"


def _rows(check: Check) -> list[str]:
    p, h = check.predicted, check.predicted_here
    rows = [
        f"| throughput req/s | {check.target_rps:,.1f} | | {check.served_rps:,.1f} |",
        f"| p99 beyond design, ms | {_ms(p.p99_excess_ms)} | {_ms(h.p99_excess_ms)} "
        f"| {_ms(check.p99_excess_ms)} |",
        f"| pool wait mean, ms | {_ms(p.pool_wait_mean_s * 1000)} "
        f"| {_ms(h.pool_wait_mean_s * 1000)} | {_ms(check.pool_wait_mean_ms)} |",
        f"| pool wait p99, ms | {_ms(p.pool_wait_p99_s * 1000)} "
        f"| {_ms(h.pool_wait_p99_s * 1000)} | {_ms(check.pool_wait_p99_ms)} |",
        f"| errors | | | {check.error_rate:.2%} |",
        f"| everyone else's load, cores | {p.background_cores:.2f} | "
        f"{_ms(check.background_cores)} | |",
    ]
    for name, value in p.utilisation.items():
        rows.append(
            f"| {output.LABELS[name]} utilisation | {_percent(value)} "
            f"| {_percent(h.utilisation.get(name))} | {_percent(check.observed.get(name))} |"
        )
    for name, rate in check.saturates_at.items():
        rows.append(f"| {output.LABELS[name]} saturates at, req/s | | | {_ms(rate)} |")
    return rows


def render(v: Verification) -> str:
    lines = [
        "# Verification",
        "",
        f"**{summary(v)}**",
        "",
        f"k6 stress `{v.run}` on a fresh Compose stack with plan.env: {v.duration} at the "
        f"target, then {v.duration} at +{v.plan.target.headroom:.0%}. Predictions are the "
        "model's at the rate the stack actually served: with the load from everyone else on "
        "the node that the plan assumed, and with the load the run met.",
        "",
    ]
    if v.troubles:
        lines += [f"**During the run: {'; '.join(v.troubles)}.**", ""]
    for title, check in (("At the target", v.at_target), ("Pushed past it", v.pushed)):
        if check is None:
            continue
        lines += [
            f"## {title} ({check.phase})",
            "",
            "| | predicted (plan) | predicted (at the node load seen) | achieved |",
            "|---|---:|---:|---:|",
        ]
        lines += _rows(check) + [""]
    return "\n".join(lines) + "\n"
