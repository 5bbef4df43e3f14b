"""The run loop of ``minimize``: the books of one run, and its trials run inline or pooled.

:func:`optimize` runs one :class:`RunBooks` to its end: trials one after the other in this
process (:func:`run_serial`, the default: no process, no pickling), or ``n_jobs`` in flight
on an executor (:func:`run_parallel`, also for ``executor=`` or a ``trial_timeout``: a trial
that may be killed at its time limit runs in a worker process). Both ask the books for the
next trial, run it, and hand its outcome to :meth:`RunBooks.finish`; the executors themselves
live in :mod:`hpo_bridge.executors`. The loop stops on ``max_evals``, ``timeout``, an
exhausted grid or Ctrl-C, keeping every finished trial. A pooled run tells each outcome as it
arrives, or, with ``deterministic=True``, in trial order, each trial asked after a fixed set of
earlier ones is told (:func:`run_parallel`): the same calls reach the backend whatever
finishes first.

Whose fault: an objective that raises (an exception in ``catch``) or returns NaN makes a failed
trial and the run goes on. An objective that cannot take the configuration or returns
something that is not a number stops the run with :class:`~hpo_bridge.ObjectiveError`. An error
of the backend's library while it is told a trial stops the run with that error. Whatever
stops the run (but Ctrl-C, which returns), the trials in flight are recorded failed and the
raised exception carries the :class:`~hpo_bridge.Result` as ``.result``.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, wait
from typing import TYPE_CHECKING, Any, Protocol, cast

from hpo_bridge.errors import CallbackError, NoSuccessfulTrialError, ObjectiveError
from hpo_bridge.evaluate import Outcome, describe, evaluate, takes_trial
from hpo_bridge.objectives import Parsed
from hpo_bridge.optimizer import Optimizer, Trial
from hpo_bridge.progress import ProgressBar, want_progress
from hpo_bridge.results import Result, TrialRecord
from hpo_bridge.schedulers import Job as ScheduledJob
from hpo_bridge.schedulers import Scheduler

if TYPE_CHECKING:
    from hpo_bridge.executors import Catch, Engine, Job, Payload

__all__ = ["Budget", "LocalBudget", "RunBooks", "optimize", "run_serial", "run_parallel"]

DEFAULT_MAX_EVALS = 100


class RunBooks:
    """One call of ``minimize``/``maximize``: the books of the loop."""

    def __init__(self, objective: Callable[..., Any], opt: Optimizer, *, max_evals: int | None,
                 timeout: float | None, points: Sequence[Any], n_jobs: int, executor: Any,
                 catch: Catch, progress: bool | None, budget: Budget | None = None,
                 notes: Sequence[str] = (), trial_timeout: float | None = None,
                 scheduler: Scheduler | None = None, max_budget: float | None = None,
                 deterministic: bool = False) -> None:
        self.objective = objective
        self.opt = opt
        self.timeout = timeout
        self.n_jobs = n_jobs
        self.executor = executor
        self.catch = catch
        self.progress = want_progress(progress)
        #: What the loop asks for room: ``max_evals`` counts this optimizer's trials, or a
        #: stored study's across every worker (``StudyHook.budget``, hpo_bridge.storage).
        self.budget: Budget = budget or LocalBudget()
        self.notes = list(notes)  # said when the run starts (a stored study's state)
        self.pass_trial = takes_trial(objective)
        self.trial_timeout = trial_timeout
        #: Pooled trials told in trial order, each asked after a fixed set of earlier trials
        #: is told (:func:`run_parallel`): the same seed gives the same trials.
        self.deterministic = deterministic
        self.queue = [opt.space.encode(p) for p in points]  # checked before any trial
        earlier = [r.point for r in opt.records]  # a resumed run does not redo its points
        self.queue = [p for p in self.queue if p not in earlier]
        self.done_before = len(opt.records)
        self.mine: set[int] = set()  # ids of the trials this run started
        #: A multi-fidelity run's scheduler (which configuration next, at which budget), its
        #: total budget and what its evaluations started so far cost (each at its budget).
        self.scheduler = scheduler
        self.max_budget = max_budget
        self.budget_spent: float = 0
        self.spent = False  # max_budget reached: no evaluation starts any more
        self.checkpoints: str | None = None  # the run's directory of checkpoint directories
        self._observed = 0  # opt.records up to here were shown to the scheduler
        self._recorded: set[int] = set()  # their trial ids
        if max_evals is None:
            remaining = opt.remaining
            open_ended = timeout is not None or max_budget is not None
            max_evals = (remaining + self.done_before if remaining is not None
                         else None if open_ended else DEFAULT_MAX_EVALS + opt.warm_started)
        else:  # max_evals counts new evaluations, not the earlier trials of warm_start=
            max_evals += opt.warm_started
        self.max_evals = max_evals
        self.started = 0
        self.stopped: str | None = None
        self.best: float | None = None
        self.best_budget: float = -math.inf  # the budget self.best was reached at
        self.t0 = time.monotonic()

    @property
    def inline(self) -> bool:
        """Whether trials run in this process, one after the other."""
        return self.n_jobs == 1 and self.executor is None and self.trial_timeout is None

    # -- budget ---------------------------------------------------------------------------
    def can_start(self) -> bool:
        if self.opt.stopped is not None:  # a callback ended the run (hb.stop.*)
            self.stopped = self.stopped or self.opt.stopped
            return False
        if self.timeout is not None and time.monotonic() - self.t0 >= self.timeout:
            self.stopped = self.stopped or "timeout"
            return False
        if not self.queue and self.opt.remaining == 0:
            return False
        return True

    def next_trial(self) -> Trial | None:
        """The next trial, or ``None`` when the budget is spent (the budget says; a stored
        study counts its trials across every worker that shares it, under its lock)."""
        if not self.can_start():
            return None
        if self.scheduler is not None:
            return self._next_scheduled()
        with self.budget.slot(self.opt, self.max_evals) as free:
            return self._start() if free else None

    def _next_scheduled(self) -> Trial | None:
        """A multi-fidelity run's next evaluation. With a stored study, under its lock: the
        scheduler first takes in what other runs and workers started and finished (so its
        brackets and ``max_budget`` are the study's), then its choice is stored with the
        evaluation's budget and configuration id before the lock is released. A synchronous
        rung that waits only for other workers' evaluations is polled until they finish."""
        scheduler = self.scheduler
        assert scheduler is not None
        pause = 0.05
        while True:
            with self.budget.scheduling(self.opt):
                self._observe()
                job = None if self.spent else scheduler.next_job()
                if job is not None:
                    return self._start_scheduled(job)
                elsewhere = [t for t in scheduler.running if t not in self.mine]
                if self.spent or not elsewhere or len(elsewhere) < len(scheduler.running):
                    return None  # the end, or this run's own evaluations are awaited
            time.sleep(pause)  # the rung waits for other workers' evaluations
            pause = min(1.0, pause * 2)
            if not self.can_start():
                return None

    def _start_scheduled(self, job: ScheduledJob) -> Trial | None:
        assert self.scheduler is not None
        if self.max_budget is not None and self.scheduler.spent + job.budget > self.max_budget:
            self.spent = True  # the next evaluation would pass max_budget: the end
            return None
        with self.budget.slot(self.opt, self.max_evals) as free:
            if not free:
                return None
            trial = self._schedule(self._start(job.point), job)
            for hook in self.opt.hooks:
                hook.on_schedule(self.opt, trial)
            return trial

    def scheduler_spent(self) -> float:
        """The total budget of the evaluations started (a stored study's, across its runs)."""
        return 0 if self.scheduler is None else self.scheduler.spent

    def _observe(self) -> None:
        """Tell the scheduler the evaluations it did not start: the finished trials restored
        from a stored study (an earlier run's, another worker's), and those running in other
        workers."""
        from hpo_bridge.schedulers import Observed

        scheduler = self.scheduler
        assert scheduler is not None
        records = self.opt.records[self._observed:]
        self._observed = len(self.opt.records)
        self._recorded.update(r.trial_id for r in records)
        seen = [Observed(r.trial_id, r.config_id, r.budget, True, self._loss(r), r.point)
                for r in records if r.trial_id not in self.mine and r.budget is not None
                and r.config_id is not None]
        running = self.budget.running_elsewhere()
        seen += [Observed(trial_id, config_id, budget, False)
                 for trial_id, config_id, budget in running
                 if trial_id not in scheduler.started and trial_id not in self.mine]
        # Seen running elsewhere, now neither running nor read back (a stored trial left out
        # as damaged): it finished without a result the scheduler can rank.
        now = {trial_id for trial_id, _, _ in running}
        seen += [Observed(t, cast(int, job.config_id), job.budget, True)
                 for t, job in scheduler.running.items()
                 if t not in self.mine and t not in now and t not in self._recorded]
        if seen:
            scheduler.observe(seen)

    def _schedule(self, trial: Trial, job: ScheduledJob) -> Trial:
        """``trial`` runs ``job``: its budget in its configuration and on the trial."""
        assert self.scheduler is not None
        name = self.scheduler.fidelity.name
        trial.config_id = self.scheduler.start(job, trial.trial_id, trial.point)
        trial.budget, trial.budget_reached = job.budget, job.reached
        trial.params[name] = job.budget
        self.budget_spent += job.budget
        if self.pass_trial:
            if self.checkpoints is None:
                self.checkpoints = tempfile.mkdtemp(prefix="hpo_bridge-checkpoints-")
            trial.checkpoint_dir = os.path.join(self.checkpoints, f"config-{trial.config_id}")
            os.makedirs(trial.checkpoint_dir, exist_ok=True)
        return trial

    def _start(self, point: dict[str, Any] | None = None) -> Trial:
        """A new trial: at ``point`` (a promoted configuration), else the next warm start or
        the backend's proposal."""
        self.started += 1
        if point is not None:
            trial = self.opt.enqueue_point(point)
            self.mine.add(trial.trial_id)
            return trial
        if self.queue:  # run elsewhere meanwhile (another worker of a stored study): not again
            elsewhere = [r.point for r in self.opt.records if r.trial_id not in self.mine]
            while self.queue and self.queue[0] in elsewhere:
                self.queue.pop(0)
        trial = self.opt.enqueue_point(self.queue.pop(0)) if self.queue else self.opt.ask()
        self.mine.add(trial.trial_id)
        return trial

    def finish(self, trial: Trial, outcome: Outcome, bar: ProgressBar) -> None:
        """Tell the outcome; a value that is not a number sets ``outcome.reraise``."""
        trial.intermediate.update(outcome.intermediate)
        parsed: Parsed | None = None
        if outcome.state == "complete" or (outcome.state == "pruned"
                                           and outcome.value is not None):
            try:
                parsed = self.opt.check_value(outcome.value)  # parsed once, told as it is
            except ValueError as exc:  # the objective's fault, not the backend's
                rule = (f"The objective must return {self.opt.returns}"
                        if outcome.state == "complete" else
                        f"hb.TrialPruned(value=...) takes what the objective returns "
                        f"({self.opt.returns}) or None (the last reported value), got "
                        f"value={outcome.value!r}")
                outcome.state, outcome.error = "failed", str(exc)
                outcome.reraise = ObjectiveError(
                    f"trial {trial.trial_id}: {exc}. {rule}; the run stopped at its first "
                    "such trial"
                )
        kwargs: dict[str, Any] = {"objective_s": outcome.duration_s}
        try:
            if outcome.state == "failed":
                record = self.opt.tell(trial, error=outcome.error, **kwargs)
            elif outcome.state == "pruned":
                record = self.opt.tell(trial, parsed, pruned=True, **kwargs)
            else:
                record = self.opt.tell(trial, parsed, **kwargs)
        except CallbackError:  # told and recorded; a callback of the user's raised
            self.stopped = "callback error"
            raise
        except Exception as exc:  # the backend's library failed: stop, keeping every trial
            self.stopped = "backend error"
            if hasattr(exc, "add_note"):
                exc.add_note(f"hpo_bridge: {self.opt.backend} failed when told trial "
                             f"{trial.trial_id} ({outcome.state}, value {outcome.value!r}); the "
                             "run stopped and this exception's .result holds every trial")
            raise
        if self.scheduler is not None:
            self.scheduler.finish(trial.trial_id, self._loss(record))
        value = record.value
        if record.state == "complete" and value is not None:
            # multi-fidelity: the best at the highest budget reached, as result.best_value
            top = -math.inf if record.budget is None else record.budget
            if (self.best is None or top > self.best_budget
                    or (top == self.best_budget and self._better(value, self.best))):
                self.best, self.best_budget = value, top
        bar.update(self.best, record.state)

    def _loss(self, record: TrialRecord) -> float | None:
        """What the scheduler ranks: the loss of a complete feasible evaluation."""
        if record.state != "complete" or record.value is None or not record.feasible:
            return None
        return -record.value if self.opt.direction == "maximize" else record.value

    def close(self) -> None:
        """The end of the run: its checkpoint directories are removed."""
        if self.checkpoints is not None:
            shutil.rmtree(self.checkpoints, ignore_errors=True)
            self.checkpoints = None

    def _better(self, value: float, best: float) -> bool:
        return value > best if self.opt.direction == "maximize" else value < best

    # -- the end of a run -----------------------------------------------------------------
    def result(self) -> Result:
        """The optimizer's :class:`~hpo_bridge.Result`, with why the run stopped."""
        result = self.opt.result()
        result.stopped = self.stopped or self.opt.stopped
        return result

    def fail_pending(self, message: str) -> None:
        """Record every trial still in flight as failed with ``message``."""
        for trial in self.opt.pending:
            with contextlib.suppress(Exception):  # a broken backend: the record is kept anyway
                self.opt.tell(trial, error=message)

    def resume_hint(self) -> str:
        """What was kept of an interrupted run, and how to resume it."""
        records = self.opt.records[self.done_before:]
        done = sum(r.state == "complete" for r in records)
        text = (f"hpo_bridge: interrupted; {len(records)} trials of this run recorded "
                f"({done} complete), returned in the Result. ")
        if self.opt.study_ref is None:
            return text + ("Nothing was stored: to make a run resumable, pass storage= and "
                           "study_name=.")
        url, name = self.opt.study_ref
        return text + (f"They are stored: run the same call again (storage={url!r}, "
                       f"study_name={name!r}) to resume.")


class Budget(Protocol):
    """What the run loop asks for room before each trial (``max_evals``)."""

    def slot(self, opt: Optimizer, max_evals: int | None) -> contextlib.AbstractContextManager[bool]:
        """Whether there is room for another trial; the loop starts it inside the ``with``."""

    def scheduling(self, opt: Optimizer) -> contextlib.AbstractContextManager[None]:
        """Where a multi-fidelity run chooses and starts its next evaluation (a stored study:
        under its lock, after reading what finished elsewhere)."""

    def running_elsewhere(self) -> list[tuple[int, int, float]]:
        """``(trial id, configuration id, budget)`` of the evaluations running in other
        workers, as last read."""


class LocalBudget:
    """The budget of a run whose trials are not stored: its optimizer's trials."""

    def scheduling(self, opt: Optimizer) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def running_elsewhere(self) -> list[tuple[int, int, float]]:
        return []

    @contextlib.contextmanager
    def slot(self, opt: Optimizer, max_evals: int | None) -> Iterator[bool]:
        yield max_evals is None or len(opt.records) + len(opt.pending) < max_evals


# -- the loop ---------------------------------------------------------------------------------
def optimize(run: RunBooks) -> Result:
    """Run trials until the budget is spent, and return the :class:`~hpo_bridge.Result`.

    Raises whatever stopped the run (but Ctrl-C, which returns), with ``.result`` attached;
    :class:`~hpo_bridge.NoSuccessfulTrialError` when no trial succeeded.
    """
    total = None if run.max_evals is None else run.max_evals - run.done_before
    try:
        with ProgressBar(total, run.progress, desc=run.opt.backend) as bar:
            for note in run.notes:
                bar.write(note)
            if run.inline:
                run_serial(run, bar)
            else:  # a trial that may be killed at its time limit runs in a worker process
                run_parallel(run, bar)
    except KeyboardInterrupt:
        run.stopped = "interrupted"
        run.fail_pending("KeyboardInterrupt: the run was interrupted")
        if run.progress:
            print(run.resume_hint(), file=sys.stderr)
    except BaseException as exc:  # keep every trial reachable from the raised exception
        run.stopped = run.stopped or f"error: {type(exc).__name__}"
        run.fail_pending(f"the run stopped: {type(exc).__name__} in another trial")
        with contextlib.suppress(AttributeError):  # an exception class with __slots__
            setattr(exc, "result", run.result())  # noqa: B010 - any exception type
        _end_callbacks(run, failing=exc)
        raise
    finally:
        for hook in run.opt.hooks:  # a stored study stops its heartbeat, reads the last trials
            hook.on_end(run.opt)
        run.close()
    _end_callbacks(run)
    if run.started == 0 and run.stopped is None and run.opt.records and run.spent:
        warnings.warn(f"the study's evaluations already spent its max_budget="
                      f"{run.max_budget} (the study's total, {run.scheduler_spent()} spent, "
                      "the next evaluation would pass it): nothing was run (raise max_budget "
                      "to go on)", UserWarning, stacklevel=3)
    elif run.started == 0 and run.stopped is None and run.opt.records:  # resumed, and full
        warnings.warn(f"{len(run.opt.records)} finished trials are already stored, "
                      f"max_evals={run.max_evals}: nothing was run (raise max_evals to go on)",
                      UserWarning, stacklevel=3)
    result = run.result()
    if not result.completed and run.stopped != "interrupted" and result.records:
        first = next((r for r in result.records if r.state == "failed"), result.records[0])
        error = NoSuccessfulTrialError(
            f"no trial succeeded in {len(result.records)} trials; first failure: "
            f"{first.error or first.state}", first_error=first.error,
        )
        error.result = result
        raise error
    return result


def _end_callbacks(run: RunBooks, failing: BaseException | None = None) -> None:
    """The callbacks' ``on_run_end``, once; while an error stops the run, a callback's own
    error is a warning (the run's error is the one raised)."""
    try:
        run.opt.end_run(run.result())
    except CallbackError as exc:
        if failing is None:
            exc.result = run.result()
            raise
        warnings.warn(f"{exc} (while the run stopped on {type(failing).__name__})",
                      RuntimeWarning, stacklevel=3)


def run_serial(run: RunBooks, bar: ProgressBar) -> None:
    """One trial at a time, in this process."""
    while (trial := run.next_trial()) is not None:
        outcome = evaluate(run.objective, trial, run.pass_trial, run.catch)
        run.finish(trial, outcome, bar)
        if outcome.reraise is not None:
            raise outcome.reraise


def run_parallel(run: RunBooks, bar: ProgressBar) -> None:
    """Keep ``run.n_jobs`` trials in flight until the budget is spent; tell each outcome.

    By default each outcome is told as it arrives and a trial is asked whenever a slot frees,
    so what a proposal sees depends on which trials finished first. With
    ``run.deterministic`` the optimizer sees the same calls whatever the timing: outcomes are
    told in trial order (one that arrives early is held until every earlier trial is told) and
    trial ``i`` is asked right after trial ``i - n_jobs`` is told (at most ``n_jobs`` trials
    asked and not yet told), so the backend proposes it knowing exactly trials ``0 .. i -
    n_jobs``, with the ``n_jobs - 1`` others pending, as its library handles pending trials.
    """
    from hpo_bridge.executors import Engine

    engine = Engine(run.objective, run.catch, run.pass_trial, n_jobs=run.n_jobs,
                    executor=run.executor, trial_timeout=run.trial_timeout)
    flight = _Flight(run, engine, bar)
    clean = False
    try:
        while True:
            flight.fill()
            if not flight.jobs:
                break
            jobs = flight.jobs
            done, _ = wait(jobs, timeout=_next_deadline(jobs), return_when=FIRST_COMPLETED)
            for future in done:
                flight.finished(future)
            now = time.monotonic()
            for future, job in list(jobs.items()):
                if job.deadline is not None and job.deadline <= now and not future.done():
                    del jobs[future]
                    flight.arrive(job.trial, engine.timed_out(future, job))
        clean = True
    except KeyboardInterrupt:
        flight.keep_finished()
        raise
    except BaseException:
        flight.tell_held()  # trials that finished are kept with their outcomes
        raise
    finally:
        engine.close(list(flight.jobs), clean)


class _Flight:
    """The trials of a pooled run between their ask and their tell."""

    def __init__(self, run: RunBooks, engine: Engine, bar: ProgressBar) -> None:
        self.run, self.engine, self.bar = run, engine, bar
        self.jobs: dict[Future[Payload], Job] = {}
        #: deterministic: the trials asked and not yet told, in trial order, and the outcomes
        #: that arrived before an earlier trial's (told when their turn comes).
        self.order: list[Trial] = []
        self.held: dict[int, Outcome] = {}

    def room(self) -> bool:
        """Whether another trial may be asked: fewer than ``n_jobs`` running, or (in order)
        asked and not yet told."""
        busy = len(self.order) if self.run.deterministic else len(self.jobs)
        return busy < self.run.n_jobs and not self.run.stopped

    def fill(self) -> None:
        """Ask and send trials while there is room and the budget allows."""
        while self.room():
            trial = self.run.next_trial()
            if trial is None:
                return
            if self.run.deterministic:
                self.order.append(trial)
            self.submit(trial)

    def submit(self, trial: Trial, retried: bool = False) -> None:
        try:
            future, job = self.engine.submit(trial, retried)
        except BrokenExecutor as exc:  # a user's executor, which is not ours to replace
            self.run.stopped = "executor broken"
            self.arrive(trial, Outcome("failed", error=f"the executor is broken: "
                                                       f"{describe(exc)}"))
            return
        self.jobs[future] = job

    def finished(self, future: Future[Payload]) -> None:
        job = self.jobs.pop(future)
        outcome = self.engine.outcome(future, job)
        if outcome is None:  # its worker died: run it again, in a new process
            self.submit(job.trial, retried=True)
            return
        self.arrive(job.trial, outcome)

    def arrive(self, trial: Trial, outcome: Outcome) -> None:
        """``trial``'s outcome is here: told now, or (in order) when every earlier trial is
        told; each tell in order is followed by the asks it makes room for."""
        if not self.run.deterministic:
            self.tell(trial, outcome)
            return
        self.held[trial.trial_id] = outcome
        while self.order and self.order[0].trial_id in self.held:
            first = self.order.pop(0)
            self.tell(first, self.held.pop(first.trial_id))
            self.fill()

    def tell(self, trial: Trial, outcome: Outcome) -> None:
        self.run.finish(trial, outcome, self.bar)
        if outcome.reraise is not None:
            raise outcome.reraise

    def tell_held(self) -> None:
        """The run stops: tell the outcomes held for their turn (in trial order)."""
        for trial in list(self.order):
            outcome = self.held.pop(trial.trial_id, None)
            if outcome is not None:
                self.order.remove(trial)
                with contextlib.suppress(Exception):  # a broken backend: kept as failed
                    self.run.finish(trial, outcome, self.bar)

    def keep_finished(self) -> None:
        """On Ctrl-C, tell the trials whose results already arrived."""
        self.tell_held()
        for future in [f for f in self.jobs if f.done() and not f.cancelled()]:
            if future.exception() is not None:
                continue
            job = self.jobs.pop(future)
            outcome = self.engine.outcome(future, job)
            if outcome is not None:
                self.run.finish(job.trial, outcome, self.bar)


def _next_deadline(jobs: dict[Future[Payload], Job]) -> float | None:
    """Seconds until the first trial in flight reaches its time limit (``None``: no limit)."""
    deadlines = [job.deadline for job in jobs.values() if job.deadline is not None]
    return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
