"""Trials in parallel: ``n_jobs`` trials in flight on processes, threads or any executor.

The driver (the calling process) is the only one that talks to the optimizer. It asks for a
trial whenever a slot frees, sends ``evaluate(objective, trial)`` to the executor and tells
each outcome as it arrives. Backends see the trials in flight as pending, natively: Optuna's
``RUNNING`` trials (TPE's constant liar), skopt's constant liar, hyperopt's ``NEW`` documents;
so asks made while others are pending give distinct configurations.

Where trials run, ``executor=``:

- ``None`` or ``"processes"``: ``n_jobs`` worker processes (``n_jobs`` pools of one process,
  so one process can be killed alone). The objective is serialized once with cloudpickle, so
  closures and lambdas work, and unpickled once per worker.
- ``"threads"``: one daemon thread of the driver per trial in flight, for objectives that wait
  (I/O, a subprocess, a GPU) or that cannot be pickled. The objective shares the driver's
  memory.
- any ``concurrent.futures.Executor``; a ``dask.distributed.Client`` or its ``get_executor()``;
  a Dask scheduler address such as ``"tcp://10.0.0.5:8786"`` (a client is opened for the run).
  ``n_jobs`` is still the number of trials in flight: give it the cluster's size.

Faults:

- A worker process that dies (killed, ``os._exit``, a crash in native code) costs only its
  trial: the process is replaced and the trial run again once; a trial whose process dies
  again is recorded failed (``"worker died: ..."``). The study goes on. A user's own executor
  is not replaced: if it breaks, the run stops and keeps what finished.
- A Dask worker that dies: Dask runs its task again elsewhere; if Dask gives up
  (``KilledWorker``), the trial is recorded failed.
- ``trial_timeout``: a trial still running at its limit (counted from when it is sent) is
  recorded failed (``"timed out after N s"``) and the run goes on. Our worker process running
  it is killed and replaced. A thread cannot be killed: it is abandoned, still running, and a
  warning says so once. A Dask task is cancelled (a task already running on a worker's thread
  is abandoned there, its result dropped); a user's executor gets ``future.cancel()``, and a
  trial it cannot cancel is abandoned.
- Ctrl-C: work not started is cancelled, our worker processes are stopped, finished trials are
  kept and the trials in flight are recorded failed as interrupted.

Reproducibility: with ``n_jobs > 1`` a seeded run is not bit-reproducible. Each ask sees the
trials finished so far, and which ones have finished depends on timing, so a model-based
backend (TPE, GP, forests, CMA-ES) proposes different configurations from run to run and from a
serial run with the same seed. Backends whose proposals do not depend on outcomes (the
``random`` ones, and the seeded start-up trials of the model-based ones) propose the same
configurations as a serial run, only finishing in another order.
"""

from __future__ import annotations

import hashlib
import signal
import threading
import time
import warnings
from concurrent.futures import (
    FIRST_COMPLETED,
    BrokenExecutor,
    Executor,
    Future,
    ProcessPoolExecutor,
    wait,
)
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Protocol

from hpo_bridge.errors import SpaceError
from hpo_bridge.evaluate import Outcome, describe, evaluate

if TYPE_CHECKING:
    from hpo_bridge.optimizer import Trial
    from hpo_bridge.progress import ProgressBar

__all__ = ["run_parallel", "check_executor"]

class RunBooks(Protocol):
    """What :func:`run_parallel` drives: the books of one run (``run.py`` keeps them)."""

    objective: Callable
    n_jobs: int
    executor: Any
    catch: tuple
    pass_trial: bool
    trial_timeout: float | None
    stopped: str | None

    def next_trial(self) -> Trial | None:
        """The next trial, or ``None`` when the budget is spent."""

    def finish(self, trial: Trial, outcome: Outcome, bar: ProgressBar) -> None:
        """Tell an outcome (sets ``outcome.reraise`` when it must stop the run)."""


