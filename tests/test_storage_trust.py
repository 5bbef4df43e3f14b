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
from hpo_bridge.backends.optuna.records import native
from hpo_bridge.space.serialize import StoredLabel, describe, rebuild
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
    for mine, back in zip(run.records, loaded.records, strict=False):
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
    for record, config in zip(first.records, seen, strict=False):
        assert _same_values(record.params, config)
    loaded = hb.load(storage, "s")  # plain options need no space=
    for mine, back in zip(first.records, loaded.records, strict=False):
        assert _same_values(back.params, mine.params)
    resumed = hb.minimize(objective, space, backend=backend, max_evals=6, seed=seed,
                          storage=storage, study_name="s", progress=False)
    for mine, back in zip(first.records, resumed.records, strict=False):
        assert _same_values(back.params, mine.params)
    for record, config in zip(resumed.records[4:], seen[4:], strict=False):  # the objective got the option
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


# -- issue 26: a damaged file is never made worse; every damage is named --------------------

_X = {"x": hb.uniform(-2.0, 2.0)}


def _square(config):
    return config["x"] ** 2


def _journal(path, trials=3):
    hb.minimize(_square, _X, max_evals=trials, seed=0, storage=str(path), study_name="s",
                progress=False)
    return path.read_bytes()


def test_a_journal_with_an_incomplete_last_line_is_never_written_and_says_how_to_recover(
        tmp_path):
    """D3: the storage error comes before any write; the whole lines are named and, copied as
    the error says, read back every trial in them."""
    good = _journal(tmp_path / "good.log")
    cut = tmp_path / "cut.log"
    cut.write_bytes(good[:-25])  # a writer stopped in the middle of the last line
    damaged = cut.read_bytes()
    whole = damaged[:damaged.rfind(b"\n") + 1]
    with pytest.raises(hb.StorageError) as info:
        hb.minimize(_square, _X, max_evals=5, seed=0, storage=str(cut), study_name="s",
                    progress=False)
    assert cut.read_bytes() == damaged  # nothing appended
    message = str(info.value)
    lines = whole.count(b"\n")
    assert str(cut) in message and f"line {lines + 1}" in message
    assert "nothing was written" in message and f"lines 1-{lines}" in message
    assert f"head -c {len(whole)} " in message
    with pytest.raises(hb.StorageError, match=f"line {lines + 1}"):
        hb.load(str(cut), "s")
    assert cut.read_bytes() == damaged
    # Recovered as the message says: every trial of the whole lines, for us and for Optuna.
    fixed = tmp_path / "fixed.log"
    fixed.write_bytes(damaged[:len(whole)])
    assert len(hb.load(str(fixed), "s").records) >= 2
    from optuna.storages.journal import JournalFileBackend

    plain = optuna.load_study(study_name="s", storage=optuna.storages.JournalStorage(
        JournalFileBackend(str(fixed))))
    assert len(plain.trials) >= 2


def test_a_journal_damaged_while_open_is_not_appended_to(tmp_path):
    """D3: another writer dies mid-line while this process has the journal open: the next
    write is refused, and the file keeps its bytes."""
    path = tmp_path / "open.log"
    _journal(path, trials=1)
    engine = open_engine(str(path))
    with path.open("ab") as f:
        f.write(b'{"op_code":8,"worker_id":"w","trial_id":0,"user_a')
    damaged = path.read_bytes()
    study_id = engine.storage.get_study_id_from_name("s")
    with pytest.raises(hb.StorageError, match="incomplete"):
        engine.storage.set_study_user_attr(study_id, "k", 1)
    assert path.read_bytes() == damaged


