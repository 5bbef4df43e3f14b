"""Grid backends: every combination of a discrete space exactly once, conditionals included."""

from __future__ import annotations

import itertools
import math

import pytest

import hpo_bridge as hb
from conftest import AVAILABLE

GRIDS = [b for b in AVAILABLE if "grid" in b] + ["grid"]


@pytest.mark.parametrize("backend", GRIDS)
def test_flat_grid_enumerates_every_combination_once(backend: str) -> None:
    space = {"n": hb.integer(1, 3), "s": hb.uniform(0.0, 1.0, step=0.5),
             "act": hb.choice(["relu", "tanh"])}
    result = hb.minimize(lambda c: c["n"] + c["s"], space, backend=backend, seed=3,
                         progress=False)
    seen = sorted((r.params["n"], r.params["s"], r.params["act"]) for r in result.records)
    assert seen == sorted(itertools.product([1, 2, 3], [0.0, 0.5, 1.0], ["relu", "tanh"]))


@pytest.mark.parametrize("backend", GRIDS)
def test_conditional_grid_enumerates_each_configuration_once(backend: str) -> None:
    space = {"opt": hb.choice([{"name": "a", "k": hb.integer(1, 3)}, {"name": "b"}]),
             "act": hb.choice([math.sin, math.cos])}
    configs = []
    result = hb.minimize(lambda c: configs.append(c) or 0.0, space, backend=backend, seed=0,
                         progress=False)
    assert len(result.records) == (3 + 1) * 2
    keys = {(c["opt"]["name"], c["opt"].get("k"), c["act"].__name__) for c in configs}
    assert len(keys) == 8
    assert all(c["act"] in (math.sin, math.cos) for c in configs)


@pytest.mark.parametrize("backend", GRIDS)
def test_grid_refuses_a_continuous_parameter_by_name_before_any_trial(backend: str) -> None:
    calls = []
    with pytest.raises(hb.UnsupportedError, match="'lr'"):
        hb.minimize(calls.append, {"n": hb.integer(1, 3), "lr": hb.loguniform(1e-3, 1.0)},
                    backend=backend)
    assert calls == []


def test_grid_budget_is_capped_by_max_evals() -> None:
    result = hb.minimize(lambda c: c["n"], {"n": hb.integer(1, 10)}, backend="grid",
                         max_evals=4, seed=0, progress=False)
    assert len(result.records) == 4
