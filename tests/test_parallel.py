"""``n_jobs > 1``: worker processes, threads, any executor; dying workers and Ctrl-C."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import hpo_bridge as hb
from conftest import AVAILABLE, RANDOM, space_for

#: One per library, with a short random start so the model (and its liar) is exercised.
MODEL_BASED = {
    "hyperopt:tpe": {"n_startup_jobs": 3},
    "optuna:tpe": {"n_startup_trials": 3},
    # A cheaper acquisition search: a GP ask otherwise takes seconds on a busy 2-core machine.
    "skopt:gp": {"n_initial_points": 3, "acq_optimizer": "sampling",
                 "acq_optimizer_kwargs": {"n_points": 500, "n_jobs": 1}},
}


def run(backend: str, objective, **kw):
    kw = {"max_evals": 6, "seed": 0, "n_jobs": 2, "progress": False, **kw}
    return hb.minimize(objective, space_for(backend, "flat"), backend=backend, **kw)


@pytest.mark.parametrize("backend", AVAILABLE)
def test_processes_run_a_lambda_in_other_processes(backend: str) -> None:
    offset = 0.5  # a closure: the lambda must travel by cloudpickle
    result = run(backend, lambda c: {"value": c["n"] + offset, "pid": os.getpid()})
    table = result.trials
    assert len(table) == 6 and set(table.state) == {"complete"}
    assert os.getpid() not in set(table["metrics.pid"])
    assert result.best_value == min(table.value)


def test_the_objective_is_sent_to_each_process_once_not_with_every_trial(monkeypatch) -> None:
    """An objective holding large data (a SearchCV's X and y) is not sent again per trial."""
    from concurrent.futures import ProcessPoolExecutor

    import cloudpickle

    data = os.urandom(4_000_000)
    sent: list[int] = []
    submit = ProcessPoolExecutor.submit

    def recording(self, fn, *args, **kwargs):
        sent.append(len(cloudpickle.dumps(args)))
        return submit(self, fn, *args, **kwargs)

    monkeypatch.setattr(ProcessPoolExecutor, "submit", recording)
    result = hb.minimize(lambda c: c["x"] + len(data) * 0.0, {"x": hb.uniform(0.0, 1.0)},
                         backend="optuna:random", max_evals=6, n_jobs=2, seed=0)
    assert [r.state for r in result.records] == ["complete"] * 6
    assert len(sent) == 6 and max(sent) < 100_000  # the 4 MB objective went at process start


@pytest.mark.parametrize("backend", sorted(MODEL_BASED))
def test_trials_in_flight_get_distinct_configurations(backend: str) -> None:
    def objective(config: dict) -> float:
        time.sleep(0.02)
        return (config["x"] - 0.5) ** 2 + config["n"] / 10

    result = run(backend, objective, executor="threads", n_jobs=3, max_evals=8,
                 **MODEL_BASED[backend])
    points = [tuple(sorted(r.point.items())) for r in result.records]
    assert len(points) == 8 and len(set(points)) == 8


def test_threads_run_an_objective_that_cannot_be_pickled() -> None:
    lock = threading.Lock()  # cloudpickle cannot send a lock to another process
    names = []

    def objective(config: dict) -> float:
        with lock:
            names.append(threading.current_thread().name)
        return float(config["n"])

    result = run("optuna:random", objective, executor="threads")
    assert set(result.trials.state) == {"complete"}
    assert all(n.startswith("hpo_bridge") for n in names)
    with pytest.raises(ValueError, match="executor='threads'"):
        run("optuna:random", objective)


def test_a_users_executor_is_used_and_left_open() -> None:
    with ThreadPoolExecutor(2) as pool:
        result = run("hyperopt:random", lambda c: float(c["n"]), executor=pool)
        assert len(result.records) == 6
        assert pool.submit(lambda: 1).result() == 1  # still usable


def test_a_wrong_executor_is_refused_before_any_trial() -> None:
    with pytest.raises(ValueError, match="executor must be"):
        run("optuna:random", lambda c: 0.0, executor="gpu")


def _die(how: str) -> None:
    if how == "exit":
        os._exit(3)
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.parametrize("how", ["exit", "sigkill"])
@pytest.mark.parametrize("backend", sorted(MODEL_BASED))
def test_a_worker_that_dies_costs_only_its_trial(backend: str, how: str) -> None:
    def objective(config: dict, trial: hb.Trial) -> float:
        if trial.trial_id == 2:
            _die(how)
        time.sleep(0.05)
        return float(config["n"])

    result = run(backend, objective)
    states = {r.trial_id: r.state for r in result.records}
    assert len(states) == 6
    assert [t for t, s in states.items() if s == "failed"] == [2]
    assert "worker died" in result.records[[r.trial_id for r in result.records].index(2)].error


def test_a_worker_killed_once_is_run_again(tmp_path) -> None:
    marker = tmp_path / "killed"

    def objective(config: dict, trial: hb.Trial) -> float:
        if trial.trial_id == 1 and not marker.exists():
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.05)
        return float(config["n"])

    result = run("optuna:tpe", objective)
    assert marker.exists()
    assert sorted(r.trial_id for r in result.records) == list(range(6))
    assert set(result.trials.state) == {"complete"}


