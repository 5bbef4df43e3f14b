"""A stored run reads right in Optuna's own tools and in optuna-dashboard (issue 23 items 1, 2, 8).

Object choices are stored as their labels, objectives' names are set on the study, infeasible
trials carry the constraints list optuna-dashboard reads, the space description stays out of
the study's user attributes; the trials table has Optuna's timestamps and the trial's wall time;
no lock file is left beside a storage file, and the libraries' per-trial log lines are quiet
while a run goes.
"""

from __future__ import annotations

import fcntl
import json
import logging
import math
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import optuna
import pytest

import hpo_bridge as hb
from hpo_bridge.backends.optuna.translate import choice_labels
from hpo_bridge.space import Choice
from hpo_bridge.space.serialize import describe, rebuild
from hpo_bridge.storage.engines import LOCK_SUFFIX, open_engine

DATA = Path(__file__).parent / "data"


class Adam:
    """Stand-ins for torch.optim classes."""


class SGD:
    pass


SPACE = {"x": hb.uniform(-2.0, 2.0), "opt": hb.choice([Adam, SGD]),
         "flag": hb.choice([True, 1, None]), "k": hb.integer(1, 4)}


def _two(config):
    return {"error": (config["x"] - 0.5) ** 2 + (config["opt"] is SGD),
            "latency": config["k"] * 1.0, "constraints": [config["x"] - 0.5]}


def _one(config):
    return (config["x"] - 0.5) ** 2 + (config["opt"] is SGD)


def _study(path: Path, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=open_engine(str(path)).storage)


# -- item 1: what Optuna's tools read ----------------------------------------------------------
@pytest.mark.parametrize("backend", ["hyperopt:random", "optuna:tpe"])
def test_object_choices_are_stored_as_their_labels(tmp_path, backend):
    path = tmp_path / "runs.log"
    mine = hb.minimize(_one, SPACE, backend=backend, max_evals=6, seed=0, storage=str(path),
                       study_name="s", progress=False)
    study = _study(path, "s")
    assert {t.params["opt"] for t in study.trials} <= {"Adam", "SGD"}
    assert {t.distributions["opt"].choices for t in study.trials} == {("Adam", "SGD")}
    # a choice Optuna would confuse by == (True == 1): labels too, each unique
    assert {t.distributions["flag"].choices for t in study.trials} == {("True", "1", "None")}
    frame = study.trials_dataframe()
    assert set(frame["params_opt"]) <= {"Adam", "SGD"}
    assert not any(k.startswith("label.") for t in study.trials for k in t.user_attrs)
    # the objects come back exactly, with space=; their labels without it
    back = hb.load(str(path), "s", space=SPACE)
    assert [r.params for r in back.records] == [r.params for r in mine.records]
    assert all(r.params["opt"] in (Adam, SGD) for r in back.records)
    with pytest.warns(UserWarning, match="labels"):
        bare = hb.load(str(path), "s")
    assert [str(r.params["opt"]) for r in bare.records] == [
        r.params["opt"].__name__ for r in mine.records]
    # a resumed run goes on on the same study
    more = hb.minimize(_one, SPACE, backend=backend, max_evals=9, seed=0, storage=str(path),
                       study_name="s", progress=False)
    assert len(more.records) == 9 and len(_study(path, "s").trials) == 9


def test_choice_labels_are_unique_and_survive_the_stored_description():
    def net():
        return None

    class Model:  # instances: no name, shown by index
        pass

    a, b = Model(), Model()
    assert choice_labels(Choice([Adam, SGD])) == ("Adam", "SGD")
    assert choice_labels(Choice([1, "1", Adam])) == ("1 #0", "1 #1", "Adam")
    assert choice_labels(Choice([a, b])) == ("0", "1")
    assert choice_labels(Choice([{"name": "mlp"}, {"name": "mlp", "k": 2}, net])) == (
        "mlp #0", "mlp #1", "net")
    def x():
        return None

    # a label that collides even with its index: every label gets its index in front
    assert choice_labels(Choice(["x #1", "x", x])) == ("[0] x #1", "[1] x", "[2] x")
    space = hb.as_space({"m": hb.choice([a, b]), "opt": hb.choice([Adam, SGD, "SGD"]),
                         "d": hb.choice([{"name": "mlp"}, net])})
    rebuilt, _ = rebuild(json.loads(json.dumps(describe(space))))
    for name in space.names:
        assert choice_labels(rebuilt[name].param) == choice_labels(space[name].param)


