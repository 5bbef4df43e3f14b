"""nevergrad's backends: declared only through the entry point, faithful to nevergrad's own
ask/tell loop. The conformance kit runs on them in ``test_conformance.py`` (they are in
``hb.backends()`` once the package is installed: ``pip install -e '.[nevergrad]'``)."""

from __future__ import annotations

import math
import time
import warnings
from importlib import import_module
from pathlib import Path

import numpy as np
import pytest
import tomllib
from scipy import optimize as scipy_optimize
from test_fidelity import ACTS, bridge, objective

import hpo_bridge as hb

ROOT = Path(__file__).resolve().parents[1]
ng = pytest.importorskip("nevergrad", reason="pip install -e '.[nevergrad]'")


def _declared() -> list[hb.BackendInfo]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    out = []
    for value in project["entry-points"]["hpo_bridge.backends"].values():
        module, attr = value.split(":")
        out.extend(getattr(import_module(module), attr))
    return out


NAMES = [b.name for b in _declared()]


def test_the_backends_come_only_from_the_entry_point() -> None:
    assert NAMES == ["nevergrad:ngopt", "nevergrad:de", "nevergrad:cma", "nevergrad:random"]
    registered = {b.name for b in hb.backends()}
    assert set(NAMES) <= registered, (
        "the installed metadata lacks the entry point: re-install the package "
        "(pip install -e . --no-deps)")
    assert "nevergrad" not in (ROOT / "hpo_bridge/backends/registry.py").read_text()


def native_nevergrad(optimizer: str, n: int, seed: int) -> list[dict]:
    """nevergrad's own loop: a seeded parametrization, then ask and tell."""
    param = ng.p.Dict(x=ng.p.Scalar(lower=-5.0, upper=10.0), y=ng.p.Scalar(lower=0.0, upper=15.0),
                      lr=ng.p.Log(lower=1e-4, upper=1.0), act=ng.p.Choice(ACTS))
    param.random_state = np.random.RandomState(seed)
    opt = ng.optimizers.registry[optimizer](parametrization=param, budget=n, num_workers=1)
    seen = []
    for _ in range(n):
        candidate = opt.ask()
        config = dict(candidate.value)
        seen.append({k: config[k] for k in ("x", "y", "lr", "act")})
        opt.tell(candidate, objective(config))
    return seen


CASES = [("nevergrad:ngopt", "NGOpt", 20), ("nevergrad:de", "TwoPointsDE", 20),
         ("nevergrad:cma", "CMA", 20), ("nevergrad:random", "RandomSearch", 10)]


def test_every_nevergrad_backend_has_a_fidelity_case() -> None:
    assert [c[0] for c in CASES] == NAMES


