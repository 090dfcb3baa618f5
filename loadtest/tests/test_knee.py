"""The knee: the highest stress step that met the SLO, with every step below it."""

import pytest

from loadtest.report.knee import Step, find_knee


def step(n: int, rate: float, *, achieved=None, breaches=(), requests=100, p95=20.0) -> Step:
    return Step(
        phase=f"step_{n:02d}",
        target_rate=rate,
        achieved_rate=rate if achieved is None else achieved,
        requests=requests,
        error_rate=0.0,
        p95_ms=p95,
        breaches=list(breaches),
    )


def test_knee_is_the_step_before_the_first_break():
    steps = [step(1, 50), step(2, 100), step(3, 150, breaches=["p(95)<250 of tfb_clients: 700 ms"])]
    knee = find_knee(steps)
    assert knee.knee.phase == "step_02"
    assert knee.rate == 100
    assert knee.broken.phase == "step_03"
    assert "step_03 at 150/s broke: p(95)<250 of tfb_clients: 700 ms" in knee.describe()


def test_every_step_held_makes_the_knee_a_lower_bound():
    knee = find_knee([step(1, 50), step(2, 100)])
    assert knee.knee.phase == "step_02"
    assert knee.broken is None
    assert "raise STEPS" in knee.describe()


def test_first_step_broken_means_no_knee():
    knee = find_knee([step(1, 50, breaches=["rate<0.01 of all requests: 5.00%"]), step(2, 100)])
    assert knee.knee is None
    assert knee.rate == 0
    assert knee.describe().startswith("no step met the SLO: step_01")


def test_a_step_passing_above_a_break_does_not_move_the_knee():
    steps = [step(1, 50), step(2, 100, breaches=["x"]), step(3, 150)]
    assert find_knee(steps).knee.phase == "step_01"


@pytest.mark.parametrize(
    ("achieved", "met"),
    [(100, True), (90, True), (89.9, False), (0, False)],
)
def test_a_step_must_reach_most_of_its_target_rate(achieved, met):
    assert step(1, 100, achieved=achieved).met_slo is met


def test_a_step_the_run_never_reached_is_not_met():
    unreached = step(3, 150, requests=0, p95=None)
    assert not unreached.met_slo
    assert unreached.problems() == ["not reached (the run stopped before this step)"]
    assert find_knee([step(1, 50), unreached]).knee.phase == "step_01"


def test_no_steps():
    assert find_knee([]).describe() == "no stress steps in this run"
