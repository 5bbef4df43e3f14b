"""Trials on a real Dask cluster: a scheduler and two workers, separate processes on 127.0.0.1.

The test starts them itself (``dask scheduler`` / ``dask worker`` command lines), runs a study
per library across them, and SIGKILLs a worker in the middle of a trial.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import hpo_bridge as hb

distributed = pytest.importorskip("distributed")

SPACE = {"x": hb.uniform(-2.0, 2.0), "n": hb.integer(1, 8)}


class Cluster:
    """A scheduler and its workers, each a process of its own, all stopped on ``close``."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.file = workdir / "scheduler.json"
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        self.scheduler = self._start("distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                     "--port", "0", "--no-dashboard")
        self.workers: list[subprocess.Popen] = []
        self.client = None
        deadline = time.monotonic() + 60
        while not self.file.exists():
            if time.monotonic() > deadline or self.scheduler.poll() is not None:
                raise RuntimeError("the Dask scheduler did not start")
            time.sleep(0.1)
        self.client = distributed.Client(scheduler_file=str(self.file), timeout=60)
        self.address = self.client.scheduler.address

    def _start(self, module: str, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", module, "--scheduler-file", str(self.file), *args],
            env=self.env, cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def ensure_workers(self, n: int) -> None:
        """Start workers (no nanny: a killed worker stays dead) until ``n`` are alive."""
        self.workers = [w for w in self.workers if w.poll() is None]
        while len(self.workers) < n:
            self.workers.append(self._start(
                "distributed.cli.dask_worker", "--host", "127.0.0.1", "--nworkers", "1",
                "--nthreads", "1", "--no-nanny", "--no-dashboard"))
        self.client.wait_for_workers(n, timeout=60)
        deadline = time.monotonic() + 30  # killed workers leave the scheduler's books too
        while len(self.client.scheduler_info()["workers"]) != n and time.monotonic() < deadline:
            time.sleep(0.1)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        for process in [*self.workers, self.scheduler]:
            if process.poll() is None:
                process.terminate()
        for process in [*self.workers, self.scheduler]:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    cluster = Cluster(tmp_path_factory.mktemp("dask"))
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def two_workers(cluster: Cluster) -> Cluster:
    cluster.ensure_workers(2)
    return cluster


def _objective(config: dict) -> dict:
    time.sleep(0.1)
    return {"value": (config["x"] - 0.5) ** 2 + config["n"] / 10, "pid": os.getpid()}


# The three ways to name the cluster, one per library.
EXECUTORS = {
    "hyperopt:tpe": lambda c: c.client.get_executor(),
    "optuna:tpe": lambda c: c.client,
    "skopt:gp": lambda c: c.address,
}


@pytest.mark.parametrize("backend", sorted(EXECUTORS))
def test_a_study_runs_across_two_workers(two_workers: Cluster, backend: str) -> None:
    executor = EXECUTORS[backend](two_workers)
    objective = lambda c: _objective(c)  # noqa: E731 - a lambda must travel too
    result = hb.minimize(objective, SPACE, backend=backend, max_evals=8, seed=0, n_jobs=2,
                         executor=executor, progress=False)
    table = result.trials
    assert len(table) == 8 and set(table.state) == {"complete"}
    worker_pids = {w.pid for w in two_workers.workers}
    assert set(table["metrics.pid"]) == worker_pids  # both workers ran trials


@pytest.mark.parametrize("backend", sorted(EXECUTORS))
def test_a_worker_killed_mid_trial_costs_the_study_nothing(two_workers: Cluster, backend: str,
                                                           tmp_path: Path) -> None:
    started = tmp_path / "started"  # written by the trial to kill, with its worker's pid

    def objective(config: dict, trial: hb.Trial) -> dict:
        if trial.trial_id == 2 and not started.exists():
            (tmp_path / "pid").write_text(str(os.getpid()))
            (tmp_path / "pid").rename(started)
            time.sleep(30)  # killed long before this ends
        return _objective(config)

    killed: list[int] = []

    def kill_when_started() -> None:
        deadline = time.monotonic() + 60
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        if started.exists():
            pid = int(started.read_text())
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    killer = threading.Thread(target=kill_when_started, daemon=True)
    killer.start()
    t0 = time.monotonic()
    result = hb.minimize(objective, SPACE, backend=backend, max_evals=8, seed=0, n_jobs=2,
                         executor=EXECUTORS[backend](two_workers), progress=False)
    killer.join(timeout=5)
    assert killed and killed[0] in {w.pid for w in two_workers.workers}
    assert time.monotonic() - t0 < 30  # the killed trial did not run to its end
    states = {r.trial_id: r.state for r in result.records}
    assert sorted(states) == list(range(8))  # the whole budget, every trial kept
    assert all(s == "complete" for t, s in states.items() if t != 2)
    if states[2] == "failed":  # Dask gave up on it rather than running it again
        assert "worker died" in result.records[[r.trial_id for r in result.records]
                                               .index(2)].error
    else:  # Dask ran it again, on the worker still alive
        assert result.trials.set_index("trial_id").loc[2, "metrics.pid"] != killed[0]


def test_asha_runs_across_two_workers_continuing_from_checkpoints(two_workers: Cluster) -> None:
    """Issue 21: ASHA on Dask; each promoted configuration reads what it saved (same machine:
    the checkpoint directories are the driver's)."""
    def objective(config: dict, trial: hb.Trial) -> dict:
        saved = Path(trial.checkpoint_dir, "epochs")
        done = int(saved.read_text()) if trial.budget_reached else 0
        assert done == (trial.budget_reached or 0)
        saved.write_text(str(config["epochs"]))
        return {"value": (config["x"] - 0.5) ** 2 + 1 / config["epochs"], "pid": os.getpid()}

    result = hb.minimize(objective, SPACE, backend="optuna:tpe", seed=0, n_jobs=2,
                         executor=two_workers.client, fidelity=hb.fidelity("epochs", 1, 9),
                         max_budget=40, scheduler="asha", progress=False)
    table = result.trials
    assert set(table.state) == {"complete"} and 40 - 9 < result.budget_spent <= 40
    assert set(table.budget) <= {1, 3, 9} and 3 in set(table.budget)
    assert set(table["metrics.pid"]) <= {w.pid for w in two_workers.workers}


def test_a_deterministic_run_repeats_on_the_cluster(two_workers: Cluster) -> None:
    """``deterministic=True`` on Dask (docs: "on any executor"): trials that finish in another
    order (the sleeps swapped between the runs) give the same trials."""
    runs = []
    for slow in (0, 2):
        def objective(config: dict, slow: int = slow) -> float:
            time.sleep(0.05 * abs(config["n"] % 3 - slow))
            return (config["x"] - 0.5) ** 2 + config["n"] / 10

        result = hb.minimize(objective, SPACE, backend="optuna:tpe", max_evals=8, seed=0,
                             n_jobs=2, executor=two_workers.client, deterministic=True,
                             n_startup_trials=3, progress=False)
        runs.append([(r.trial_id, r.state, r.point, r.value) for r in result.records])
    assert len(runs[0]) == 8
    assert runs[0] == runs[1]
