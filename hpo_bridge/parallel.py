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
- ``trial_timeout``: a trial still running at its limit (counted from when it is sent, to a
  worker of ours that has started and loaded the objective) is
  recorded failed (``"timed out after N s"``) and the run goes on. Our worker process running
  it is stopped (SIGTERM) and replaced; one still running ``KILL_GRACE`` (2) seconds later,
  having ignored or trapped SIGTERM, is killed with SIGKILL, and its trial's error says so. A thread cannot be killed: it is abandoned, still running, and a
  warning says so once. A Dask task is cancelled (a task already running on a worker's thread
  is abandoned there, its result dropped); a user's executor gets ``future.cancel()``, and a
  trial it cannot cancel is abandoned.
- Ctrl-C: work not started is cancelled, our worker processes are stopped (SIGTERM, then
  SIGKILL as above), finished trials are kept and the trials in flight are recorded failed as
  interrupted.
- A driver that dies, even by SIGKILL, takes our worker processes with it (on Linux the kernel
  kills them, ``PR_SET_PDEATHSIG``; elsewhere each checks every second that its parent lives),
  so none runs on for nobody or keeps what the driver held (a study's lock).

Reproducibility: with ``n_jobs > 1`` a seeded run is not bit-reproducible by default. Each ask
sees the trials finished so far, and which ones have finished depends on timing, so a
model-based backend (TPE, GP, forests, CMA-ES) proposes different configurations from run to
run and from a serial run with the same seed. Backends whose proposals do not depend on
outcomes (the ``random`` ones, and the seeded start-up trials of the model-based ones) propose
the same configurations as a serial run, only finishing in another order.

``deterministic=True`` makes a pooled run repeat: outcomes are told in trial order (a trial
that finishes early is held until every earlier trial is told) and trial ``i`` is asked right
after trial ``i - n_jobs`` is told, with the ``n_jobs - 1`` trials in between pending (each
library handles them its own way, as above). The backend then sees the same sequence of asks
and tells whatever finishes first, so the same seed gives the same configurations and values
(not the same as a serial run: ``n_jobs - 1`` trials are pending at each ask). The cost: a slot
whose trial finished waits for the slowest earlier trial of its window before the next trial is
asked, so trials of unequal length keep fewer than ``n_jobs`` running (docs/running.md, "Parallel
and distributed trials", has the measurement). Any executor works (processes, threads, Dask: where a
trial runs does not change the order). Refused before any trial: ``storage`` (other workers'
trials arrive when they finish, and a re-run resumes rather than repeats) and, with
``n_jobs > 1``, a ``pruner`` (it compares each report with those of the trials running beside
it). With ``timeout`` the trials run are the same, cut where the time ran out; a trial that
reaches ``trial_timeout`` fails in one run and may not in another.

The pooled loop is :func:`hpo_bridge.loop.run_parallel`, beside the serial one; the executors
are in :mod:`hpo_bridge.executors`. This module keeps their public names.
"""

from __future__ import annotations

from hpo_bridge.executors import check_executor
from hpo_bridge.loop import run_parallel

__all__ = ["run_parallel", "check_executor"]
