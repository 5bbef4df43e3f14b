"""callbacks= and hb.stop (issue 23 item 3): called after each finished trial, in the driver."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hpo_bridge as hb

SPACE = {"x": hb.uniform(0.0, 1.0)}


def sequence(values):
    """An objective returning ``values`` in call order (``"fail"``: it raises, ``"prune"``: it
    is pruned), whatever the backend proposes."""
    calls = []

    def objective(config, trial):
        calls.append(config)
        item = values[len(calls) - 1]
        if item == "fail":
            raise ValueError("boom")
        if item == "prune":
            trial.report(1.0, 0)
            raise hb.TrialPruned("pruned")
        return item

    objective.calls = calls
    return objective


def test_each_finished_trial_reaches_the_callbacks_with_the_result_so_far():
    seen = []

    def record_it(result, record):
        seen.append((len(result.records), record.trial_id, record.state, result.stopped))

    order = []
    objective = sequence([3.0, "fail", "prune", 1.0])
    result = hb.minimize(objective, SPACE, backend="optuna:random", seed=0, max_evals=4,
                         progress=False, callbacks=[record_it, lambda r, rec: order.append(2)])
    assert seen == [(1, 0, "complete", None), (2, 1, "failed", None), (3, 2, "pruned", None),
                    (4, 3, "complete", None)]
    assert order == [2, 2, 2, 2]  # every callback, in the order given
    assert result.stopped is None


@pytest.mark.parametrize("bad", [print, "print", [print, 3], 7])
def test_callbacks_that_are_not_a_list_of_callables_are_refused_before_any_trial(bad):
    objective = sequence([1.0] * 3)
    with pytest.raises(hb.SpaceError, match="callbacks must be"):
        hb.minimize(objective, SPACE, backend="optuna:random", max_evals=3, progress=False,
                    callbacks=bad)
    assert objective.calls == []


def test_a_callback_error_stops_the_run_naming_it_with_the_trials_stored(tmp_path):
    def fragile(result, record):
        if record.trial_id == 2:
            raise KeyError("no such run")

    ended = []

    class Tracker(hb.Callback):
        def on_run_end(self, result):
            ended.append(len(result.records))

    url = f"sqlite:///{tmp_path / 'runs.db'}"
    with pytest.raises(hb.CallbackError, match=r"callback .*fragile raised KeyError.*trial 2") \
            as info:
        hb.minimize(lambda c: c["x"], SPACE, backend="optuna:random", seed=0, max_evals=10,
                    progress=False, callbacks=[Tracker(), fragile], storage=url,
                    study_name="s")
    assert isinstance(info.value.__cause__, KeyError)
    assert [r.trial_id for r in info.value.result.records] == [0, 1, 2]
    assert info.value.result.stopped == "callback error"
    assert ended == [3]  # trackers still close their run
    stored = hb.load(url, "s")
    assert [r.state for r in stored.records] == ["complete"] * 3


def test_no_improvement_ends_the_run_cleanly_saying_why():
    objective = sequence([5.0, 4.0, 4.5, 3.0, 3.0, 3.5, 9.0, 1.0, 0.0, 0.0])
    result = hb.minimize(objective, SPACE, backend="optuna:random", seed=0, max_evals=10,
                         progress=False, callbacks=[hb.stop.no_improvement(3)])
    assert len(result.records) == 7  # 3.0 at trial 3, then three trials not better
    assert result.stopped == ("no improvement: best 3 (trial 3) not improved by more than 0 "
                              "in 3 trials")
    assert result.best_value == 3.0


def test_no_improvement_counts_only_a_gain_larger_than_min_delta_when_maximizing():
    objective = sequence([1.0, 1.05, 1.08, 2.0, 2.01, "fail", 0.0, 5.0])
    result = hb.maximize(objective, SPACE, backend="optuna:random", seed=0, max_evals=8,
                         progress=False, callbacks=[hb.stop.no_improvement(2, min_delta=0.1)])
    # 1.05 and 1.08 are within 0.1 of 1.0: stop after trial 2? no: 2 trials without gain
    assert len(result.records) == 3
    assert "best 1 (trial 0)" in result.stopped
    again = sequence([1.0, 2.0, 2.05, "fail", 5.0])
    result = hb.maximize(again, SPACE, backend="optuna:random", seed=0, max_evals=5,
                         progress=False, callbacks=[hb.stop.no_improvement(2, min_delta=0.1)])
    assert len(result.records) == 4  # a failed trial is a trial without improvement
    assert result.stopped.startswith("no improvement: best 2 (trial 1)")


def test_target_ends_the_run_at_the_first_trial_reaching_it():
    objective = sequence([0.9, 0.5, "fail", 0.2, 0.05, 0.0])
    result = hb.minimize(objective, SPACE, backend="optuna:random", seed=0, max_evals=6,
                         progress=False, callbacks=[hb.stop.target(0.2)])
    assert len(result.records) == 4
    assert result.stopped == "target reached: trial 3 value 0.2 <= 0.2"
    result = hb.maximize(sequence([0.1, 0.7, 0.9]), SPACE, backend="optuna:random", seed=0,
                         max_evals=3, progress=False, callbacks=[hb.stop.target(0.5)])
    assert result.stopped == "target reached: trial 1 value 0.7 >= 0.5"


def test_infeasible_trials_do_not_reach_the_target():
    values = [{"value": 0.0, "constraints": 1.0}, {"value": 0.0, "constraints": -1.0}]
    result = hb.minimize(sequence(values + [1.0]), SPACE, backend="optuna:random", seed=0,
                         max_evals=3, progress=False, callbacks=[hb.stop.target(0.1)])
    assert len(result.records) == 2 and "trial 1" in result.stopped


@pytest.mark.parametrize("deterministic", [False, True])
def test_a_stop_in_a_parallel_run_lets_the_trials_in_flight_finish(deterministic):
    result = hb.minimize(lambda c: 0.0, SPACE, backend="optuna:random", seed=0, max_evals=20,
                         n_jobs=2, executor="threads", progress=False,
                         deterministic=deterministic, callbacks=[hb.stop.target(0.5)])
    # two trials start before the first finishes; the second is finished, not cancelled
    assert [r.state for r in result.records] == ["complete", "complete"]
    assert result.stopped.startswith("target reached")


def test_stopping_rules_check_their_arguments_and_one_objective_before_any_trial():
    for make, arg in [(hb.stop.no_improvement, 0), (hb.stop.no_improvement, 2.5),
                      (hb.stop.target, "low"), (hb.stop.target, float("nan"))]:
        with pytest.raises(hb.SpaceError, match="hb.stop"):
            make(arg)
    with pytest.raises(hb.SpaceError, match="min_delta"):
        hb.stop.no_improvement(3, min_delta=-1)
    objective = sequence([(1.0, 2.0)] * 3)
    with pytest.raises(hb.SpaceError, match="reads one objective.*a, b"):
        hb.minimize(objective, SPACE, backend="optuna:random", max_evals=3, progress=False,
                    objectives=["a", "b"], callbacks=[hb.stop.target(0.0)])
    assert objective.calls == []


def test_one_rule_serves_consecutive_runs_and_compare():
    rule = hb.stop.no_improvement(2)
    table = hb.compare(lambda c: 1.0, SPACE, ["optuna:random", "hyperopt:random"],
                       seeds=[0, 1], max_evals=10, callbacks=[rule])
    # the first trial sets the best; two more without improvement end each run
    assert table.groupby(["backend", "seed"]).size().tolist() == [3, 3, 3, 3]


def test_compare_in_worker_processes_takes_a_closure_as_callback():
    limit = 2

    def stop_at(result, record):  # a closure: pickled by value, as the objective is
        if len(result.records) == limit:
            raise hb.StopRun(f"{limit} trials")

    table = hb.compare(lambda c: c["x"], SPACE, ["optuna:random"], seeds=[0, 1], max_evals=10,
                       n_jobs=2, callbacks=[stop_at])
    assert table.groupby("seed").size().tolist() == [2, 2]


def test_optimizer_callbacks_set_stopped_and_end_run():
    ended = []

    class Log(hb.Callback):
        def __init__(self):
            self.ids = []

        def __call__(self, result, record):
            self.ids.append(record.trial_id)

        def on_run_end(self, result):
            ended.append(result.stopped)

    log = Log()
    opt = hb.Optimizer(SPACE, "optuna:random", seed=0, callbacks=[log, hb.stop.target(0.5)])
    opt.tell(opt.ask(), 0.9)
    assert opt.stopped is None
    opt.tell(opt.ask(), 0.1)
    assert opt.stopped == "target reached: trial 1 value 0.1 <= 0.5"
    assert opt.result().stopped == opt.stopped
    opt.end_run()
    assert log.ids == [0, 1] and ended == [opt.stopped]


def test_searchcv_takes_callbacks():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    seen = []
    search = hb.SearchCV(LogisticRegression(max_iter=200), {"C": hb.loguniform(1e-2, 1e2)},
                         backend="optuna:random", n_iter=20, cv=3, random_state=0,
                         callbacks=[lambda r, rec: seen.append(rec.value),
                                    hb.stop.target(0.5)]).fit(X[::2], y[::2])
    assert len(seen) == 1 and seen[0] >= 0.5  # the first candidate already scores 0.5
    assert search.result_.stopped.startswith("target reached")
    assert len(search.cv_results_["params"]) == 1
    assert np.isclose(search.best_score_, seen[0])
    with pytest.raises(hb.SpaceError, match="callbacks"):
        hb.SearchCV(LogisticRegression(), {"C": [1.0]}, callbacks=print).fit(X, y)


def test_a_failing_on_run_end_after_an_error_warns_and_keeps_the_run_error():
    class Broken(hb.Callback):
        def on_run_end(self, result):
            raise OSError("disk full")

    def objective(config):
        raise RuntimeError("objective broke")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(RuntimeError, match="objective broke"):
            hb.minimize(objective, SPACE, backend="optuna:random", max_evals=2,
                        progress=False, catch=(), callbacks=[Broken()])
    assert any("on_run_end raised OSError" in str(w.message) for w in caught)
    with pytest.raises(hb.CallbackError, match="on_run_end raised OSError") as info:
        hb.minimize(lambda c: 1.0, SPACE, backend="optuna:random", max_evals=2,
                    progress=False, callbacks=[Broken()])
    assert len(info.value.result.records) == 2


@pytest.mark.parametrize("callback", [lambda result: None, lambda: None,
                                      lambda result, record, extra: None])
def test_a_callback_that_cannot_take_result_and_record_is_refused_before_the_first_trial(
        callback):
    """Was a CallbackError after trial 0 (the objective ran once)."""
    calls = []
    with pytest.raises(hb.SpaceError, match=r"cannot be called as callback\(result, record\)"):
        hb.minimize(lambda c: calls.append(c) or c["x"], SPACE, backend="optuna:random",
                    max_evals=3, progress=False, callbacks=[callback])
    assert calls == []


def test_stop_rules_take_numpy_numbers():
    """``np.float32(0.5)`` or ``np.int64(3)`` (read from an array) were refused as "not a
    number"."""
    rule = hb.stop.no_improvement(np.int64(3), min_delta=np.float32(0.0))
    assert rule.n_trials == 3 and type(rule.n_trials) is int
    result = hb.minimize(lambda c: c["x"], SPACE, backend="optuna:random", max_evals=20,
                         seed=0, progress=False, callbacks=[hb.stop.target(np.float32(0.5)),
                                                            rule])
    assert result.stopped.startswith("target reached") and result.best_value <= 0.5
