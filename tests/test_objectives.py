"""Several objectives and constraints: the API, its edge cases, fronts and hypervolumes.

Every backend's side (fronts, constraints, storage round trips, refusals) is in the
conformance kit (``hpo_bridge.testing``, tests/test_conformance.py).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hpo_bridge as hb
from hpo_bridge.backends.parego import PENALTY, scalarize, weight_vectors
from hpo_bridge.objectives import Objectives, parse_objectives, parse_value
from hpo_bridge.pareto import default_reference, hypervolume, non_dominated
from hpo_bridge.results import Result, TrialRecord

SPACE = {"x": hb.uniform(0.0, 1.0), "y": hb.uniform(0.0, 1.0)}


def zdt1_like(config: dict) -> dict:
    x, y = config["x"], config["y"]
    g = 1 + 9 * y
    return {"f1": x, "f2": g * (1 - math.sqrt(x / g)), "constraints": [y - 0.9]}


def run(objective: Any = zdt1_like, **kw: Any) -> hb.Result:
    kw = {"backend": "optuna:random", "max_evals": 12, "seed": 0, "progress": False,
          "objectives": ["f1", "f2"], **kw}
    return hb.minimize(objective, SPACE, **kw)


# -- the API -----------------------------------------------------------------------------------
def test_a_list_minimizes_every_objective_and_a_dict_gives_directions() -> None:
    assert parse_objectives(["a", "b"]).directions == ("minimize", "minimize")  # type: ignore[union-attr]
    spec = parse_objectives({"acc": "maximize", "latency": "minimize"})
    assert spec is not None and spec.losses((0.9, 3.0)) == (-0.9, 3.0)


@pytest.mark.parametrize("given, direction", [
    (None, "minimize"), (None, "maximize"), (["a"], None), ({"acc": "maximize", "ms": "minimize"},
                                                            None)])
def test_objectives_carry_what_differs_between_named_and_unnamed(given: Any,
                                                                 direction: Any) -> None:
    """What a stored study and a table hold (metadata), read back (from_stored), the table's
    columns, what may be returned: methods of the objectives, so no caller branches on them."""
    spec = parse_objectives(given, direction)
    stored = spec.metadata().get("objectives")
    assert Objectives.from_stored(stored, spec.directions) == spec
    assert repr(Objectives.from_stored(stored, spec.directions)) == repr(spec)
    if given is None:  # one unnamed objective: a number or {"value": ...}, nothing stored
        assert (stored, spec.columns, repr(spec)) == (None, (), f"Objectives.unnamed({direction!r})")
        assert parse_value({"loss": 2, "m": 1}, spec).value == 2.0
        assert parse_value(3, spec).values is None and spec.record_values([3.0]) is None
        with pytest.raises(ValueError, match="without 'value' or 'loss'"):
            parse_value({"a": 1}, spec)
    else:
        assert stored == dict(zip(spec.names, spec.directions, strict=True))
        assert spec.columns == spec.names
        assert parse_value(list(range(len(spec))), spec).values == tuple(range(len(spec)))
        assert spec.record_values([1.0] * len(spec)) == (1.0,) * len(spec)
        with pytest.raises(ValueError, match="without"):
            parse_value({"value": 1}, spec)


def test_a_stored_study_with_several_directions_and_no_objectives_is_damaged(
        tmp_path: Any) -> None:
    """Its trials would have several values and the result one unnamed objective."""
    import optuna

    url = f"sqlite:///{tmp_path / 'damaged.db'}"
    run(lambda c: c["x"], storage=url, study_name="one", max_evals=2, objectives=None)
    attrs = optuna.load_study(study_name="one", storage=url).user_attrs
    study = optuna.create_study(study_name="s", storage=url, directions=["minimize"] * 2)
    for key, value in attrs.items():  # hpo_bridge's space, not its objectives
        study.set_user_attr(key, value)
    with pytest.raises(hb.StorageError, match="is damaged: it has 2 directions"):
        hb.load(url, "s")


@pytest.mark.parametrize("objectives, match", [
    ("error", "list of names"),
    ([], "at least one"),
    (["a", "a"], "unique"),
    (["a", 3], "non-empty string"),
    (["constraints", "b"], "reserved"),
    ({"a": "max"}, "'minimize' or 'maximize'"),
])
def test_bad_objectives_are_refused_before_any_trial(objectives: Any, match: str) -> None:
    calls: list = []
    with pytest.raises(hb.SpaceError, match=match):
        hb.minimize(calls.append, SPACE, objectives=objectives, progress=False)
    assert calls == []


def test_objectives_and_direction_together_are_refused() -> None:
    with pytest.raises(hb.SpaceError, match="both given"):
        hb.minimize(zdt1_like, SPACE, objectives=["f1", "f2"], direction="minimize")
    with pytest.raises(hb.SpaceError, match="both given"):
        hb.Optimizer(SPACE, objectives=["f1", "f2"], direction="maximize")
    with pytest.raises(hb.SpaceError, match="objectives="):
        hb.maximize(zdt1_like, SPACE, objectives=["f1", "f2"])
    with pytest.raises(hb.SpaceError, match="both given"):
        hb.compare(zdt1_like, SPACE, ["optuna:random"], objectives=["f1", "f2"],
                   direction="maximize")


def test_pruning_with_several_objectives_is_refused_before_any_trial() -> None:
    calls: list = []
    with pytest.raises(hb.UnsupportedError, match="several objectives"):
        hb.minimize(lambda c, t: calls.append(c), SPACE, objectives=["a", "b"],
                    pruner="median", progress=False)
    with pytest.raises(hb.UnsupportedError, match="several objectives"):
        hb.compare(zdt1_like, SPACE, ["optuna:random"], objectives=["f1", "f2"],
                   pruner="median")
    assert calls == []


def test_a_sequence_in_the_objectives_order_works() -> None:
    result = run(lambda c: [c["x"], 1 - c["x"]])
    assert all(r.values == (r.params["x"], 1 - r.params["x"]) for r in result.records)
    assert not result.constrained and len(result.pareto_front()) == 12


def test_maximized_objectives_orient_the_front() -> None:
    def objective(c: dict) -> dict:
        return {"acc": c["x"], "size": c["x"] + c["y"]}

    result = run(objective, objectives={"acc": "maximize", "size": "minimize"})
    front = result.pareto_front()
    # No front trial is beaten by another one in accuracy at no more size.
    for _, a in front.iterrows():
        for _, b in result.trials.iterrows():
            assert not (b["values.acc"] > a["values.acc"] and b["values.size"] <= a["values.size"])
    best_acc = result.trials["values.acc"].idxmax()
    assert result.trials.loc[best_acc, "trial_id"] in set(front["trial_id"])


def test_ask_and_tell_take_several_objectives() -> None:
    opt = hb.Optimizer(SPACE, backend="optuna:tpe", seed=0, objectives={"a": "minimize",
                                                                       "b": "maximize"})
    for _ in range(4):
        trial = opt.ask()
        opt.tell(trial, {"a": trial.params["x"], "b": trial.params["y"], "constraints": -1})
    assert opt.adapter.study.directions[1].name == "MINIMIZE"  # type: ignore[attr-defined]
    result = opt.result()
    assert [r.values for r in result.records] == [(r.params["x"], r.params["y"])
                                                  for r in result.records]
    with pytest.raises(ValueError, match="missing|without"):
        opt.tell(opt.ask(), {"a": 1.0})


# -- edge cases a careless user hits -------------------------------------------------------------
def test_a_typo_in_an_objective_name_stops_the_run_naming_the_key() -> None:
    with pytest.raises(hb.ObjectiveError, match=r"'f2' \(did you mean 'f_2'\?\)") as info:
        run(lambda c: {"f1": c["x"], "f_2": c["y"]})
    assert len(info.value.result.records) == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("returned, match", [
    ([1.0], "returned 1 values"),
    ([1.0, 2.0, 3.0], "returned 3 values"),
    ({"f1": 1.0, "f2": "slow"}, "objective 'f2' must be a real number"),
    (3.0, "mapping with keys"),
    (np.array(3.0), "mapping with keys"),  # a 0-d array is one number, not a sequence
    ({"f1": 1.0, "f2": 2.0, "constraints": "no"}, "'constraints' must be"),
    ({"f1": 1.0, "f2": 2.0, "constraints": []}, "empty"),
])
def test_a_wrong_shape_is_the_objectives_fault(returned: Any, match: str) -> None:
    with pytest.raises(hb.ObjectiveError, match=match):
        run(lambda c: returned)


def test_nan_in_one_objective_or_constraint_fails_that_trial_and_the_run_goes_on() -> None:
    calls: list = []

    def objective(c: dict) -> dict:
        calls.append(c)
        k = len(calls)
        return {"f1": math.nan if k == 1 else c["x"], "f2": c["y"],
                "constraints": math.nan if k == 2 else -1.0}

    result = run(objective, max_evals=5)
    errors = [r.error for r in sorted(result.records, key=lambda r: r.trial_id)]
    assert errors[:2] == ["objective returned NaN for 'f1'",
                          "objective returned NaN in 'constraints'"]
    assert [r.state for r in result.records] == ["failed", "failed"] + ["complete"] * 3
    assert not set(result.pareto_front()["trial_id"]) & {0, 1}


def test_infinite_values_are_kept_and_compared() -> None:
    values = iter([(math.inf, 0.0), (1.0, 1.0), (-math.inf, 5.0), (2.0, 0.5)] * 3)
    result = run(lambda c: list(next(values)), max_evals=4, backend="hyperopt:tpe")
    assert [r.values for r in result.records] == [(math.inf, 0.0), (1.0, 1.0),
                                                  (-math.inf, 5.0), (2.0, 0.5)]
    assert set(result.pareto_front()["trial_id"]) == {0, 1, 2, 3}  # none dominates another
    assert result.hypervolume(reference=[10.0, 10.0]) == math.inf


def test_a_changing_number_of_constraints_stops_the_run() -> None:
    calls: list = []

    def objective(c: dict) -> dict:
        calls.append(c)
        return {"f1": 1.0, "f2": 1.0, **({"constraints": [0.0]} if len(calls) > 1 else {})}

    with pytest.raises(hb.ObjectiveError, match="earlier trials returned none"):
        run(objective)


def test_when_no_trial_is_feasible_the_front_is_empty_and_best_says_why() -> None:
    result = run(lambda c: {"f1": c["x"], "f2": c["y"], "constraints": 1.0})
    assert len(result.pareto_front()) == 0 and not result.trials["feasible"].any()
    with pytest.raises(ValueError, match="no complete feasible trial"):
        result.hypervolume()
    single = hb.minimize(lambda c: {"value": c["x"], "constraints": [1.0, -1.0]}, SPACE,
                         backend="hyperopt:tpe", max_evals=5, seed=0, progress=False)
    with pytest.raises(ValueError, match="no complete trial is feasible"):
        _ = single.best_params
    assert "best_value" not in repr(single)


def test_one_named_objective_keeps_best_and_fills_values() -> None:
    result = run(lambda c: {"f1": c["x"]}, objectives=["f1"])
    assert result.best_value == min(r.value for r in result.records if r.value is not None)
    assert list(result.trials["values.f1"]) == list(result.trials["value"])
    assert len(result.pareto_front()) == 1


def test_single_objective_without_constraints_has_unchanged_columns() -> None:
    result = hb.minimize(lambda c: c["x"], SPACE, backend="optuna:random", max_evals=3,
                         seed=0, progress=False)
    assert "constraints" not in result.trials and "feasible" not in result.trials


# -- fronts, hypervolumes, ParEGO ----------------------------------------------------------------
def test_hypervolume_is_optunas_exact_value_with_a_documented_default_reference() -> None:
    losses = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [3.0, 3.0]])
    assert hypervolume(losses, np.array([4.0, 4.0])) == 6.0
    assert default_reference(losses).tolist() == [3.2, 3.2]
    assert hypervolume(losses) == pytest.approx(1.0 * 0.2 + 1.0 * 1.2 + 0.2 * 2.2)
    three = np.array([[1.0, 1.0, 1.0]])
    assert hypervolume(three, np.array([2.0, 3.0, 4.0])) == 6.0


def test_result_hypervolume_takes_the_reference_in_the_users_directions() -> None:
    result = run(lambda c: {"acc": c["x"], "size": c["y"]},
                 objectives={"acc": "maximize", "size": "minimize"})
    points = result.pareto_front()[["values.acc", "values.size"]].to_numpy()
    expected = hypervolume(points * [-1, 1], np.array([-0.0, 1.0]))
    assert result.hypervolume(reference=[0.0, 1.0]) == pytest.approx(expected)
    with pytest.raises(ValueError, match="one value per objective"):
        result.hypervolume(reference=[1.0])


def test_parego_weights_are_knowles_sets_and_penalties_are_worse_than_feasible() -> None:
    assert weight_vectors(2).shape == (11, 2) and weight_vectors(3).shape == (15, 3)
    assert np.allclose(weight_vectors(3).sum(axis=1), 1.0)
    trials = [({}, "complete", (0.0, 1.0), None), ({}, "complete", (1.0, 0.0), (-1.0,)),
              ({}, "complete", (0.5, 0.5), (2.0,)), ({}, "complete", (0.0, 0.0), (1.0,)),
              ({}, "failed", None, None)]
    told = scalarize(trials, np.array([0.5, 0.5]))
    assert told[0] == told[1] == pytest.approx(0.5 + 0.05 * 0.5)
    assert told[2] == PENALTY + 1.0 and told[3] == PENALTY + 0.5 and told[4] is None


def test_parego_is_reproducible_and_learns_on_skopt() -> None:
    first, again = (run(backend="skopt:gp", max_evals=14) for _ in range(2))
    assert [r.params for r in first.records] == [r.params for r in again.records]


def test_plot_pareto_front_from_a_result_a_table_and_three_objectives() -> None:
    result = run()
    assert len(hb.plot_pareto_front(result).axes) == 1
    assert len(hb.plot_pareto_front(result.trials).axes) == 1
    three = run(lambda c: [c["x"], c["y"], 1 - c["x"]], objectives=["a", "b", "c"])
    assert len(three.plot_pareto_front().axes) == 3
    with pytest.raises(ValueError, match="objectives="):
        hb.plot_pareto_front(hb.minimize(lambda c: c["x"], SPACE, backend="optuna:random",
                                         max_evals=2, progress=False))


def test_compare_with_objectives_keeps_each_value() -> None:
    df = hb.compare(zdt1_like, SPACE, ["optuna:random", "hyperopt:tpe"], seeds=[0],
                    max_evals=4, objectives=["f1", "f2"])
    assert {"values.f1", "values.f2", "constraints", "feasible"} <= set(df.columns)
    assert df.attrs["objectives"] == {"f1": "minimize", "f2": "minimize"}
    assert df["best_value"].isna().all()
    fig = hb.plot_pareto_front(df)  # one color per backend, infeasible ones grey
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert {"optuna:random", "hyperopt:tpe"} <= set(labels)


def test_auto_picks_a_native_multi_objective_backend() -> None:
    """A small numeric space: the GP (log EHVI); a conditional one: multi-objective TPE."""
    assert run(backend="auto").backend == "auto(optuna:gp)"
    space = {"m": hb.choice(["a", {"k": hb.uniform(0.0, 1.0)}]), "x1": hb.uniform(0.0, 1.0)}
    result = hb.minimize(lambda c: (c["x1"], 1 - c["x1"]), space, backend="auto", max_evals=5,
                         seed=0, progress=False, objectives=["f1", "f2"])
    assert result.backend == "auto(optuna:tpe)"


# -- property: the front -------------------------------------------------------------------------
@st.composite
def records(draw: st.DrawFn) -> list[TrialRecord]:
    n = draw(st.integers(1, 12))
    value = st.sampled_from([0.0, 1.0, 2.0, 3.0, -1.0, math.inf])
    out = []
    for i in range(n):
        state = draw(st.sampled_from(["complete", "complete", "complete", "failed"]))
        values = (draw(value), draw(value)) if state == "complete" else None
        constraints = draw(st.one_of(st.none(), st.tuples(st.sampled_from([-1.0, 0.0, 1.0]))))
        out.append(TrialRecord(trial_id=i, state=state, value=None, params={"x": 0.0},  # type: ignore[arg-type]
                               point={"x": 0.0}, values=values,
                               constraints=constraints if state == "complete" else None))
    return out


@settings(max_examples=60, deadline=None)
@given(recs=records(), maximize=st.booleans())
def test_the_front_is_feasible_non_dominated_and_dominates_the_rest(
        recs: list[TrialRecord], maximize: bool) -> None:
    spec = parse_objectives({"a": "minimize", "b": "maximize" if maximize else "minimize"})
    result = Result(recs, space=hb.as_space({"x": hb.uniform(0.0, 1.0)}), backend="t", seed=0,
                    objectives=spec)
    sign = np.array([1.0, -1.0 if maximize else 1.0])
    front = set(result.pareto_front()["trial_id"])
    ok = {r.trial_id: np.array(r.values) * sign for r in recs
          if r.state == "complete" and r.feasible}

    def dominates(b: np.ndarray, a: np.ndarray) -> bool:
        return bool(np.all(b <= a) and np.any(b < a))

    assert front <= set(ok)
    for i in front:
        assert not any(dominates(ok[j], ok[i]) for j in ok)
    for i in set(ok) - front:
        assert any(dominates(ok[j], ok[i]) for j in front)
    if front:
        assert non_dominated(np.array([ok[i] for i in sorted(front)])).all()


def test_parse_value_keeps_other_keys_as_metrics() -> None:
    parsed = parse_value({"a": 1, "b": 2, "loss_ms": 3, "constraints": 0},
                         parse_objectives(["a", "b"]))
    assert parsed.values == (1.0, 2.0) and parsed.metrics == {"loss_ms": 3}
    assert parsed.constraints == (0.0,)


def test_one_named_maximized_objective_is_maximized() -> None:
    result = run(lambda c: {"acc": c["x"]}, objectives={"acc": "maximize"},
                 backend="optuna:tpe", max_evals=20)
    assert result.direction == "maximize"
    assert result.best_value == max(r.value for r in result.records if r.value is not None)
    later = [r.value for r in sorted(result.records, key=lambda r: r.trial_id)[10:]]
    assert sum(v for v in later if v is not None) / len(later) > 0.5  # TPE climbs, not descends


@pytest.mark.parametrize("backend", ["skopt:gp", "hyperopt:tpe", "optuna:tpe"])
def test_constraints_first_seen_with_trials_pending_reach_the_backend(backend: str) -> None:
    opt = hb.Optimizer(SPACE, backend=backend, seed=0)
    pending = opt.ask(n=3)
    for trial in pending:  # the first tell says there are constraints; two trials still wait
        opt.tell(trial, {"value": trial.params["x"], "constraints": trial.params["y"] - 0.5})
    for _ in range(3):
        trial = opt.ask()
        opt.tell(trial, {"value": trial.params["x"], "constraints": trial.params["y"] - 0.5})
    result = opt.result()
    assert len(result.records) == 6 and result.best_trial.feasible
    assert result.best_value == min(r.value for r in result.records
                                     if r.feasible and r.value is not None)


@pytest.mark.parametrize("backend", ["hyperopt:tpe", "optuna:tpe"])
def test_several_objectives_run_in_parallel(backend: str) -> None:
    result = run(backend=backend, n_jobs=2, executor="threads", max_evals=8)
    assert len(result.records) == 8 and len(result.pareto_front()) >= 1


def test_a_stored_single_objective_study_is_not_resumed_with_objectives(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'so.db'}"
    hb.minimize(lambda c: c["x"], SPACE, backend="optuna:random", max_evals=2, seed=0,
                storage=url, study_name="s", progress=False)
    calls: list = []
    with pytest.raises(ValueError, match="direction='minimize'; this run has objectives="):
        run(lambda c: calls.append(c), storage=url, study_name="s")
    with pytest.raises(ValueError, match="objectives=.*this run has direction='maximize'"):
        run(storage=url, study_name="mo")
        hb.maximize(lambda c: c["x"], SPACE, storage=url, study_name="mo", progress=False)
    assert calls == []


def test_constraints_are_stored_where_optuna_reads_them(tmp_path: Any) -> None:
    import optuna

    url = f"sqlite:///{tmp_path / 'c.db'}"
    for backend in ("optuna:tpe", "hyperopt:tpe"):
        run(backend=backend, storage=url, study_name=backend, max_evals=4)
        study = optuna.load_study(study_name=backend, storage=url)
        assert [t.constraints for t in study.trials] == [
            {"0": t.params["y"] - 0.9} for t in study.trials]
        assert study.best_trials  # Optuna's own front, with its feasibility


def test_to_optuna_of_an_unstored_run_keeps_values_directions_and_constraints() -> None:
    result = run(objectives={"f1": "minimize", "f2": "maximize"})
    study = result.to_optuna()
    assert [d.name for d in study.directions] == ["MINIMIZE", "MAXIMIZE"]
    records = sorted(result.records, key=lambda r: r.trial_id)
    assert [tuple(t.values) for t in study.trials] == [r.values for r in records]
    assert [t.constraints for t in study.trials] == [{"0": r.constraints[0]} for r in records]
    assert {t.number for t in study.best_trials} == set(result.pareto_front()["trial_id"])


@pytest.mark.parametrize("backend", ["optuna:tpe", "hyperopt:tpe"])
def test_intermediate_values_are_kept_with_several_objectives(backend: str) -> None:
    def objective(c: dict, trial: hb.Trial) -> dict:
        trial.report(c["x"], step=0)  # generic training code reports; no pruner here
        return zdt1_like(c)

    result = run(objective, backend=backend, max_evals=4)
    assert [r.state for r in result.records] == ["complete"] * 4
    assert all(r.intermediate == {0: r.params["x"]} for r in result.records)
    opt = hb.Optimizer(SPACE, backend=backend, seed=0, objectives=["f1", "f2"])
    trial = opt.ask()
    assert opt.report(trial, 0.5, step=0) is False  # Optuna refuses reports there: not passed
    assert opt.tell(trial, zdt1_like(trial.params)).intermediate == {0: 0.5}


@settings(max_examples=40, deadline=None)
@given(points=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 6)),
                       min_size=1, max_size=10))
def test_hypervolume_counts_only_the_front_and_matches_a_voxel_count(points: list) -> None:
    losses = np.array(points, dtype=float)
    ref = np.array([7.0, 7.0, 7.0])
    front = losses[non_dominated(losses)]
    # Unit voxels [i, i+1) x [j, j+1) x [k, k+1) below the reference dominated by some point.
    grid = np.stack(np.meshgrid(*[np.arange(7.0)] * 3, indexing="ij"), axis=-1).reshape(-1, 3)
    covered = sum(bool(np.any(np.all(losses <= g, axis=1))) for g in grid)
    assert hypervolume(losses, ref) == hypervolume(front, ref) == pytest.approx(covered)


def test_hypervolume_so_far_grows_to_the_runs_hypervolume() -> None:
    result = run(max_evals=10)
    curve = result.hypervolume_so_far(reference=[1.0, 10.0])
    assert len(curve) == 10 and all(b >= a for a, b in itertools.pairwise(curve))
    assert curve[-1] == pytest.approx(result.hypervolume(reference=[1.0, 10.0]))
    first = min(r.trial_id for r in result.records if r.feasible)
    assert curve[first] > 0 and all(v == 0.0 for v in curve[:first])


def test_hyperopt_tells_a_history_at_once_as_it_would_one_by_one() -> None:
    from hpo_bridge.backends.base import Adapter, Told
    from hpo_bridge.backends.hyperopt.adapter import HyperoptAdapter

    space = hb.as_space({"x": hb.uniform(0.0, 1.0),
                         "c": hb.choice(["a", {"k": hb.integer(1, 5)}])})
    source, history = HyperoptAdapter(space, 5), []
    for i in range(30):
        handle, point = source.ask()
        history.append((point, Told("failed") if i % 5 == 0 else
                        Told("complete", (float(i % 7),))))
        source.tell(handle, history[-1][1])
    at_once, one_by_one = HyperoptAdapter(space, 0), HyperoptAdapter(space, 0)
    at_once.tell_many(history)
    Adapter.tell_many(one_by_one, history)
    assert [at_once.ask()[1] for _ in range(5)] == [one_by_one.ask()[1] for _ in range(5)]


def test_a_seeded_parego_run_is_the_same_in_another_process() -> None:
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import json, math, hpo_bridge as hb\n"
        "space = {'x': hb.uniform(0.0, 1.0), 'y': hb.uniform(0.0, 1.0)}\n"
        "f = lambda c: {'f1': c['x'], 'f2': (1 + c['y']) * (1 - math.sqrt(c['x'])),"
        " 'constraints': c['y'] - 0.9}\n"
        "r = hb.minimize(f, space, backend='hyperopt:tpe', objectives=['f1', 'f2'],"
        " max_evals=25, seed=3, progress=False, n_startup_jobs=5)\n"
        "print(json.dumps([r.params for r in sorted(r.records, key=lambda r: r.trial_id)]))\n")
    root = str(Path(hb.__file__).parent.parent)
    env = {**os.environ, "PYTHONHASHSEED": "123", "PYTHONPATH": root}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout
    here = hb.minimize(lambda c: {"f1": c["x"], "f2": (1 + c["y"]) * (1 - math.sqrt(c["x"])),
                                  "constraints": c["y"] - 0.9},
                       SPACE, backend="hyperopt:tpe", objectives=["f1", "f2"], max_evals=25,
                       seed=3, progress=False, n_startup_jobs=5)
    assert json.loads(out) == [r.params for r in sorted(here.records, key=lambda r: r.trial_id)]


# -- review: bugs a user hit -------------------------------------------------------------------
def test_a_stored_study_is_not_resumed_with_its_objectives_in_another_order(
        tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'order.db'}"
    run(storage=url, study_name="s", max_evals=2)  # f1, f2: both minimized
    calls: list = []
    with pytest.raises(ValueError, match="in the same order"):
        run(lambda c: calls.append(c), objectives=["f2", "f1"], storage=url, study_name="s")
    with pytest.raises(ValueError, match="in the same order"):
        run(objectives={"f2": "maximize", "f1": "minimize"}, storage=url, study_name="s")
    assert calls == []
    assert run(storage=url, study_name="s", max_evals=3).trials["values.f1"].lt(1.0).all()


def test_plot_pareto_front_of_one_named_objective_says_it_needs_two() -> None:
    result = run(lambda c: {"acc": c["x"]}, objectives={"acc": "maximize"}, max_evals=3)
    for what in (result, result.trials):
        with pytest.raises(ValueError, match="two or more objectives"):
            hb.plot_pareto_front(what)


@pytest.mark.parametrize("reference", [{"f1": 1.0, "f2": 1.0}, [1.0, math.nan], "1,1"])
def test_a_reference_that_is_not_one_number_per_objective_is_refused_clearly(
        reference: Any) -> None:
    result = run()
    with pytest.raises(ValueError, match=r"one value per objective.*\(f1, f2\)"):
        result.hypervolume(reference=reference)


def test_the_infeasible_legend_shows_when_only_a_later_backend_has_infeasible_trials() -> None:
    import pandas as pd

    df = pd.DataFrame({"backend": ["A", "A", "B", "B"], "seed": 0, "trial_id": [0, 1, 0, 1],
                       "state": "complete", "values.a": [0.1, 0.5, 0.2, 0.3],
                       "values.b": [0.9, 0.4, 0.5, 0.1], "feasible": [True, True, True, False]})
    labels = hb.plot_pareto_front(df).axes[0].get_legend_handles_labels()[1]
    assert labels.count("infeasible") == 1 and {"A", "B"} <= set(labels)


def _yields(config: dict) -> Any:
    return (v for v in (config["x"], config["y"]))


def test_a_generator_returned_in_worker_processes_stops_the_run_as_it_does_inline() -> None:
    for kw in ({}, {"n_jobs": 2, "executor": "processes"}):
        with pytest.raises(hb.ObjectiveError, match="got <generator object"):
            run(_yields, max_evals=4, **kw)


def test_an_unpicklable_metric_in_worker_processes_fails_only_its_trial() -> None:
    def objective(config: dict) -> dict:
        return {"f1": config["x"], "f2": config["y"], "gen": _yields(config)}

    with pytest.raises(hb.NoSuccessfulTrialError, match="cannot be sent back") as caught:
        run(objective, max_evals=3, n_jobs=2, executor="processes")
    assert len(caught.value.result.records) == 3


def test_convergence_and_trial_plots_of_several_objectives_point_to_the_front() -> None:
    result = run(max_evals=4)
    table = hb.compare(zdt1_like, SPACE, ["optuna:random"], seeds=[0, 1], max_evals=3,
                       objectives=["f1", "f2"])
    for draw in (result.plot_convergence, result.plot_trials,
                 lambda: hb.plot_convergence(result), lambda: hb.plot_convergence(table)):
        with pytest.raises(ValueError, match=r"several objectives.*plot_pareto_front"):
            draw()


def test_no_finite_value_for_the_default_reference_names_the_objective() -> None:
    result = run(lambda c: {"f1": c["x"], "f2": math.inf}, max_evals=3)
    for measure in (result.hypervolume, result.hypervolume_so_far):
        with pytest.raises(ValueError, match=r"no finite value of 'f2'.*reference="):
            measure()
    assert result.hypervolume(reference=[2.0, 5.0]) == 0.0  # an infinite loss adds nothing


def test_compare_with_one_named_maximized_objective_says_maximize() -> None:
    import pandas as pd

    from hpo_bridge.plots import rank_table

    df = hb.compare(lambda c: {"acc": c["x"]}, SPACE, ["optuna:random"], seeds=[0],
                    max_evals=3, objectives={"acc": "maximize"})
    assert df.attrs["direction"] == "maximize"
    assert df["best_value"].iloc[-1] == df["values.acc"].max()
    worse = df.assign(backend="worse", best_value=df["best_value"] - 1.0)
    both = pd.concat([df, worse], ignore_index=True)
    both.attrs.update(df.attrs)
    assert rank_table(both)["mean_rank"].to_dict() == {"optuna:random": 1.0, "worse": 2.0}


def test_with_a_reference_a_run_without_a_feasible_trial_has_hypervolume_zero() -> None:
    result = run(lambda c: {"f1": c["x"], "f2": c["y"], "constraints": 1.0}, max_evals=4)
    assert result.hypervolume(reference=[1.0, 1.0]) == 0.0
    assert result.hypervolume_so_far(reference=[1.0, 1.0]) == [0.0] * 4
    with pytest.raises(ValueError, match="one value per objective"):
        result.hypervolume(reference=[1.0])
    with pytest.raises(ValueError, match="no complete feasible trial.*pass reference="):
        result.hypervolume_so_far()


def test_one_named_objective_takes_a_0d_array_or_tensor() -> None:
    import torch

    def returning(wrap: Any) -> Any:
        return lambda c: wrap(c["x"])

    for wrap in (np.array, torch.tensor):
        result = run(returning(wrap), objectives={"error": "minimize"}, max_evals=3)
        assert list(result.trials["values.error"]) == pytest.approx(
            [r.params["x"] for r in sorted(result.records, key=lambda r: r.trial_id)])


def test_an_infinite_constraint_is_told_the_worst_penalty_not_nan() -> None:
    trials = [({}, "complete", (1.0, 2.0), (math.inf,)), ({}, "complete", (2.0, 1.0), (1.0,)),
              ({}, "complete", (3.0, 3.0), (2.0,)), ({}, "complete", (1.5, 1.5), (-1.0,))]
    told = scalarize(trials, np.array([0.5, 0.5]))
    assert told[0] == PENALTY + 1.0 and PENALTY < told[1] < told[2] <= PENALTY + 1.0
    assert told[3] is not None and 0.0 <= told[3] <= 1.05
