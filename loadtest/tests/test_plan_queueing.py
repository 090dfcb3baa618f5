"""The queueing formulas against their textbook values."""

import math

import pytest

from loadtest.plan import queueing


@pytest.mark.parametrize("load", [0.1, 0.5, 0.9])
def test_one_server_waits_with_the_probability_it_is_busy(load):
    assert queueing.erlang_c(1, load) == pytest.approx(load)


def test_two_servers_at_one_erlang_wait_a_third_of_the_time():
    # C(2, 1) = (1/2! · 2/(2 − 1)) / (1 + 1 + 1) = 1/3
    assert queueing.erlang_c(2, 1.0) == pytest.approx(1 / 3)


def test_erlang_c_is_1_at_saturation_and_0_without_load():
    assert queueing.erlang_c(4, 4.0) == 1.0
    assert queueing.erlang_c(4, 0.0) == 0.0


def test_erlang_c_stays_finite_for_large_pools():
    assert 0 < queueing.erlang_c(500, 450.0) < 1


def test_mm1_mean_wait_and_quantile():
    hold, load = 0.01, 0.8
    assert queueing.mean_wait(1, load, hold) == pytest.approx(load * hold / (1 - load))
    # P(W > t) = ρ·exp(−(1 − ρ)·t / h)  =>  t99 = h / (1 − ρ) · ln(ρ / 0.01)
    expected = hold / (1 - load) * math.log(load / 0.01)
    assert queueing.wait_quantile(1, load, hold, 0.99) == pytest.approx(expected)


def test_no_wait_quantile_when_few_arrivals_wait():
    assert queueing.wait_quantile(10, 1.0, 0.01, 0.99) == 0.0


def test_waits_are_infinite_at_saturation():
    assert queueing.mean_wait(2, 2.0, 0.01) == math.inf
    assert queueing.wait_quantile(2, 2.5, 0.01, 0.99) == math.inf


def test_constant_holds_wait_half_as_long_as_exponential_ones():
    exponential = queueing.mean_wait(3, 2.0, 0.05, hold_cv2=1.0)
    assert queueing.mean_wait(3, 2.0, 0.05, hold_cv2=0.0) == pytest.approx(exponential / 2)


def test_processor_sharing_stretch():
    assert queueing.stretch(0.0) == 1
    assert queueing.stretch(0.75) == pytest.approx(4)
    assert queueing.stretch(1.0) == math.inf


def test_a_shared_node_adds_its_wait_for_a_core():
    alone = queueing.cpu_stretch(0.5)
    shared = queueing.cpu_stretch(0.5, node=0.5, cores=2)
    # M/M/2 at ρ = 0.5: C = 1/3, R/s = 1 + C / (2 · 0.5) = 4/3
    assert shared == pytest.approx(alone * 4 / 3)
    assert queueing.cpu_stretch(0.5, node=1.0, cores=2) == math.inf


def test_servers_for_is_the_fewest_that_meet_the_wait():
    servers = queueing.servers_for(8.0, 0.01, 0.005, 0.99)
    assert queueing.wait_quantile(servers, 8.0, 0.01, 0.99) <= 0.005
    assert queueing.wait_quantile(servers - 1, 8.0, 0.01, 0.99) > 0.005