@pytest.mark.parametrize("sampler", ["tpe", "random", "nsga2"])
def test_label_choices_propose_what_index_choices_propose(tmp_path, sampler):
    """Optuna draws a categorical parameter's index from len(choices): a study of labels and
    one of indices propose the same, and the bridge's stored optuna run proposes what native
    Optuna proposes."""
    n, seed = 14, 3
    native = {"tpe": optuna.samplers.TPESampler, "random": optuna.samplers.RandomSampler,
              "nsga2": optuna.samplers.NSGAIISampler}[sampler]

    def run(choices):
        seen = []

        def obj(trial):
            x = trial.suggest_float("x", -2.0, 2.0)
            i = choices.index(trial.suggest_categorical("opt", choices))
            seen.append((x, i))
            return (x - 0.5) ** 2 + i

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        try:
            extra = {"population_size": 6} if sampler == "nsga2" else {}
            optuna.create_study(sampler=native(seed=seed, **extra)).optimize(obj, n_trials=n)
        finally:
            optuna.logging.set_verbosity(optuna.logging.INFO)
        return seen

    labelled, indexed = run(["Adam", "SGD"]), run([0, 1])
    assert labelled == indexed
    space = {"x": hb.uniform(-2.0, 2.0), "opt": hb.choice([Adam, SGD])}
    options = {"population_size": 6} if sampler == "nsga2" else {}
    for storage in (None, str(tmp_path / "runs.log")):
        result = hb.minimize(lambda c: (c["x"] - 0.5) ** 2 + (c["opt"] is SGD), space,
                             backend=f"optuna:{sampler}", max_evals=n, seed=seed,
                             storage=storage, progress=False, **options)
        got = [(r.params["x"], (Adam, SGD).index(r.params["opt"]))
               for r in sorted(result.records, key=lambda r: r.trial_id)]
        assert got == labelled


def test_objective_names_constraints_and_attributes_where_optuna_reads_them(tmp_path):
    path = tmp_path / "runs.db"
    result = hb.minimize(_two, SPACE, backend="hyperopt:random", max_evals=8, seed=1,
                         storage=str(path), study_name="two",
                         objectives={"error": "minimize", "latency": "minimize"},
                         progress=False)
    hb.minimize(_one, SPACE, backend="optuna:random", max_evals=3, seed=0, storage=str(path),
                study_name="one", progress=False)
    two, one = _study(path, "two"), _study(path, "one")
    assert two.metric_names == ["error", "latency"] and one.metric_names == ["value"]
    assert "values_error" in two.trials_dataframe().columns
    by_id = {r.trial_id: r for r in result.records}
    infeasible = 0
    for trial in two.trials:
        constraints = list(by_id[trial.number].constraints)
        assert trial.system_attrs["constraints"] == constraints  # constraints_func's list
        assert trial.constraints == {str(i): c for i, c in enumerate(constraints)}
        infeasible += constraints[0] > 0
    assert infeasible  # the seed gives infeasible trials: never among the best
    assert all(t.constraints["0"] <= 0 for t in two.best_trials)
    # the space's description is no user attribute (optuna-dashboard lists them)
    assert "hpo_bridge.space_doc" not in two.user_attrs
    assert len(json.dumps(two.user_attrs)) < 1000


