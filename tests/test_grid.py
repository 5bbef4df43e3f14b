"""Grid backends: every combination of a discrete space exactly once, conditionals included."""

from __future__ import annotations

import itertools
import math

import pytest

import hpo_bridge as hb
from conftest import DISCRETE_ONLY

GRIDS = DISCRETE_ONLY + ["grid"]


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


def _grid_space(kind: str) -> dict:
    if kind == "flat":
        return {"n": hb.integer(1, 3), "act": hb.choice(["relu", "tanh"])}
    return {"opt": hb.choice([{"name": "a", "k": hb.integer(1, 3)}, {"name": "b"}]),
            "act": hb.choice([math.sin, math.cos])}


def _key(config: dict) -> tuple:
    return tuple(sorted((k, v.get("k", v["name"]) if isinstance(v, dict) else v)
                        for k, v in config.items()))


@pytest.mark.parametrize("kind", ["flat", "conditional"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_points_to_evaluate_count_as_grid_points(kind: str, seed: int) -> None:
    space = _grid_space(kind)
    first = hb.minimize(lambda c: 0.0, space, backend="optuna:grid", seed=seed, progress=False)
    warm = [first.records[-1].params, first.records[2].params]
    result = hb.minimize(lambda c: 0.0, space, backend="optuna:grid", seed=seed,
                         points_to_evaluate=warm, progress=False)
    keys = [_key(r.params) for r in result.records]
    assert len(keys) == len(first.records) and len(set(keys)) == len(keys)  # each once
    assert keys[:2] == [_key(c) for c in warm]


@pytest.mark.parametrize("kind", ["flat", "conditional"])
@pytest.mark.parametrize("asked", [1, -1])
def test_a_warm_start_tell_is_a_grid_point(kind: str, asked: int) -> None:
    space = _grid_space(kind)
    opt = hb.Optimizer(space, backend="optuna:grid", seed=0)
    size = opt.remaining
    for _ in range(asked % size):
        opt.tell(opt.ask(), 1.0)
    every = hb.minimize(lambda c: 0.0, space, backend="optuna:grid", seed=5, progress=False)
    done = {_key(r.params) for r in opt.records}
    warm = next(r.params for r in every.records if _key(r.params) not in done)
    record = opt.tell(warm, 2.0)  # Optuna's GridSampler raised KeyError: 'grid_id' here
    assert record.state == "complete" and opt.remaining == size - len(done) - 1
    while opt.remaining:
        opt.tell(opt.ask(), 0.0)
    keys = [_key(r.params) for r in opt.records]
    assert len(keys) == size and len(set(keys)) == size


def test_a_flat_grid_visits_gridsampler_order() -> None:
    import optuna

    seen: list = []
    study = optuna.create_study(sampler=optuna.samplers.GridSampler(
        {"n": [1, 2, 3], "act": ["relu", "tanh"]}, seed=7))
    study.optimize(lambda t: seen.append((t.suggest_int("n", 1, 3),
                                          t.suggest_categorical("act", ["relu", "tanh"]))) or 0.0,
                   n_trials=6)
    result = hb.minimize(lambda c: 0.0, _grid_space("flat"), backend="optuna:grid", seed=7,
                         progress=False)
    assert [(r.params["n"], r.params["act"]) for r in result.records] == seen
