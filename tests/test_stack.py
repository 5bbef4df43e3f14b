"""The trial model (issue 20): one tell, one adapter stack built once, storage in three parts,
each thing done once, and every proposal checked against the space."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import hpo_bridge as hb
from hpo_bridge.backends import registry

SPACE = {"x": hb.uniform(-1.0, 1.0), "k": hb.choice(["a", "b"])}


def _counting(monkeypatch, name: str, owner: object) -> list[int]:
    """Count calls of ``owner.name`` wherever a module of the package imported it."""
    original = getattr(owner, name)
    calls: list[int] = []

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    for module in list(sys.modules.values()):
        if (getattr(module, "__name__", "").startswith("hpo_bridge")
                and getattr(module, name, None) is original):
            monkeypatch.setattr(module, name, counted)
    return calls


# -- item 7: every proposal checked against the space -----------------------------------------
@pytest.mark.parametrize("value", [np.float32(2.5), np.float32(0.5)], ids=["range", "type"])
def test_a_proposal_outside_the_space_never_reaches_the_objective(monkeypatch, value) -> None:
    adapter = registry.resolve("optuna:random").load()
    native_ask = adapter.ask

    def ask(self):
        handle, point = native_ask(self)
        return handle, {**point, "x": value}

    monkeypatch.setattr(adapter, "ask", ask)
    seen: list = []
    with pytest.raises(hb.BackendError, match=r"optuna:random proposed .*'x'") as info:
        hb.minimize(lambda c: seen.append(c) or 0.0, SPACE, backend="optuna:random",
                    max_evals=3, seed=0, progress=False)
    assert seen == []
    assert "not in uniform(-1.0, 1.0)" in str(info.value)


# -- item 2: one adapter stack, never replaced --------------------------------------------------
def test_constraints_on_a_penalty_backend_hand_over_inside_the_stack() -> None:
    """hyperopt:tpe takes constraints through ParEGO's penalty: the wrapper is in the stack from
    the start, passes through until the first constrained trial, then scalarizes; the trials
    in flight are told through the same adapter and handles."""
    def value(t: hb.Trial) -> dict:
        return {"value": t.params["x"], "constraints": 0.5 - t.params["x"]}

    opt = hb.Optimizer({"x": hb.uniform(0.0, 1.0)}, backend="hyperopt:tpe", seed=0)
    adapter = opt.adapter
    first = [opt.ask() for _ in range(3)]
    assert not adapter.active  # until constraints: what hyperopt itself proposes
    opt.tell(first[0], value(first[0]))
    assert adapter.active and opt.adapter is adapter
    for t in first[1:]:  # asked before the hand-over: told through the same handles
        opt.tell(t, value(t))
    for _ in range(4):
        t = opt.ask()
        opt.tell(t, value(t))
    assert opt.adapter is adapter and len(opt.records) == 7
    assert [p for p, _ in opt.history] == [r.point for r in opt.records]  # one history


def test_an_unconstrained_run_on_a_penalty_backend_is_the_library_s_own() -> None:
    from hpo_bridge.backends.hyperopt.adapter import HyperoptAdapter

    space = hb.as_space(SPACE)
    native = HyperoptAdapter(space, 3)
    opt = hb.Optimizer(space, backend="hyperopt:tpe", seed=3)
    for _ in range(25):
        handle, point = native.ask()
        trial = opt.ask()
        assert trial.point == point
        loss = point["x"] ** 2 + point["k"]
        native.tell(handle, hb_told(loss))
        opt.tell(trial, loss)


def hb_told(loss: float):
    from hpo_bridge.backends.base import Told

    return Told("complete", (loss,))


def test_a_stored_optuna_study_keeps_its_sampler(tmp_path) -> None:
    """The Optuna adapter is built on the stored study with its own sampler: the record
    store's study object is never given another sampler."""
    from hpo_bridge.storage import attach_storage

    opt = hb.Optimizer(SPACE, backend="optuna:tpe", seed=0)
    hook = attach_storage(opt, str(tmp_path / "s.db"), "s")
    try:
        stored_sampler = hook.study.sampler
        assert opt.adapter.stored and opt.adapter.study.study_name == "s"
        assert opt.adapter.study.sampler is not stored_sampler
        trial = opt.ask()
        opt.tell(trial, 1.0)
        assert hook.study.sampler is stored_sampler
        assert len(hook.study.get_trials()) == 1  # asked and told through the stored study
        with pytest.raises(RuntimeError, match="built once"):
            opt.build()
    finally:
        hook.close(opt)


def test_configure_after_the_first_trial_is_refused() -> None:
    opt = hb.Optimizer(SPACE, backend="optuna:random", seed=0)
    opt.tell(opt.ask(), 1.0)
    with pytest.raises(RuntimeError, match="before the first trial"):
        opt.configure(max_evals=5)


# -- item 5: once each ----------------------------------------------------------------------------
def test_each_returned_value_is_parsed_once(monkeypatch) -> None:
    import hpo_bridge.objectives as objectives

    calls = _counting(monkeypatch, "parse_value", objectives)
    hb.minimize(lambda c: {"value": c["x"], "extra": 1}, SPACE, backend="optuna:random",
                max_evals=5, seed=0, progress=False)
    assert len(calls) == 5


def test_warm_start_points_are_encoded_once(monkeypatch) -> None:
    from hpo_bridge.space import Space

    calls = _counting(monkeypatch, "encode", Space)
    points = [{"x": 0.1, "k": "a"}, {"x": -0.5, "k": "b"}, {"x": 0.9, "k": "a"}]
    result = hb.minimize(lambda c: c["x"], SPACE, backend="optuna:random", max_evals=4,
                         seed=0, points_to_evaluate=points, progress=False)
    assert [r.params for r in result.records[:3]] == points
    assert len(calls) == 3


def test_a_backend_is_resolved_and_its_options_checked_once(monkeypatch) -> None:
    resolved = _counting(monkeypatch, "resolve", registry)
    checked = _counting(monkeypatch, "check_options", registry)
    hb.minimize(lambda c: c["x"], SPACE, backend="tpe", max_evals=2, seed=0, progress=False,
                n_startup_trials=1)
    assert (len(resolved), len(checked)) == (1, 1)


def test_auto_by_hand_takes_the_budget_as_open_unless_configured() -> None:
    """README: ``hb.Optimizer(..., backend="auto")`` learns the budget from ``configure``;
    without it the budget is open (the GP hands over after 200 trials)."""
    space = {"x": hb.uniform(0.0, 1.0), "y": hb.uniform(0.0, 1.0)}
    opt = hb.Optimizer(space, backend="auto", seed=0)
    assert opt.adapter.describe(planned=True).endswith("at trial 200)")
    opt = hb.Optimizer(space, backend="auto", seed=0)
    opt.configure(max_evals=50)
    assert "at trial" not in opt.adapter.describe(planned=True)
