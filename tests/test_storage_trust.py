"""Stored runs you can trust: data only, exact option values, never stale, clear errors.

- A crafted study whose every attribute is a pickled payload runs no code when loaded or
  resumed.
- Options equal under ``==`` but of different types come back with their own type, through
  storage, ``hb.load`` and resume, on every backend (a Hypothesis property).
- ``storage=`` without ``study_name`` never returns an earlier run; a resume says what it
  resumed.
- Damaged, truncated, foreign and locked files give a ``StorageError`` naming the file.
"""

from __future__ import annotations

import base64
import json
import math
import os
import pickle
import sqlite3
import threading
import time
from pathlib import Path

import optuna
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hpo_bridge as hb
from hpo_bridge.space.serialize import StoredLabel, describe, rebuild
from hpo_bridge.backends.optuna.records import native
from hpo_bridge.storage import open_engine
from strategies import SPACES

AVAILABLE = [b.name for b in hb.backends()
             if b.available and not b.capabilities.discrete_only]


@pytest.fixture(autouse=True)
def _quiet_optuna():
    optuna.logging.set_verbosity(optuna.logging.WARNING)


class _Payload:
    """Unpickling this runs code: it creates the marker file."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _pickled(marker: Path) -> str:
    return base64.b64encode(pickle.dumps(_Payload(str(marker)))).decode("ascii")


class Net:
    """An option that is a class."""


SPACE = {"x": hb.uniform(-2.0, 2.0), "net": hb.choice([Net, {"name": "mlp", "k": hb.integer(1, 3)}]),
         "flag": hb.choice([True, 1, 1.0, 0, False, None])}


def _objective(config):
    return config["x"] ** 2


@pytest.mark.parametrize("kind", ["runs.db", "runs.log"])
def test_crafted_file_with_pickled_attributes_runs_no_code(tmp_path, kind):
    storage = str(tmp_path / kind)
    hb.minimize(_objective, SPACE, backend="hyperopt:random", max_evals=4, seed=0,
                storage=storage, study_name="s", progress=False)
    marker = tmp_path / "owned"
    study = hb.load(storage, "s", space=SPACE).to_optuna()
    payload = _pickled(marker)
    for key in list(study.user_attrs) + ["hpo_bridge.space", "hpo_bridge.extra"]:
        if key not in ("hpo_bridge.space_signature", "hpo_bridge.space_doc"):
            study.set_user_attr(key, payload)
    trial = study.ask()  # a finished trial whose every attribute is a payload
    trial.set_user_attr("metrics.loss", payload)
    trial.set_user_attr("label.net", payload)
    trial.set_user_attr("error", payload)
    study.tell(trial, 1.0)
    running = study.ask()  # and a running one, with a payload as its heartbeat
    raw = open_engine(storage).storage
    study_id = raw.get_study_id_from_name("s")
    for number in (trial.number, running.number):
        tid = raw.get_trial_id_from_study_id_trial_number(study_id, number)
        if number == running.number:
            raw.set_trial_system_attr(tid, "hpo_bridge:heartbeat", payload)
            raw.set_trial_user_attr(tid, "backend", payload)

    with pytest.warns(UserWarning, match="labels"):
        loaded = hb.load(storage, "s")
    assert not marker.exists()
    assert isinstance(loaded.records[0].params["net"], (StoredLabel, dict))
    hb.minimize(_objective, SPACE, backend="optuna:random", max_evals=8, seed=0,
                storage=storage, study_name="s", progress=False)  # resume
    assert not marker.exists()

    # The space description itself replaced by a pickle: refused, never unpickled.
    study.set_user_attr("hpo_bridge.space_doc", payload)
    with pytest.raises(ValueError, match="pass the space"):
        hb.load(storage, "s")
    assert not marker.exists()


def test_space_description_is_json_and_rebuilds_plain_values_exactly():
    space = hb.as_space({**SPACE, "t": (1, hb.uniform(0.0, 1.0, step=0.25)), "n": None,
                         "z": hb.normal(0.0, 1.0), "nan": hb.choice([math.nan, 2.5])})
    doc = json.loads(json.dumps(describe(space)))  # survives JSON
    rebuilt, labels = rebuild(doc)
    assert rebuilt.names == space.names
    assert labels == ["net[0]: Net"]
    assert [type(o) for o in rebuilt["flag"].param.options] == [bool, int, float, int, bool,
                                                                 type(None)]
    assert rebuilt["flag"].param.options == (True, 1, 1.0, 0, False, None)
    assert rebuilt.decode({"x": 0.5, "net": 0, "flag": 2, "t.1": 0.25, "z": 0.1, "nan": 0})[
        "t"] == (1, 0.25)
    with pytest.raises(hb.SpaceError, match="format"):
        rebuild({"format": 99, "structure": {}})


class Adam:
    """Stand-ins for torch.optim classes."""


class SGD:
    pass


def test_option_dicts_labelled_by_their_class_load_without_the_space(tmp_path):
    space = {"lr": hb.loguniform(1e-4, 1e-1),
             "optimizer": hb.choice([
                 {"cls": Adam, "betas": (hb.uniform(0.8, 0.99), 0.999)},
                 {"cls": SGD, "momentum": hb.uniform(0.0, 0.95),
                  "nesterov": hb.choice([True, False])}])}
    storage = str(tmp_path / "q.log")
    run = hb.minimize(lambda c: c["lr"], space, backend="hyperopt:random", max_evals=6, seed=1,
                      storage=storage, study_name="q", progress=False)
    assert "optimizer[SGD].momentum" in hb.as_space(space).names
    with pytest.warns(UserWarning, match="labels"):
        loaded = hb.load(storage, "q")
    assert loaded.space.names == hb.as_space(space).names
    for mine, back in zip(run.records, loaded.records):
        assert back.params["optimizer"]["cls"] == mine.params["optimizer"]["cls"].__name__
        assert {k: v for k, v in back.params["optimizer"].items() if k != "cls"} == \
            {k: v for k, v in mine.params["optimizer"].items() if k != "cls"}


# -- exact options: a property over random spaces ------------------------------------------

_EQUAL_GROUPS = [[True, 1, 1.0], [False, 0, 0.0, None], [2, 2.0], ["1", 1], [1.5, "1.5"]]


@st.composite
def _tricky_spaces(draw):
    space = {}
    for i in range(draw(st.integers(1, 3))):
        group = draw(st.sampled_from(_EQUAL_GROUPS))
        options = draw(st.permutations(group))
        space[f"c{i}"] = hb.choice(list(options))
    space["x"] = hb.uniform(0.0, 1.0)
    return space


def _same_values(a, b) -> bool:
    return all(type(a[k]) is type(b[k]) and a[k] == b[k] for k in a)


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(space=_tricky_spaces(), backend=st.sampled_from(AVAILABLE), seed=st.integers(0, 99),
       suffix=st.sampled_from([".db", ".log"]))
def test_options_equal_under_eq_keep_their_type(tmp_path_factory, space, backend, seed, suffix):
    storage = str(tmp_path_factory.mktemp("exact") / f"runs{suffix}")
    seen = []

    def objective(config):
        seen.append(dict(config))
        return config["x"]

    first = hb.minimize(objective, space, backend=backend, max_evals=4, seed=seed,
                        storage=storage, study_name="s", progress=False)
    for record, config in zip(first.records, seen):
        assert _same_values(record.params, config)
    loaded = hb.load(storage, "s")  # plain options need no space=
    for mine, back in zip(first.records, loaded.records):
        assert _same_values(back.params, mine.params)
    resumed = hb.minimize(objective, space, backend=backend, max_evals=6, seed=seed,
                          storage=storage, study_name="s", progress=False)
    for mine, back in zip(first.records, resumed.records):
        assert _same_values(back.params, mine.params)
    for record, config in zip(resumed.records[4:], seen[4:]):  # the objective got the option
        assert _same_values(record.params, config)
    options = {k: space[k].options for k in space if k != "x"}
    for record in hb.load(storage, "s").records:
        for key, opts in options.items():  # identity: the very option object of the space
            assert any(record.params[key] is o for o in opts) or type(record.params[key]) in (
                int, float, bool, str, type(None))


def test_resumed_options_are_the_spaces_own_objects(tmp_path):
    storage = str(tmp_path / "runs.log")
    hb.minimize(_objective, SPACE, backend="optuna:random", max_evals=6, seed=0,
                storage=storage, study_name="s", progress=False)
    result = hb.minimize(_objective, SPACE, backend="hyperopt:tpe", max_evals=8, seed=0,
                         storage=storage, study_name="s", progress=False)
    nets = [r.params["net"] for r in result.records]
    assert all(n is Net or n["name"] == "mlp" for n in nets)
    assert Net in nets or any(isinstance(n, dict) for n in nets)


# -- never stale -----------------------------------------------------------------------------

def test_storage_without_study_name_never_returns_an_earlier_run(tmp_path):
    storage = str(tmp_path / "s.db")
    first = hb.minimize(lambda c: c["x"] ** 2, SPACE, max_evals=5, seed=0, storage=storage,
                        progress=False)
    fixed = hb.minimize(lambda c: (c["x"] - 1) ** 2, SPACE, max_evals=5, seed=0,
                        storage=storage, progress=False)
    assert first.study_name != fixed.study_name
    assert first.resumed is None and fixed.resumed is None
    assert len(fixed.records) == 5
    assert fixed.best_value == min((r.params["x"] - 1) ** 2 for r in fixed.records)
    assert sorted(optuna.study.get_all_study_names(f"sqlite:///{storage}")) == sorted(
        [first.study_name, fixed.study_name])
    assert first.study_name in repr(first)


def test_every_resume_says_what_it_resumed(tmp_path, caplog):
    storage = str(tmp_path / "s.log")
    hb.minimize(_objective, SPACE, max_evals=3, seed=0, storage=storage, study_name="exp1",
                progress=False)
    with caplog.at_level("INFO", logger="hpo_bridge"), \
            pytest.warns(UserWarning, match="nothing was run .raise max_evals"):
        again = hb.minimize(_objective, SPACE, max_evals=3, seed=0, storage=storage,
                            study_name="exp1", progress=False)
    assert again.resumed == "resuming study 'exp1': 3 finished trials"
    assert again.resumed in caplog.text
    assert len(again.records) == 3  # the budget was spent: nothing more ran, and it says so


def test_a_dead_workers_trial_is_failed_by_its_missing_heartbeat(tmp_path, monkeypatch):
    import hpo_bridge.storage.study as shared

    storage = str(tmp_path / "s.log")
    hb.minimize(_objective, SPACE, max_evals=2, seed=0, storage=storage, study_name="hb",
                progress=False)
    study = hb.load(storage, "hb", space=SPACE).to_optuna()
    params, dists = native(hb.as_space(SPACE), {"x": 0.1, "net": 0, "flag": 1})
    trials = []
    for _ in range(2):  # another machine's trials: one beating, one silent for 100 s
        study.enqueue_trial(params)
        trials.append(study.ask(fixed_distributions=dists))
    alive, dead = trials
    raw = open_engine(storage).storage
    study_id = raw.get_study_id_from_name("hb")
    for trial, age in ((alive, 1.0), (dead, 100.0)):
        tid = raw.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        raw.set_trial_system_attr(tid, "hpo_bridge:heartbeat", ["elsewhere", 1, time.time() - age])
    monkeypatch.setattr(shared, "GRACE_PERIOD", 30.0)
    result = hb.minimize(_objective, SPACE, max_evals=6, seed=0, storage=storage,
                         study_name="hb", progress=False)
    assert "1 interrupted" in result.resumed and "1 running in other workers" in result.resumed
    states = {t.number: t.state.name for t in study.get_trials(deepcopy=False)}
    assert states[alive.number] == "RUNNING" and states[dead.number] == "FAIL"
    assert sum(s != "RUNNING" for s in states.values()) == 5  # 6 in all, one still running
    failed = [r for r in result.records if r.trial_id == dead.number]
    assert failed[0].error.startswith("interrupted: no heartbeat for 1")


# -- clear errors ----------------------------------------------------------------------------

def _raises_storage_error(storage, needle):
    with pytest.raises(hb.StorageError, match=needle) as info:
        hb.minimize(_objective, SPACE, max_evals=2, storage=storage, study_name="s",
                    progress=False)
    assert "Traceback" not in str(info.value)
    return info.value


def test_foreign_damaged_and_truncated_files_are_refused_clearly(tmp_path):
    text = tmp_path / "notes.db"
    text.write_text("hello, I am a text file\n")
    _raises_storage_error(str(text), "neither a SQLite database nor an Optuna journal")

    good = tmp_path / "good.db"
    hb.minimize(_objective, SPACE, max_evals=2, storage=str(good), study_name="s",
                progress=False)
    truncated = tmp_path / "truncated.db"
    truncated.write_bytes(good.read_bytes()[:3000])
    _raises_storage_error(str(truncated), "truncated.db")

    damaged = tmp_path / "damaged.db"
    data = bytearray(good.read_bytes())
    data[100:4000] = os.urandom(3900)
    damaged.write_bytes(bytes(data))
    _raises_storage_error(str(damaged), "damaged.db")

    journal = tmp_path / "runs.log"
    hb.minimize(_objective, SPACE, max_evals=2, storage=str(journal), study_name="s",
                progress=False)
    cut = tmp_path / "cut.log"
    cut.write_bytes(journal.read_bytes()[:-25])  # the last line cut in the middle
    with pytest.raises(hb.StorageError, match="cut.log"):
        hb.minimize(_objective, SPACE, max_evals=4, storage=str(cut), study_name="s",
                    progress=False)
    with pytest.raises(hb.StorageError, match="cut.log"):
        hb.load(str(cut), "s", space=SPACE)


def test_a_locked_database_is_named_with_what_to_do(tmp_path):
    db = tmp_path / "locked.db"
    hb.minimize(_objective, SPACE, max_evals=2, storage=str(db), study_name="s", progress=False)
    holder = sqlite3.connect(db)
    holder.execute("BEGIN EXCLUSIVE")  # another program holds the write lock
    import hpo_bridge.storage.engines as engines

    released = threading.Timer(20.0, holder.rollback)
    released.start()
    try:
        original = engines.SQLITE_TIMEOUT
        engines.SQLITE_TIMEOUT = 0.5
        with pytest.raises(hb.StorageError, match="locked"):
            hb.minimize(_objective, SPACE, max_evals=4, storage=str(db), study_name="s",
                        progress=False)
    finally:
        engines.SQLITE_TIMEOUT = original
        released.cancel()
        holder.rollback()
        holder.close()


def _as_labels(obj):
    """A configuration with every object that is not a plain value replaced by its label."""
    if isinstance(obj, StoredLabel):
        return ("label", str(obj))
    if isinstance(obj, dict):
        return {k: _as_labels(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_as_labels(v) for v in obj)
    if obj is None or type(obj) in (bool, int, float, str):
        return obj
    name = getattr(obj, "__name__", None)
    return ("label", name if isinstance(name, str) else type(obj).__name__)


@settings(max_examples=150, deadline=None)
@given(space=SPACES)
def test_any_space_round_trips_through_its_json_description(space):
    """describe -> JSON -> rebuild gives the same dimensions, and the same configuration for
    every point: plain values exactly, other objects as their labels."""
    try:
        compiled = hb.as_space(space)
    except hb.SpaceError:
        return  # e.g. two parameters with one name: not a space
    rebuilt, labels = rebuild(json.loads(json.dumps(describe(compiled))))
    assert rebuilt.names == compiled.names
    assert [d.condition for d in rebuilt.dims] == [d.condition for d in compiled.dims]
    if not labels:
        assert rebuilt.signature() == compiled.signature()
    opt = hb.Optimizer(compiled, backend="optuna:random", seed=0)
    for _ in range(3):
        trial = opt.ask()
        assert _as_labels(rebuilt.decode(trial.point)) == _as_labels(trial.params)
