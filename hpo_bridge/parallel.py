"""Trials in parallel: ``n_jobs`` trials in flight on processes, threads or any executor.

The driver (the calling process) is the only one that talks to the optimizer. It asks for a
trial whenever a slot frees, sends ``evaluate(objective, trial)`` to the executor and tells
each outcome as it arrives. Backends see the trials in flight as pending, natively: Optuna's
``RUNNING`` trials (TPE's constant liar), skopt's constant liar, hyperopt's ``NEW`` documents;
so asks made while others are pending give distinct configurations.

Where trials run, ``executor=``:

- ``None`` or ``"processes"``: ``n_jobs`` worker processes. The objective is serialized once
  with cloudpickle, so closures and lambdas work, and unpickled once per worker.
- ``"threads"``: ``n_jobs`` threads of the driver, for objectives that wait (I/O, a subprocess,
  a GPU) or that cannot be pickled. The objective shares the driver's memory.
- any ``concurrent.futures.Executor``; a ``dask.distributed.Client`` or its ``get_executor()``;
  a Dask scheduler address such as ``"tcp://10.0.0.5:8786"`` (a client is opened for the run).
  ``n_jobs`` is still the number of trials in flight: give it the cluster's size.

Faults:

- A worker process that dies (killed, ``os._exit``, a crash in native code) breaks the pool.
  The pool is replaced; the trials that were in flight are run again, each alone in a process
  of its own, and a trial whose process dies again is recorded failed (``"worker died: ..."``).
  The study goes on. A user's own executor is not replaced: if it breaks, the run stops and
  keeps what finished.
- A Dask worker that dies: Dask runs its task again elsewhere; if Dask gives up
  (``KilledWorker``), the trial is recorded failed.
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
from concurrent.futures import (
    FIRST_COMPLETED,
    BrokenExecutor,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from hpo_bridge.evaluate import Outcome, describe, evaluate

if TYPE_CHECKING:
    from hpo_bridge.optimizer import Trial
    from hpo_bridge.progress import ProgressBar
    from hpo_bridge.run import _Run

__all__ = ["run_parallel", "check_executor"]

_NAMES = ("processes", "threads")
_DASK_SCHEMES = ("tcp://", "tls://", "inproc://", "ucx://", "ws://", "wss://")
_WORKER_DIED = "worker died: the process running this trial exited abruptly"


def check_executor(executor: Any) -> None:
    """Raise ``ValueError`` unless ``executor`` is something :func:`run_parallel` can use."""
    if executor is None or executor in _NAMES or hasattr(executor, "submit"):
        return
    if isinstance(executor, str) and executor.startswith(_DASK_SCHEMES):
        return
    raise ValueError(
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
    executor: Executor
    alone: bool = False  # run again alone after a broken pool


class _Engine:
    """Where trials run: submits them, makes sense of what comes back, recovers, closes."""

    def __init__(self, run: _Run) -> None:
        self.run = run
        self.kind, self.owned, self.client = "external", False, None
        spec = run.executor
        if spec is None or spec == "processes":
            self.kind = "processes"
        elif spec == "threads":
            self.kind = "threads"
        elif isinstance(spec, str):  # a Dask address, checked by check_executor
            self.client = _dask_client(spec)
            spec = self.client
        if self.kind == "external":
            # A view we make of a Dask client is ours to shut down (that cancels its tasks).
            self.owned = hasattr(spec, "get_executor")
            self.executor = spec.get_executor() if self.owned else spec
        else:
            self.owned = True
            self.executor = self._new_pool(run.n_jobs)
        if self.kind != "threads":
            self.blob = _pickle_objective(run.objective, run.catch)
            self.key = hashlib.sha1(self.blob).hexdigest()
        self.spares: list[Executor] = []  # one-process pools running a suspect trial alone

    def _new_pool(self, workers: int) -> Executor:
        if self.kind == "threads":
            return ThreadPoolExecutor(workers, thread_name_prefix="hpo_bridge")
        # The platform's default start method: scripts need no ``__main__`` guard on Linux.
        return ProcessPoolExecutor(workers, initializer=_ignore_sigint)

    def submit(self, trial: Trial, alone: bool = False) -> tuple[Future, _Job]:
        """Send ``trial`` to the executor (a pool of its own when ``alone``)."""
        executor = self._new_pool(1) if alone else self.executor
        if alone:
            self.spares.append(executor)
        job = _Job(trial, executor, alone)
        run = self.run
        try:
            if self.kind == "threads":
                return executor.submit(evaluate, run.objective, trial, run.pass_trial,
                                       run.catch), job
            import cloudpickle

            return executor.submit(_evaluate_remote, self.key, self.blob,
                                   cloudpickle.dumps(trial), run.pass_trial), job
        except BrokenExecutor:
            if alone or not self._replace(executor):
                raise
            return self.submit(trial)
        except Exception as exc:  # the trial cannot be sent (an unpicklable option...)
            return _done(Outcome("failed", error=f"trial could not be sent to the executor: "
                                                 f"{describe(exc)}")), job

    def outcome(self, future: Future, job: _Job) -> Outcome | None:
        """The outcome of a finished future; ``None`` when the trial was sent again."""
        if job.alone:
            self.spares.remove(job.executor)
            job.executor.shutdown(wait=False)
        try:
            value = future.result()
        except BrokenExecutor as exc:
            if job.alone or self.kind != "processes":
                return Outcome("failed", error=f"{_WORKER_DIED} ({describe(exc)})")
            self._replace(job.executor)
            return None  # the caller runs it again, alone
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # Dask's KilledWorker, a cancelled future, ...
            name = type(exc).__name__
            prefix = "worker died" if "Killed" in name else "the executor failed"
            return Outcome("failed", error=f"{prefix}: {describe(exc)}")
        if isinstance(value, Outcome):  # threads, or a trial that could not be sent
            return value
        import cloudpickle

        return cloudpickle.loads(value)

    def _replace(self, broken: Executor) -> bool:
        """A new pool for a broken one of ours; ``False`` if it is not ours to replace."""
        if self.kind != "processes":
            return False
        if broken is self.executor:
            broken.shutdown(wait=False, cancel_futures=True)
            self.executor = self._new_pool(self.run.n_jobs)
        return True

    def close(self, futures: list[Future], clean: bool) -> None:
        """Shut down what we made; on Ctrl-C or an error, cancel and stop what is running."""
        if not clean:
            for future in futures:
                future.cancel()
        pools = [self.executor, *self.spares] if self.owned else self.spares
        for pool in pools:
            if isinstance(pool, (ProcessPoolExecutor, ThreadPoolExecutor)):
                if not clean and isinstance(pool, ProcessPoolExecutor):
                    _stop_workers(pool)
                pool.shutdown(wait=clean, cancel_futures=not clean)
            else:  # a Dask client's executor: shutdown(wait=False) cancels its tasks
                pool.shutdown(wait=clean)
        if self.client is not None:
            self.client.close()


def _stop_workers(pool: ProcessPoolExecutor) -> None:
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
        raise ValueError(
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


def run_parallel(run: _Run, bar: ProgressBar) -> None:
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
            done, _ = wait(jobs, return_when=FIRST_COMPLETED)
            for future in done:
                _finish(run, engine, jobs, future, bar)
        clean = True
    except KeyboardInterrupt:
        _keep_finished(run, engine, jobs, bar)
        raise
    finally:
        engine.close(list(jobs), clean)


def _submit(run: _Run, engine: _Engine, jobs: dict[Future, _Job], trial: Trial,
            bar: ProgressBar, alone: bool = False) -> None:
    try:
        future, job = engine.submit(trial, alone)
    except BrokenExecutor as exc:  # a user's executor, which is not ours to replace
        run.finish(trial, Outcome("failed", error=f"the executor is broken: {describe(exc)}"),
                   bar)
        run.stopped = "executor broken"
        return
    jobs[future] = job


def _finish(run: _Run, engine: _Engine, jobs: dict[Future, _Job], future: Future,
            bar: ProgressBar) -> None:
    job = jobs.pop(future)
    outcome = engine.outcome(future, job)
    if outcome is None:  # its worker died with others in flight: run it again, alone
        _submit(run, engine, jobs, job.trial, bar, alone=True)
        return
    run.finish(job.trial, outcome, bar)
    if outcome.reraise is not None:
        raise outcome.reraise


def _keep_finished(run: _Run, engine: _Engine, jobs: dict[Future, _Job],
                   bar: ProgressBar) -> None:
    """On Ctrl-C, tell the trials whose results already arrived."""
    for future in [f for f in jobs if f.done() and not f.cancelled()]:
        if future.exception() is not None:
            continue
        job = jobs.pop(future)
        outcome = engine.outcome(future, job)
        if outcome is not None:
            run.finish(job.trial, outcome, bar)
