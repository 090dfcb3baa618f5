"""`make plan`'s inputs: every bad one is refused with one line naming it, before any work."""

import subprocess
import sys

import pytest

from loadtest.plan.__main__ import main
from loadtest.report import runner

from .conftest import clean_env


def plan_env(tmp_path, **settings) -> dict[str, str]:
    env = {**clean_env(), "LOADTEST_RESULTS": str(tmp_path), **settings}
    for name in ("TARGET_RPS", "P99_MS", "RUN", "VERIFY", "HEADROOM", "CORES", "DB_CPUS"):
        if settings.get(name) is None:
            env.pop(name, None)
    return env


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"P99_MS": "250"}, "TARGET_RPS is required"),
        ({"TARGET_RPS": "200"}, "P99_MS is required"),
        ({"TARGET_RPS": "lots", "P99_MS": "250"}, "TARGET_RPS must be a number, not 'lots'"),
        ({"TARGET_RPS": "-5", "P99_MS": "250"}, "TARGET_RPS must be positive"),
        ({"TARGET_RPS": "200", "P99_MS": "0"}, "P99_MS must be positive"),
        ({"TARGET_RPS": "nan", "P99_MS": "250"}, "TARGET_RPS must be positive"),
        ({"TARGET_RPS": "200", "P99_MS": "250", "HEADROOM": "-1"}, "HEADROOM must be >= 0"),
        ({"TARGET_RPS": "200", "P99_MS": "250", "CORES": "2.5"}, "CORES must be a whole number"),
        ({"TARGET_RPS": "200", "P99_MS": "250", "VERIFY": "yes"}, "VERIFY must be 1 or 0"),
        (
            {"TARGET_RPS": "200", "P99_MS": "250", "RUN": "/nonexistent"},
            "RUN='/nonexistent' is not a load-test results directory",
        ),
        (
            {
                "TARGET_RPS": "200",
                "P99_MS": "250",
                "MIX_TFB_CLIENTS": "0",
                "MIX_ITEM_READERS": "0",
                "MIX_ITEM_WRITERS": "0",
                "MIX_SLOW_CALLERS": "0",
            },
            "at least one MIX_* weight must be positive",
        ),
    ],
)
def test_a_bad_input_is_one_line_naming_it(tmp_path, capsys, settings, named):
    assert main(plan_env(tmp_path, **settings)) == 2
    stderr = capsys.readouterr().err
    assert stderr.count("\n") == 1 and named in stderr, stderr
    assert list(tmp_path.iterdir()) == []  # refused before anything was written


def test_a_run_that_is_not_a_stress_run_is_refused(tmp_path, capsys):
    load_run = runner.REPO / "loadtest/results/examples/20261127-020940-load"
    env = plan_env(tmp_path, TARGET_RPS="100", P99_MS="250", RUN=str(load_run))
    assert main(env) == 2
    assert (
        capsys.readouterr().err
        == f"plan: {load_run} is a k6 load run: the planner reads k6 stress runs\n"
    )


def test_make_plan_exits_2_without_a_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "loadtest.plan"],
        cwd=runner.REPO,
        env=plan_env(tmp_path, TARGET_RPS="lots", P99_MS="250"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stderr) == (
        2,
        "plan: TARGET_RPS must be a number, not 'lots'\n",
    )