def test_a_study_stored_by_main_before_labels_loads_and_resumes(tmp_path):
    """tests/data/main-64db0ba.journal: written by main 64db0ba (object choices by index,
    constraints per key, duration_s the objective's time, the space as a user attribute)."""
    path = tmp_path / "old.log"
    shutil.copy(DATA / "main-64db0ba.journal", path)
    old = hb.load(str(path), "old", space=SPACE)
    assert len(old.records) == 6 and all(r.params["opt"] in (Adam, SGD) for r in old.records)
    assert all(r.constraints is not None for r in old.completed)
    assert all(r.objective_s is not None and r.duration_s >= 0 for r in old.records)
    stored = {t.number: t for t in _study(path, "old").trials}
    for r in old.records:  # duration_s was the objective's time: now objective_s
        assert r.objective_s == stored[r.trial_id].user_attrs["duration_s"]
    with pytest.warns(UserWarning, match="labels"):
        assert len(hb.load(str(path), "old1").records) == 4
    for backend in ("optuna:tpe", "hyperopt:random"):  # resumed by both kinds of backend
        more = hb.minimize(_one, SPACE, backend=backend, max_evals=len(
            _study(path, "old1").trials) + 2, seed=0, storage=str(path), study_name="old1",
            progress=False)
        assert all(r.params["opt"] in (Adam, SGD) for r in more.records)
    trials = _study(path, "old1").trials
    assert len(trials) == 8
    # Optuna refuses another distribution for a stored parameter: it keeps its indices
    assert {t.distributions["opt"].choices for t in trials} == {(0, 1)}
    assert all(t.user_attrs["label.opt"] in ("Adam", "SGD") for t in trials)
    more = hb.minimize(_two, SPACE, backend="optuna:tpe", max_evals=8, seed=0,
                       storage=str(path), study_name="old", progress=False,
                       objectives={"error": "minimize", "latency": "minimize"})
    assert len(more.records) == 8
    assert _study(path, "old").metric_names == ["error", "latency"]


# -- item 1: optuna-dashboard itself -----------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, deadline: float) -> dict:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return json.loads(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_optuna_dashboard_shows_labels_names_and_feasibility(tmp_path):
    pytest.importorskip("optuna_dashboard")
    path = tmp_path / "runs.db"
    result = hb.minimize(_two, SPACE, backend="optuna:tpe", max_evals=8, seed=1,
                         storage=str(path), study_name="two",
                         objectives={"error": "minimize", "latency": "minimize"},
                         progress=False)
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "optuna-dashboard"), "--host", "127.0.0.1", "--port", str(port),
         f"sqlite:///{path}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}/api"
        deadline = time.monotonic() + 60  # a hang guard: the server starts in about a second
        studies = _get(f"{base}/studies", deadline)["study_summaries"]
        assert [s["study_name"] for s in studies] == ["two"]
        assert all(not a["key"].endswith("space_doc") for a in studies[0]["user_attrs"])
        detail = _get(f"{base}/studies/{studies[0]['study_id']}?after=0", deadline)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert detail["objective_names"] == ["error", "latency"]
    trials = {t["number"]: t for t in detail["trials"]}
    by_id = {r.trial_id: r for r in result.records}
    for number, trial in trials.items():
        params = {p["name"]: p["param_external_value"] for p in trial["params"]}
        assert params["opt"] == by_id[number].params["opt"].__name__
        assert trial["constraints"] == list(by_id[number].constraints)
    assert any(c > 0 for t in trials.values() for c in t["constraints"])
    assert all(all(c <= 0 for c in t["constraints"]) for t in detail["best_trials"])


