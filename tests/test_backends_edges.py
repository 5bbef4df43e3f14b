"""Edges every backend must survive: grids, huge values, seeds, threads, names, memory."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hpo_bridge as hb
from conftest import AVAILABLE, CONTINUOUS

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- grids of every size stay on their grid (issue 12, item 5) -----------------------------

@st.composite
def integer_grids(draw: st.DrawFn) -> hb.space.Integer:
    low = draw(st.integers(-10**15, 10**15))
    step = draw(st.integers(1, 10**6))
    return hb.integer(low, low + draw(st.integers(1, 10**13)) * step, step=step)


@st.composite
def float_grids(draw: st.DrawFn) -> hb.space.Uniform:
    scale = 10 ** draw(st.integers(0, 6))
    low = draw(st.integers(-10**6, 10**6)) / scale
    step = draw(st.integers(1, 10**4)) / scale
    n = draw(st.integers(1, 10**5))
    return hb.uniform(low, float(Fraction(str(low)) + n * Fraction(str(step))), step=step)


@SETTINGS
@given(param=st.one_of(integer_grids(), float_grids()), data=st.data())
def test_every_grid_value_lies_on_the_grid_and_round_trips(param, data) -> None:
    k = data.draw(st.integers(0, param.size - 1))
    value = param.value_at(k)
    assert param.contains(value) and param.grid_index(value) == k
    assert param.canonical(value) == value and type(value) is type(param.canonical(value))
    if isinstance(param, hb.space.Integer):
        assert value == param.low + k * param.step  # exact, whatever the size
    else:  # the decimal grid value, within one ulp
        exact = float(Fraction(str(param.low)) + k * Fraction(str(param.step)))
        assert abs(value - exact) <= math.ulp(exact)


@pytest.mark.parametrize("backend", CONTINUOUS)
def test_a_large_stepped_integer_stays_on_its_grid_on_every_backend(backend: str) -> None:
    param = hb.integer(1, 1 + 7 * 10**12, step=7)
    opt = hb.Optimizer({"x": param}, backend=backend, seed=0)
    for i in range(4):
        trial = opt.ask()
        assert param.contains(trial.params["x"]), trial.params
        opt.tell(trial, float(i))
