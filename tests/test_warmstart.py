"""warm_start= (issue 23 item 4): earlier trials told to any backend, never evaluated again."""

from __future__ import annotations

import warnings

import pytest

import hpo_bridge as hb


class SGD:
    pass


class Adam:
    pass


SPACE = {"x": hb.uniform(-2.0, 2.0), "n": hb.integer(1, 8), "opt": hb.choice([SGD, Adam])}


def counting(objective):
    calls = []

    def counted(config):
        calls.append(config)
        return objective(config)

    counted.calls = calls
    return counted


def loss(config):
    return (config["x"] - 0.5) ** 2 + config["n"] / 10 + (config["opt"] is Adam) * 0.1


@pytest.fixture(scope="module")
def earlier():
    return hb.minimize(loss, SPACE, backend="optuna:random", seed=3, max_evals=8,
                       progress=False)


@pytest.mark.parametrize("backend", ["optuna:tpe", "hyperopt:tpe", "skopt:gp",
                                     "nevergrad:ngopt", "optuna:random"])
def test_a_result_is_told_to_any_backend_and_never_evaluated_again(earlier, backend):
    objective = counting(loss)
    result = hb.minimize(objective, SPACE, backend=backend, seed=0, max_evals=4,
                         progress=False, warm_start=earlier)
    assert len(objective.calls) == 4  # max_evals counts new evaluations only
    assert len(result.records) == 12
    warm = [r for r in result.records if r.warm_start]
    assert [r.trial_id for r in warm] == list(range(8))
    assert [r.value for r in warm] == [r.value for r in earlier.records]
    assert [r.params["opt"] for r in warm] == [r.params["opt"] for r in earlier.records]
    assert [r.trial_id for r in result.records if not r.warm_start] == [8, 9, 10, 11]
    table = result.trials
    assert table["warm_start"].tolist() == [True] * 8 + [False] * 4
    assert result.best_value <= earlier.best_value


def test_the_backend_is_told_a_grid_runs_only_what_is_left():
    space = {"a": hb.choice([1, 2, 3]), "b": hb.choice(["u", "v"])}
    first = hb.minimize(lambda c: c["a"], space, backend="optuna:grid", seed=0, max_evals=4,
                        progress=False)
    objective = counting(lambda c: c["a"])
    rest = hb.minimize(objective, space, backend="optuna:grid", seed=1, warm_start=first,
                       progress=False)
    assert len(objective.calls) == 2  # the grid's 6 configurations, 4 of them told
    done = [(r.params["a"], r.params["b"]) for r in rest.records]
    assert len(set(done)) == 6


def test_a_trials_table_maps_by_parameter_name_labels_included(earlier):
    table = earlier.trials  # object choices show as labels, columns in another order
    table = table[list(reversed(table.columns))]
    objective = counting(loss)
    result = hb.minimize(objective, SPACE, backend="optuna:tpe", seed=0, max_evals=2,
                         progress=False, warm_start=table)
    warm = [r for r in result.records if r.warm_start]
    assert [r.params for r in warm] == [r.params for r in earlier.records]
    assert [type(r.params["n"]) for r in warm] == [int] * 8
    assert len(objective.calls) == 2


def test_a_stored_study_warm_starts_a_run(tmp_path, earlier):
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    hb.minimize(loss, SPACE, backend="optuna:random", seed=3, max_evals=8, progress=False,
                storage=url, study_name="old")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # loaded without space=: objects come back as labels
        stored = hb.load(url, "old")
    objective = counting(loss)
    result = hb.minimize(objective, SPACE, backend="hyperopt:tpe", seed=0, max_evals=3,
                         progress=False, warm_start=stored)
    assert len(objective.calls) == 3
    assert [r.params for r in result.records if r.warm_start] == \
        [r.params for r in earlier.records]


