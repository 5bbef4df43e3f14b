"""backend="auto": the rule, the switch, the explanation, the log line and reproducibility."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from optuna.trial import TrialState

import hpo_bridge as hb
from hpo_bridge import BackendInfo
from hpo_bridge.backends import auto
from hpo_bridge.backends.features import SpaceFeatures, space_features
from hpo_bridge.cli import main

NUMERIC_2D = SpaceFeatures(dims=2, numeric=2, categorical=0, conditional=False, grid_size=None)


def test_space_features() -> None:
    f = space_features({"x": hb.uniform(0.0, 1.0), "n": hb.integer(1, 4),
                        "k": hb.choice(["a", "b", {"m": hb.uniform(0.0, 1.0)}])})
    assert (f.dims, f.numeric, f.categorical, f.conditional, f.grid_size) == (4, 3, 1, True, None)
    assert f.kind == "conditional"
    grid = space_features({"n": hb.integer(1, 4), "k": hb.choice(["a", "b", "c"])})
    assert (grid.grid_size, grid.kind) == (12, "mixed numeric and categorical")
    assert space_features({"k": hb.choice(["a", "b"])}).kind == "all-categorical"
    assert space_features({"x": hb.uniform(0.0, 1.0)}).kind == "numeric, 1–3-D"
    floats = space_features({"x": hb.uniform(0.0, 1.0), "lr": hb.loguniform(1e-4, 1.0),
                             "q": hb.uniform(0.0, 1.0, step=0.5), "n": hb.integer(1, 4)})
    assert (floats.numeric, floats.continuous) == (4, 2)  # a step or an integer: discrete


#: 4 floats (rule 5: nevergrad:ngopt) and 4 numeric parameters with an integer (rule 6).
FLOATS_4D = SpaceFeatures(4, 4, 0, False, None, continuous=4)
WITH_INT_4D = SpaceFeatures(4, 4, 0, False, None, continuous=3)


@pytest.mark.parametrize("features, budget, plan", [
    (NUMERIC_2D, {"max_evals": 30}, [("optuna:gp", 0)]),  # session 7: no more skopt:gp
    (NUMERIC_2D, {"max_evals": 31}, [("optuna:gp", 0)]),
    (FLOATS_4D, {"max_evals": 30}, [("nevergrad:ngopt", 0)]),
    (FLOATS_4D, {"max_evals": auto.NGOPT_BUDGET}, [("nevergrad:ngopt", 0)]),
    (FLOATS_4D, {"max_evals": auto.NGOPT_BUDGET + 1}, [("optuna:gp", 0)]),
    (FLOATS_4D, {"timeout": 60.0}, [("optuna:gp", 0), ("optuna:tpe", auto.GP_TRIALS)]),
    (FLOATS_4D, {"max_evals": 50, "n_jobs": 2}, [("optuna:gp", 0)]),
    (FLOATS_4D, {"max_evals": 50, "n_objectives": 2}, [("optuna:gp", 0)]),
    (SpaceFeatures(10, 10, 0, False, None, continuous=10), {"max_evals": 50},
     [("nevergrad:ngopt", 0)]),
    # 1-3 floats keep the GP (session 8 tried ngopt on 2-3; held-out set 3 rejected it)
    (SpaceFeatures(3, 3, 0, False, None, continuous=3), {"max_evals": 50}, [("optuna:gp", 0)]),
    (SpaceFeatures(2, 2, 0, False, None, continuous=2), {"max_evals": 30}, [("optuna:gp", 0)]),
    (SpaceFeatures(1, 1, 0, False, None, continuous=1), {"max_evals": 50}, [("optuna:gp", 0)]),
    (WITH_INT_4D, {"max_evals": 50}, [("optuna:gp", 0)]),
    (NUMERIC_2D, {"max_evals": 50, "n_objectives": 2}, [("optuna:gp", 0)]),
    (NUMERIC_2D, {"max_evals": 500, "n_objectives": 3},
     [("optuna:gp", 0), ("optuna:tpe", auto.GP_TRIALS)]),
    (SpaceFeatures(3, 1, 2, True, None), {"max_evals": 50, "n_objectives": 2},
     [("optuna:tpe", 0)]),
    (SpaceFeatures(4, 4, 0, False, None), {"max_evals": 30}, [("optuna:gp", 0)]),
    (NUMERIC_2D, {"max_evals": 500}, [("optuna:gp", 0), ("optuna:tpe", auto.GP_TRIALS)]),
    (NUMERIC_2D, {"timeout": 60.0}, [("optuna:gp", 0), ("optuna:tpe", auto.GP_TRIALS)]),
    (NUMERIC_2D, {"max_evals": 50, "n_jobs": 4}, [("optuna:tpe", 0)]),
    (NUMERIC_2D, {"max_evals": 30, "n_jobs": 2}, [("optuna:gp", 0)]),
    (SpaceFeatures(3, 1, 2, True, None), {"max_evals": 50}, [("optuna:tpe", 0)]),
    (SpaceFeatures(12, 12, 0, False, None), {"max_evals": 50}, [("optuna:tpe", 0)]),
    (SpaceFeatures(5, 0, 5, False, 3125), {"max_evals": 50}, [("optuna:gp", 0)]),
    (SpaceFeatures(2, 1, 1, False, 12), {"max_evals": 50}, [("optuna:grid", 0)]),
])
def test_the_rule(features: SpaceFeatures, budget: dict, plan: list) -> None:
    assert auto.choose(features, **budget)[0] == plan


def test_auto_is_listed(capsys) -> None:
    assert "auto" in [b.name for b in hb.backends()]
    assert main(["backends"]) == 0
    assert any(line.startswith("auto ") for line in capsys.readouterr().out.splitlines())


def test_a_conditional_space_runs_tpe_explained_and_logged_once(caplog) -> None:
    space = {"k": hb.choice(["a", {"m": hb.uniform(0.0, 1.0)}]), "x": hb.uniform(-1.0, 1.0)}
    with caplog.at_level(logging.INFO, logger="hpo_bridge"):
        result = hb.minimize(lambda c: c["x"] ** 2, space, backend="auto", max_evals=8, seed=0,
                             progress=False)
    assert result.backend == "auto(optuna:tpe)"
    lines = [r.getMessage() for r in caplog.records if "backend auto" in r.getMessage()]
    assert lines == [("backend auto: auto(optuna:tpe) (space: conditional, 3 parameters; "
                      "budget: max_evals=8, n_jobs=1)")]


@pytest.fixture
def cheap_switch(monkeypatch):
    """The switching machinery on cheap backends: random for 5 trials, then TPE."""
    monkeypatch.setattr(auto, "choose", lambda f, **b: (
        [("optuna:random", 0), ("optuna:tpe", 5)], "test plan"))


def _run(seed: int, n_jobs: int = 1) -> hb.Result:
    return hb.minimize(lambda c: (c["x"] - 0.3) ** 2 + c["n"], {"x": hb.uniform(-1.0, 1.0),
                       "n": hb.integer(0, 3)}, backend="auto", max_evals=12, seed=seed,
                       n_jobs=n_jobs, progress=False)


def finished_at_first_sample(monkeypatch) -> dict[str, int]:
    """``{sampler class: finished trials in its study when it first samples}``, through
    Optuna's public sampler API (``sample_independent``)."""
    import optuna

    seen: dict[str, int] = {}
    for sampler in (optuna.samplers.RandomSampler, optuna.samplers.TPESampler):
        def spy(self, study, trial, name, distribution, original=sampler.sample_independent):
            finished = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            seen.setdefault(type(self).__name__, len(finished))
            return original(self, study, trial, name, distribution)
        monkeypatch.setattr(sampler, "sample_independent", spy)
    return seen


