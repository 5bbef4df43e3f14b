"""``minimize`` and ``maximize``: every argument checked, then the run loop.

Every argument is checked before the first trial; then the optimizer is built, storage and a
pruner are attached, and :func:`hpo_bridge.loop.optimize` runs the trials (inline when
``n_jobs == 1`` without ``executor`` or ``trial_timeout``, else ``n_jobs`` in flight on an
executor) and says whose fault an error is.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from hpo_bridge.backends.registry import BackendInfo, resolve
from hpo_bridge.backends.stack import Backend
from hpo_bridge.callbacks import CallbackLike, check_callbacks
from hpo_bridge.errors import ObjectiveError, SpaceError, check_positive
from hpo_bridge.evaluate import takes_trial
from hpo_bridge.fidelity import Fidelity
from hpo_bridge.loop import DEFAULT_MAX_EVALS, Budget, RunBooks, optimize
from hpo_bridge.optimizer import Optimizer
from hpo_bridge.progress import quiet_libraries
from hpo_bridge.results import Direction, Result
from hpo_bridge.schedulers import check_fidelity_run
from hpo_bridge.space import SpaceLike

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from distributed import Client
    from optuna.pruners import BasePruner

__all__ = ["minimize", "maximize"]


def _check_signature(objective: Callable[..., Any], pass_trial: bool) -> None:
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


def _check_deterministic(deterministic: Any, n_jobs: int, pruner: Any, storage: Any,
                         study_name: Any) -> None:
    """Refuse, before any trial, what ``deterministic=True`` cannot make repeatable."""
    if not isinstance(deterministic, bool):
        raise SpaceError(f"deterministic must be True or False, got {deterministic!r}")
    if not deterministic:
        return
    if storage is not None or study_name is not None:
        raise SpaceError(
            "deterministic=True cannot be used with storage=/study_name=: a stored study "
            "receives the trials of every worker that shares it when they finish, and a re-run "
            "resumes it instead of repeating it; drop storage= for a repeatable run, or "
            "deterministic=True for a stored one")
    if pruner is not None and n_jobs > 1:
        raise SpaceError(
            "deterministic=True cannot be used with a pruner and n_jobs > 1: the pruner "
            "compares each report with the other trials' reports as they arrive, which "
            "depends on timing; use n_jobs=1 (a serial run is deterministic) or pruner=None")


def minimize(objective: Callable[..., Any], space: SpaceLike, *,
             backend: str | BackendInfo = "tpe",
             max_evals: int | None = None, timeout: float | None = None,
             seed: int | None = None, points_to_evaluate: Sequence[Any] | None = None,
             n_jobs: int = 1, executor: Executor | Client | str | None = None,
             pruner: BasePruner | str | None = None,
             storage: str | None = None, study_name: str | None = None,
             catch: type[BaseException] | tuple[type[BaseException], ...] = (Exception,),
             progress: bool | None = None,
             direction: Direction | None = None, trial_timeout: float | None = None,
             objectives: Sequence[str] | dict[str, str] | None = None,
             fidelity: Fidelity | None = None, max_budget: float | None = None,
             scheduler: str | None = None, deterministic: bool = False,
             callbacks: Sequence[CallbackLike] | None = None, warm_start: Any = None,
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
        backend: ``"library:algorithm"`` (see ``hb.backends()``) or a short name; or a
            :class:`~hpo_bridge.BackendInfo` (a backend registered nowhere, e.g.
            ``BackendInfo.for_adapter(MyAdapter, "mylib:algo")``).
        max_evals: Trials in all, counting resumed ones (default: the grid's size for a grid,
            unlimited with a ``timeout``, else 100).
        timeout: Seconds after which no new trial starts (a running trial is not stopped:
            bound each trial with ``trial_timeout``).
        seed: Seed of the backend; the same seed gives the same trials.
        points_to_evaluate: Configurations to try first.
        n_jobs: Trials in flight at once (default 1: in this process). With ``n_jobs > 1``
            they run in ``n_jobs`` worker processes unless ``executor`` says otherwise; a
            parallel run is not bit-reproducible unless ``deterministic=True`` (see
            :mod:`hpo_bridge.parallel`).
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
            cancelled. With ``n_jobs=1`` the trials then run in one worker process. A new
            worker process starts and loads the objective before the limit of its first
            trial runs.
        direction: ``"minimize"`` (default) or ``"maximize"``; not with ``objectives``.
        objectives: Several objectives: a list of names (all minimized) or a dict
            ``{name: "minimize" | "maximize"}``. The result then has ``pareto_front()`` and
            ``hypervolume()`` instead of ``best_params``; see docs/objectives.md
            for how each backend takes them.
        fidelity: Multi-fidelity: ``hb.fidelity("epochs", 1, 81, eta=3)``. Each evaluation
            reads its budget as ``config["epochs"]`` (an int for int bounds); a
            configuration that does well at a low budget is evaluated again at a higher one
            (``scheduler``), and new configurations come from the backend fitted on the
            highest budget with enough results (see docs/multi-fidelity.md). The space must
            be a dict without that key. With ``storage``, each evaluation's budget and
            configuration id are stored, and a resumed study (or another worker sharing it)
            continues the brackets. Not with ``objectives``, ``pruner``, a grid backend or
            one without batch support.
        max_budget: With ``fidelity``: the total budget of the run, the sum of its
            evaluations' budgets (of a stored study: the study's total, across its runs and
            workers); the run ends before an evaluation that would take the total past it. At
            least ``fidelity.high``. ``max_evals`` and ``timeout`` still apply.
        scheduler: With ``fidelity``: ``"hyperband"`` (default), ``"sha"`` (synchronous
            successive halving) or ``"asha"`` (asynchronous, for ``n_jobs > 1``).
        deterministic: With ``n_jobs > 1`` (or an ``executor``): the same seed gives the same
            trials, whatever finishes first. Outcomes are told to the backend in trial order
            and trial ``i`` is proposed right after trial ``i - n_jobs`` is told (the
            ``n_jobs - 1`` trials in between pending, as the library handles pending trials),
            so a trial that finishes early waits for the earlier ones before it is told and
            its slot takes the next trial (docs/running.md, "Parallel and distributed
            trials", says what it costs). Not
            with ``storage`` (other workers' trials arrive when they arrive) nor, with
            ``n_jobs > 1``, a ``pruner`` (its decisions read the other trials' reports as they
            come). With ``timeout``, the trials run are the same ones, cut where the time ran
            out. A serial seeded run is deterministic without it (``backend="auto"`` reads
            the clock to hand a GP over to TPE only in a run without a seed or with
            ``cost="measured"``, :mod:`hpo_bridge.backends.cost`; ``deterministic=True``
            turns that off too).
        callbacks: Callables ``callback(result, record)``, called in this process after each
            finished trial (complete, failed or pruned) with the result so far and the
            trial's record; ``hb.stop.no_improvement(n)`` and ``hb.stop.target(value)`` end
            the run (``result.stopped`` says why), trackers log it
            (``hpo_bridge.integrations.mlflow.MLflowCallback``, ...). A callback's own error
            stops the run with ``hb.CallbackError`` (see :mod:`hpo_bridge.callbacks`).
        warm_start: Earlier trials to start from: a :class:`~hpo_bridge.Result`, a trials
            DataFrame (``result.trials``) or a stored study (``hb.load(storage, name)``).
            They are mapped onto ``space`` by parameter name, told to the backend before its
            first proposal and shown in ``result.trials`` (``warm_start`` column); none is
            evaluated again, and ``max_evals`` counts new evaluations only. Trials that do not
            fit the space are skipped with one warning that counts them. Not with ``storage``.
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
    max_evals = check_positive("max_evals", max_evals)
    timeout = check_positive("timeout", timeout, float)
    trial_timeout = check_positive("trial_timeout", trial_timeout, float)
    n_jobs = check_positive("n_jobs", n_jobs, optional=False)
    _check_deterministic(deterministic, n_jobs, pruner, storage, study_name)
    catch = _check_catch(catch)
    _check_signature(objective, takes_trial(objective))
    callbacks = check_callbacks(callbacks)
    if warm_start is not None and (storage is not None or study_name is not None):
        raise SpaceError("warm_start= with storage=: not supported (a resumed run would be "
                         "warm-started again); warm-start a run without storage, or copy the "
                         "earlier study with optuna.copy_study and resume it")
    if points_to_evaluate is not None and not isinstance(points_to_evaluate, (list, tuple)):
        raise SpaceError("points_to_evaluate must be a list of configurations")
    if executor is not None:
        from hpo_bridge.executors import check_executor

        check_executor(executor)
    # -- issue 14 item 6: a library built for a budget and workers (nevergrad) is told them --
    # The backend is resolved and its options checked once, here, on the way in.
    info = resolve(backend)
    if info.capabilities.planned:
        planned = {"num_workers": n_jobs} if max_evals is None else {
            "budget": max_evals, "num_workers": n_jobs}
        backend_options = {**planned, **backend_options}
    # -- issue 12 item 10 (backend/space side): name the fix before any trial -------------
    chosen = Backend.checked(info, backend_options, minimize)
    if pruner is not None and not takes_trial(objective):
        warnings.warn("pruner: the objective takes only the configuration, so it can never "
                      "call trial.report() and no trial can be pruned; define "
                      "objective(config, trial)", UserWarning, stacklevel=2)
    # -- end of issue 12 item 10 ---------------------------------------------------------------
    # The libraries' own per-trial log lines are quiet while the run goes (put back after).
    with quiet_libraries():
        opt = Optimizer(space, chosen, seed, direction=direction, objectives=objectives,
                        callbacks=callbacks, warm_start=warm_start)
        plan = None
        if fidelity is not None or max_budget is not None or scheduler is not None:
            plan = check_fidelity_run(opt, fidelity, max_budget, scheduler, max_evals=max_evals,
                                      timeout=timeout, pruner=pruner)
            if warm_start is not None:
                raise SpaceError(
                    "warm_start= with fidelity=: not supported (each earlier trial would be "
                    "told to the proposer of its budget's rung, and a plain run's trials have "
                    "no budget); drop warm_start=, or keep a multi-fidelity run in storage= "
                    "and resume it with the same study_name")
            for point in points_to_evaluate or ():
                if isinstance(point, dict) and plan.fidelity.name in point:
                    raise SpaceError(
                        f"points_to_evaluate: {point!r} holds the budget "
                        f"{plan.fidelity.name!r}; leave it out: with fidelity= the scheduler "
                        "gives each evaluation its budget (a point starts at the lowest rung)")
        # backend="auto" chooses by the budget: minimize's default when neither is given.
        evals = max_evals if (max_evals is not None or timeout is not None
                              or plan is not None) else DEFAULT_MAX_EVALS
        opt.configure(max_evals=evals, timeout=timeout, n_jobs=n_jobs,
                      budgets=() if plan is None else plan.fidelity.rungs,
                      deterministic=deterministic)
        opt.check_parallel(n_jobs)  # issue 14 item 4: a backend without batch support
        budget: Budget | None = None
        notes: list[str] = []
        if storage is not None or study_name is not None:
            from hpo_bridge.storage import attach_storage
            from hpo_bridge.storage.study import fidelity_attr

            stored = None if plan is None else fidelity_attr(plan.fidelity, plan.name)
            store = attach_storage(opt, storage, study_name, stored)  # builds the adapter stack
            budget, notes = store.budget, [store.message]
        else:
            opt.build()
        if pruner is not None:  # after storage: a resumed run's trials reach the pruner too
            from hpo_bridge.pruning import attach_pruner

            attach_pruner(opt, pruner, executor=executor)
        run = RunBooks(objective, opt, max_evals=max_evals, timeout=timeout,
                       points=list(points_to_evaluate or ()), n_jobs=n_jobs, executor=executor,
                       catch=catch, progress=progress, budget=budget, notes=notes,
                       trial_timeout=trial_timeout, scheduler=plan, max_budget=max_budget,
                       deterministic=deterministic)
        return optimize(run)


def maximize(objective: Callable[..., Any], space: SpaceLike, **kwargs: Any) -> Result:
    """Like :func:`minimize`, maximizing ``objective``. Same arguments."""
    if "direction" in kwargs:
        raise SpaceError("maximize: direction is fixed; use minimize(direction=...) instead")
    if kwargs.get("objectives") is not None:
        raise SpaceError("maximize: objectives= gives each objective its own direction; use "
                         "minimize(objectives={'acc': 'maximize', ...}) instead")
    return minimize(objective, space, direction="maximize", **kwargs)