# -- item 2: the trials table ------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["hyperopt:random", "optuna:tpe"])
def test_trials_table_has_timestamps_wall_time_and_objective_time(tmp_path, backend):
    def slow(config):
        time.sleep(0.02)
        return _one(config)

    path = tmp_path / "runs.log"
    result = hb.minimize(slow, SPACE, backend=backend, max_evals=4, seed=0,
                         storage=str(path), study_name="s", progress=False)
    for table in (result.trials, hb.load(str(path), "s", space=SPACE).trials):
        assert {"datetime_start", "datetime_complete", "duration_s", "objective_s"} <= set(
            table.columns)
        assert str(table["datetime_start"].dt.tz) == "UTC"
        assert (table["objective_s"] >= 0.02).all()
        assert (table["duration_s"] >= table["objective_s"]).all()  # the objective ran inside
        assert (table["datetime_complete"] >= table["datetime_start"]).all()
    for record in result.records:
        wall = (record.finished - record.started).total_seconds()
        assert record.duration_s == pytest.approx(wall, abs=0.01)
    stored = {t.number: t for t in _study(path, "s").trials}

    def local(moment):  # Optuna's datetimes are naive local time
        return moment.astimezone().replace(tzinfo=None)

    for record in result.records:  # the trial starts when its ask begins, as in Optuna
        optuna_trial = stored[record.trial_id]
        assert local(record.started) <= optuna_trial.datetime_start
        assert local(record.finished) <= optuna_trial.datetime_complete
        if backend.startswith("hyperopt"):  # the bridge creates the stored trial
            assert local(record.started) == optuna_trial.datetime_start
    for record in hb.load(str(path), "s", space=SPACE).records:
        assert record.duration_s == stored[record.trial_id].user_attrs["duration_s"]
        assert record.objective_s == stored[record.trial_id].user_attrs["objective_s"]
    # told by hand: nothing measured the objective
    opt = hb.Optimizer(SPACE, "hyperopt:random", seed=0)
    trial = opt.ask()
    opt.tell(trial, 1.0)
    assert math.isnan(opt.result().trials["objective_s"][0])


# -- item 8: no lock file, quiet libraries ------------------------------------------------------
@pytest.mark.parametrize("name", ["runs.db", "runs.log"])
def test_no_lock_file_is_left_after_a_run_a_load_or_a_refusal(tmp_path, name):
    path = tmp_path / name
    hb.minimize(_one, SPACE, backend="optuna:random", max_evals=3, seed=0, storage=str(path),
                study_name="s", progress=False, n_jobs=2)
    assert sorted(os.listdir(tmp_path)) == [name]
    hb.load(str(path), "s", space=SPACE).to_optuna()
    assert sorted(os.listdir(tmp_path)) == [name]
    with pytest.raises(ValueError, match="direction"):
        hb.maximize(_one, SPACE, max_evals=3, storage=str(path), study_name="s",
                    progress=False)
    assert sorted(os.listdir(tmp_path)) == [name]


def test_a_lock_file_is_removed_only_when_no_one_holds_it(tmp_path):
    """The race the tidy must not lose: a lock file unlinked while another holder has it open
    would let two processes hold "the" lock. (Two engines in one process lock like two
    processes: flock is per open file.)"""
    path = tmp_path / "runs.log"
    lock_path = str(path) + LOCK_SUFFIX
    a, b = open_engine(str(path)), open_engine(str(path))

    def held_by_someone() -> bool:  # taking the lock of the file at the path fails
        fd = os.open(lock_path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    with a.lock("s"):
        b.tidy()  # held by a: stays
        assert os.path.exists(lock_path) and held_by_someone()
    b.tidy()  # free: removed, though a still has it open
    assert not os.path.exists(lock_path)
    with a.lock("s"):  # a locks the file at the path, not the unlinked one it had open
        assert os.path.exists(lock_path) and held_by_someone()
    with b.lock("s"):
        assert held_by_someone()
    a.tidy()
    assert not os.path.exists(lock_path)


def test_the_libraries_per_trial_log_lines_are_quiet_during_a_run_only():
    lines: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record)

    keep = Keep(level=logging.DEBUG)
    root, optuna_logger = logging.getLogger(), logging.getLogger("optuna")
    before = root.level
    root.addHandler(keep)
    optuna_logger.addHandler(keep)
    root.setLevel(logging.INFO)  # as logging.basicConfig(level=logging.INFO) would
    optuna.logging.set_verbosity(optuna.logging.INFO)  # Optuna's default
    try:
        for backend in ("hyperopt:tpe", "optuna:tpe"):
            hb.minimize(_one, SPACE, backend=backend, max_evals=25, seed=0, progress=False)
        during = [r for r in lines if r.name.split(".")[0] in ("optuna", "hyperopt")]
        assert logging.getLogger("hyperopt").level == logging.NOTSET  # put back
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
        logging.getLogger("hyperopt.tpe").info("still heard after the run")
    finally:
        root.removeHandler(keep)
        optuna_logger.removeHandler(keep)
        root.setLevel(before)
    assert during == []
    assert lines[-1].getMessage() == "still heard after the run"
