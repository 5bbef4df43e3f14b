"""Where the trials of a pooled run go: our worker processes, threads, Dask or a user's executor.

:class:`Engine` is the run loop's (:mod:`hpo_bridge.loop`) one door to them: it sends a trial
(``submit``), makes an :class:`~hpo_bridge.evaluate.Outcome` of what comes back (``outcome``),
stops a trial past its time limit (``timed_out``) and shuts down what it made (``close``). It
knows nothing of the optimizer or the budget.

- Our processes are ``n_jobs`` pools of one process each (slots), so a process that dies, or
  is killed at a trial's time limit, costs only its trial; the slot gets a new process. The
  objective is pickled once with cloudpickle, given to each process when it starts (not sent
  with every trial: it may hold large data) and unpickled once per process. A process is
  stopped with SIGTERM, then SIGKILL ``KILL_GRACE`` seconds later; each dies with the driver.
- Threads are one daemon thread per trial, abandoned at a time limit.
- A Dask client (or address, for which a client is opened) is used through its executor.

What a user sees (faults, time limits, Ctrl-C, reproducibility) is written in
:mod:`hpo_bridge.parallel`; :func:`check_executor` checks ``executor=`` before any trial.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hpo_bridge.errors import SpaceError
from hpo_bridge.evaluate import Outcome, describe, evaluate

if TYPE_CHECKING:
    from hpo_bridge.optimizer import Trial

__all__ = ["Engine", "Job", "check_executor"]

_NAMES = ("processes", "threads")
_DASK_SCHEMES = ("tcp://", "tls://", "inproc://", "ucx://", "ws://", "wss://")
_WORKER_DIED = "worker died: the process running this trial exited abruptly"
#: Seconds a process of ours gets to exit after SIGTERM (a trial past its time limit, Ctrl-C)
#: before it is killed with SIGKILL.
KILL_GRACE = 2.0
#: Seconds, at most, that the driver waits for a new worker of ours to start and load the
#: objective before sending it a trial with a time limit (the limit counts the trial alone).
WARM_UP_LIMIT = 60.0
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def check_executor(executor: Any) -> None:
    """Raise :class:`~hpo_bridge.SpaceError` unless ``executor`` is something the run loop can use."""
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
#: The exceptions a trial records as failed (``minimize``'s ``catch=``).
Catch = tuple[type[BaseException], ...]
#: What a trial's future holds: an :class:`Outcome` (threads, a trial not sent) or a pickled
#: one (a worker process, Dask).
Payload = Outcome | bytes
_OBJECTIVE: dict[str, tuple[Callable[..., Any], Catch]] = {}


#: The pickled objective our worker process was started with (key, bytes): sent once per
#: process, not with every trial (it may hold large data: a SearchCV's X and y).
_BLOB: dict[str, bytes] = {}


def _init_worker(parent: int | None, key: str | None = None, blob: bytes | None = None) -> None:
    """Start a worker process: Ctrl-C is the driver's, and the worker ends with the driver.
    ``blob`` is the run's pickled objective, kept to be unpickled at the first trial (an error
    unpickling it is that trial's, not the pool's)."""
    if key is not None and blob is not None:
        _BLOB[key] = blob
    # Ctrl-C in a terminal reaches the whole process group; the driver alone handles it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent)


def _die_with_parent(parent: int | None) -> None:
    """End this process when its parent ends, however it ends (SIGKILL too): an orphaned
    worker would run its trial to the end for nobody, and hold what the driver held.

    On Linux the kernel sends SIGKILL at the parent's death (``PR_SET_PDEATHSIG``); elsewhere
    a daemon thread checks every second whether the parent is still there. ``parent`` is the
    driver's pid when the driver is this process's parent (``fork``, ``spawn``): a driver that
    died before this ran is caught too. (Under ``forkserver`` the parent is the fork server,
    which exits with the driver.)
    """
    at_start = os.getppid()
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
        except (OSError, AttributeError):  # pragma: no cover - a libc without prctl
            armed = False
    else:  # pragma: no cover - not on Linux
        armed = False
    if os.getppid() != at_start or (parent is not None and at_start != parent):
        os._exit(1)  # the parent died before the signal was armed
    if not armed:  # pragma: no cover - not on Linux
        def watch() -> None:
            while os.getppid() == at_start:
                time.sleep(1.0)
            os._exit(1)

        threading.Thread(target=watch, name="hpo_bridge-parent-watch", daemon=True).start()


def _load_objective(key: str, blob: bytes | None) -> tuple[Any, Any]:
    """The run's objective in this worker, unpickled once and cached."""
    import cloudpickle

    if key not in _OBJECTIVE:
        _OBJECTIVE.clear()  # one run's objective at a time
        _OBJECTIVE[key] = cloudpickle.loads(blob if blob is not None else _BLOB[key])
        _BLOB.pop(key, None)  # unpickled: its bytes are not needed (kept if loads failed)
    return _OBJECTIVE[key]


def _warm_up(key: str) -> None:
    """Load the objective before the first trial is sent (imports, a model: what unpickling it
    costs), so that a trial's time limit counts the trial alone. An error loading it is left
    to the first trial, which reports it as its own."""
    with contextlib.suppress(Exception):
        _load_objective(key, None)


