"""What a stored trial costs: as many writes as Optuna's own ``study.optimize`` (issue 25).

Each write to a journal file is one locked append with an ``fsync``, each write to SQLite one
committed transaction: the cost of a stored trial. Counted per trial (the difference between a
run of 8 and one of 4 trials, so the study's own attributes, written once, do not count).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
import pytest
import sqlalchemy
from optuna.storages.journal import JournalFileBackend

import hpo_bridge as hb

SPACE = {"x": hb.uniform(-5.0, 10.0), "y": hb.uniform(0.0, 15.0),
         "lr": hb.loguniform(1e-4, 1.0), "kind": hb.choice(["a", "b", "c"])}


def _loss(x: float, y: float, lr: float, kind: str) -> float:
    return (x - 1) ** 2 + y + lr + "abc".index(kind)


def _native(storage: Any, trials: int) -> None:
    def objective(trial: optuna.Trial) -> float:
        return _loss(trial.suggest_float("x", -5.0, 10.0), trial.suggest_float("y", 0.0, 15.0),
                     trial.suggest_float("lr", 1e-4, 1.0, log=True),
                     trial.suggest_categorical("kind", ["a", "b", "c"]))

    study = optuna.create_study(storage=storage, sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=trials)


def _bridge(storage: str, trials: int, backend: str) -> None:
    hb.minimize(lambda c: _loss(c["x"], c["y"], c["lr"], c["kind"]), SPACE, backend=backend,
                max_evals=trials, seed=0, storage=storage, study_name="s", progress=False)


def _per_trial(run: Callable[[int, int], None], counter: list[int]) -> float:
    counts = []
    for i, trials in enumerate((4, 8)):
        before = counter[0]
        run(trials, i)
        counts.append(counter[0] - before)
    return (counts[1] - counts[0]) / 4


@pytest.fixture()
def appends(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Appends to journal files: each ends with an ``fsync`` (Optuna's and hpo_bridge's)."""
    count = [0]
    original = os.fsync

    def counted(fd: int) -> None:
        count[0] += 1
        original(fd)

    monkeypatch.setattr(os, "fsync", counted)
    return count


@pytest.fixture()
def commits() -> Any:
    """Committed transactions that wrote something (reads commit too)."""
    count, wrote = [0], set()

    def statement(conn: Any, cursor: Any, text: str, *args: Any) -> None:
        if text.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            wrote.add(id(conn))

    def commit(conn: Any) -> None:
        if id(conn) in wrote:
            wrote.discard(id(conn))
            count[0] += 1

    events = [("before_cursor_execute", statement), ("commit", commit)]
    for name, fn in events:
        sqlalchemy.event.listen(sqlalchemy.engine.Engine, name, fn)
    yield count
    for name, fn in events:
        sqlalchemy.event.remove(sqlalchemy.engine.Engine, name, fn)


@pytest.mark.parametrize("backend", ["optuna:tpe", "hyperopt:tpe"])
def test_journal_trial_costs_optunas_appends(tmp_path: Path, appends: list[int],
                                             backend: str) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    native = _per_trial(lambda n, i: _native(optuna.storages.JournalStorage(
        JournalFileBackend(str(tmp_path / f"native{i}.log"))), n), appends)
    bridge = _per_trial(lambda n, i: _bridge(str(tmp_path / f"bridge{i}.log"), n, backend),
                        appends)
    assert native == 6  # the trial, its 4 parameters, its end
    assert bridge <= native, (bridge, native)
    loaded = hb.load(str(tmp_path / "bridge1.log"), "s")
    assert [r.duration_s > 0 for r in loaded.records] == [True] * 8
    assert loaded.to_optuna().trials[-1].user_attrs["backend"] == backend


@pytest.mark.parametrize("backend", ["optuna:tpe", "hyperopt:tpe"])
def test_sqlite_trial_costs_optunas_commits(tmp_path: Path, commits: list[int],
                                            backend: str) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    native = _per_trial(lambda n, i: _native(f"sqlite:///{tmp_path / f'native{i}.db'}", n),
                        commits)
    bridge = _per_trial(lambda n, i: _bridge(str(tmp_path / f"bridge{i}.db"), n, backend),
                        commits)
    assert native == 6  # the trial, its 4 parameters, its end
    assert bridge <= native, (bridge, native)
    loaded = hb.load(str(tmp_path / "bridge1.db"), "s")
    assert [r.duration_s > 0 for r in loaded.records] == [True] * 8
    assert loaded.to_optuna().trials[-1].user_attrs["backend"] == backend