@pytest.mark.parametrize("backend,optimizer,n", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("seed", [0, 7])
def test_same_seed_proposes_what_nevergrads_ask_tell_proposes(backend, optimizer, n, seed):
    expected = native_nevergrad(optimizer, n, seed)
    got = bridge(backend, n, seed)
    assert got == expected


def test_failures_and_infinities_are_told_as_nevergrad_clips_them() -> None:
    from hpo_bridge.backends.base import Told
    from hpo_bridge.backends.nevergrad.adapter import LARGEST, NevergradAdapter

    raw = {"x": hb.uniform(0.0, 1.0), "c": hb.choice(["a", "b"])}
    adapter = NevergradAdapter(hb.as_space(raw), 0, optimizer="TwoPointsDE")
    told: list[float] = []
    adapter.optimizer.register_callback("tell", lambda o, c, loss: told.append(loss))
    outcomes = [("complete", math.inf), ("complete", -math.inf), ("failed", None),
                ("complete", 1e300), ("complete", 2.0), ("pruned", None)]
    for state, loss in outcomes:
        handle, _ = adapter.ask()
        adapter.tell(handle, Told(state, None if loss is None else (loss,)))
    assert told == [LARGEST, -LARGEST, LARGEST, LARGEST, 2.0, LARGEST]
    result = hb.minimize(lambda c: -math.inf if c["c"] == "a" else math.inf, raw,
                         backend="nevergrad:ngopt", max_evals=6, seed=0, progress=False)
    assert {r.value for r in result.records} <= {math.inf, -math.inf}  # kept as returned


def test_several_objectives_and_constraints_reach_nevergrad_natively() -> None:
    opt = hb.Optimizer({"x": hb.uniform(0.0, 1.0), "y": hb.uniform(0.0, 1.0)},
                       backend="nevergrad:de", seed=0, objectives=["a", "b"], budget=20)
    for _ in range(12):
        t = opt.ask()
        opt.tell(t, {"a": t.params["x"], "b": 1 - t.params["x"] + t.params["y"],
                     "constraints": t.params["y"] - 0.5})
    native = opt.adapter.optimizer  # type: ignore[attr-defined]
    assert native.num_objectives == 2  # told lists of losses: nevergrad's own Pareto front
    front = native.pareto_front()
    assert front and all(len(c.losses) == 2 for c in front)
    result = opt.result()
    assert set(result.pareto_front()["trial_id"]) <= {r.trial_id for r in result.records
                                                     if r.feasible}


def test_ngopt_metamodel_runs_with_four_workers_under_numpy_2_4() -> None:
    """NGOpt with ``num_workers=4`` on two continuous parameters is a ``MetaModel``, which
    first fits its surrogate at the 14th ask: its ``float(model.predict(...))`` of a
    one-element array was a ``TypeError`` under NumPy 2.4 (``minimize(n_jobs=4)`` raised, then
    hung in nevergrad's waiting Powell thread)."""
    def branin(x: float, y: float) -> float:
        return ((y - 5.1 / (4 * math.pi ** 2) * x ** 2 + 5 / math.pi * x - 6) ** 2
                + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10)

    opt = hb.Optimizer({"x": hb.uniform(-5, 10), "y": hb.uniform(0, 15)},
                       backend="nevergrad:ngopt", seed=0, budget=40, num_workers=4)
    assert type(opt.adapter.optimizer.optim).__name__.endswith("MetaModel")
    seen = []
    for _ in range(14):
        trial = opt.ask()
        seen.append(trial.params)
        opt.tell(trial, branin(**trial.params))
    assert all(-5 <= p["x"] <= 10 and 0 <= p["y"] <= 15 for p in seen)


def test_scipys_cobyla_rhoend_warning_is_not_shown() -> None:
    """NGOpt picks COBYLA for a few bounded floats; nevergrad calls scipy's COBYLA with
    ``tol=0``, which scipy warns about at every (re)start of COBYLA, in nevergrad's thread.
    Through hb (by hand or ``minimize``) the warning is filtered during nevergrad's calls,
    restarts included, and it still shows outside them."""
    space = {f"x{i}": hb.uniform(-1.0, 1.0) for i in range(4)}

    def rhoend(caught: list[warnings.WarningMessage]) -> int:
        return sum("COBYLA: Invalid RHOEND" in str(w.message) for w in caught)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        param = ng.p.Array(shape=(4,), lower=-1.0, upper=1.0)
        native = ng.optimizers.NGOpt(parametrization=param, budget=60, num_workers=1)
        for _ in range(60):
            native.tell(native.ask(), 1.0)
    assert type(native.optim).__name__ == "_NonObjectMinimizeBase"  # COBYLA
    assert rhoend(caught) >= 2  # its start and at least one restart
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opt = hb.Optimizer(space, backend="nevergrad:ngopt", seed=0, budget=60)
        for _ in range(60):
            opt.tell(opt.ask(), 1.0)
            time.sleep(0.002)  # the user's code: nevergrad's thread may restart COBYLA now
        result = hb.minimize(lambda c: sum(v * v for v in c.values()), space,
                             backend="nevergrad:ngopt", max_evals=30, seed=0, progress=False)
    assert len(opt.result().records) == 60 and len(result.records) == 30
    assert rhoend(caught) == 0
    with warnings.catch_warnings(record=True) as caught:  # not filtered for anyone else
        warnings.simplefilter("always")
        scipy_optimize.minimize(lambda x: float(x @ x), [0.5, 0.5], method="COBYLA", tol=0,
                                options={"maxiter": 5})
    assert rhoend(caught) == 1
