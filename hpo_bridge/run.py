"""``minimize`` and ``maximize``: the run loop, on top of :class:`hpo_bridge.Optimizer`.

Every argument is checked before the first trial. The loop keeps ``n_jobs`` trials in flight
(inline when ``n_jobs == 1``), tells each outcome to the optimizer as it arrives, and stops on
``max_evals``, ``timeout``, an exhausted grid or Ctrl-C, keeping every finished trial.

Whose fault: an objective that raises (an exception in ``catch``) or returns NaN makes a failed
trial and the run goes on. An objective that cannot take the configuration or returns
something that is not a number stops the run with :class:`~hpo_bridge.ObjectiveError`. An error
of the backend's library while it is told a trial stops the run with that error. Whatever
stops the run (but Ctrl-C, which returns), the trials in flight are recorded failed and the
raised exception carries the :class:`~hpo_bridge.Result` as ``.result``.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import sys
import time
import warnings
from typing import Any, Callable, Sequence

from hpo_bridge.backends.registry import check_options, resolve
from hpo_bridge.errors import NoSuccessfulTrialError, ObjectiveError, SpaceError
from hpo_bridge.evaluate import Outcome, evaluate
from hpo_bridge.optimizer import Optimizer, Trial
from hpo_bridge.progress import ProgressBar, want_progress
from hpo_bridge.results import Direction, Result

__all__ = ["minimize", "maximize"]

DEFAULT_MAX_EVALS = 100


def _takes_trial(objective: Callable) -> bool:
    try:
        params = list(inspect.signature(objective).parameters.values())
    except (TypeError, ValueError):
        return False
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2


def _check_signature(objective: Callable, pass_trial: bool) -> None:
    """Refuse, before any trial, an objective that cannot be called with the configuration."""
    try:
        signature = inspect.signature(objective)
    except (TypeError, ValueError):  # not introspectable: a wrong call is caught at the first trial
        return
    try:
        signature.bind(*(None, None)[: 2 if pass_trial else 1])
    except TypeError as exc:
        raise ObjectiveError(
            f"objective{signature} cannot be called with a configuration ({exc}); it must "
            "take the configuration as its one argument, or (config, trial)"
        ) from None


def _check_catch(catch: Any) -> tuple[type[BaseException], ...]:
    types = catch if isinstance(catch, tuple) else (catch,)
    for t in types:
        if not (isinstance(t, type) and issubclass(t, BaseException)):
            raise SpaceError(f"catch must be an exception type or a tuple of them, got {catch!r}")
    return types


def _check_positive(name: str, value: Any, kind: type = int) -> None:
    if value is None:
        return
    ok = isinstance(value, kind) or (kind is float and isinstance(value, int))
    if isinstance(value, bool) or not ok or value <= 0 or (kind is float and not math.isfinite(value)):
        raise SpaceError(f"{name} must be a positive {kind.__name__}, got {value!r}")


class _Run:
    """One call of ``minimize``/``maximize``: the books of the loop."""

    def __init__(self, objective: Callable, opt: Optimizer, *, max_evals: int | None,
                 timeout: float | None, points: Sequence[Any], n_jobs: int, executor: Any,
                 catch: tuple, progress: bool | None, store: Any = None,
                 trial_timeout: float | None = None) -> None:
        self.objective = objective
        self.opt = opt
        self.timeout = timeout
        self.n_jobs = n_jobs
        self.executor = executor
        self.catch = catch
        self.progress = want_progress(progress)
        self.store = store  # a StudyHook when the trials are stored (hpo_bridge.storage)
        self.pass_trial = _takes_trial(objective)
        self.trial_timeout = trial_timeout
        self.queue = [opt.space.encode(p) for p in points]  # checked before any trial
        stored = [r.point for r in opt.records]  # a resumed run does not redo its points
        self.queue = [p for p in self.queue if p not in stored]
        self.done_before = len(opt.records)
        if max_evals is None:
            remaining = opt.remaining
            max_evals = (remaining + self.done_before if remaining is not None
                         else None if timeout is not None else DEFAULT_MAX_EVALS)
        self.max_evals = max_evals
        self.started = 0
        self.stopped: str | None = None
        self.best: float | None = None
        self.t0 = time.monotonic()

    # -- budget ---------------------------------------------------------------------------
    def can_start(self) -> bool:
        if self.timeout is not None and time.monotonic() - self.t0 >= self.timeout:
            self.stopped = self.stopped or "timeout"
            return False
        if (self.store is None and self.max_evals is not None
                and self.done_before + self.started >= self.max_evals):
            return False
        if not self.queue and self.opt.remaining == 0:
            return False
        return True

    def next_trial(self) -> Trial | None:
        """The next trial, or ``None`` when the budget is spent.

        A stored study counts its trials across every worker that shares it, under its lock.
        """
        if not self.can_start():
            return None
        if self.store is None:
            return self._start()
        with self.store.slot(self.opt, self.max_evals) as free:
            return self._start() if free else None

    def _start(self) -> Trial:
        self.started += 1
        if self.queue and self.store is not None:  # run by another worker meanwhile: not again
            stored = [r.point for r in self.opt.records]
            while self.queue and self.queue[0] in stored:
                self.queue.pop(0)
        if self.queue:
            point = self.queue.pop(0)
            return self.opt.enqueue(self.opt.space.decode(point))
        return self.opt.ask()

    def finish(self, trial: Trial, outcome: Outcome, bar: ProgressBar) -> None:
        """Tell the outcome; a value that is not a number sets ``outcome.reraise``."""
        trial.intermediate.update(outcome.intermediate)
        if outcome.state == "complete":
            try:
                self.opt.check_value(outcome.value)
            except ValueError as exc:  # the objective's fault, not the backend's
                outcome.state, outcome.error = "failed", str(exc)
                outcome.reraise = ObjectiveError(
                    f"trial {trial.trial_id}: {exc}. The objective must return "
                    f"{self.opt.returns}; the run stopped at its first such trial"
                )
        kwargs: dict[str, Any] = {"duration_s": outcome.duration_s}
        try:
            if outcome.state == "failed":
                record = self.opt.tell(trial, error=outcome.error, **kwargs)
            elif outcome.state == "pruned":
                record = self.opt.tell(trial, None, pruned=True, **kwargs)
            else:
                record = self.opt.tell(trial, outcome.value, **kwargs)
        except Exception as exc:  # the backend's library failed: stop, keeping every trial
            self.stopped = "backend error"
            if hasattr(exc, "add_note"):
                exc.add_note(f"hpo_bridge: {self.opt.backend} failed when told trial "
                             f"{trial.trial_id} ({outcome.state}, value {outcome.value!r}); the "
                             "run stopped and this exception's .result holds every trial")
            raise
        value = record.value
        if record.state == "complete" and value is not None and (
                self.best is None or self._better(value, self.best)):
            self.best = value
        bar.update(self.best, record.state)

    def _better(self, value: float, best: float) -> bool:
        return value > best if self.opt.direction == "maximize" else value < best

    # -- loops ----------------------------------------------------------------------------
    def run(self) -> Result:
        total = None if self.max_evals is None else self.max_evals - self.done_before
        try:
            with ProgressBar(total, self.progress, desc=self.opt.backend) as bar:
                if self.store is not None:
                    bar.write(self.store.message)
                if self.n_jobs == 1 and self.executor is None and self.trial_timeout is None:
                    self._serial(bar)
                else:  # a trial that may be killed at its time limit runs in a worker process
                    from hpo_bridge.parallel import run_parallel

                    run_parallel(self, bar)
        except KeyboardInterrupt:
            self.stopped = "interrupted"
            self._fail_pending("KeyboardInterrupt: the run was interrupted")
            if self.progress:
                print(self._resume_hint(), file=sys.stderr)
        except BaseException as exc:  # keep every trial reachable from the raised exception
            self.stopped = self.stopped or f"error: {type(exc).__name__}"
            self._fail_pending(f"the run stopped: {type(exc).__name__} in another trial")
            with contextlib.suppress(AttributeError):  # an exception class with __slots__
                setattr(exc, "result", self._result())  # noqa: B010 - any exception type
            raise
        finally:
            if self.store is not None:
                self.store.close(self.opt)
        if self.store is not None and self.started == 0 and self.stopped is None:
            warnings.warn(f"study {self.store.name!r} already holds {len(self.opt.records)} "
                          f"finished trials, max_evals={self.max_evals}: nothing was run "
                          "(raise max_evals to go on)", UserWarning, stacklevel=3)
        result = self._result()
        if not result.completed and self.stopped != "interrupted" and result.records:
            first = next((r for r in result.records if r.state == "failed"), result.records[0])
            error = NoSuccessfulTrialError(
                f"no trial succeeded in {len(result.records)} trials; first failure: "
                f"{first.error or first.state}", first_error=first.error,
            )
            error.result = result
            raise error
        return result

    def _result(self) -> Result:
        result = self.opt.result()
        result.stopped = self.stopped
        if self.store is not None:
            result.resumed = self.store.resumed
        return result

    def _fail_pending(self, message: str) -> None:
        for trial in self.opt.pending:
            with contextlib.suppress(Exception):  # a broken backend: the record is kept anyway
                self.opt.tell(trial, error=message)

    def _resume_hint(self) -> str:
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

    def _serial(self, bar: ProgressBar) -> None:
        while (trial := self.next_trial()) is not None:
            outcome = evaluate(self.objective, trial, self.pass_trial, self.catch)
            self.finish(trial, outcome, bar)
            if outcome.reraise is not None:
                raise outcome.reraise


def minimize(objective: Callable, space: Any, *, backend: str = "tpe",
             max_evals: int | None = None, timeout: float | None = None,
             seed: int | None = None, points_to_evaluate: Sequence[Any] | None = None,
             n_jobs: int = 1, executor: Any = None, pruner: Any = None,
             storage: str | None = None, study_name: str | None = None,
             catch: type[BaseException] | tuple = (Exception,), progress: bool | None = None,
             direction: Direction | None = None, trial_timeout: float | None = None,
             objectives: Sequence[str] | dict[str, str] | None = None,
             **backend_options: Any) -> Result:
    """Minimize ``objective`` over ``space`` with one backend.

    Args:
        objective: ``f(config)`` or ``f(config, trial)`` returning a number or a mapping with
            ``"value"`` (or ``"loss"``) and other metrics. With ``objectives=``, a mapping
            holding every objective's name (or a sequence in their order). A
            ``"constraints"`` entry (a number or a sequence; ``<= 0`` is feasible, as in
            Optuna's ``constraints_func``) marks infeasible trials, with or without
            ``objectives=``.
        space: A nesting of dict/list/tuple with parameters (``hb.uniform``, ...) as leaves.
        backend: ``"library:algorithm"`` (see ``hb.backends()``) or a short name.
        max_evals: Trials in all, counting resumed ones (default: the grid's size for a grid,
            unlimited with a ``timeout``, else 100).
        timeout: Seconds after which no new trial starts (a running trial is not stopped:
            bound each trial with ``trial_timeout``).
        seed: Seed of the backend; the same seed gives the same trials.
        points_to_evaluate: Configurations to try first.
        n_jobs: Trials in flight at once (default 1: in this process). With ``n_jobs > 1``
            they run in ``n_jobs`` worker processes unless ``executor`` says otherwise; a
            parallel run is not bit-reproducible (see :mod:`hpo_bridge.parallel`).
        executor: Where trials run: ``"processes"`` (the default for ``n_jobs > 1``),
            ``"threads"``, any ``concurrent.futures.Executor``, a ``dask.distributed.Client``
            (or its ``get_executor()``) or a Dask scheduler address ``"tcp://host:port"``.
            ``n_jobs`` still sets how many trials are in flight.
        pruner: ``"median"``, ``"asha"``, ``"hyperband"``, an Optuna pruner, or ``None``.
        storage: SQLite path or database URL; with ``study_name``, a re-run resumes.
        study_name: Name of the stored study.
        catch: Exception types recorded as failed trials. Any other exception (``catch=()``:
            every one), or a ``SystemExit``, records its trial failed and stops the run; the
            exception raised carries the :class:`~hpo_bridge.Result` as ``.result``.
        progress: Progress bar (default: on in a terminal or notebook).
        trial_timeout: Seconds a trial may run. A trial over it is recorded failed
            (``"timed out after N s"``): its worker process is killed and replaced; a thread
            cannot be killed and is abandoned (``executor="threads"``); a Dask task is
            cancelled. With ``n_jobs=1`` the trials then run in one worker process.
        direction: ``"minimize"`` (default) or ``"maximize"``; not with ``objectives``.
        objectives: Several objectives: a list of names (all minimized) or a dict
            ``{name: "minimize" | "maximize"}``. The result then has ``pareto_front()`` and
            ``hypervolume()`` instead of ``best_params``; see README "Several objectives"
            for how each backend takes them.
        **backend_options: Passed to the backend's native sampler.

    Returns:
        The :class:`~hpo_bridge.Result`.

    Raises:
        ObjectiveError: The objective cannot take the configuration, or returned something
            that is not a number; ``.result`` holds the finished trials.
        NoSuccessfulTrialError: No trial succeeded.

    Example:
        >>> import hpo_bridge as hb
        >>> r = hb.minimize(lambda c: (c["x"] - 1) ** 2, {"x": hb.uniform(-3.0, 3.0)},
        ...                 backend="hyperopt:tpe", max_evals=20, seed=0, progress=False)
        >>> round(r.best_value, 1) <= 0.5
        True
    """
    if not callable(objective):
        raise SpaceError(f"objective must be callable, got {objective!r}")
    _check_positive("max_evals", max_evals)
    _check_positive("timeout", timeout, float)
    _check_positive("trial_timeout", trial_timeout, float)
    _check_positive("n_jobs", n_jobs)
    catch = _check_catch(catch)
    _check_signature(objective, _takes_trial(objective))
    if points_to_evaluate is not None and not isinstance(points_to_evaluate, (list, tuple)):
        raise SpaceError("points_to_evaluate must be a list of configurations")
    if executor is not None:
        from hpo_bridge.parallel import check_executor

        check_executor(executor)
    # -- issue 14 item 6: a library built for a budget and workers (nevergrad) is told them --
    if resolve(backend).capabilities.planned:
        planned = {"num_workers": n_jobs} if max_evals is None else {
            "budget": max_evals, "num_workers": n_jobs}
        backend_options = {**planned, **backend_options}
    # -- issue 12 item 10 (backend/space side): name the fix before any trial -------------
    check_options(resolve(backend), backend_options, minimize)
    if pruner is not None and not _takes_trial(objective):
        warnings.warn("pruner: the objective takes only the configuration, so it can never "
                      "call trial.report() and no trial can be pruned; define "
                      "objective(config, trial)", UserWarning, stacklevel=2)
    # -- end of issue 12 item 10 ---------------------------------------------------------------
    opt = Optimizer(space, backend, seed, direction=direction, objectives=objectives,
                    **backend_options)
    opt.configure(max_evals=max_evals, timeout=timeout, n_jobs=n_jobs)  # backend="auto" uses it
    opt.check_parallel(n_jobs)  # issue 14 item 4: a backend without batch support
    store = None
    if storage is not None or study_name is not None:
        from hpo_bridge.storage import attach_storage

        store = attach_storage(opt, storage, study_name)
    if pruner is not None:  # after storage: a resumed run's trials reach the pruner too
        from hpo_bridge.pruning import attach_pruner

        attach_pruner(opt, pruner, executor=executor)
    run = _Run(objective, opt, max_evals=max_evals, timeout=timeout,
               points=list(points_to_evaluate or ()), n_jobs=n_jobs, executor=executor,
               catch=catch, progress=progress, store=store, trial_timeout=trial_timeout)
    return run.run()


def maximize(objective: Callable, space: Any, **kwargs: Any) -> Result:
    """Like :func:`minimize`, maximizing ``objective``. Same arguments."""
    if "direction" in kwargs:
        raise SpaceError("maximize: direction is fixed; use minimize(direction=...) instead")
    if kwargs.get("objectives") is not None:
        raise SpaceError("maximize: objectives= gives each objective its own direction; use "
                         "minimize(objectives={'acc': 'maximize', ...}) instead")
    return minimize(objective, space, direction="maximize", **kwargs)
