"""The knee of a stress test: the highest step that met the SLO, every step below it too.

A step met the SLO when it ran, k6 found every threshold of the step held (its error rate,
each population's p95: loadtest/k6/lib/thresholds.js), and the generator reached at least
MIN_ACHIEVED of the step's target rate. Falling short of the rate means iterations were
dropped (no free VU: responses too slow) or the machine running k6 could not keep up; either
way the step did not show that the stack serves that rate. A step that passes above a broken
one does not move the knee: the first break ends the search, as it ends a stress run.
"""

from dataclasses import dataclass, field

MIN_ACHIEVED = 0.9


@dataclass
class Step:
    """One stress step: its target rate and what was measured while it held."""

    phase: str  # step_01, step_02, ...
    target_rate: float  # iterations/s the step asked for
    achieved_rate: float  # iterations/s started and finished within the step
    requests: int
    error_rate: float
    p95_ms: float | None
    breaches: list[str] = field(default_factory=list)  # thresholds of the step that failed

    @property
    def reached(self) -> bool:
        return self.requests > 0

    def problems(self) -> list[str]:
        """Why the step did not meet the SLO (empty if it did)."""
        if not self.reached:
            return ["not reached (the run stopped before this step)"]
        problems = list(self.breaches)
        if self.achieved_rate < MIN_ACHIEVED * self.target_rate:
            problems.append(
                f"achieved {self.achieved_rate:.1f} of {self.target_rate:g} iterations/s"
            )
        return problems

    @property
    def met_slo(self) -> bool:
        return not self.problems()


@dataclass
class Knee:
    """The knee step (None if even the first step broke) and the step that broke (None if
    every step held: the knee is then only a lower bound)."""

    knee: Step | None
    broken: Step | None

    @property
    def rate(self) -> float:
        return self.knee.target_rate if self.knee else 0.0

    def describe(self) -> str:
        if self.knee is None and self.broken is None:
            return "no stress steps in this run"
        if self.knee is None:
            return f"no step met the SLO: {self.broken.phase} ({self.broken.target_rate:g}/s) " + (
                "; ".join(self.broken.problems())
            )
        text = (
            f"knee at {self.knee.phase}: {self.knee.target_rate:g} iterations/s "
            f"(achieved {self.knee.achieved_rate:.1f}/s"
            + (f", p95 {self.knee.p95_ms:.0f} ms" if self.knee.p95_ms is not None else "")
            + f", errors {self.knee.error_rate:.2%})"
        )
        if self.broken is None:
            return text + "; every step held, so the real knee is higher: raise STEPS"
        return (
            text
            + f"; {self.broken.phase} at {self.broken.target_rate:g}/s broke: "
            + "; ".join(self.broken.problems())
        )


def find_knee(steps: list[Step]) -> Knee:
    """The last step of the unbroken run of steps that met the SLO, from the first."""
    knee = None
    for step in steps:
        if not step.met_slo:
            return Knee(knee, step)
        knee = step
    return Knee(knee, None)