def test_switching_tells_the_next_backend_every_finished_trial(cheap_switch, monkeypatch
                                                               ) -> None:
    seen = finished_at_first_sample(monkeypatch)
    result = _run(seed=1)
    assert result.backend == "auto(optuna:random → optuna:tpe at trial 5)"
    assert len(result.records) == 12
    # the TPE study starts with the 5 random trials in it
    assert seen == {"RandomSampler": 0, "TPESampler": 5}
    again = _run(seed=1)
    assert [r.params for r in again.records] == [r.params for r in result.records]
    assert [r.params for r in _run(seed=2).records] != [r.params for r in result.records]


def test_switching_with_trials_in_flight(cheap_switch, monkeypatch) -> None:
    opt = hb.Optimizer({"x": hb.uniform(-1.0, 1.0)}, backend="auto", seed=0)
    opt.configure(max_evals=12)
    first = opt.ask(4)                    # trials 0-3 under random search
    batch = opt.ask(3)                    # trial 4 from random, then the switch: 5, 6 from TPE
    assert [t.trial_id for t in batch] == [4, 5, 6]
    assert opt.adapter.describe() == "auto(optuna:random → optuna:tpe at trial 5)"
    for t in [*first, *batch]:            # random's trials are told to TPE as they finish
        opt.tell(t, t.params["x"] ** 2)
    seen = finished_at_first_sample(monkeypatch)
    opt.ask()                             # TPE's study holds the 7 finished trials
    assert seen["TPESampler"] == 7
    assert opt.result().backend.startswith("auto(optuna:random → optuna:tpe")


