"""One conformance suite, parametrized over every available backend.

A new backend registered in ``hpo_bridge.backends.registry`` gets every test here for free.
"""

from __future__ import annotations

import math

import pytest

import hpo_bridge as hb
from conftest import CONTINUOUS, Adam, cond_objective, quadratic, space_for
from hpo_bridge.results import BASE_COLUMNS

N = 12


def run(backend: str, objective, kind: str = "flat", **kw):
    kw.setdefault("max_evals", N)
    kw.setdefault("seed", 0)
    kw.setdefault("progress", False)
    return hb.minimize(objective, space_for(backend, kind), backend=backend, **kw)


def check_flat(config: dict) -> None:
    for key in ("n", "s", "act"):
        assert key in config
    if "x" in config:
        assert type(config["x"]) is float and -2.0 <= config["x"] <= 2.0
        assert type(config["lr"]) is float and 1e-4 <= config["lr"] <= 1.0
        assert type(config["n"]) is int and 1 <= config["n"] <= 8
    assert type(config["s"]) is float and config["s"] in (0.0, 0.25, 0.5, 0.75, 1.0)
    assert config["act"] in ("relu", "tanh", "gelu") and type(config["act"]) is str


def test_flat_space_values_have_real_types(backend: str) -> None:
    seen = []

    def objective(config: dict) -> float:
        check_flat(config)
        seen.append(config)
        return quadratic(config) if "x" in config else config["n"] + config["s"]

    result = run(backend, objective)
    assert len(seen) == len(result.records) > 0
    assert result.best_value == min(r.value for r in result.records)
    check_flat(result.best_params)


@pytest.mark.parametrize("backend", CONTINUOUS)
def test_conditional_object_options_decode_to_the_objects(backend: str) -> None:
    # Grid backends get the same check on a discrete conditional space in test_grid.py.
    seen = []

    def objective(config: dict) -> float:
        seen.append(config)
        opt = config["optimizer"]
        assert opt["name"] in ("adam", "sgd")
        if opt["name"] == "adam":
            assert set(opt) == {"name", "lr", "cls"} and opt["cls"] is Adam
        else:
            assert set(opt) == {"name", "lr", "momentum", "nesterov"}
            assert type(opt["nesterov"]) is bool and type(opt["momentum"]) is float
        assert type(config["layers"]) is list and config["layers"][1] == 64
        assert type(config["layers"][0]) is int
        assert any(config["activation"] is f for f in (math.sin, math.cos, None))
        assert type(config["shape"]) is tuple and config["shape"] in ((1, 2), (3, 4))
        assert config["constant"] == "kept"
        return cond_objective(config)

    result = run(backend, objective, kind="conditional")
    assert len(seen) == N
    table = result.trials
    adam = table["params.optimizer"] == "adam"
    assert table.loc[adam, "params.optimizer[sgd].momentum"].isna().all()
    assert table.loc[~adam, "params.optimizer[adam].lr"].isna().all()


def test_same_seed_same_trials(backend: str) -> None:
    first = run(backend, quadratic if "grid" not in backend else lambda c: c["n"])
    again = run(backend, quadratic if "grid" not in backend else lambda c: c["n"])
    assert [r.params for r in first.records] == [r.params for r in again.records]


def test_trial_table_has_the_same_columns_for_every_backend(backend: str) -> None:
    result = run(backend, lambda c: {"value": c["n"], "extra": 2 * c["n"]}, max_evals=4)
    table = result.trials
    names = list(hb.as_space(space_for(backend, "flat")).names)
    assert list(table.columns[: len(BASE_COLUMNS)]) == BASE_COLUMNS
    assert [c for c in table.columns if c.startswith("params.")] == [f"params.{n}" for n in names]
    assert (table["metrics.extra"] == 2 * table["value"]).all()
    assert set(table["state"]) == {"complete"}


