"""The conformance suite: what every backend must do, and every refusal its capabilities imply.

Subclass :class:`BackendSuite` in a test module and give it a ``backend`` fixture; pytest then
runs every test below on that backend (see :mod:`hpo_bridge.testing`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, assume, given, settings

import hpo_bridge as hb
from hpo_bridge.backends.registry import BackendInfo, resolve
from hpo_bridge.convert import as_space
from hpo_bridge.results import BASE_COLUMNS
from hpo_bridge.space import Choice, Integer, LogUniform, Normal, SpaceLike, Uniform
from hpo_bridge.testing.spaces import Adam, cond_objective, quadratic, space_for
from hpo_bridge.testing.strategies import SPACES

__all__ = ["Backend", "BackendSuite", "optimizer"]

#: What a suite's ``backend`` fixture returns: a registered name, or a :class:`BackendInfo`
#: (registered nowhere, e.g. ``BackendInfo.for_adapter(MyAdapter, "mylib:algo", ...)``).
Backend = str | BackendInfo

#: Trials per run: past the random start-up of most libraries would be slow; 12 is enough to
#: reach every code path of ask/tell.
N = 12


def optimizer(backend: Backend, space: SpaceLike, seed: int | None = 0, pending: int = 1,
              **options: Any) -> hb.Optimizer:
    """``hb.Optimizer`` for ``backend``, told (if its capabilities say it plans) a budget and
    ``pending`` workers, as ``minimize`` tells it ``max_evals`` and ``n_jobs``."""
    if resolve(backend).capabilities.planned:
        options = {"budget": 30, "num_workers": pending, **options}
    return hb.Optimizer(space, backend=backend, seed=seed, **options)


def _name(backend: Backend) -> str:
    return resolve(backend).name


def _ask(opt: hb.Optimizer) -> hb.Trial:
    trial = opt.ask()
    assert isinstance(trial, hb.Trial)
    return trial


def _ask_n(opt: hb.Optimizer, n: int) -> list[hb.Trial]:
    trials = opt.ask(n=n)
    assert isinstance(trials, list)
    return trials


def _recorder(calls: list[Any]) -> Callable[[dict[str, Any]], float]:
    def objective(config: dict[str, Any]) -> float:
        calls.append(config)
        return 0.0
    return objective


def _run(backend: Backend, objective: Callable[..., Any], kind: str = "flat",
         **kw: Any) -> hb.Result:
    kw = {"max_evals": N, "seed": 0, "progress": False, **kw}
    return hb.minimize(objective, space_for(backend, kind), backend=backend, **kw)


def _check_flat(config: dict[str, Any]) -> None:
    for key in ("n", "s", "act"):
        assert key in config
    if "x" in config:
        assert type(config["x"]) is float and -2.0 <= config["x"] <= 2.0
        assert type(config["lr"]) is float and 1e-4 <= config["lr"] <= 1.0
        assert type(config["n"]) is int and 1 <= config["n"] <= 8
    assert type(config["s"]) is float and config["s"] in (0.0, 0.25, 0.5, 0.75, 1.0)
    assert config["act"] in ("relu", "tanh", "gelu") and type(config["act"]) is str


def _check_point(space: hb.Space, point: dict[str, Any]) -> None:
    space.check_point(point)
    for name, value in point.items():
        param = space[name].param
        if isinstance(param, (Integer, Choice)):
            assert type(value) is int, (name, value)
        else:
            assert type(value) is float, (name, value)
        if isinstance(param, (Uniform, Integer, LogUniform)):
            assert param.low <= value <= param.high, (name, value)


#: The kit's two objectives (one maximized) and their directions.
OBJECTIVES = {"cost": "minimize", "gain": "maximize"}


def _two_objectives(calls: list[Any], constraints: bool = True
                    ) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Objectives on ``n`` and ``s`` (in every kit space) that trade off, with a constraint
    ``s <= 0.75`` (``s = 1.0`` is infeasible)."""
    def objective(config: dict[str, Any]) -> dict[str, Any]:
        n, s = config["n"], config["s"]
        out: dict[str, Any] = {"cost": n + s, "gain": s - 1.0 / n, "other": 1}
        if constraints:
            out["constraints"] = [s - 0.75, -1.0]
        calls.append(out)
        return out
    return objective


