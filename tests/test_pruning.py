"""Pruning (early stopping) under every backend, with a cheap synthetic learning curve."""

from __future__ import annotations

import math
import pickle
import time
from concurrent.futures import ProcessPoolExecutor

import optuna
import pytest

import hpo_bridge as hb

BACKENDS = [b.name for b in hb.backends() if b.available]
STEPS = 6
# A grid-friendly space: every backend (optuna:grid included) can run it.
SPACE = {"x": hb.uniform(0.0, 1.0, step=0.05)}
# Three good configurations first, then two bad ones: with 3 startup trials, the median pruner
# must stop the bad ones whatever the backend proposes afterwards.
POINTS = [{"x": 0.1}, {"x": 0.2}, {"x": 0.15}, {"x": 0.9}, {"x": 0.95}]


def curve(x: float, step: int) -> float:
    """A learning curve that starts at 1 and decays to ``x``."""
    return x + (1.0 - x) * math.exp(-step)


def objective(config: dict, trial: hb.Trial) -> float:
    for step in range(STEPS):
        trial.report(curve(config["x"], step), step)
    return curve(config["x"], STEPS - 1)


def run(backend: str = "optuna:random", pruner=None, **kwargs) -> hb.Result:
    kwargs.setdefault("max_evals", 9)
    return hb.minimize(objective, SPACE, backend=backend, seed=0, progress=False,
                       points_to_evaluate=POINTS, pruner=pruner or median(), **kwargs)


def median() -> optuna.pruners.BasePruner:
    """A fresh median pruner that starts judging after 3 complete trials."""
    return optuna.pruners.MedianPruner(n_startup_trials=3)


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_trials_are_pruned_and_the_backend_goes_on(backend):
    result = run(backend)
    df = result.trials.set_index("trial_id")
    assert list(df.loc[[3, 4], "state"]) == ["pruned", "pruned"]
    for tid in (3, 4):
        curve_ = df.loc[tid, "intermediate"]
        assert 0 < len(curve_) < STEPS  # stopped early
        assert df.loc[tid, "value"] == curve_[max(curve_)]  # the last reported value is kept
    assert df.loc[0, "intermediate"] == {s: curve(0.1, s) for s in range(STEPS)}
    assert len(df) == 9 and (df.loc[5:, "state"] != "failed").all()  # the backend kept going
    assert result.best_value == pytest.approx(min(df.loc[df.state == "complete", "value"]))


@pytest.mark.parametrize("pruner", ["median", "asha", "hyperband"])
def test_every_named_pruner_runs(pruner):
    result = hb.minimize(objective, SPACE, backend="optuna:random", seed=1, max_evals=30,
                         pruner=pruner, progress=False)
    states = set(result.trials.state)
    assert "complete" in states and states <= {"complete", "pruned"}
    assert "pruned" in states


def test_maximize_prunes_the_low_curves():
    def rising(config, trial):
        for step in range(STEPS):
            trial.report(-curve(config["x"], step), step)
        return -curve(config["x"], STEPS - 1)

    result = hb.maximize(rising, SPACE, backend="hyperopt:random", seed=0, max_evals=6,
                         points_to_evaluate=POINTS, pruner=median(), progress=False)
    assert list(result.trials.state[3:5]) == ["pruned", "pruned"]


@pytest.mark.parametrize("bad", ["mean", "", 3, True, object()])
def test_invalid_pruner_is_refused_before_any_trial(bad):
    calls = []

    def counted(config, trial):
        calls.append(config)
        return 0.0

    with pytest.raises(ValueError, match="'median', 'asha', 'hyperband'"):
        hb.minimize(counted, SPACE, backend="optuna:random", max_evals=3, pruner=bad,
                    progress=False)
    assert calls == []


def optimizer_with_three_curves(backend: str) -> hb.Optimizer:
    """An optimizer with a median pruner that has seen three full, good learning curves."""
    from hpo_bridge.pruning import attach_pruner

    opt = hb.Optimizer(SPACE, backend=backend, seed=0)
    attach_pruner(opt, median())
    for x in (0.1, 0.2, 0.15):
        trial = opt.enqueue({"x": x})
        for step in range(STEPS):
            trial.report(curve(x, step), step)
        opt.tell(trial, curve(x, STEPS - 1))
    return opt


def test_report_raises_trial_pruned_by_hand():
    opt = optimizer_with_three_curves("skopt:random")
    trial = opt.enqueue({"x": 0.9})
    trial.report(1.0, 0)  # equal to the median at step 0: goes on
    assert not trial.should_prune()
    with pytest.raises(hb.TrialPruned):
        trial.report(curve(0.9, 1), 1)
    record = opt.tell(trial, pruned=True)
    assert (record.state, record.value) == ("pruned", curve(0.9, 1))
    assert record.intermediate == {0: 1.0, 1: curve(0.9, 1)}


def test_a_trial_without_pruner_never_stops():
    result = hb.minimize(objective, SPACE, backend="optuna:random", seed=0, max_evals=5,
                         points_to_evaluate=POINTS, progress=False)
    assert set(result.trials.state) == {"complete"}
    assert all(len(c) == STEPS for c in result.trials.intermediate)


