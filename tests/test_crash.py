"""Killed drivers, killed proposals, trials that will not stop: nothing hangs, nothing lingers.

Each crash is made deterministic: the process to kill says (with a file) that it is where the
kill must land, and only then is it killed. Waits are bounded, as guards against a hang only.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import optuna
import pytest

import hpo_bridge as hb
from hpo_bridge import executors
from hpo_bridge.storage import INTERRUPTED, engines, open_engine
from hpo_bridge.storage import study as stored

SPACE = {"x": hb.uniform(0.0, 1.0)}
_GUARD = 120.0  # seconds: a hang guard, never a measure


def _wait_for(condition, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + _GUARD
    while not condition():
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{what}: the process exited first: {proc.communicate()}")
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, killed but not yet reaped, is dead)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except OSError:
        return False


def _open_files(pid: int | str = "self") -> set[str]:
    folder = Path(f"/proc/{pid}/fd")
    found = set()
    for fd in folder.iterdir():
        try:
            found.add(os.readlink(fd))
        except OSError:  # closed while listed
            pass
    return found


def _pids(folder: Path, prefix: str) -> list[int]:
    return [int(p.name[len(prefix):]) for p in folder.glob(prefix + "*")]


@pytest.fixture
def leftovers(tmp_path):
    """Kill (by pid) whatever a failing test left running: processes it started itself."""
    yield tmp_path
    for pid in _pids(tmp_path, "worker-"):
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _start(tmp_path: Path, script: str, *args: str) -> subprocess.Popen:
    path = tmp_path / "driver.py"
    path.write_text(textwrap.dedent(script))
    return subprocess.Popen([sys.executable, str(path), str(tmp_path), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=_GUARD)
    assert proc.returncode == -signal.SIGKILL


# -- D1: a driver SIGKILLed while it holds the study's lock ---------------------------------
_HOLDS_THE_LOCK = '''
    import os, sys, threading, time
    import hpo_bridge as hb
    from hpo_bridge.storage import open_engine

    folder, storage, study = sys.argv[1:]

    def objective(config):
        open(os.path.join(folder, f"worker-{os.getpid()}"), "w").close()
        time.sleep(600)
        return config["x"]

    lock = open_engine(storage).lock
    with lock(study):  # the study's lock, opened before the workers start
        pass
    run = threading.Thread(target=hb.minimize, daemon=True, args=(objective, {"x": hb.uniform(0.0, 1.0)}),
                           kwargs=dict(backend="optuna:random", max_evals=4, n_jobs=2, seed=0,
                                       storage=storage, study_name=study, progress=False))
    run.start()
    while len([n for n in os.listdir(folder) if n.startswith("worker-")]) < 2:
        time.sleep(0.02)
    with lock(study):  # both workers run a trial: the driver holds the lock, and is killed
        open(os.path.join(folder, "holding"), "w").close()
        time.sleep(600)
'''


def _lock_is_free(storage: str, study: str) -> bool:
    """Whether ``study``'s lock can be taken now (taken and given back at once)."""
    if "://" in storage:
        from sqlalchemy import text

        key = int.from_bytes(hashlib.sha1(study.encode()).digest()[:8], "big", signed=True)
        with open_engine(storage).storage.engine.connect() as conn:
            if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
                return False
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            return True
    fd = os.open(storage + ".hb-lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing the only descriptor releases the lock


@pytest.mark.parametrize("kind", ["journal", "postgresql"])
def test_a_driver_killed_holding_the_lock_leaves_no_worker_and_no_lock(leftovers, request,
                                                                       kind):
    tmp_path = leftovers
    if kind == "journal":
        storage = str(tmp_path / "s.log")
    else:  # the advisory lock of a session whose socket the forked workers inherited
        storage = request.getfixturevalue("postgres_url")
    study = f"killed-{tmp_path.name}"  # the PostgreSQL server is shared by the session
    driver = _start(tmp_path, _HOLDS_THE_LOCK, storage, study)
    _wait_for((tmp_path / "holding").exists, "the driver holds the lock", driver)
    workers = _pids(tmp_path, "worker-")
    assert len(workers) == 2 and driver.pid not in workers
    _kill(driver)
    # Its workers die with it (they would sleep 600 s), and the lock is free.
    _wait_for(lambda: not any(_alive(pid) for pid in workers), "the workers died")
    _wait_for(lambda: _lock_is_free(storage, study), "the lock is free")
    # A resume takes the lock, fails the killed run's two trials at once and runs its own.
    result = hb.minimize(lambda c: c["x"], SPACE, backend="optuna:random", max_evals=4, seed=0,
                         storage=storage, study_name=study, progress=False)
    errors = sorted((r.state, r.error) for r in result.records)
    assert errors == [("complete", None)] * 2 + [("failed", INTERRUPTED)] * 2


def test_a_forked_child_never_holds_the_study_lock(tmp_path):
    lock = open_engine(str(tmp_path / "s.log")).lock("s")
    lock_file = str(tmp_path / "s.log.hb-lock")
    with lock, warnings.catch_warnings():
        assert lock_file in _open_files()  # the driver holds it open
        warnings.simplefilter("ignore", DeprecationWarning)  # Python >= 3.12: fork + threads
        pid = os.fork()
        if pid == 0:  # the child: the lock's descriptor was closed when it was made
            os._exit(1 if lock_file in _open_files() else 0)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


_HOLDER = '''
    import os, sys, time
    from hpo_bridge.storage import open_engine

    folder, storage = sys.argv[1:]
    with open_engine(storage).lock("s"):
        open(os.path.join(folder, "holding"), "w").close()
        time.sleep(600)
'''


@pytest.mark.parametrize("kind", ["journal", "postgresql"])
def test_a_wait_for_the_lock_says_what_it_waits_for_and_ends_with_the_holder(
        tmp_path, monkeypatch, caplog, request, kind):
    if kind == "journal":
        storage = str(tmp_path / "s.log")
        said = [storage + ".hb-lock", "held by process {pid}"]
    else:
        storage = request.getfixturevalue("postgres_url")
        said = ["advisory lock of study 's'", "held by server process", "127.0.0.1"]
    holder = _start(tmp_path, _HOLDER, storage)
    _wait_for((tmp_path / "holding").exists, "the other process holds the lock", holder)
    monkeypatch.setattr(engines, "LOCK_NOTICE_AFTER", 0.0, raising=False)  # at once: no timing

    def kill_when_told() -> None:
        try:
            _wait_for(lambda: any("waiting for the" in r.getMessage() for r in caplog.records),
                      "the wait is logged")
        finally:
            _kill(holder)

    killer = threading.Thread(target=kill_when_told)
    with caplog.at_level(logging.WARNING, logger="hpo_bridge"):
        killer.start()
        with open_engine(storage).lock("s"):  # waits until the holder is killed
            pass
    killer.join()
    message = " ".join(r.getMessage() for r in caplog.records if "waiting" in r.getMessage())
    for text in said:
        assert text.format(pid=holder.pid) in message, message


# -- D2: a worker killed while an Optuna backend proposes ----------------------------------
_DIES_PROPOSING = '''
    import os, sys, time
    import optuna
    import hpo_bridge as hb

    folder, storage = sys.argv[1:]
    propose = optuna.samplers.RandomSampler.sample_independent

    def slow(self, study, trial, name, distribution):
        if len(study.get_trials(deepcopy=False)) == 2:  # the second trial exists: killed here
            open(os.path.join(folder, "proposing"), "w").close()
            time.sleep(600)
        return propose(self, study, trial, name, distribution)

    optuna.samplers.RandomSampler.sample_independent = slow
    hb.minimize(lambda c: c["x"], {"x": hb.uniform(0.0, 1.0)}, backend="optuna:random",
                max_evals=4, seed=0, storage=storage, study_name="s", progress=False)
'''


@pytest.mark.parametrize("suffix", [".log", ".db"])
def test_a_trial_killed_while_proposed_has_a_heartbeat_and_is_failed_at_once(
        tmp_path, monkeypatch, suffix):
    storage = str(tmp_path / f"s{suffix}")
    driver = _start(tmp_path, _DIES_PROPOSING, storage)
    _wait_for((tmp_path / "proposing").exists, "the driver proposes its second trial", driver)
    _kill(driver)
    study = optuna.load_study(study_name="s", storage=open_engine(storage).storage)
    running = [t for t in study.get_trials(deepcopy=False) if not t.state.is_finished()]
    assert len(running) == 1  # created by the backend, killed before its point was known
    assert running[0].system_attrs["hpo_bridge:heartbeat"][1] == driver.pid
    # Only the dead pid can fail it: no heartbeat would need GRACE_PERIOD seconds.
    monkeypatch.setattr(stored, "GRACE_PERIOD", 1e9)
    result = hb.minimize(lambda c: c["x"], SPACE, backend="optuna:random", max_evals=4, seed=0,
                         storage=storage, study_name="s", progress=False)
    trials = study.get_trials(deepcopy=False)
    assert all(t.state.is_finished() for t in trials)
    assert trials[1].state.name == "FAIL" and trials[1].user_attrs["error"] == INTERRUPTED
    # Nothing was evaluated in it: it is no record, and no trial of max_evals.
    assert sorted(r.trial_id for r in result.records) == [0, 2, 3, 4]
    assert {r.state for r in result.records} == {"complete"}


# -- D4: a trial that ignores SIGTERM at its time limit -------------------------------------
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_trial_that_traps_sigterm_is_killed_at_its_time_limit(leftovers, monkeypatch, n_jobs):
    folder = leftovers
    monkeypatch.setattr(executors, "KILL_GRACE", 0.5, raising=False)

    def objective(config: dict, trial: hb.Trial) -> float:
        if trial.trial_id == 1:
            (folder / f"worker-{os.getpid()}").touch()
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            while True:  # endless, and deaf to SIGTERM
                time.sleep(0.05)
        return config["x"]

    result = hb.minimize(objective, SPACE, backend="optuna:random", max_evals=3, seed=0,
                         n_jobs=n_jobs, trial_timeout=1, progress=False)
    states = {r.trial_id: (r.state, r.error) for r in result.records}
    assert states[1] == ("failed", "timed out after 1 s; its process ignored SIGTERM and was "
                                   "killed (SIGKILL) 0.5 s later")
    assert states[0][0] == states[2][0] == "complete"
    [pid] = _pids(folder, "worker-")
    assert not _alive(pid)  # gone when the run returns: the script can exit