def test_failures_and_nan_are_recorded_and_the_run_goes_on(backend: str) -> None:
    calls = []

    def objective(config: dict) -> float:
        calls.append(config)
        if len(calls) % 3 == 1:
            raise ValueError("boom")
        if len(calls) % 3 == 2:
            return math.nan
        return float(config["n"])

    result = run(backend, objective, max_evals=9)
    states = [r.state for r in sorted(result.records, key=lambda r: r.trial_id)]
    assert states == ["failed", "failed", "complete"] * 3
    errors = result.trials["error"].tolist()
    assert errors[0].startswith("ValueError: boom") and errors[1] == "objective returned NaN"
    assert len(calls) == 9


def test_no_successful_trial_raises_with_the_first_failure(backend: str) -> None:
    def objective(config: dict) -> float:
        raise RuntimeError("first failure")

    with pytest.raises(hb.NoSuccessfulTrialError, match="first failure"):
        run(backend, objective, max_evals=3)


def test_exception_outside_catch_stops_the_run(backend: str) -> None:
    def objective(config: dict) -> float:
        raise KeyError("not caught")

    with pytest.raises(KeyError):
        run(backend, objective, max_evals=3, catch=ValueError)


def test_ctrl_c_returns_every_finished_trial(backend: str) -> None:
    calls = []

    def objective(config: dict) -> float:
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return float(config["n"])

    result = run(backend, objective, max_evals=10)
    assert result.stopped == "interrupted"
    assert [r.state for r in result.records] == ["complete"] * 3 + ["failed"]
    assert result.best_value == min(r.value for r in result.records[:3])


def test_batch_ask_gives_distinct_pending_trials(backend: str) -> None:
    opt = hb.Optimizer(space_for(backend, "flat"), backend=backend, seed=0)
    for _ in range(2):  # a first batch, then a batch after the model has data
        trials = opt.ask(n=4)
        assert len({t.trial_id for t in trials}) == 4
        assert len({repr(sorted(t.params.items())) for t in trials}) == 4
        for t in trials:
            opt.tell(t, float(t.params["n"]))
    assert len(opt.result().records) == 8


def test_pending_asks_without_tell_differ(backend: str) -> None:
    opt = hb.Optimizer(space_for(backend, "flat"), backend=backend, seed=1)
    for _ in range(11):  # past every library's random start-up
        t = opt.ask()
        opt.tell(t, float(t.params["n"]) + t.params["s"])
    a, b = opt.ask(), opt.ask()
    assert a.params != b.params or "grid" in backend and opt.remaining == 0


def test_points_to_evaluate_come_first_and_warm_start_is_accepted(backend: str) -> None:
    space = space_for(backend, "flat")
    first = {k: (p.values()[0] if hasattr(p, "values") and p.discrete and not isinstance(
        p, hb.space.Choice) else p.options[1] if isinstance(p, hb.space.Choice) else p.low)
        for k, p in space.items()}
    result = run(backend, lambda c: float(c["n"]), points_to_evaluate=[first], max_evals=3)
    assert result.records[0].params == first
    opt = hb.Optimizer(space, backend=backend, seed=0)
    record = opt.tell(first, 1.5)  # never proposed: a warm start
    assert record.params == first and record.value == 1.5
    trial = opt.ask()
    opt.tell(trial, 2.0)
    assert [r.state for r in opt.records] == ["complete", "complete"]


def test_a_configuration_not_in_the_space_is_refused(backend: str) -> None:
    opt = hb.Optimizer(space_for(backend, "flat"), backend=backend, seed=0)
    bad = {k: None for k in space_for(backend, "flat")}
    with pytest.raises(ValueError, match="parameter"):
        opt.tell(bad, 1.0)


def test_maximize_finds_the_largest_value(backend: str) -> None:
    result = hb.maximize(lambda c: float(c["n"]), space_for(backend, "flat"), backend=backend,
                         max_evals=N, seed=0, progress=False)
    assert result.best_value == max(r.value for r in result.records)
    assert result.direction == "maximize"