def _report_in_worker(blob: bytes) -> str:
    trial = pickle.loads(blob)
    try:
        for step in range(STEPS):
            trial.report(curve(0.9, step), step)
    except hb.TrialPruned:
        return f"pruned at {max(trial.intermediate)}"
    return "complete"


def test_a_pickled_trial_asks_the_drivers_pruner_from_another_process():
    opt = optimizer_with_three_curves("optuna:random")
    trial = opt.enqueue({"x": 0.9})
    with ProcessPoolExecutor(1) as pool:
        answer = pool.submit(_report_in_worker, pickle.dumps(trial)).result(timeout=30)
    assert answer == "pruned at 1"
    assert trial.intermediate == {0: 1.0, 1: curve(0.9, 1)}  # the driver's trial has the curve
    assert opt.tell(trial, pruned=True).value == curve(0.9, 1)


def late_when_bad(config: dict, trial: hb.Trial) -> float:
    """``objective``, but a bad configuration waits before its first report, so that with two
    workers the three good points to evaluate have finished when the pruner judges it."""
    if config["x"] > 0.5:
        time.sleep(0.5)
    return objective(config, trial)


@pytest.mark.parametrize("executor", ["threads", "processes"])
def test_pruning_with_two_workers(executor):
    result = hb.minimize(late_when_bad, SPACE, backend="optuna:tpe", seed=0, progress=False,
                         points_to_evaluate=POINTS, pruner=median(), max_evals=8, n_jobs=2,
                         executor=executor)
    df = result.trials
    assert "pruned" in set(df.state) and "complete" in set(df.state)
    pruned = df[df.state == "pruned"]
    assert all(0 < len(c) < STEPS for c in pruned.intermediate)
    assert all(v == c[max(c)] for v, c in zip(pruned.value, pruned.intermediate, strict=True))


def test_a_remote_dask_cluster_is_refused_before_any_trial():
    with pytest.raises(ValueError, match="needs workers on this machine"):
        run(n_jobs=2, executor="tcp://10.0.0.5:8786")


def test_a_resumed_run_prunes_against_the_stored_trials(tmp_path) -> None:
    db, space = str(tmp_path / "runs.db"), {"x": hb.uniform(0.0, 1.0)}

    def curve(level: float):
        def objective(config: dict, trial) -> float:
            for step in range(3):
                trial.report(level, step)
            return level
        return objective

    hb.minimize(curve(0.1), space, backend="hyperopt:tpe", max_evals=5, seed=0,
                storage=db, study_name="s", progress=False)
    # MedianPruner waits for 5 finished trials: only the stored ones can make it prune now.
    resumed = hb.minimize(curve(10.0), space, backend="hyperopt:tpe", max_evals=6, seed=0,
                          storage=db, study_name="s", pruner="median", progress=False)
    assert [r.state for r in resumed.records] == ["complete"] * 5 + ["pruned"]


def test_ask_tell_users_get_pruning_from_the_optimizer() -> None:
    opt = hb.Optimizer({"x": hb.uniform(0.0, 1.0)}, backend="skopt:gp", seed=0,
                       pruner=optuna.pruners.MedianPruner(n_startup_trials=2))
    for _ in range(2):
        trial = opt.ask()
        trial.report(0.1, 0)
        opt.tell(trial, 0.1)
    trial = opt.ask()
    with pytest.raises(hb.TrialPruned):
        trial.report(5.0, 0)
    assert opt.tell(trial, pruned=True).state == "pruned"


def keeps_what_it_got(config: dict, trial: hb.Trial) -> dict:
    """Reports like ``objective``; when stopped, raises again with its mean so far and a
    metric (as ``hb.SearchCV`` does with the folds that ran)."""
    seen = []
    for step in range(STEPS):
        seen.append(curve(config["x"], step))
        try:
            trial.report(seen[-1], step)
        except hb.TrialPruned as pruned:
            raise hb.TrialPruned(*pruned.args, value={"value": sum(seen) / len(seen),
                                                      "steps": len(seen)}) from None
    return {"value": seen[-1], "steps": len(seen)}


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_pruned_trial_keeps_the_value_and_metrics_it_raises_with(n_jobs):
    result = hb.minimize(keeps_what_it_got, SPACE, backend="optuna:random", seed=0,
                         progress=False, points_to_evaluate=POINTS, pruner=median(),
                         max_evals=6, n_jobs=n_jobs)
    df = result.trials.set_index("trial_id")
    pruned = df[df.state == "pruned"]
    # trial 4 starts after 3 complete ones whatever the order (2 workers): it is pruned
    assert 4 in set(pruned.index)  # also from a worker process (n_jobs=2)
    for _, row in pruned.iterrows():
        steps = row["intermediate"]
        assert row["metrics.steps"] == len(steps) < STEPS
        assert row["value"] == pytest.approx(sum(steps.values()) / len(steps))