def test_keyboard_interrupt_in_a_trial_keeps_the_finished_ones() -> None:
    def objective(config: dict, trial: hb.Trial) -> float:
        if trial.trial_id == 4:
            raise KeyboardInterrupt
        time.sleep(0.05)
        return float(config["n"])

    result = run("optuna:tpe", objective, executor="threads", max_evals=20)
    assert result.stopped == "interrupted"
    done = [r for r in result.records if r.state == "complete"]
    assert len(done) >= 3 and all(r.trial_id != 4 for r in done)
    failed = [r for r in result.records if r.state == "failed"]
    assert 4 in {r.trial_id for r in failed}
    assert all("interrupted" in r.error for r in failed)
    assert len(result.records) < 20


@pytest.mark.parametrize("backend", sorted(MODEL_BASED))
def test_ctrl_c_in_the_driver_stops_the_workers_and_keeps_finished_trials(
        backend: str, tmp_path) -> None:
    def objective(config: dict, trial: hb.Trial) -> float:
        if trial.trial_id >= 2:  # sent once trials 0 and 1 were told: Ctrl-C comes in these
            (tmp_path / f"started-{trial.trial_id}").touch()
            time.sleep(600)
        return float(config["n"])

    sent: list[float] = []

    def interrupt() -> None:  # no timing: Ctrl-C once trials 2 and 3 run (0 and 1 are told)
        deadline = time.monotonic() + 400  # a hang guard only (the trials sleep 600 s)
        while not all((tmp_path / f"started-{i}").exists() for i in (2, 3)):
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Thread(target=interrupt, daemon=True)
    timer.start()
    result = run(backend, objective, max_evals=100)
    returned = time.monotonic()
    timer.join()
    # The workers were stopped: no 600-s trial ran out. Counted from Ctrl-C, not from the
    # start (which holds two worker processes' start-up: tens of seconds on a loaded machine).
    assert returned - sent[0] < 120
    assert result.stopped == "interrupted"
    complete = [r for r in result.records if r.state == "complete"]
    assert 2 <= len(complete) < 100
    assert all(r.state == "complete" or "interrupted" in r.error for r in result.records)


def test_a_users_executor_that_breaks_stops_the_run_and_keeps_what_finished() -> None:
    from concurrent.futures import ProcessPoolExecutor

    def objective(config: dict, trial: hb.Trial) -> float:
        if trial.trial_id == 2:
            os._exit(3)
        if trial.trial_id > 2:  # no timing: the budget cannot be spent before the pool breaks
            time.sleep(600)
        time.sleep(0.05)
        return float(config["n"])

    with ProcessPoolExecutor(2) as pool:  # not ours to replace
        result = run("optuna:random", objective, executor=pool, max_evals=20)
    assert "worker died" in {r.trial_id: r.error for r in result.records}[2]
    for r in result.records:  # the others finished, or were running when the pool broke
        assert r.state == "complete" or "broken" in r.error or "worker died" in r.error, r
    # How many trials finished before the pool noticed its dead worker depends on scheduling;
    # once it did, the run stopped (a user's pool is not ours to replace).
    assert len(result.records) < 20 and result.stopped == "executor broken"


@pytest.mark.parametrize("backend", RANDOM)
def test_random_search_proposes_what_a_serial_run_proposes(backend: str) -> None:
    def objective(config: dict, trial: hb.Trial) -> float:
        time.sleep(0.01 * (trial.trial_id % 3))  # trials finish out of order
        return float(config["n"])

    def proposals(result: hb.Result) -> list:
        return sorted((r.trial_id, repr(sorted(r.point.items()))) for r in result.records)

    serial = run(backend, objective, n_jobs=1, max_evals=9)
    parallel = run(backend, objective, executor="threads", n_jobs=3, max_evals=9)
    assert proposals(parallel) == proposals(serial)


def test_hpo_bridge_parallel_keeps_its_public_names() -> None:
    # The loop moved to hpo_bridge.loop and the executors to hpo_bridge.executors (issue 14).
    from hpo_bridge import parallel

    assert set(parallel.__all__) == {"run_parallel", "check_executor"}
    parallel.check_executor("threads")
    with pytest.raises(hb.SpaceError, match="executor must be"):
        parallel.check_executor(42)
    assert "trial_timeout" in (parallel.__doc__ or "")