def _tables(path):
    with sqlite3.connect(path) as conn:
        return {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_another_programs_sqlite_database_is_refused_unless_allowed(tmp_path):
    """D6: tables that are not Optuna's are named and nothing is written; the URL option
    ``?foreign_tables=allow`` keeps a study there on purpose."""
    app = tmp_path / "app.db"
    with sqlite3.connect(app) as conn:
        conn.execute("CREATE TABLE users (id INTEGER, name TEXT)")
        conn.execute("CREATE TABLE orders (id INTEGER)")
    before = app.read_bytes()
    for storage in (str(app), f"sqlite:///{app}", str(app.with_suffix(".db"))):
        with pytest.raises(hb.StorageError, match=r"not Optuna's \(orders, users\)") as info:
            hb.minimize(_square, _X, max_evals=2, storage=storage, study_name="s",
                        progress=False)
        assert "foreign_tables=allow" in str(info.value)
    assert app.read_bytes() == before and _tables(app) == {"users", "orders"}
    with pytest.raises(ValueError, match="only option"):
        hb.minimize(_square, _X, max_evals=2, storage=f"sqlite:///{app}?foreign=1",
                    study_name="s", progress=False)

    allowed = f"sqlite:///{app}?foreign_tables=allow"
    run = hb.minimize(_square, _X, max_evals=2, storage=allowed, study_name="s",
                      progress=False)
    assert {"users", "orders", "studies", "trials"} <= _tables(app)
    assert len(hb.load(allowed, "s").records) == 2
    assert len(run.to_optuna().trials) == 2  # reopened with the user's permission
    # An Optuna database (its own tables only, alembic's included) needs no permission.
    plain = tmp_path / "plain.db"
    optuna.create_study(storage=f"sqlite:///{plain}", study_name="other")
    hb.minimize(_square, _X, max_evals=1, storage=str(plain), study_name="s", progress=False)


@pytest.mark.parametrize("backend", ["hyperopt:random", "optuna:random"])
@pytest.mark.parametrize("suffix", [".log", ".db"])
def test_normal_values_come_back_bit_identical_and_done_points_are_not_run_again(
        tmp_path, backend, suffix):
    """D9: a normal/lognormal value read back from storage is the very float the objective
    got, so a resumed run knows its ``points_to_evaluate`` point was run."""
    space = {"n": hb.normal(0.0, 1.0), "ln": hb.lognormal(0.0, 1.0),
             "q": hb.normal(3.0, 0.5)}
    storage = str(tmp_path / f"runs{suffix}")
    point = {"n": 0.3, "ln": 1.7, "q": 2.9}
    seen = []

    def objective(config):
        seen.append(dict(config))
        return config["n"] ** 2

    first = hb.minimize(objective, space, backend=backend, max_evals=6, seed=0,
                        storage=storage, study_name="s", points_to_evaluate=[point],
                        progress=False)
    assert seen[0] == point
    loaded = hb.load(storage, "s")
    assert [r.params for r in loaded.records] == seen  # == on floats: bit-identical
    assert [r.params for r in first.records] == seen
    hb.minimize(objective, space, backend=backend, max_evals=8, seed=0, storage=storage,
                study_name="s", points_to_evaluate=[point], progress=False)
    assert len(seen) == 8 and point not in seen[6:]
    study = hb.load(storage, "s").to_optuna()  # Optuna still reads the quantiles
    assert all(0.0 < t.params["n"] < 1.0 for t in study.trials)


def test_a_large_choice_is_read_from_the_stored_study_once(tmp_path, monkeypatch):
    """D10: the study's attributes (which hold the whole space) are read once per run, not
    deep-copied three times."""
    space = {"c": hb.choice(list(range(2000))), "x": hb.uniform(0.0, 1.0)}
    storage = str(tmp_path / "big.log")
    hb.minimize(lambda c: c["x"], space, backend="hyperopt:random", max_evals=1, seed=0,
                storage=storage, study_name="s", progress=False)
    reads = []
    original = optuna.storages.JournalStorage.get_study_user_attrs

    def counted(self, study_id):
        reads.append(study_id)
        return original(self, study_id)

    monkeypatch.setattr(optuna.storages.JournalStorage, "get_study_user_attrs", counted)
    hb.minimize(lambda c: c["x"], space, backend="hyperopt:random", max_evals=2, seed=0,
                storage=storage, study_name="s", progress=False)
    assert len(reads) == 1


_W = '"worker_id":"w"'
_DIST = '"{\\"name\\": \\"FloatDistribution\\", \\"attributes\\": {\\"step\\": null, ' \
        '\\"low\\": -2.0, \\"high\\": 2.0, \\"log\\": false}}"'
_DAMAGED_LINES = {
    "nested": ('{"op_code":8,' + _W + ',"trial_id":0,"user_attr":{"metrics.m":'
               + "[" * 100_000 + "]" * 100_000 + "}}"),
    "nested_attr": ('{"op_code":2,' + _W + ',"study_id":0,"user_attr":{"k":'
                    + "[" * 900 + "]" * 900 + "}}"),
    "wrong_op_code": '{"op_code":"x",' + _W + "}",
    "missing_key": '{"op_code":4,' + _W + "}",
    "wrong_type": '{"op_code":4,' + _W + ',"study_id":0,"datetime_start":12}',
    "not_an_object": '[1, 2, 3]',
    "not_json": '{"op_code":8,',
}


@pytest.mark.parametrize("damage", sorted(_DAMAGED_LINES))
def test_a_damaged_journal_line_is_named_with_what_still_reads(tmp_path, damage):
    """D11: each damage is a StorageError naming the file, the line and the whole lines
    before it, on load and on resume; the file is not changed."""
    path = tmp_path / "runs.log"
    good = _journal(path, trials=2)
    path.write_bytes(good + _DAMAGED_LINES[damage].encode() + b"\n"
                     + good.splitlines(keepends=True)[-1])
    damaged = path.read_bytes()
    lines = good.count(b"\n")
    attempts = [lambda: hb.load(str(path)),  # lists the studies: Optuna copies each
                lambda: hb.load(str(path), "s")]
    if damage == "nested_attr":  # Optuna replays it; only a deep copy of the study fails, and
        # a named study is read without one
        attempts.pop()
        assert len(hb.load(str(path), "s").records) == 2
    else:
        attempts.append(lambda: hb.minimize(_square, _X, max_evals=4, storage=str(path),
                                            study_name="s", progress=False))
    for attempt in attempts:
        with pytest.raises(hb.StorageError) as info:
            attempt()
        message = str(info.value)
        assert str(path) in message and f"line {lines + 1}" in message
        assert f"lines 1-{lines}" in message and "2 trials" in message
    assert path.read_bytes() == damaged


_DAMAGED_ROWS = {
    "bad_json": ("UPDATE trial_user_attributes SET value_json = '{\"a\": [1,' "
                 "WHERE key = 'duration_s'", "trial_user_attributes.value_json"),
    "nested": ("UPDATE trial_user_attributes SET value_json = '%s' WHERE key = 'duration_s'"
               % ("[" * 100_000 + "]" * 100_000), "nested too deeply"),
    "distribution": ("UPDATE trial_params SET distribution_json = '{\"name\": \"Nope\"}'",
                     "trial_params.distribution_json"),
    "state": ("UPDATE trials SET state = 'WHAT'", "trials.state"),
    "direction": ("UPDATE study_directions SET direction = 'UP'", "study_directions.direction"),
    "study_attr": ("UPDATE study_user_attributes SET value_json = 'nope' "
                   "WHERE key = 'hpo_bridge.space_signature'",
                   "'hpo_bridge.space_signature'"),
}


@pytest.mark.parametrize("damage", sorted(_DAMAGED_ROWS))
def test_a_damaged_sqlite_row_is_named_as_a_sqlite_row(tmp_path, damage):
    """D11: a SQLite file's damaged value is named by table, column and row, never as a
    damaged journal."""
    path = tmp_path / "runs.db"
    hb.minimize(_square, _X, max_evals=2, seed=0, storage=str(path), study_name="s",
                progress=False)
    sql, part = _DAMAGED_ROWS[damage]
    with sqlite3.connect(path) as conn:
        conn.execute(sql)
    for attempt in (lambda: hb.load(str(path), "s"),
                    lambda: hb.minimize(_square, _X, max_evals=4, storage=str(path),
                                        study_name="s", progress=False)):
        with pytest.raises(hb.StorageError) as info:
            attempt()
        message = str(info.value)
        assert str(path) in message and part in message and "readable" in message
        assert "journal" not in message


@pytest.mark.parametrize("attr, value", [("hpo_bridge.space_signature", 5),
                                         ("hpo_bridge.space_signature", [["x", 1, None]]),
                                         ("hpo_bridge.objectives", [1, 2])])
def test_a_damaged_study_attribute_is_named(tmp_path, attr, value):
    path = tmp_path / "runs.log"
    _journal(path, trials=2)
    open_engine(str(path)).storage.set_study_user_attr(0, attr, value)
    for attempt in (lambda: hb.load(str(path), "s"),
                    lambda: hb.minimize(_square, _X, max_evals=4, storage=str(path),
                                        study_name="s", progress=False)):
        with pytest.raises(hb.StorageError, match=f"{attr!r} is damaged") as info:
            attempt()
        assert str(path) in str(info.value) and "optuna.load_study" in str(info.value)


def test_a_trial_with_numbers_out_of_range_is_left_out_by_name(tmp_path):
    path = tmp_path / "runs.log"
    good = _journal(path, trials=2)
    huge = "1" + "0" * 400
    lines = [
        '{"op_code":4,' + _W + ',"study_id":0,"datetime_start":"2026-12-03T08:00:00+00:00"}',
        '{"op_code":5,' + _W + ',"trial_id":2,"param_name":"x","param_value_internal":0.5,'
        '"distribution":' + _DIST + "}",
        '{"op_code":6,' + _W + ',"trial_id":2,"state":1,"values":[' + huge + "],"
        '"datetime_complete":"2026-12-03T08:00:01+00:00"}']
    path.write_bytes(good + "\n".join(lines).encode() + b"\n")
    with pytest.warns(UserWarning, match=r"trials \[2\] are damaged.*OverflowError.*other 2"):
        loaded = hb.load(str(path), "s")
    assert [r.trial_id for r in loaded.records] == [0, 1]


def test_a_fifo_named_as_the_storage_is_refused_without_reading(tmp_path):
    """D11: a FIFO would block the first read forever."""
    fifo = tmp_path / "runs.log"
    os.mkfifo(fifo)
    outcome = []

    def load():
        try:
            hb.load(str(fifo))
        except Exception as exc:
            outcome.append(exc)

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(60.0)  # a hang guard only
    if reader.is_alive():  # release the blocked reader before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("hb.load blocked on a FIFO")
    assert isinstance(outcome[0], hb.StorageError) and "FIFO" in str(outcome[0])
    with pytest.raises(hb.StorageError, match="FIFO"):
        hb.minimize(_square, _X, max_evals=1, storage=str(fifo), study_name="s",
                    progress=False)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**30, 10**30)
    | st.sampled_from([10**400, -(10**400), 1e308]) | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                  max_size=3),
    max_leaves=8)


