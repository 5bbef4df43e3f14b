"""Persistence and resume: SIGKILL a stored run, resume it (same or another backend), read it
back with ``hb.load`` and as an Optuna study; a changed space is refused.

Runs that get killed run in a subprocess (``_SCRIPT``); the space holds a class option (stored
as an index with a label), a conditional parameter and a normal prior.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import optuna
import pytest

import hpo_bridge as hb
from hpo_bridge.space.serialize import StoredLabel
from hpo_bridge.storage import INTERRUPTED

_SCRIPT = textwrap.dedent('''
    import sys, time
    import hpo_bridge as hb

    class Wide:
        pass

    SPACE = {
        "x": hb.uniform(-3.0, 3.0),
        "lr": hb.loguniform(1e-4, 1e-1),
        "z": hb.normal(0.0, 1.0),
        "model": hb.choice([Wide, {"name": "deep", "depth": hb.integer(1, 4)}]),
    }

    def main(storage, study, backend, max_evals, kill_at, marker):
        def objective(config, trial):
            if trial.trial_id == kill_at:  # ids go on from the stored trials
                open(marker, "w").close()
                time.sleep(600)  # killed here, while this trial is RUNNING
            penalty = 0.0 if config["model"] is Wide else 0.1 * config["model"]["depth"]
            value = (config["x"] - 1.0) ** 2 + config["lr"] + 0.01 * config["z"] ** 2 + penalty
            return {"value": value, "trial": trial.trial_id}

        hb.minimize(objective, SPACE, backend=backend, max_evals=max_evals, seed=0,
                    storage=storage, study_name=study, progress=False)

    if __name__ == "__main__":
        storage, study, backend, max_evals, kill_at, marker = sys.argv[1:]
        main(storage, study, backend, int(max_evals), int(kill_at), marker)
''')


@pytest.fixture(autouse=True)
def _quiet_optuna():
    optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture
def db_dir(tmp_path: Path):
    """Where SQLite files go: tmpfs when there is one (a commit there costs no fsync)."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="hb-storage-", dir=shm))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "run_study.py"
    path.write_text(_SCRIPT)
    return path