def _evaluate_remote(key: str, blob: bytes | None, trial_blob: bytes, pass_trial: bool) -> bytes:
    """Run one trial in a worker: the objective is unpickled once per worker and cached.
    ``blob`` is ``None`` in our own processes, which were given it when they started."""
    import cloudpickle

    objective, catch = _load_objective(key, blob)
    outcome = evaluate(objective, cloudpickle.loads(trial_blob), pass_trial, catch)
    try:
        return _dumps(outcome)
    except Exception as exc:  # an unpicklable metric or exception
        if outcome.reraise is not None:
            outcome.reraise = RuntimeError(outcome.error)
            return _dumps(outcome)
        if outcome.state == "complete" and not isinstance(outcome.value, Mapping):
            # Not a number nor numbers (a generator...): the driver refuses it as it would inline.
            outcome.value = _Unsent(repr(outcome.value))
            return _dumps(outcome)
        return _dumps(Outcome("failed", None, f"the objective's result cannot be sent "
                                         f"back: {describe(exc)}", outcome.duration_s))


class _Unsent:
    """What stands for a returned object that cannot be pickled: shown as that object was."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


# -- in the driver ---------------------------------------------------------------------------
@dataclass
class Job:
    """One trial sent by :meth:`Engine.submit`: what the loop and the engine know of it."""

    trial: Trial
    deadline: float | None = None  # time.monotonic() past which the trial has timed out
    slot: int | None = None  # which of our one-process pools runs it (processes)
    retried: bool = False  # run again after its worker process died


class _Threads:
    """One daemon thread per trial: a thread that never returns can be abandoned at its time
    limit and does not keep the interpreter from exiting (a thread cannot be killed)."""

    def submit(self, fn: Callable[..., Payload], *args: Any) -> Future[Payload]:
        future: Future[Payload] = Future()

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


class Engine:
    """Where trials run: submits them, makes sense of what comes back, recovers, closes.

    Our worker processes are ``n_jobs`` pools of one process each (slots), so a process that
    dies or is killed at a trial's time limit costs only that trial. ``executor`` is what
    ``minimize`` got (checked by :func:`check_executor`); a trial still running
    ``trial_timeout`` seconds after it was sent has timed out.
    """

    def __init__(self, objective: Callable[..., Any], catch: Catch, pass_trial: bool, *, n_jobs: int,
                 executor: Any, trial_timeout: float | None) -> None:
        self.objective, self.catch, self.pass_trial = objective, catch, pass_trial
        self.trial_timeout = trial_timeout
        self.kind, self.owned, self.client = "external", False, None
        self.warned = False
        spec = executor
        if spec is None or spec == "processes":
            self.kind, self.owned = "processes", True
            self.pools: list[ProcessPoolExecutor | None] = [None] * n_jobs
            self.free = list(range(n_jobs))
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
            self.blob = _pickle_objective(objective, catch)
            self.key = hashlib.sha1(self.blob).hexdigest()

    def submit(self, trial: Trial, retried: bool = False) -> tuple[Future[Payload], Job]:
        """Send ``trial`` to the executor. Its time limit counts from when it is sent (to a
        worker of ours that is up and has loaded the objective: see :meth:`_take_slot`)."""
        job = Job(trial, retried=retried)
        try:
            try:
                return self._send(job), self._limit(job)
            except BrokenExecutor:
                if self.kind != "processes":
                    raise  # a user's executor is not ours to replace
                self._release(job, kill=True)  # an idle worker of ours died: a new one
                return self._send(job), self._limit(job)
        except BrokenExecutor:
            raise
        except Exception as exc:  # the trial cannot be sent (an unpicklable option...)
            self._release(job)
            return _done(Outcome("failed", error=f"trial could not be sent to the executor: "
                                                 f"{describe(exc)}")), job

    def _send(self, job: Job) -> Future[Payload]:
        if self.kind == "threads":
            sent: Future[Payload] = self.executor.submit(evaluate, self.objective, job.trial,
                                                         self.pass_trial, self.catch)
            return sent
        import cloudpickle

        # Our processes were given the objective when they started (initargs); a user's or
        # Dask's executor gets it with each trial and keeps it by key.
        blob = None if self.kind == "processes" else self.blob
        args = (self.key, blob, cloudpickle.dumps(job.trial), self.pass_trial)
        executor = self.executor if self.kind != "processes" else self._take_slot(job)
        return executor.submit(_evaluate_remote, *args)  # a Future[bytes]

    def _limit(self, job: Job) -> Job:
        if self.trial_timeout is not None:
            job.deadline = time.monotonic() + self.trial_timeout
        return job

    def _take_slot(self, job: Job) -> Executor:
        job.slot = slot = self.free.pop(0)
        pool = self.pools[slot]
        if pool is None:
            # New processes for this slot and every idle slot without one, started together.
            # The driver is the parent of its workers unless a fork server starts them.
            parent = os.getpid() if multiprocessing.get_start_method() != "forkserver" else None
            new = {s: ProcessPoolExecutor(1, initializer=_init_worker,
                                          initargs=(parent, self.key, self.blob))
                   for s in (slot, *self.free) if self.pools[s] is None}
            for s, started in new.items():
                self.pools[s] = started
            if self.trial_timeout is not None:
                # A time limit is the trial's own: the worker's start-up and the objective's
                # unpickling (imports: torch alone takes seconds) are not counted in it. A
                # worker that is not ready after max(trial_timeout, WARM_UP_LIMIT) seconds gets
                # its trial anyway, whose limit then runs.
                wait([started.submit(_warm_up, self.key) for started in new.values()],
                     timeout=max(self.trial_timeout, WARM_UP_LIMIT))
            pool = new[slot]
        return pool

    def _release(self, job: Job, kill: bool = False) -> bool:
        """Free the job's slot; ``kill`` stops its process (the slot gets a new one). Returns
        whether the process had to be killed with SIGKILL (it outlived SIGTERM)."""
        slot = job.slot
        if slot is None:
            return False
        pool, job.slot = self.pools[slot], None
        killed = False
        if kill and pool is not None:
            self.pools[slot] = None
            killed = _stop_workers(pool)
            pool.shutdown(wait=False, cancel_futures=True)
        self.free.append(slot)
        return killed

    def outcome(self, future: Future[Payload], job: Job) -> Outcome | None:
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

        outcome: Outcome = cloudpickle.loads(value)  # a worker's Outcome (_evaluate_remote)
        return outcome

    def timed_out(self, future: Future[Payload], job: Job) -> Outcome:
        """Stop a trial past its limit where possible; it is recorded failed either way."""
        limit = self.trial_timeout
        assert limit is not None  # only a trial with a time limit times out
        future.cancel()  # a Dask task is cancelled; a queued one never starts
        error = f"timed out after {limit:g} s"
        if self.kind == "processes" and self._release(job, kill=True):
            error += (f"; its process ignored SIGTERM and was killed (SIGKILL) {KILL_GRACE:g} s "
                      "later")
        elif self.kind == "threads" and not self.warned:
            self.warned = True
            warnings.warn(
                f"trial {job.trial.trial_id} timed out after {limit:g} s: a thread cannot be "
                "stopped, so it is abandoned and keeps running in the background "
                "(executor='processes' kills a timed-out trial)", RuntimeWarning, stacklevel=2,
            )
        return Outcome("failed", error=error, duration_s=limit,
                       intermediate=dict(job.trial.intermediate))

    def close(self, futures: list[Future[Payload]], clean: bool) -> None:
        """Shut down what we made; on Ctrl-C or an error, cancel and stop what is running."""
        if not clean:
            for future in futures:
                future.cancel()
        if self.kind == "processes":
            pools = [pool for pool in self.pools if pool is not None]
            if not clean:
                _stop_workers(*pools)  # all at once: one grace period for all
            for pool in pools:
                pool.shutdown(wait=clean, cancel_futures=not clean)
        elif self.kind == "external" and self.owned:  # a Dask client's executor: shutdown
            self.executor.shutdown(wait=clean)     # (wait=False) cancels its tasks
        if self.client is not None:
            self.client.close()


def _stop_workers(*pools: ProcessPoolExecutor) -> bool:
    """SIGTERM the pools' processes, and SIGKILL those still running ``KILL_GRACE`` seconds
    later (a trial that ignores or traps SIGTERM). Returns whether one had to be killed.

    Waits for them to exit: a process left running would keep the interpreter from exiting
    (``concurrent.futures`` joins its workers at exit).
    """
    from multiprocessing.connection import wait

    # Python < 3.14 has no public way to stop a pool's running workers (3.14 has
    # terminate_workers and kill_workers, which do not wait).
    processes = []
    for pool in pools:
        found = getattr(pool, "_processes", None)
        terminate = getattr(pool, "terminate_workers", None)
        if found is None and terminate is not None:  # pragma: no cover - no _processes
            terminate()
        processes += list((found or {}).values())
    running: dict[int, Any] = {}
    for process in processes:
        with contextlib.suppress(ValueError, OSError):  # closed, or exited meanwhile
            running[process.sentinel] = process
            process.terminate()
    deadline = time.monotonic() + KILL_GRACE
    while running and (left := deadline - time.monotonic()) > 0:
        for sentinel in wait(list(running), timeout=left):
            running.pop(sentinel)  # type: ignore[arg-type]
    for process in running.values():
        with contextlib.suppress(ValueError, OSError):
            process.kill()
    if running:
        wait(list(running), timeout=KILL_GRACE)  # SIGKILL cannot be ignored: moments
    return bool(running)


def _done(outcome: Outcome) -> Future[Payload]:
    future: Future[Payload] = Future()
    future.set_result(outcome)
    return future


def _dumps(obj: object) -> bytes:
    import cloudpickle

    data: bytes = cloudpickle.dumps(obj)
    return data


def _pickle_objective(objective: Callable[..., Any], catch: Catch) -> bytes:
    try:
        return _dumps((objective, catch))
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
