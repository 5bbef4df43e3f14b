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


# -- branch labels as the README promises (item 12) -------------------------------------------

class Adam:
    """Stands in for torch.optim.Adam."""


class SGD:
    """Stands in for torch.optim.SGD."""


def test_the_readme_quick_start_space_is_labelled_by_class() -> None:
    space = hb.space.as_space({
        "lr": hb.loguniform(1e-4, 1e-1),
        "batch_size": hb.choice([32, 64, 128]),
        "layers": hb.integer(1, 4),
        "dropout": hb.uniform(0.0, 0.5, step=0.1),
        "optimizer": hb.choice([
            {"cls": Adam, "betas": (hb.uniform(0.8, 0.99), 0.999)},
            {"cls": SGD, "momentum": hb.uniform(0.0, 0.95),
             "nesterov": hb.choice([True, False])},
        ]),
    })
    assert space.names[-4:] == ["optimizer", "optimizer[Adam].betas.0",
                                "optimizer[SGD].momentum", "optimizer[SGD].nesterov"]


def test_branch_labels_stay_unique_when_classes_share_a_name() -> None:
    other_adam = type("Adam", (), {})
    space = hb.space.as_space({"opt": hb.choice([{"cls": Adam, "lr": hb.uniform(0.0, 1.0)},
                                                 {"cls": other_adam, "lr": hb.uniform(0.0, 1.0)}])})
    assert space.names == ["opt", "opt[0].lr", "opt[1].lr"]