def _run(script: Path, storage: str, study: str, backend: str, max_evals: int,
         kill_at: int | None = None) -> None:
    """Run the study in a subprocess; with ``kill_at``, SIGKILL it while trial number
    ``kill_at`` (0-based) is running."""
    marker = script.parent / f"marker-{time.monotonic_ns()}"
    cmd = [sys.executable, str(script), storage, study, backend, str(max_evals),
           str(-1 if kill_at is None else kill_at), str(marker)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if kill_at is None:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        return
    deadline = time.monotonic() + 90
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before trial {kill_at}: {proc.stderr.read()}")
        assert time.monotonic() < deadline, "the run never reached the trial to kill"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def _trials(storage: str, study: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)


def _snapshot(trials) -> dict[int, tuple]:
    return {t.number: (t.state, t.value, t.params) for t in trials if t.state.is_finished()}


def _check_result_matches_study(result: hb.Result, study: optuna.Study) -> None:
    stored = {t.number: t for t in study.trials}
    assert sorted(stored) == [r.trial_id for r in sorted(result.records,
                                                         key=lambda r: r.trial_id)]
    for record in result.records:
        frozen = stored[record.trial_id]
        assert frozen.state.name == {"complete": "COMPLETE", "failed": "FAIL",
                                     "pruned": "PRUNED"}[record.state]
        if record.state == "complete":
            assert frozen.value == record.value
        for name, value in record.point.items():
            native = frozen.params[name]
            if name == "model":  # an object choice: its label, Optuna's choice
                assert native == ("Wide", "deep")[value]
                assert frozen.distributions["model"].choices == ("Wide", "deep")
            elif name != "z":  # normal priors are stored as their quantile
                assert native == value
    assert study.best_value == result.best_value
    best = min(result.completed, key=lambda r: r.value)
    assert study.best_trial.number == best.trial_id


KILL_BACKENDS = ["hyperopt:tpe", "optuna:tpe", "skopt:gp", "hyperopt:anneal", "optuna:random"]


@pytest.mark.parametrize("backend", KILL_BACKENDS)
def test_sigkill_then_resume_finishes_the_budget(backend, script, db_dir):
    storage, study, max_evals, kill_at = _url(db_dir / "runs.db"), "exp", 10, 4
    _run(script, storage, study, backend, max_evals, kill_at=kill_at)

    killed = _trials(storage, study)
    assert [t.state.name for t in killed] == ["COMPLETE"] * kill_at + ["RUNNING"]
    before = _snapshot(killed)

    _run(script, storage, study, backend, max_evals)  # the same call resumes

    trials = _trials(storage, study)
    assert [t.number for t in trials] == list(range(max_evals))  # the budget, exactly
    for number, kept in before.items():  # no finished trial lost or changed
        assert _snapshot(trials)[number] == kept
    dead = trials[kill_at]
    assert dead.state.name == "FAIL" and dead.user_attrs["error"] == INTERRUPTED
    assert [t.state.name for t in trials[kill_at + 1:]] == ["COMPLETE"] * (max_evals - kill_at - 1)
    # The resumed backend is reseeded: it does not propose the first run's points again.
    old = [t.params for t in trials[:kill_at + 1]]
    assert not any(t.params in old for t in trials[kill_at + 1:])

    with pytest.warns(UserWarning, match=r"come back as their labels \(model\[0\]: Wide\)"):
        result = hb.load(storage, study)  # no space object needed: the class is its label
    assert result.backend == backend and result.seed == 0
    assert len(result.records) == max_evals and len(result.completed) == max_evals - 1
    failed = [r for r in result.records if r.state == "failed"]
    assert [(r.trial_id, r.error) for r in failed] == [(kill_at, INTERRUPTED)]
    assert [r.metrics for r in result.records[:2]] == [{"trial": 0}, {"trial": 1}]
    assert type(result.best_params["model"]) in (StoredLabel, dict)
    table = result.trials
    assert set(table["params.model"].dropna()) <= {"Wide", "deep"}
    _check_result_matches_study(result, optuna.load_study(study_name=study, storage=storage))
    _check_result_matches_study(result, result.to_optuna())


def test_hand_off_hyperopt_skopt_optuna(script, db_dir):
    storage, study, max_evals = _url(db_dir / "runs.db"), "handoff", 15
    _run(script, storage, study, "hyperopt:tpe", max_evals, kill_at=4)
    _run(script, storage, study, "skopt:gp", max_evals, kill_at=9)
    _run(script, storage, study, "optuna:tpe", max_evals)

    loaded = optuna.load_study(study_name=study, storage=storage)
    trials = loaded.trials
    assert len(trials) == max_evals
    assert [t.number for t in trials if t.state.name == "FAIL"] == [4, 9]
    assert [t.user_attrs["backend"] for t in trials] == (
        ["hyperopt:tpe"] * 5 + ["skopt:gp"] * 5 + ["optuna:tpe"] * 5)
    assert loaded.user_attrs["hpo_bridge.backends"] == ["hyperopt:tpe", "skopt:gp",
                                                        "optuna:tpe"]
    with pytest.warns(UserWarning, match="labels"):
        result = hb.load(storage, study)
    assert result.backend == "optuna:tpe"
    assert len(result.completed) == max_evals - 2
    _check_result_matches_study(result, loaded)


# -- in-process: refusals, directions, pruned trials, to_optuna -------------------------------

SPACE = {"x": hb.uniform(-2.0, 2.0), "act": hb.choice(["relu", "tanh"]),
         "opt": hb.choice([{"name": "sgd", "lr": hb.loguniform(1e-3, 1.0)}, {"name": "adam"}])}


def _objective(config):
    return config["x"] ** 2 + (0.5 if config["act"] == "tanh" else 0.0)


def test_changed_space_is_refused_naming_the_parameter(db_dir):
    db = str(db_dir / "runs.db")
    hb.minimize(_objective, SPACE, backend="optuna:random", max_evals=3, seed=0, storage=db,
                study_name="s", progress=False)
    cases = {
        "'x' changed from uniform(-2.0, 2.0) to uniform(-2.0, 3.0)":
            {**SPACE, "x": hb.uniform(-2.0, 3.0)},
        "'y' added": {**SPACE, "y": hb.integer(0, 3)},
        "'act' removed": {k: v for k, v in SPACE.items() if k != "act"},
        "'act' changed": {**SPACE, "act": hb.choice(["relu", "gelu"])},
    }
    for needle, space in cases.items():
        with pytest.raises(ValueError, match=needle.replace("(", r"\(").replace(")", r"\)")):
            hb.minimize(_objective, space, backend="skopt:gp", max_evals=10, storage=db,
                        study_name="s", progress=False)
    assert len(_trials(_url(Path(db)), "s")) == 3  # nothing written by a refused run
    reordered = {"act": SPACE["act"], "opt": SPACE["opt"], "x": SPACE["x"]}  # same space
    result = hb.minimize(_objective, reordered, backend="hyperopt:tpe", max_evals=5, seed=0,
                         storage=db, study_name="s", progress=False)
    assert len(result.records) == 5


def test_other_direction_and_bad_arguments_are_refused(db_dir):
    db = str(db_dir / "runs.db")
    hb.minimize(_objective, SPACE, backend="optuna:random", max_evals=2, storage=db,
                study_name="s", progress=False)
    with pytest.raises(ValueError, match="direction 'minimize'"):
        hb.maximize(_objective, SPACE, backend="optuna:random", max_evals=4, storage=db,
                    study_name="s", progress=False)
    with pytest.raises(ValueError, match="needs storage="):
        hb.minimize(_objective, SPACE, max_evals=2, study_name="s", progress=False)
    with pytest.raises(ValueError, match="does not exist"):
        hb.minimize(_objective, SPACE, max_evals=2, storage=str(db_dir / "no" / "x.db"),
                    progress=False)
    with pytest.raises(ValueError, match="no study 'other'"):
        hb.load(db, "other")


@pytest.mark.parametrize("backend", ["optuna:tpe", "hyperopt:tpe"])
def test_maximize_is_stored_in_the_users_direction(backend, db_dir):
    db = str(db_dir / "runs.db")
    first = hb.maximize(lambda c: -_objective(c), SPACE, backend=backend, max_evals=6, seed=1,
                        storage=db, study_name="m", progress=False)
    result = hb.maximize(lambda c: -_objective(c), SPACE, backend=backend, max_evals=12,
                         seed=1, storage=db, study_name="m", progress=False)
    assert [r.value for r in result.records[:6]] == [r.value for r in first.records]
    study = optuna.load_study(study_name="m", storage=_url(Path(db)))
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    assert study.best_value == result.best_value == max(r.value for r in result.completed)
    assert [t.value for t in study.trials] == [r.value for r in result.records]


def test_failed_pruned_and_intermediate_values_are_kept(db_dir):
    db = str(db_dir / "runs.db")

    def objective(config, trial):
        for step in range(3):
            trial.report(config["x"] + step, step)
        if config["act"] == "tanh":
            raise hb.TrialPruned()
        if config["x"] > 1.5:
            raise RuntimeError("too big")
        return {"loss": config["x"] ** 2, "note": "ok", "arr": [1, 2]}

    result = hb.minimize(objective, SPACE, backend="optuna:random", max_evals=12, seed=3,
                         storage=db, study_name="p", progress=False)
    loaded = hb.load(db)  # the only study
    assert {"complete", "pruned"} <= {r.state for r in result.records}
    for mine, back in zip(sorted(result.records, key=lambda r: r.trial_id), loaded.records,
                          strict=False):
        assert (mine.trial_id, mine.state, mine.value, mine.error, mine.metrics) == \
            (back.trial_id, back.state, back.value, back.error, back.metrics)
        assert mine.params == back.params and mine.intermediate == back.intermediate
        assert back.duration_s == pytest.approx(mine.duration_s)
    frozen = {t.number: t for t in optuna.load_study(study_name="p",
                                                     storage=_url(Path(db))).trials}
    for record in loaded.records:
        assert frozen[record.trial_id].intermediate_values == record.intermediate


def test_in_memory_result_to_optuna():
    result = hb.minimize(_objective, SPACE, backend="skopt:random", max_evals=8, seed=0,
                         progress=False)
    study = result.to_optuna()
    assert len(study.trials) == 8
    assert study.best_value == result.best_value
    assert study.best_trial.number == result.best_trial.trial_id
    assert study.best_params["act"] == result.best_params["act"]
    assert {t.params["opt"] for t in study.trials} <= {"sgd", "adam"}  # object choices: labels
    importance = optuna.importance.get_param_importances(study)  # Optuna's tools run on it
    assert "x" in importance


def test_optuna_grid_resumes_without_repeating(db_dir):
    db = str(db_dir / "runs.db")
    space = {"a": hb.integer(0, 3), "b": hb.choice(["u", "v"])}
    hb.minimize(lambda c: c["a"], space, backend="optuna:grid", max_evals=3, seed=0,
                storage=db, study_name="g", progress=False)
    result = hb.minimize(lambda c: c["a"], space, backend="optuna:grid", seed=0, storage=db,
                         study_name="g", progress=False)
    points = [tuple(sorted(r.point.items())) for r in result.records]
    assert len(points) == 8 and len(set(points)) == 8


# -- PostgreSQL --------------------------------------------------------------------------------

def test_postgresql_sigkill_and_resume(postgres_url, script):
    study, max_evals = "pg", 10
    _run(script, postgres_url, study, "hyperopt:tpe", max_evals, kill_at=4)
    before = _snapshot(_trials(postgres_url, study))
    _run(script, postgres_url, study, "optuna:tpe", max_evals)
    trials = _trials(postgres_url, study)
    assert len(trials) == max_evals
    assert all(_snapshot(trials)[n] == kept for n, kept in before.items())
    assert trials[4].state.name == "FAIL" and trials[4].user_attrs["error"] == INTERRUPTED
    with pytest.warns(UserWarning, match="labels"):
        result = hb.load(postgres_url, study)
    assert len(result.completed) == max_evals - 1 and not math.isnan(result.best_value)
    _check_result_matches_study(result, result.to_optuna())


def test_resume_does_not_redo_points_to_evaluate(db_dir):
    db = str(db_dir / "runs.db")
    points = [{"x": 0.5, "act": "relu", "opt": {"name": "adam"}},
              {"x": -0.5, "act": "tanh", "opt": {"name": "sgd", "lr": 0.01}}]
    kwargs = dict(backend="hyperopt:tpe", seed=0, storage=db, study_name="p",
                  points_to_evaluate=points, progress=False)
    hb.minimize(_objective, SPACE, max_evals=1, **kwargs)
    result = hb.minimize(_objective, SPACE, max_evals=4, **kwargs)
    assert [r.params for r in result.records[:2]] == points
    assert points[0] not in [r.params for r in result.records[2:]]


def test_load_takes_the_space_when_the_stored_one_cannot_be_rebuilt(db_dir):
    db = str(db_dir / "runs.db")
    hb.minimize(_objective, SPACE, backend="optuna:random", max_evals=3, seed=0, storage=db,
                study_name="s", progress=False)
    study = optuna.load_study(study_name="s", storage=_url(Path(db)))
    study.set_user_attr("hpo_bridge.space_doc", {"format": 1, "structure": {"what": 1}})
    with pytest.raises(ValueError, match="pass the space"):
        hb.load(db, "s")
    with pytest.raises(ValueError, match="'x' changed"):
        hb.load(db, "s", space={**SPACE, "x": hb.uniform(-1.0, 1.0)})
    assert len(hb.load(db, "s", space=SPACE).completed) == 3


def test_a_loaded_result_names_its_study_as_the_run_did(db_dir):
    db = str(db_dir / "runs.db")
    run = hb.minimize(_objective, SPACE, backend="optuna:random", max_evals=2, seed=0,
                      storage=db, study_name="exp", progress=False)
    for loaded in (hb.load(db, "exp"), hb.load(db)):  # named, and the only study
        assert loaded.study_name == run.study_name == "exp"
        assert "study: exp" in repr(loaded)
    assert hb.minimize(_objective, SPACE, backend="optuna:random", max_evals=1,
                       progress=False).study_name is None