def front_ids(result: hb.Result) -> set[int]:
    """The feasible non-dominated complete trials, by the definition (plain loops)."""
    signs = [-1.0 if d == "maximize" else 1.0 for d in result.objectives.directions]
    rows = [(r.trial_id, [s * v for s, v in zip(signs, r.values or (), strict=False)])
            for r in result.records if r.state == "complete" and r.feasible]

    def dominates(b: list[float], a: list[float]) -> bool:
        return (all(x <= y for x, y in zip(b, a, strict=False))
                and any(x < y for x, y in zip(b, a, strict=False)))

    return {i for i, a in rows if not any(dominates(b, a) for _, b in rows)}


def _refusal(backend: Backend, space: hb.Space) -> str | None:
    """The parameter ``backend``'s capabilities rule out in ``space``, if any."""
    caps = resolve(backend).capabilities
    for dim in space.dims:
        if caps.discrete_only and not dim.param.discrete:
            return dim.name
        if caps.unbounded == "refused" and isinstance(dim.param, Normal):
            return dim.name
    return None


class BackendSuite:
    """Every test a backend must pass. Subclass it with a ``backend`` fixture: a registered
    name, or a :class:`~hpo_bridge.BackendInfo` (``BackendInfo.for_adapter(MyAdapter, ...)``:
    the kit runs on the class, installed and declared nowhere)."""

    # -- values, types, records ---------------------------------------------------------------
    def test_flat_space_values_have_real_types(self, backend: Backend) -> None:
        seen = []

        def objective(config: dict[str, Any]) -> float:
            _check_flat(config)
            seen.append(config)
            return quadratic(config)

        result = _run(backend, objective)
        assert len(seen) == len(result.records) > 0
        assert result.best_value == min(r.value for r in result.records if r.value is not None)
        _check_flat(result.best_params)

    def test_conditional_object_options_decode_to_the_objects(self, backend: Backend) -> None:
        seen: list[dict[str, Any]] = []
        if resolve(backend).capabilities.discrete_only:
            result = _run(backend, _recorder(seen), kind="conditional")
            assert len({(c["opt"]["name"], c["opt"].get("k"), c["act"]) for c in seen}) == 8
            assert all(set(c["opt"]) == ({"name", "k"} if c["opt"]["name"] == "a" else {"name"})
                       for c in seen)
            return

        def objective(config: dict[str, Any]) -> float:
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

        result = _run(backend, objective, kind="conditional")
        assert len(seen) == N
        table = result.trials
        adam = table["params.optimizer"] == "adam"
        assert table.loc[adam, "params.optimizer[sgd].momentum"].isna().all()
        assert table.loc[~adam, "params.optimizer[adam].lr"].isna().all()

    def test_same_seed_same_trials(self, backend: Backend) -> None:
        first, again = _run(backend, quadratic), _run(backend, quadratic)
        assert [r.params for r in first.records] == [r.params for r in again.records]

    def test_other_seeds_give_other_trials_when_replicates(self, backend: Backend) -> None:
        runs = [[r.params for r in _run(backend, quadratic, seed=s, max_evals=4).records]
                for s in (0, 1, 2)]
        if resolve(backend).capabilities.replicates:
            assert runs[0] != runs[1] and runs[1] != runs[2] and runs[0] != runs[2]

    def test_trial_table_has_the_same_columns_for_every_backend(self, backend: Backend) -> None:
        result = _run(backend, lambda c: {"value": c["n"], "extra": 2 * c["n"]}, max_evals=4)
        table = result.trials
        names = list(hb.as_space(space_for(backend, "flat")).names)
        assert list(table.columns[: len(BASE_COLUMNS)]) == BASE_COLUMNS
        assert [c for c in table.columns if c.startswith("params.")] == [
            f"params.{n}" for n in names]
        assert (table["metrics.extra"] == 2 * table["value"]).all()
        assert set(table["state"]) == {"complete"}

    # -- failures ------------------------------------------------------------------------------
    def test_failures_and_nan_are_recorded_and_the_run_goes_on(self, backend: Backend) -> None:
        calls = []

        def objective(config: dict[str, Any]) -> float:
            calls.append(config)
            if len(calls) % 3 == 1:
                raise ValueError("boom")
            if len(calls) % 3 == 2:
                return math.nan
            return float(config["n"])

        result = _run(backend, objective, max_evals=9)
        states = [r.state for r in sorted(result.records, key=lambda r: r.trial_id)]
        assert states == ["failed", "failed", "complete"] * 3
        errors = result.trials["error"].tolist()
        assert errors[0].startswith("ValueError: boom") and errors[1] == "objective returned NaN"
        assert len(calls) == 9

    def test_infinite_losses_are_kept_and_the_run_goes_on(self, backend: Backend) -> None:
        values = iter([math.inf, -math.inf, 1e300, 2.0] * 3)
        result = _run(backend, lambda c: next(values), max_evals=8)
        assert [r.value for r in result.records] == [math.inf, -math.inf, 1e300, 2.0] * 2
        assert result.best_value == -math.inf

    def test_no_successful_trial_raises_with_the_first_failure(self, backend: Backend) -> None:
        def objective(config: dict[str, Any]) -> float:
            raise RuntimeError("first failure")

        with pytest.raises(hb.NoSuccessfulTrialError, match="first failure"):
            _run(backend, objective, max_evals=3)

    def test_exception_outside_catch_stops_the_run(self, backend: Backend) -> None:
        def objective(config: dict[str, Any]) -> float:
            raise KeyError("not caught")

        with pytest.raises(KeyError):
            _run(backend, objective, max_evals=3, catch=ValueError)

    def test_ctrl_c_returns_every_finished_trial(self, backend: Backend) -> None:
        calls = []

        def objective(config: dict[str, Any]) -> float:
            calls.append(1)
            if len(calls) == 4:
                raise KeyboardInterrupt
            return float(config["n"])

        result = _run(backend, objective, max_evals=10)
        assert result.stopped == "interrupted"
        assert [r.state for r in result.records] == ["complete"] * 3 + ["failed"]
        assert result.best_value == min(r.value for r in result.records[:3] if r.value is not None)

    # -- pending trials, warm starts -------------------------------------------------------------
    def test_batch_ask_gives_distinct_pending_trials(self, backend: Backend) -> None:
        opt = optimizer(backend, space_for(backend, "flat"), pending=4)
        if not resolve(backend).capabilities.batch:
            with pytest.raises(hb.UnsupportedError, match="one trial at a time|1 at a time"):
                opt.ask(n=4)
            return
        for _ in range(2):  # a first batch, then a batch after the model has data
            trials = _ask_n(opt, 4)
            assert len({t.trial_id for t in trials}) == 4
            assert len({repr(sorted(t.params.items())) for t in trials}) == 4
            for t in trials:
                opt.tell(t, float(t.params["n"]))
        assert len(opt.result().records) == 8

    def test_pending_asks_without_tell_differ(self, backend: Backend) -> None:
        opt = optimizer(backend, space_for(backend, "flat"), seed=1, pending=2)
        for _ in range(11):  # past every library's random start-up
            t = _ask(opt)
            opt.tell(t, float(t.params["n"]) + t.params["s"])
        if not resolve(backend).capabilities.batch:
            return  # a second pending ask is refused (see the test of refusals below)
        a, b = _ask(opt), _ask(opt)
        finished = resolve(backend).capabilities.finite and opt.remaining == 0
        assert a.params != b.params or finished

    def test_points_to_evaluate_come_first_and_warm_start_is_accepted(
            self, backend: Backend) -> None:
        space = space_for(backend, "flat")
        first = {k: p.options[1] if isinstance(p, Choice) else p.values()[0] if p.discrete
                 else p.low for k, p in space.items()}
        result = _run(backend, lambda c: float(c["n"]), points_to_evaluate=[first], max_evals=3)
        assert result.records[0].params == first
        opt = optimizer(backend, space)
        record = opt.tell(first, 1.5)  # never proposed: a warm start
        assert record.params == first and record.value == 1.5
        trial = _ask(opt)
        opt.tell(trial, 2.0)
        assert [r.state for r in opt.records] == ["complete", "complete"]

    def test_a_configuration_not_in_the_space_is_refused(self, backend: Backend) -> None:
        opt = optimizer(backend, space_for(backend, "flat"))
        bad = {k: None for k in space_for(backend, "flat")}
        with pytest.raises(ValueError, match="parameter"):
            opt.tell(bad, 1.0)

    def test_maximize_finds_the_largest_value(self, backend: Backend) -> None:
        result = hb.maximize(lambda c: float(c["n"]), space_for(backend, "flat"),
                             backend=backend, max_evals=N, seed=0, progress=False)
        assert result.best_value == max(r.value for r in result.records if r.value is not None)
        assert result.direction == "maximize"

    # -- what the capabilities say -------------------------------------------------------------
    def test_a_continuous_parameter_is_refused_exactly_when_discrete_only(
            self, backend: Backend) -> None:
        calls: list[Any] = []
        space = {"n": hb.integer(1, 3), "lr": hb.loguniform(1e-3, 1.0)}
        if resolve(backend).capabilities.discrete_only:
            with pytest.raises(hb.UnsupportedError, match="'lr'"):
                hb.minimize(calls.append, space, backend=backend, max_evals=2, progress=False)
            assert calls == []
        else:
            result = _run(backend, lambda c: c["lr"], max_evals=2)
            assert type(result.best_params["lr"]) is float

    def test_unbounded_priors_are_refused_exactly_when_the_capabilities_say(
            self, backend: Backend) -> None:
        caps = resolve(backend).capabilities
        space = {"n": hb.integer(1, 3), "z": hb.normal(0.0, 1.0), "w": hb.lognormal(0.0, 0.5)}
        # A grid cannot take a normal prior: its capabilities must say so (optuna:grid's said
        # "transform" and were read by nobody).
        assert caps.unbounded == "refused" or not caps.discrete_only
        if caps.unbounded == "refused":
            with pytest.raises(hb.UnsupportedError, match="'z'"):
                hb.Optimizer(space, backend=backend)
        else:
            opt = optimizer(backend, space)
            for _ in range(3):
                trial = _ask(opt)
                assert type(trial.params["z"]) is float and trial.params["w"] > 0
                opt.tell(trial, trial.params["z"] ** 2)

    def test_pending_trials_are_refused_beyond_what_the_capabilities_allow(
            self, backend: Backend) -> None:
        caps = resolve(backend).capabilities
        opt = optimizer(backend, space_for(backend, "flat"))  # planned: one worker
        first = _ask(opt)
        if caps.batch and not caps.planned:
            assert len(_ask_n(opt, 3)) == 3  # the library's own policy for pending trials
            return
        with pytest.raises(hb.UnsupportedError, match=re.escape(_name(backend))):
            opt.ask()
        with pytest.raises(hb.UnsupportedError, match=re.escape(_name(backend))):
            opt.ask(n=2)
        opt.tell(first, 1.0)
        opt.tell(_ask(opt), 2.0)  # one at a time is fine
        calls: list[Any] = []
        space = space_for(backend, "flat")
        if not caps.batch:
            with pytest.raises(hb.UnsupportedError, match=re.escape(_name(backend))):
                hb.minimize(_recorder(calls), space, backend=backend, n_jobs=2,
                            executor="threads", max_evals=4, progress=False)
            assert calls == []
        else:  # planned: minimize builds it with num_workers=n_jobs
            result = hb.minimize(_recorder(calls), space, backend=backend, n_jobs=2,
                                 executor="threads", max_evals=4, progress=False)
            assert len(result.records) == len(calls) == 4

    def test_remaining_is_a_count_exactly_when_finite(self, backend: Backend) -> None:
        opt = optimizer(backend, space_for(backend, "flat"))
        if not resolve(backend).capabilities.finite:
            assert opt.remaining is None
            return
        before = opt.remaining
        assert isinstance(before, int) and before > 0
        opt.tell(_ask(opt), 1.0)
        assert opt.remaining == before - 1

    # -- random spaces (Hypothesis) ------------------------------------------------------------
    @settings(max_examples=25, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture])
    @given(raw=SPACES)
    def test_proposals_lie_in_the_domain_and_round_trip(self, backend: Backend,
                                                         raw: dict[str, Any]) -> None:
        space = as_space(raw)
        refused = _refusal(backend, space)
        if refused is not None:
            with pytest.raises(hb.UnsupportedError, match=re.escape(repr(refused))):
                optimizer(backend, space)
            return
        if resolve(backend).capabilities.finite:  # a grid enumerates: keep it small
            sizes = [len(d.param.options) if isinstance(d.param, Choice)
                     else int(getattr(d.param, "size", 0)) for d in space.dims]
            assume(math.prod(sizes) <= 5000)
        opt = optimizer(backend, space)
        adapter = resolve(backend).load()
        for _ in range(3):
            trial = _ask(opt)
            _check_point(space, trial.point)
            # Two branches may decode to equal structures ({"q": 1.1} under either option); the
            # configuration round trip is exact, the point is the first option that matches.
            assert space.decode(space.encode(trial.params)) == trial.params
            back = adapter.from_native(space, adapter.to_native(space, trial.point))
            assert back.keys() == trial.point.keys()
            for name, value in trial.point.items():
                if isinstance(space[name].param, Normal):  # through the inverse CDF
                    assert math.isclose(back[name], value, rel_tol=1e-9, abs_tol=1e-9)
                else:
                    assert back[name] == value and type(back[name]) is type(value), name
            opt.tell(trial, 0.0)

    # -- several objectives and constraints ----------------------------------------------------
    def test_several_objectives_give_the_non_dominated_feasible_front(
            self, backend: Backend) -> None:
        caps = resolve(backend).capabilities
        calls: list[Any] = []
        space = space_for(backend, "flat")
        if caps.objectives == "refused":
            with pytest.raises(hb.UnsupportedError, match=re.escape(_name(backend))):
                hb.minimize(_two_objectives(calls), space, backend=backend, max_evals=N,
                            objectives=OBJECTIVES, progress=False)
            assert calls == []
            return
        constrained = caps.constraints != "refused"
        result = _run(backend, _two_objectives(calls, constrained), objectives=OBJECTIVES)
        assert len(calls) == len(result.records) == N
        for record, out in zip(sorted(result.records, key=lambda r: r.trial_id), calls,
                               strict=True):
            assert record.values == (out["cost"], out["gain"]) and record.value is None
            assert record.constraints == (tuple(out["constraints"]) if constrained else None)
            assert record.metrics == {"other": 1}
        table = result.trials
        for column in ("values.cost", "values.gain", "constraints", "feasible"):
            assert column in table.columns
        assert list(table["feasible"]) == [not constrained or c["constraints"][0] <= 0
                                           for c in calls]
        front = result.pareto_front()
        assert list(front.columns) == list(table.columns)
        assert set(front["trial_id"]) == front_ids(result)
        assert front["feasible"].all()
        with pytest.raises(ValueError, match="pareto_front"):
            _ = result.best_params
        assert result.hypervolume() > 0

    def test_several_objectives_same_seed_same_trials(self, backend: Backend) -> None:
        if resolve(backend).capabilities.objectives == "refused":
            return  # refused before the first trial (test above)
        first, again = (_run(backend, _two_objectives([]), objectives=OBJECTIVES, max_evals=6)
                        for _ in range(2))
        assert [r.params for r in first.records] == [r.params for r in again.records]

    def test_constraints_with_one_objective_best_is_the_best_feasible(
            self, backend: Backend) -> None:
        caps = resolve(backend).capabilities
        calls: list[Any] = []

        def objective(config: dict[str, Any]) -> dict[str, Any]:
            calls.append(config)
            return {"value": config["n"] - config["s"], "constraints": config["s"] - 0.75}

        if caps.constraints == "refused":  # known at the first trial that returns them
            with pytest.raises(hb.UnsupportedError, match=re.escape(_name(backend))) as info:
                _run(backend, objective)
            # The run loop sets ``.result`` on whatever exception ends a run; errors.py declares
            # it on ObjectiveError and NoSuccessfulTrialError only, not on UnsupportedError.
            partial = info.value.result  # type: ignore[attr-defined]
            assert len(calls) == 1 and len(partial.records) == 1
            return
        result = _run(backend, objective)
        feasible = [r for r in result.records if r.state == "complete" and r.feasible]
        assert feasible and all(r.constraints is not None for r in result.completed)
        assert result.best_trial in feasible
        assert result.best_value == min(cast(float, r.value) for r in feasible)
        assert list(result.trials["feasible"]) == [
            r.constraints is not None and r.constraints[0] <= 0
            for r in sorted(result.records, key=lambda r: r.trial_id)]

    def test_several_objectives_and_constraints_survive_storage(
            self, backend: Backend, tmp_path: Any) -> None:
        caps = resolve(backend).capabilities
        if caps.objectives == "refused":
            return
        constrained = caps.constraints != "refused"
        url = f"sqlite:///{tmp_path / 'mo.db'}"
        kw: dict[str, Any] = {"storage": url, "study_name": "mo", "objectives": OBJECTIVES}
        first = _run(backend, _two_objectives([], constrained), max_evals=5, **kw)
        loaded = hb.load(url, "mo")
        assert loaded.objectives == first.objectives

        def books(result: hb.Result) -> list[tuple[Any, ...]]:
            return [(r.trial_id, r.state, r.values, r.constraints)
                    for r in sorted(result.records, key=lambda r: r.trial_id)]

        assert books(loaded) == books(first)
        assert set(loaded.pareto_front()["trial_id"]) == front_ids(first)
        study = loaded.to_optuna()
        assert [d.name.lower() for d in study.directions] == list(OBJECTIVES.values())
        assert [t.values for t in study.trials] == [list(r.values or ()) for r in
                                                    sorted(first.records,
                                                           key=lambda r: r.trial_id)]
        resumed = _run(backend, _two_objectives([], constrained), max_evals=8, **kw)
        assert books(resumed)[:5] == books(first) and len(resumed.records) == 8
        with pytest.raises(ValueError, match="objectives"):
            _run(backend, _two_objectives([]), max_evals=9, storage=url, study_name="mo",
                 objectives=["cost", "gain"])

    # -- multi-fidelity (fidelity=): one proposer of this backend per rung budget --------------
    def test_fidelity_runs_the_rungs_within_max_budget_promoting_the_best(
            self, backend: Backend) -> None:
        calls: list[dict[str, Any]] = []

        def objective(config: dict[str, Any]) -> float:
            calls.append(config)
            return quadratic(config) + 1.0 / float(config["epochs"])

        fid = hb.fidelity("epochs", 1, 3, eta=3)
        caps = resolve(backend).capabilities
        if caps.finite or not caps.batch:  # a grid proposes each configuration once
            with pytest.raises(hb.UnsupportedError, match="grid|one pending trial"):
                _run(backend, objective, fidelity=fid, max_budget=24, max_evals=None)
            assert calls == []
            return
        # Hyperband on rungs (1, 3): 3 at 1 then the best at 3; 2 at 3; twice (12 each).
        result = _run(backend, objective, fidelity=fid, max_budget=24, max_evals=None)
        records = sorted(result.records, key=lambda r: r.trial_id)
        assert [r.budget for r in records] == [1, 1, 1, 3, 3, 3] * 2
        assert result.budget_spent == 24
        for config in calls:
            assert type(config["epochs"]) is int
            _check_flat(config)
        for start in (0, 6):
            best = min(records[start:start + 3], key=lambda r: (r.value, r.trial_id))
            assert records[start + 3].config_id == best.config_id
            assert records[start + 3].point == best.point
        assert result.best_trial.budget == 3

    def test_fidelity_asha_promotes_only_the_best_of_what_finished(
            self, backend: Backend) -> None:
        caps = resolve(backend).capabilities
        if caps.finite or not caps.batch:  # refused: see the test above
            return

        def objective(config: dict[str, Any]) -> float:
            return quadratic(config) + 1.0 / float(config["epochs"])

        result = _run(backend, objective, fidelity=hb.fidelity("epochs", 1, 3, eta=3),
                      scheduler="asha", max_budget=15, max_evals=None)
        records = sorted(result.records, key=lambda r: r.trial_id)
        assert {r.budget for r in records} == {1, 3}
        assert 15 - 3 < cast(float, result.budget_spent) <= 15
        for i, r in enumerate(records):  # serial: every earlier evaluation had finished
            if r.budget == 1:
                continue
            below = [u for u in records[:i] if u.budget == cast(float, r.budget) / 3]
            top = sorted((u for u in below if u.value is not None),
                         key=lambda u: (u.value, u.config_id))[: len(below) // 3]
            assert r.config_id in {u.config_id for u in top}
            assert r.point == next(u.point for u in below if u.config_id == r.config_id)

    def test_fidelity_a_resumed_study_continues_its_brackets(
            self, backend: Backend, tmp_path: Any) -> None:
        caps = resolve(backend).capabilities
        if caps.finite or not caps.batch:  # refused: see the test above
            return

        def objective(config: dict[str, Any]) -> float:
            return quadratic(config) + 1.0 / float(config["epochs"])

        fid = hb.fidelity("epochs", 1, 3, eta=3)
        kw: dict[str, Any] = {"fidelity": fid, "max_evals": None, "study_name": "mf",
                              "storage": str(tmp_path / "mf.log")}
        # Started by another backend: 3 at 1, then the next evaluation (3) would pass 4.
        first = hb.minimize(objective, space_for(backend, "flat"), backend="optuna:random",
                            seed=0, progress=False, max_budget=4, **kw)
        assert [r.budget for r in first.records] == [1, 1, 1]
        resumed = _run(backend, objective, max_budget=12, **kw)
        assert "resuming study 'mf'" in cast(str, resumed.resumed)
        records = sorted(resumed.records, key=lambda r: r.trial_id)
        # The first bracket goes on (its best configuration at 3), it does not start again;
        # then the second bracket: 2 new configurations at 3.
        assert [r.budget for r in records] == [1, 1, 1, 3, 3, 3]
        assert resumed.budget_spent == 12
        best = min(first.records, key=lambda r: (r.value, r.config_id))
        assert (records[3].config_id, records[3].point) == (best.config_id, best.point)
        assert records[4].config_id not in {r.config_id for r in records[:4]}