def test_auto_proposes_what_the_backend_it_chose_proposes() -> None:
    space = {"x": hb.uniform(-2.0, 2.0), "y": hb.uniform(-2.0, 2.0)}

    def objective(c: dict) -> float:
        return (c["x"] - 0.5) ** 2 + c["y"] ** 2

    for s, chosen in ((space, "optuna:gp"),):  # 4 floats: nevergrad:ngopt, tested below
        runs = [hb.minimize(objective, s, backend=b, max_evals=13, seed=4, progress=False)
                for b in ("auto", chosen)]
        assert runs[0].backend == f"auto({chosen})"
        assert [r.params for r in runs[0].records] == [r.params for r in runs[1].records]


def test_four_floats_run_ngopt_built_for_the_budget_or_the_gp_without_nevergrad(
        monkeypatch) -> None:
    """Rule 5 (session 7): 4-10 floats, one worker, at most 100 trials: ``nevergrad:ngopt``,
    built for the run's budget (the run equals ``nevergrad:ngopt``'s with that budget, not its
    default 100), the reason saying that the seed does not change the run; without nevergrad,
    ``optuna:gp``."""
    space = {f"x{i}": hb.uniform(-1.0, 2.0) for i in range(4)}

    def objective(c: dict) -> float:
        return sum((v - 0.3) ** 2 for v in c.values())

    runs = [hb.minimize(objective, space, backend=b, max_evals=12, seed=3, progress=False)
            for b in ("auto", "nevergrad:ngopt")]
    assert runs[0].backend == "auto(nevergrad:ngopt)"
    assert [r.params for r in runs[0].records] == [r.params for r in runs[1].records]
    plan, why = auto.choose(space_features(space), max_evals=12)
    assert "every seed gives the same run" in why
    monkeypatch.setattr(BackendInfo, "available",
                        property(lambda info: not info.name.startswith("nevergrad")))
    fallback = hb.minimize(objective, space, backend="auto", max_evals=12, seed=3,
                           progress=False)
    assert fallback.backend == "auto(optuna:gp)"


def _stand_in(raw_space: Any, objectives: dict | None) -> Callable[[dict], Any]:
    """An objective that checks its configuration is a point of the space and returns a
    value of the shape ``objectives`` asks for."""
    space = hb.as_space(raw_space)

    def objective(config: dict) -> float | dict[str, float]:
        space.check_point(space.encode(config))
        return 0.5 if objectives is None else dict.fromkeys(objectives, 0.5)

    return objective


@pytest.mark.slow
def test_auto_runs_on_every_problem_of_the_suite() -> None:
    """Issue 16: ``auto`` chooses a backend and runs on every problem the suite has here."""
    from hpo_bridge.bench.problems.registry import get_problem, list_problems

    names = list_problems(available_only=True)
    assert len(names) >= 50
    for name in names:
        problem = get_problem(name)
        objectives = None if problem.objectives is None else dict(problem.objectives)
        # One evaluation each (every backend's first trials are its random start-up) of a
        # stand-in: what this checks is that auto chooses and runs on the problem's space and
        # objectives. The problems' own objectives (the time this test took) are evaluated on
        # every problem by test_problems.py.
        result = hb.minimize(_stand_in(problem.space, objectives), problem.space,
                             backend="auto", max_evals=1, seed=0, progress=False,
                             objectives=objectives)
        assert len(result.records) == 1, name
        assert result.backend.startswith("auto(") and result.completed, (name, result)