_NAMES = ("processes", "threads")
_DASK_SCHEMES = ("tcp://", "tls://", "inproc://", "ucx://", "ws://", "wss://")
_WORKER_DIED = "worker died: the process running this trial exited abruptly"


def check_executor(executor: Any) -> None:
    """Raise :class:`~hpo_bridge.SpaceError` unless ``executor`` is something :func:`run_parallel` can use."""
    if executor is None or executor in _NAMES or hasattr(executor, "submit"):
        return
    if isinstance(executor, str) and executor.startswith(_DASK_SCHEMES):
        return
    raise SpaceError(
        f"executor must be 'processes', 'threads', a concurrent.futures.Executor, a "
        f"dask.distributed.Client or a Dask scheduler address ('tcp://host:port'); "
        f"got {executor!r}"
    )


# -- in the worker --------------------------------------------------------------------------
_OBJECTIVE: dict[str, tuple[Callable, tuple]] = {}


def _ignore_sigint() -> None:
    # Ctrl-C in a terminal reaches the whole process group; the driver alone handles it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _evaluate_remote(key: str, blob: bytes, trial_blob: bytes, pass_trial: bool) -> bytes:
    """Run one trial in a worker: the objective is unpickled once per worker and cached."""
    import cloudpickle

    if key not in _OBJECTIVE:
        _OBJECTIVE.clear()  # one run's objective at a time
        _OBJECTIVE[key] = cloudpickle.loads(blob)
    objective, catch = _OBJECTIVE[key]
    outcome = evaluate(objective, cloudpickle.loads(trial_blob), pass_trial, catch)
    try:
        return cloudpickle.dumps(outcome)
    except Exception as exc:  # an unpicklable metric or exception
        if outcome.reraise is not None:
            outcome.reraise = RuntimeError(outcome.error)
            return cloudpickle.dumps(outcome)
        return cloudpickle.dumps(Outcome("failed", None, f"the objective's result cannot be sent "
                                         f"back: {describe(exc)}", outcome.duration_s))


# -- in the driver ---------------------------------------------------------------------------
@dataclass
class _Job:
    trial: Trial
    deadline: float | None = None  # time.monotonic() past which the trial has timed out
    slot: int | None = None  # which of our one-process pools runs it (processes)
    retried: bool = False  # run again after its worker process died