def test_trials_outside_the_new_space_are_skipped_with_one_message_counting_them(earlier):
    narrower = {**SPACE, "extra": hb.uniform(0.0, 1.0)}
    with pytest.warns(UserWarning) as caught:
        opt = hb.Optimizer(narrower, "optuna:tpe", seed=0, warm_start=earlier)
    messages = [str(w.message) for w in caught if "warm_start" in str(w.message)]
    assert messages == ["warm_start: 8 of 8 earlier trials skipped (8 missing a parameter of "
                        "the new space, 0 with a value outside it); 0 told to the backend"]
    fewer = {"x": hb.uniform(-2.0, 0.0), "n": hb.integer(1, 8), "opt": hb.choice([SGD, Adam])}
    inside = sum(r.params["x"] <= 0.0 for r in earlier.records)
    assert 0 < inside < 8
    with pytest.warns(UserWarning, match=rf"warm_start: {8 - inside} of 8 earlier trials "
                                         rf"skipped \(0 missing .*, {8 - inside} with a value "
                                         rf"outside it\); {inside} told"):
        opt = hb.Optimizer(fewer, "optuna:tpe", seed=0, warm_start=earlier)
    assert opt.adapter is not None  # built: the warm start is told with the stack
    assert len(opt.records) == len(opt.history) == inside
    assert opt.warm_started == inside


def test_several_objectives_are_mapped_by_name():
    space = {"x": hb.uniform(0.0, 1.0)}

    def two(config):
        return {"err": config["x"], "cost": 1 - config["x"]}

    first = hb.minimize(two, space, backend="optuna:random", seed=0, max_evals=5,
                        progress=False, objectives=["err", "cost"])
    objective = counting(two)
    result = hb.minimize(objective, space, backend="optuna:tpe", seed=0, max_evals=2,
                         progress=False, objectives={"cost": "minimize", "err": "minimize"},
                         warm_start=first.trials)
    warm = [r for r in result.records if r.warm_start]
    assert [r.values for r in warm] == [(r.values[1], r.values[0]) for r in first.records]
    assert len(objective.calls) == 2
    with pytest.raises(hb.SpaceError, match="losses do not fit"):
        hb.minimize(objective, space, backend="optuna:tpe", max_evals=2, progress=False,
                    objectives=["err", "latency"], warm_start=first)
    one = hb.minimize(lambda c: c["x"], space, backend="optuna:tpe", seed=0, max_evals=2,
                      progress=False, objectives=["err"], warm_start=first)
    assert [r.value for r in one.records if r.warm_start] == [r.values[0] for r in first.records]
    assert len(objective.calls) == 2


def test_wrong_warm_starts_are_refused_before_any_trial(tmp_path, earlier):
    objective = counting(loss)
    with pytest.raises(hb.SpaceError, match="warm_start must be a Result"):
        hb.minimize(objective, SPACE, max_evals=2, progress=False, warm_start=[1, 2])
    with pytest.raises(hb.SpaceError, match="warm_start= with storage="):
        hb.minimize(objective, SPACE, max_evals=2, progress=False, warm_start=earlier,
                    storage=f"sqlite:///{tmp_path / 'r.db'}", study_name="s")
    with pytest.raises(hb.SpaceError, match="'state' and 'params"):
        hb.minimize(objective, SPACE, max_evals=2, progress=False,
                    warm_start=earlier.trials.drop(columns=["state"]))
    assert objective.calls == []


def test_a_run_without_warm_start_is_unchanged_and_compare_takes_one(earlier):
    a = hb.minimize(loss, SPACE, backend="optuna:tpe", seed=5, max_evals=6, progress=False)
    b = hb.minimize(loss, SPACE, backend="optuna:tpe", seed=5, max_evals=6, progress=False,
                    warm_start=None)
    assert [r.params for r in a.records] == [r.params for r in b.records]
    assert "warm_start" not in a.trials.columns
    table = hb.compare(loss, SPACE, ["optuna:tpe"], seeds=[0, 1], max_evals=3,
                       warm_start=earlier)
    assert table.groupby("seed").size().tolist() == [11, 11]


def test_a_table_with_states_in_optunas_case_is_read_not_silently_dropped():
    """``COMPLETE``/``FAIL`` (Optuna's names, an edited table) were dropped without a word."""
    earlier = hb.minimize(lambda c: c["x"], {"x": hb.uniform(0.0, 1.0)}, backend="optuna:random",
                          max_evals=4, seed=0, progress=False).trials
    table = earlier.assign(state=["COMPLETE", "Complete", "FAIL", "complete"])
    result = hb.minimize(lambda c: c["x"], {"x": hb.uniform(0.0, 1.0)},
                         backend="optuna:random", max_evals=1, seed=1, progress=False,
                         warm_start=table)
    warm = result.trials[result.trials.warm_start]
    assert list(warm.state) == ["complete", "complete", "failed", "complete"]