def test_auto_with_several_objectives_runs_the_multi_objective_gp_with_constraints() -> None:
    result = hb.minimize(lambda c: {"a": c["x"], "b": -c["x"], "constraints": c["x"] - 0.5},
                         {"x": hb.uniform(0.0, 1.0)}, backend="auto", max_evals=10, seed=0,
                         objectives=["a", "b"], progress=False)
    assert result.backend == "auto(optuna:gp)"
    assert auto.choose(auto.space_features(hb.as_space({"x": hb.uniform(0.0, 1.0)})),
                       max_evals=10, n_objectives=2)[0] == [("optuna:gp", 0)]
    assert set(result.pareto_front()["trial_id"]) == {
        r.trial_id for r in result.records if r.feasible}  # a = -b: no trial dominates


def test_constraints_on_skopt_gp_hand_over_to_a_backend_that_models_them(caplog,
                                                                        monkeypatch) -> None:
    """``skopt:gp`` (the rule chose it for small spaces until session 7; a plan names it when
    optuna's GP is missing) takes constraints only through a penalty: at the first trial that
    returns them, auto hands over to ``optuna:gp``, which is told every finished trial,
    constraints included."""
    monkeypatch.setattr(auto, "choose", lambda f, **b: ([("skopt:gp", 0)], "test plan"))

    def objective(c: dict) -> dict:
        return {"value": c["x"], "constraints": 0.5 - c["x"]}  # feasible when x >= 0.5

    with caplog.at_level(logging.INFO, logger="hpo_bridge"):
        result = hb.minimize(objective, {"x": hb.uniform(0.0, 1.0)}, backend="auto",
                             max_evals=8, seed=0, progress=False)
    assert result.backend == "auto(skopt:gp → optuna:gp at trial 1)"
    assert any("returns constraints" in r.getMessage() for r in caplog.records)
    assert result.best_trial.feasible and result.best_value >= 0.5
    again = hb.minimize(objective, {"x": hb.uniform(0.0, 1.0)}, backend="auto", max_evals=8,
                        seed=0, progress=False)
    assert [r.params for r in again.records] == [r.params for r in result.records]


def test_auto_refuses_constraints_when_no_backend_models_them(monkeypatch) -> None:
    monkeypatch.setattr(auto, "choose", lambda f, **b: ([("skopt:gp", 0)], "test plan"))
    # only skopt's library is installed
    monkeypatch.setattr(BackendInfo, "available",
                        property(lambda info: info.name.startswith("skopt")))
    with pytest.raises(hb.UnsupportedError, match="auto runs skopt:gp"):
        hb.minimize(lambda c: {"value": c["x"], "constraints": 1.0},
                    {"x": hb.uniform(0.0, 1.0)}, backend="auto", max_evals=3, progress=False)

def test_a_space_skopt_refuses_goes_to_the_next_of_its_family(caplog, monkeypatch) -> None:
    """A plan naming ``skopt:gp`` for a space skopt refuses (a choice of 100,000 options: its
    one-hot candidates would not fit in memory) goes on to the next of its family. The rule
    itself no longer names a GP for such a choice (issue 26, D7: below)."""
    monkeypatch.setattr(auto, "choose", lambda f, **b: ([("skopt:gp", 0)], "test plan"))
    space = {"token": hb.choice(list(range(100_000)))}
    with caplog.at_level(logging.INFO, logger="hpo_bridge"):
        result = hb.minimize(lambda c: c["token"] % 7, space, backend="auto", max_evals=3,
                             seed=0, progress=False)
    assert result.backend == "auto(optuna:gp)"
    assert any("skopt:gp cannot take this space" in r.getMessage() for r in caplog.records)


def _choice_of(n: int, **more: object) -> dict:
    return {"token": hb.choice(list(range(n))), **more}


@pytest.mark.parametrize("n, budget, plan", [
    (100, 30, [("optuna:gp", 0)]),
    (101, 30, [("optuna:gp", 0)]),
    (auto.GP_MAX_OPTIONS, 30, [("optuna:gp", 0)]),
    (auto.GP_MAX_OPTIONS, 100, [("optuna:gp", 0)]),
    (auto.GP_MAX_OPTIONS + 1, 30, [("optuna:tpe", 0)]),
    (200_000, 30, [("optuna:tpe", 0)]),
    (200_000, 500, [("optuna:tpe", 0)]),
])
def test_a_huge_choice_never_goes_to_a_gp(n: int, budget: int, plan: list) -> None:
    """Issue 26, D7: a 200,000-option choice went to optuna:gp (31.8 s for 30 trials and
    growing, against 4.8 s for 20 trials of optuna:tpe)."""
    space = _choice_of(n, x=hb.uniform(0.0, 1.0))
    features = space_features(space)
    assert features.max_options == n
    assert auto.choose(features, max_evals=budget)[0] == plan
    with_two = auto.choose(features, max_evals=budget, n_objectives=2)[0]
    assert with_two[0][0] == ("optuna:tpe" if n > auto.GP_MAX_OPTIONS else "optuna:gp")


