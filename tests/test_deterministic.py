"""``deterministic=True`` with ``n_jobs > 1`` (issue 25 item 2): the same seed, the same trials.

No assertion depends on timing: the objectives sleep amounts that make trials finish in
another order from one run to the next, and the tests assert what must hold for any order.
"""

from __future__ import annotations

import itertools
import time

import pytest

import hpo_bridge as hb
from conftest import AVAILABLE, quadratic, space_for
from hpo_bridge.backends.base import Adapter, Told

#: A short random start, so that each model (and how it handles pending trials) is used.
STARTUP = {
    "hyperopt:tpe": {"n_startup_jobs": 3},
    "optuna:tpe": {"n_startup_trials": 3},
    "optuna:gp": {"n_startup_trials": 3},
    "optuna:cmaes": {"n_startup_trials": 3},
    "skopt:gp": {"n_initial_points": 3, "acq_optimizer": "sampling",
                 "acq_optimizer_kwargs": {"n_points": 500, "n_jobs": 1}},
    "skopt:rf": {"n_initial_points": 3, "acq_optimizer_kwargs": {"n_points": 500}},
    "skopt:et": {"n_initial_points": 3, "acq_optimizer_kwargs": {"n_points": 500}},
}


def sleeper(pattern: list[float], f=quadratic):
    """``f`` (``quadratic``) after a sleep taken in turn from ``pattern`` (one call after another,
    whichever trial makes it), so that two patterns give two orders of completion."""
    calls = itertools.count()

    def objective(config: dict) -> float:
        time.sleep(pattern[next(calls) % len(pattern)])
        return f(config)

    return objective


def trials(result: hb.Result) -> list[tuple]:
    return [(r.trial_id, r.state, r.point, r.value) for r in result.records]


@pytest.mark.parametrize("backend", AVAILABLE)
def test_two_parallel_runs_with_one_seed_give_the_same_trials(backend: str) -> None:
    runs = []
    for pattern in ([0.03, 0.0, 0.01, 0.0, 0.02], [0.0, 0.02, 0.0, 0.03, 0.01]):
        result = hb.minimize(sleeper(pattern), space_for(backend, "flat"), backend=backend,
                             max_evals=10, seed=3, n_jobs=3, executor="threads",
                             deterministic=True, progress=False, **STARTUP.get(backend, {}))
        runs.append(trials(result))
    assert len(runs[0]) == 10
    assert runs[0] == runs[1]


class Recording(Adapter):
    """Records when each trial is asked (how many trials were told then) and the order of
    the tells."""

    asked_after: list[int] = []
    told: list[int] = []

    def __init__(self, space, seed, **options) -> None:
        super().__init__(space, seed, **options)
        self.count = itertools.count()
        type(self).asked_after, type(self).told = [], []

    def ask(self):
        self.asked_after.append(len(self.told))
        return next(self.count), {"x": 0.5}

    def ask_fixed(self, point):
        return self.ask()[0]

    def tell(self, handle, told: Told) -> None:
        self.told.append(handle)


@pytest.mark.parametrize("n_jobs", [1, 2, 4])
def test_trials_are_told_in_order_and_each_is_asked_after_a_fixed_set(n_jobs: int) -> None:
    """Trial ``i`` is asked when exactly trials ``0 .. i - n_jobs`` are told, and trials are
    told in trial order, whichever finishes first (here the later trials of a window sleep
    least)."""
    info = hb.BackendInfo.for_adapter(Recording, "test:recording")
    pattern = [0.02, 0.01, 0.0, 0.0, 0.015]
    result = hb.minimize(sleeper(pattern, lambda c: c["x"]), {"x": hb.uniform(0.0, 1.0)},
                         backend=info,
                         max_evals=12, seed=0, n_jobs=n_jobs, executor="threads",
                         deterministic=True, progress=False)
    assert [r.trial_id for r in result.records] == list(range(12))
    assert Recording.told == list(range(12))
    assert Recording.asked_after == [max(0, i - n_jobs + 1) for i in range(12)]


@pytest.mark.parametrize("kwargs, match", [
    ({"storage": "sqlite:///unused.db", "study_name": "s"}, "storage"),
    ({"pruner": "median", "n_jobs": 2}, "pruner"),
    ({"deterministic": "yes"}, "deterministic must be True or False"),
])
def test_what_deterministic_cannot_repeat_is_refused_before_any_trial(kwargs, match,
                                                                    tmp_path) -> None:
    calls = []
    kwargs = {"deterministic": True, **kwargs}
    with pytest.raises(hb.SpaceError, match=match):
        hb.minimize(lambda c: calls.append(c) or 0.0, {"x": hb.uniform(0.0, 1.0)},
                    backend="optuna:random", max_evals=3, progress=False, **kwargs)
    assert calls == []
    assert not (tmp_path / "unused.db").exists()


def test_compare_takes_deterministic() -> None:
    """compare's runs are serial inside (already repeatable): it passes the keyword on."""
    table = hb.compare(quadratic, space_for("optuna:random", "flat"),
                       backends=["optuna:random"], seeds=[0], max_evals=3,
                       deterministic=True)
    assert len(table) == 3


@pytest.mark.parametrize("scheduler", ["asha", "hyperband"])
def test_a_multi_fidelity_run_repeats_too(scheduler: str) -> None:
    """Promotions depend on which evaluations finished: told in order, they repeat."""

    def curve(config: dict) -> float:
        return (config["x"] - 0.3) ** 2 + 1.0 / config["epochs"]

    runs = []
    for pattern in ([0.02, 0.0, 0.01], [0.0, 0.0, 0.03, 0.01]):
        result = hb.minimize(sleeper(pattern, curve), {"x": hb.uniform(0.0, 1.0)},
                             backend="optuna:tpe", seed=0, n_jobs=3, executor="threads",
                             fidelity=hb.fidelity("epochs", 1, 9, eta=3), max_budget=60,
                             scheduler=scheduler, deterministic=True, progress=False)
        runs.append([(r.trial_id, r.point, r.value, r.budget, r.config_id)
                     for r in result.records])
    assert len(runs[0]) > 5
    assert runs[0] == runs[1]
