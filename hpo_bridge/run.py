"""``minimize`` and ``maximize``: the run loop, on top of :class:`hpo_bridge.Optimizer`.

Every argument is checked before the first trial. The loop keeps ``n_jobs`` trials in flight
(inline when ``n_jobs == 1``), tells each outcome to the optimizer as it arrives, and stops on
``max_evals``, ``timeout``, an exhausted grid or Ctrl-C, keeping every finished trial.
"""

from __future__ import annotations

import inspect
import math
import time
from typing import Any, Callable, Iterable, Sequence

from hpo_bridge.errors import NoSuccessfulTrialError
from hpo_bridge.evaluate import Outcome, evaluate
from hpo_bridge.optimizer import Optimizer, Trial
from hpo_bridge.progress import ProgressBar, want_progress
from hpo_bridge.results import Result

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


def _check_catch(catch: Any) -> tuple[type[BaseException], ...]:
    types = catch if isinstance(catch, tuple) else (catch,)
    for t in types:
        if not (isinstance(t, type) and issubclass(t, BaseException)):
            raise ValueError(f"catch must be an exception type or a tuple of them, got {catch!r}")
    return types


def _check_positive(name: str, value: Any, kind: type = int) -> None:
    if value is None:
        return
    ok = isinstance(value, kind) or (kind is float and isinstance(value, int))
    if isinstance(value, bool) or not ok or value <= 0 or (kind is float and not math.isfinite(value)):
        raise ValueError(f"{name} must be a positive {kind.__name__}, got {value!r}")


class _Run:
    """One call of ``minimize``/``maximize``: the books of the loop."""

    def __init__(self, objective: Callable, opt: Optimizer, *, max_evals: int | None,
                 timeout: float | None, points: Sequence[Any], n_jobs: int, executor: Any,
                 catch: tuple, progress: bool | None, callbacks: Iterable[Any]) -> None:
        self.objective = objective
        self.opt = opt
        self.timeout = timeout
        self.n_jobs = n_jobs
        self.executor = executor
        self.catch = catch
        self.progress = want_progress(progress)
        self.callbacks = list(callbacks)
        self.pass_trial = _takes_trial(objective)
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
        if self.max_evals is not None and self.done_before + self.started >= self.max_evals:
            return False
        if not self.queue and self.opt.remaining == 0:
            return False
        return True

    def next_trial(self) -> Trial:
        self.started += 1
        if self.queue:
            point = self.queue.pop(0)
            trial = self.opt.enqueue(self.opt.space.decode(point))
        else:
            trial = self.opt.ask()
        for cb in self.callbacks:
            cb.on_trial_start(self.opt, trial)
        return trial

    def finish(self, trial: Trial, outcome: Outcome, bar: ProgressBar) -> None:
        trial.intermediate.update(outcome.intermediate)
        kwargs: dict[str, Any] = {"duration_s": outcome.duration_s}
        if outcome.state == "failed":
            record = self.opt.tell(trial, error=outcome.error, **kwargs)
        elif outcome.state == "pruned":
            record = self.opt.tell(trial, None, pruned=True, **kwargs)
        else:
            try:
                record = self.opt.tell(trial, outcome.value, **kwargs)
            except ValueError as exc:  # the objective returned something that is not a value
                record = self.opt.tell(trial, error=str(exc), **kwargs)
        for cb in self.callbacks:
            cb.on_trial_end(self.opt, record)
        if record.state == "complete" and (self.best is None or self._better(record.value)):
            self.best = record.value
        bar.update(self.best)

    def _better(self, value: float) -> bool:
        return value > self.best if self.opt.direction == "maximize" else value < self.best

    # -- loops ----------------------------------------------------------------------------
    def run(self) -> Result:
        total = None if self.max_evals is None else self.max_evals - self.done_before
        with ProgressBar(total, self.progress, desc=self.opt.backend) as bar:
            try:
                if self.n_jobs == 1 and self.executor is None:
                    self._serial(bar)
                else:
                    from hpo_bridge.parallel import run_parallel

                    run_parallel(self, bar)
            except KeyboardInterrupt:
                self.stopped = "interrupted"
                for trial in self.opt.pending:
                    self.opt.tell(trial, error="KeyboardInterrupt: the run was interrupted")
        result = self.opt.result()
        result.stopped = self.stopped
        if not result.completed and self.stopped != "interrupted" and result.records:
            first = next((r for r in result.records if r.state == "failed"), result.records[0])
            raise NoSuccessfulTrialError(
                f"no trial succeeded in {len(result.records)} trials; first failure: "
                f"{first.error or first.state}", first_error=first.error,
            )
        return result

    def _serial(self, bar: ProgressBar) -> None:
        while self.can_start():
            trial = self.next_trial()
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
             direction: str = "minimize", **backend_options: Any) -> Result:
    """Minimize ``objective`` over ``space`` with one backend.

    Args:
        objective: ``f(config)`` or ``f(config, trial)`` returning a number or a mapping with
            ``"value"`` (or ``"loss"``) and other metrics.
        space: A nesting of dict/list/tuple with parameters (``hb.uniform``, ...) as leaves.
        backend: ``"library:algorithm"`` (see ``hb.backends()``) or a short name.
        max_evals: Trials in all, counting resumed ones (default: the grid's size for a grid,
            unlimited with a ``timeout``, else 100).
        timeout: Seconds after which no new trial starts.
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
        catch: Exception types recorded as failed trials (others stop the run).
        progress: Progress bar (default: on in a terminal or notebook).
        **backend_options: Passed to the backend's native sampler.

    Returns:
        The :class:`~hpo_bridge.Result`.

    Example:
        >>> import hpo_bridge as hb
        >>> r = hb.minimize(lambda c: (c["x"] - 1) ** 2, {"x": hb.uniform(-3.0, 3.0)},
        ...                 backend="hyperopt:tpe", max_evals=20, seed=0, progress=False)
        >>> round(r.best_value, 1) <= 0.5
        True
    """
    if not callable(objective):
        raise ValueError(f"objective must be callable, got {objective!r}")
    _check_positive("max_evals", max_evals)
    _check_positive("timeout", timeout, float)
    _check_positive("n_jobs", n_jobs)
    catch = _check_catch(catch)
    if points_to_evaluate is not None and not isinstance(points_to_evaluate, (list, tuple)):
        raise ValueError("points_to_evaluate must be a list of configurations")
    if executor is not None:
        from hpo_bridge.parallel import check_executor

        check_executor(executor)
    opt = Optimizer(space, backend, seed, direction=direction, **backend_options)
    opt.configure(max_evals=max_evals, timeout=timeout, n_jobs=n_jobs)  # backend="auto" uses it
    callbacks: list[Any] = []
    if storage is not None or study_name is not None:
        from hpo_bridge.storage import attach_storage

        callbacks.append(attach_storage(opt, storage, study_name))
    if pruner is not None:  # after storage: a resumed run's trials reach the pruner too
        from hpo_bridge.pruning import attach_pruner

        attach_pruner(opt, pruner, executor=executor)
    run = _Run(objective, opt, max_evals=max_evals, timeout=timeout,
               points=list(points_to_evaluate or ()), n_jobs=n_jobs, executor=executor,
               catch=catch, progress=progress, callbacks=callbacks)
    return run.run()


def maximize(objective: Callable, space: Any, **kwargs: Any) -> Result:
    """Like :func:`minimize`, maximizing ``objective``. Same arguments."""
    if "direction" in kwargs:
        raise ValueError("maximize: direction is fixed; use minimize(direction=...) instead")
    return minimize(objective, space, direction="maximize", **kwargs)