def test_a_huge_choice_runs_tpe_and_says_why(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="hpo_bridge"):
        result = hb.minimize(lambda c: c["token"] % 7, _choice_of(100_000), backend="auto",
                             max_evals=3, seed=0, progress=False)
    assert result.backend == "auto(optuna:tpe)"
    lines = [r.getMessage() for r in caplog.records if "backend auto" in r.getMessage()]
    assert lines == [("backend auto: auto(optuna:tpe) (a choice of 100000 options (more than "
                      "1000, too many for a GP); budget: max_evals=3, n_jobs=1)")]


# -- a conditional grid counts its configurations on the tree (issue 26, D8) -------------------

TEN = {"model": hb.choice([{"name": "a", "k": hb.integer(1, 4)},
                           {"name": "b", "j": hb.integer(1, 3)},
                           {"name": "c", "d": hb.choice([0.1, 0.2, 0.3])}])}


def test_a_conditional_grid_counts_each_branch_once() -> None:
    assert space_features(TEN).grid_size == 4 + 3 + 3  # was 3 * 4 * 3 * 3 = 108
    nested = {"m": hb.choice([{"name": "a", "k": hb.integer(1, 4)},
                              {"name": "b", "j": hb.choice(["x", "y", {"q": hb.integer(0, 2)}])},
                              "c"]),
              "z": hb.integer(0, 1)}
    assert space_features(nested).grid_size == (4 + (2 + 3) + 1) * 2
    assert space_features({"m": hb.choice(["a", {"x": hb.uniform(0.0, 1.0)}])}).grid_size is None


def test_a_conditional_grid_that_fits_runs_the_grid_and_logs_its_size(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="hpo_bridge"):
        result = hb.minimize(lambda c: 0.0, TEN, backend="auto", max_evals=50, seed=0,
                             progress=False)
    assert result.backend == "auto(optuna:grid)"
    seen = [repr(r.params) for r in result.records[:10]]
    assert len(set(seen)) == 10  # every configuration once, no repeats
    lines = [r.getMessage() for r in caplog.records if "backend auto" in r.getMessage()]
    assert lines[0].startswith("backend auto: auto(optuna:grid) (a grid of 10 configurations "
                               "fits the budget")
    # too large for the budget: the log gives the right size
    assert auto.choose(space_features(TEN), max_evals=9)[1] == (
        "space: conditional, 4 parameters, a grid of 10 configurations")


_DISCRETE = st.recursive(
    st.one_of(st.builds(lambda lo, n: hb.integer(lo, lo + n), st.integers(-3, 3),
                        st.integers(1, 3)),
              st.builds(lambda n: hb.uniform(-0.2, -0.2 + n * 0.1, step=0.1), st.integers(1, 4)),
              st.sampled_from(["c", 1, None])),
    lambda children: st.one_of(
        st.lists(st.one_of(st.sampled_from(["a", "b", 2]),
                           st.dictionaries(st.sampled_from("pq"), children, min_size=1,
                                           max_size=2)),
                 min_size=1, max_size=3, unique_by=repr).map(hb.choice),
        st.dictionaries(st.sampled_from("uv"), children, min_size=1, max_size=2)),
    max_leaves=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.dictionaries(st.sampled_from("abc"), _DISCRETE, min_size=1, max_size=3))
def test_grid_size_is_the_number_of_configurations_the_grid_enumerates(raw: dict) -> None:
    from hpo_bridge.backends.optuna.grid import enumerate_points

    try:
        space = hb.as_space(raw)
    except hb.SpaceError:  # no parameter at all
        assume(False)
    size = space_features(space).grid_size
    assert size is not None
    assume(size <= 20_000)
    assert size == len(enumerate_points(space))