@pytest.fixture(scope="module")
def _fuzz_journal(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "base.log"
    return _journal(path, trials=2)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_journal_values_give_a_result_or_a_storage_error(tmp_path_factory,
                                                                _fuzz_journal, data):
    """D11: any value of any key of any line replaced by any JSON (deep, huge, of another
    type) loads and resumes, or is a StorageError (or the ValueError of a study that is not
    hpo_bridge's) naming the file; the file is never changed by loading."""
    lines = [json.loads(line) for line in _fuzz_journal.splitlines()]
    index = data.draw(st.integers(0, len(lines) - 1), label="line")
    key = data.draw(st.sampled_from(sorted(lines[index])), label="key")
    lines[index][key] = data.draw(_JSON, label="value")
    path = tmp_path_factory.mktemp("fuzzed") / "runs.log"
    path.write_bytes(b"".join(json.dumps(line).encode() + b"\n" for line in lines))
    before = path.read_bytes()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            hb.load(str(path), "s")
        except hb.StorageError as exc:
            assert str(path) in str(exc)
        except ValueError as exc:  # e.g. a study renamed: "has no study 's'"
            assert str(path) in str(exc)
        assert path.read_bytes() == before
        try:  # and a resume
            hb.minimize(_square, _X, max_evals=3, seed=0, storage=str(path), study_name="s",
                        progress=False)
        except (hb.StorageError, ValueError) as exc:
            assert str(path) in str(exc)


@pytest.fixture(scope="module")
def _fuzz_database(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzzdb") / "base.db"
    hb.minimize(_square, _X, max_evals=2, seed=0, storage=str(path), study_name="s",
                progress=False)
    return path.read_bytes()


_JSON_COLUMNS = [("study_user_attributes", "value_json"),
                 ("study_system_attributes", "value_json"),
                 ("trial_user_attributes", "value_json"),
                 ("trial_system_attributes", "value_json"),
                 ("trial_params", "distribution_json"), ("trial_params", "param_value"),
                 ("trial_values", "value"), ("trials", "number")]


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_sqlite_values_give_a_result_or_a_storage_error(tmp_path_factory,
                                                               _fuzz_database, data):
    """D11: any JSON value (or number) of any row of Optuna's tables replaced by another loads
    and resumes, or is a StorageError (or a ValueError) naming the file."""
    path = tmp_path_factory.mktemp("fuzzeddb") / "runs.db"
    path.write_bytes(_fuzz_database)
    table, column = data.draw(st.sampled_from(_JSON_COLUMNS), label="column")
    with sqlite3.connect(path) as conn:
        rows = [r for (r,) in conn.execute(f"SELECT rowid FROM {table}")]
        row = data.draw(st.sampled_from(rows), label="row")
        if column.endswith("_json"):
            value = json.dumps(data.draw(_JSON, label="value"))
        else:
            value = data.draw(st.sampled_from([1e308, -1e308, 10**18, -1, 0.5]), label="value")
        conn.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (value, row))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for attempt in (lambda: hb.load(str(path), "s"),
                        lambda: hb.minimize(_square, _X, max_evals=3, seed=0,
                                            storage=str(path), study_name="s",
                                            progress=False)):
            try:
                attempt()
            except (hb.StorageError, ValueError) as exc:
                assert str(path) in str(exc)