class _Threads:
    """One daemon thread per trial: a thread that never returns can be abandoned at its time
    limit and does not keep the interpreter from exiting (a thread cannot be killed)."""

    def submit(self, fn: Callable, *args: Any) -> Future:
        future: Future = Future()

        def work() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # KeyboardInterrupt too: the driver handles it
                future.set_exception(exc)

        threading.Thread(target=work, name="hpo_bridge-trial", daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        """Nothing to release: each thread ends with its trial."""


class _Engine:
    """Where trials run: submits them, makes sense of what comes back, recovers, closes.

    Our worker processes are ``n_jobs`` pools of one process each (slots), so a process that
    dies or is killed at a trial's time limit costs only that trial.
    """

    def __init__(self, run: RunBooks) -> None:
        self.run = run
        self.kind, self.owned, self.client = "external", False, None
        self.warned = False
        spec = run.executor
        if spec is None or spec == "processes":
            self.kind, self.owned = "processes", True
            self.pools: list[ProcessPoolExecutor | None] = [None] * run.n_jobs
            self.free = list(range(run.n_jobs))
        elif spec == "threads":
            self.kind, self.owned = "threads", True
            self.executor: Any = _Threads()
        elif isinstance(spec, str):  # a Dask address, checked by check_executor
            self.client = _dask_client(spec)
            spec = self.client
        if self.kind == "external":
            # A view we make of a Dask client is ours to shut down (that cancels its tasks).
            self.owned = hasattr(spec, "get_executor")
            self.executor = spec.get_executor() if self.owned else spec
        if self.kind != "threads":
            self.blob = _pickle_objective(run.objective, run.catch)
            self.key = hashlib.sha1(self.blob).hexdigest()

    def submit(self, trial: Trial, retried: bool = False) -> tuple[Future, _Job]:
        """Send ``trial`` to the executor."""
        job = _Job(trial, retried=retried)
        if self.run.trial_timeout is not None:
            job.deadline = time.monotonic() + self.run.trial_timeout
        try:
            try:
                return self._send(job), job
            except BrokenExecutor:
                if self.kind != "processes":
                    raise  # a user's executor is not ours to replace
                self._release(job, kill=True)  # an idle worker of ours died: a new one
                return self._send(job), job
        except BrokenExecutor:
            raise
        except Exception as exc:  # the trial cannot be sent (an unpicklable option...)
            self._release(job)
            return _done(Outcome("failed", error=f"trial could not be sent to the executor: "
                                                 f"{describe(exc)}")), job

    def _send(self, job: _Job) -> Future:
        run = self.run
        if self.kind == "threads":
            return self.executor.submit(evaluate, run.objective, job.trial, run.pass_trial,
                                        run.catch)
        import cloudpickle

        args = (self.key, self.blob, cloudpickle.dumps(job.trial), run.pass_trial)
        executor = self.executor if self.kind != "processes" else self._take_slot(job)
        return executor.submit(_evaluate_remote, *args)

    def _take_slot(self, job: _Job) -> Executor:
        job.slot = slot = self.free.pop(0)
        pool = self.pools[slot]
        if pool is None:
            pool = self.pools[slot] = ProcessPoolExecutor(1, initializer=_ignore_sigint)
        return pool

    def _release(self, job: _Job, kill: bool = False) -> None:
        """Free the job's slot; ``kill`` stops its process (the slot gets a new one)."""
        slot = job.slot
        if slot is None:
            return
        pool, job.slot = self.pools[slot], None
        if kill and pool is not None:
            self.pools[slot] = None
            _stop_workers(pool)
            pool.shutdown(wait=False, cancel_futures=True)
        self.free.append(slot)

    def outcome(self, future: Future, job: _Job) -> Outcome | None:
        """The outcome of a finished future; ``None`` when the trial must be sent again."""
        try:
            value = future.result()
        except BrokenExecutor as exc:
            self._release(job, kill=True)
            if self.kind == "processes" and not job.retried:
                return None  # its process died: run it once more in a new one
            return Outcome("failed", error=f"{_WORKER_DIED} ({describe(exc)})")
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # Dask's KilledWorker, a cancelled future, ...
            self._release(job)
            name = type(exc).__name__
            prefix = "worker died" if "Killed" in name else "the executor failed"
            return Outcome("failed", error=f"{prefix}: {describe(exc)}")
        self._release(job)
        if isinstance(value, Outcome):  # threads, or a trial that could not be sent
            return value
        import cloudpickle

        return cloudpickle.loads(value)

    def timed_out(self, future: Future, job: _Job) -> Outcome:
        """Stop a trial past its limit where possible; it is recorded failed either way."""
        limit = self.run.trial_timeout
        assert limit is not None  # only a trial with a time limit times out
        future.cancel()  # a Dask task is cancelled; a queued one never starts
        if self.kind == "processes":
            self._release(job, kill=True)
        elif self.kind == "threads" and not self.warned:
            self.warned = True
            warnings.warn(
                f"trial {job.trial.trial_id} timed out after {limit:g} s: a thread cannot be "
                "stopped, so it is abandoned and keeps running in the background "
                "(executor='processes' kills a timed-out trial)", RuntimeWarning, stacklevel=2,
            )
        return Outcome("failed", error=f"timed out after {limit:g} s", duration_s=limit,
                       intermediate=dict(job.trial.intermediate))

    def close(self, futures: list[Future], clean: bool) -> None:
        """Shut down what we made; on Ctrl-C or an error, cancel and stop what is running."""
        if not clean:
            for future in futures:
                future.cancel()
        if self.kind == "processes":
            for pool in self.pools:
                if pool is not None:
                    if not clean:
                        _stop_workers(pool)
                    pool.shutdown(wait=clean, cancel_futures=not clean)
        elif self.kind == "external" and self.owned:  # a Dask client's executor: shutdown
            self.executor.shutdown(wait=clean)     # (wait=False) cancels its tasks
        if self.client is not None:
            self.client.close()


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    # Python < 3.14 has no public way to stop a pool's running workers.
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            process.terminate()


def _done(outcome: Outcome) -> Future:
    future: Future = Future()
    future.set_result(outcome)
    return future


def _pickle_objective(objective: Callable, catch: tuple) -> bytes:
    import cloudpickle

    try:
        return cloudpickle.dumps((objective, catch))
    except Exception as exc:
        raise SpaceError(
            f"the objective runs in other processes and must be picklable by cloudpickle: "
            f"{describe(exc)}; use executor='threads' to run it in this process"
        ) from exc


def _dask_client(address: str) -> Any:
    try:
        from dask.distributed import Client
    except ImportError as exc:
        raise ImportError(
            "executor='tcp://...' needs Dask: pip install 'hpo_bridge[dask]'"
        ) from exc
    return Client(address)


def run_parallel(run: RunBooks, bar: ProgressBar) -> None:
    """Keep ``run.n_jobs`` trials in flight until the budget is spent; tell each outcome."""
    engine = _Engine(run)
    jobs: dict[Future, _Job] = {}
    clean = False
    try:
        while True:
            while len(jobs) < run.n_jobs and not run.stopped:
                trial = run.next_trial()
                if trial is None:
                    break
                _submit(run, engine, jobs, trial, bar)
            if not jobs:
                break
            done, _ = wait(jobs, timeout=_next_deadline(jobs), return_when=FIRST_COMPLETED)
            for future in done:
                _finish(run, engine, jobs, future, bar)
            now = time.monotonic()
            for future, job in list(jobs.items()):
                if job.deadline is not None and job.deadline <= now and not future.done():
                    del jobs[future]
                    run.finish(job.trial, engine.timed_out(future, job), bar)
        clean = True
    except KeyboardInterrupt:
        _keep_finished(run, engine, jobs, bar)
        raise
    finally:
        engine.close(list(jobs), clean)


def _next_deadline(jobs: dict[Future, _Job]) -> float | None:
    """Seconds until the first trial in flight reaches its time limit (``None``: no limit)."""
    deadlines = [job.deadline for job in jobs.values() if job.deadline is not None]
    return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None


def _submit(run: RunBooks, engine: _Engine, jobs: dict[Future, _Job], trial: Trial,
            bar: ProgressBar, retried: bool = False) -> None:
    try:
        future, job = engine.submit(trial, retried)
    except BrokenExecutor as exc:  # a user's executor, which is not ours to replace
        run.finish(trial, Outcome("failed", error=f"the executor is broken: {describe(exc)}"),
                   bar)
        run.stopped = "executor broken"
        return
    jobs[future] = job


def _finish(run: RunBooks, engine: _Engine, jobs: dict[Future, _Job], future: Future,
            bar: ProgressBar) -> None:
    job = jobs.pop(future)
    outcome = engine.outcome(future, job)
    if outcome is None:  # its worker died: run it again, in a new process
        _submit(run, engine, jobs, job.trial, bar, retried=True)
        return
    run.finish(job.trial, outcome, bar)
    if outcome.reraise is not None:
        raise outcome.reraise


def _keep_finished(run: RunBooks, engine: _Engine, jobs: dict[Future, _Job],
                   bar: ProgressBar) -> None:
    """On Ctrl-C, tell the trials whose results already arrived."""
    for future in [f for f in jobs if f.done() and not f.cancelled()]:
        if future.exception() is not None:
            continue
        job = jobs.pop(future)
        outcome = engine.outcome(future, job)
        if outcome is not None:
            run.finish(job.trial, outcome, bar)
