"""``hb.Optimizer``: every backend behind one ask/tell protocol.

This is the one place that validates, numbers trials, keeps the records and turns
maximization into minimization; adapters implement only the native part.
"""

from __future__ import annotations

import math
import numbers
import time
import warnings
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, cast, overload

from hpo_bridge.backends.base import Adapter, RunSetup, Told
from hpo_bridge.backends.registry import BackendInfo
from hpo_bridge.backends.stack import Backend, build_stack
from hpo_bridge.callbacks import CallbackLike, StopRun, callback_name, check_callbacks
from hpo_bridge.convert import as_space
from hpo_bridge.errors import (
    BackendError,
    CallbackError,
    SpaceError,
    TrialPruned,
    UnsupportedError,
)
from hpo_bridge.hooks import Hook, Reporter
from hpo_bridge.objectives import Objectives, Parsed, parse_value, run_objectives, to_number
from hpo_bridge.results import Direction, Result, State, TrialRecord
from hpo_bridge.space import Normal, Space, SpaceLike
from hpo_bridge.warmstart import warm_start_records

if TYPE_CHECKING:
    from optuna.pruners import BasePruner

__all__ = ["Hook", "Optimizer", "Reporter", "Trial"]

_DIRECTIONS = ("minimize", "maximize")


class Trial:
    """A pending trial: ``params`` is the decoded configuration.

    Inside an objective that takes a second argument, ``trial.report(value, step)`` records an
    intermediate value and raises :class:`hpo_bridge.TrialPruned` when the pruner says stop.

    In a multi-fidelity run (``fidelity=``), ``budget`` is the budget of this evaluation (also
    in ``params`` under the fidelity's name), ``config_id`` the configuration's id (the same
    for each of its evaluations), ``budget_reached`` the budget it was last evaluated at
    (``None`` at its first, and when that evaluation ran in another run or worker of a stored
    study: its checkpoint is not here), and ``checkpoint_dir`` a directory of its own, kept across its
    evaluations, to save a checkpoint and continue from it (``None`` when the objective takes
    only the configuration). All ``None`` otherwise.
    """

    def __init__(self, trial_id: int, params: Any, point: dict[str, Any],
                 reporter: Reporter | None = None,
                 since: tuple[datetime, float] | None = None) -> None:
        self.trial_id = trial_id
        self.params = params
        self.point = point
        self.intermediate: dict[int, float] = {}
        # since: (datetime, perf_counter) when its ask began (the proposal is part of the
        # trial, as in Optuna, whose trial starts before its sampler proposes)
        self.started, self._t0 = since or (datetime.now(timezone.utc), time.perf_counter())
        self._reporter = reporter
        self.budget: float | None = None
        self.config_id: int | None = None
        self.budget_reached: float | None = None
        self.checkpoint_dir: str | None = None

    def __repr__(self) -> str:
        return f"Trial(trial_id={self.trial_id}, params={self.params!r})"

    def __getstate__(self) -> dict[str, Any]:
        # A trial sent to a worker cannot call the driver's optimizer; it carries what the
        # optimizer's hooks give for workers (a pruner's client, see hpo_bridge.pruning).
        reporter = self._reporter
        return {**self.__dict__,
                "_reporter": None if reporter is None else reporter.for_worker(self)}

    @property
    def elapsed_s(self) -> float:
        """Seconds since the trial's ask began."""
        return time.perf_counter() - self._t0

    def report(self, value: float, step: int) -> None:
        """Record an intermediate ``value`` at ``step``; raise ``TrialPruned`` if told to stop."""
        if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
            raise SpaceError(f"report: step must be an int >= 0, got {step!r}")
        step = int(step)  # NumPy's integers too (a loop over np.arange)
        value = to_number(value, "trial.report: value")  # a NumPy or torch scalar too
        self.intermediate[step] = value
        if self._reporter is not None and self._reporter(self, value, step):
            raise TrialPruned(f"trial {self.trial_id} pruned at step {step}")

    def should_prune(self) -> bool:
        """Whether the pruner would stop this trial now (``report`` already raises)."""
        if self._reporter is None or not self.intermediate:
            return False
        step = max(self.intermediate)
        return self._reporter(self, self.intermediate[step], step)


class _OptimizerReporter:
    """A trial's way back to its optimizer (weakly held: a trial may outlive its run)."""

    def __init__(self, opt: Optimizer) -> None:
        self._opt = weakref.ref(opt)

    def __call__(self, trial: Trial, value: float, step: int) -> bool:
        opt = self._opt()
        return False if opt is None else opt.report(trial, value, step)

    def for_worker(self, trial: Trial) -> Reporter | None:
        opt = self._opt()
        if opt is None:
            return None
        return next((r for r in (h.worker_reporter(opt, trial) for h in opt.hooks)
                     if r is not None), None)


@dataclass
class _Pending:
    trial: Trial
    handle: Any
    reported: set[int] = field(default_factory=set)  # steps passed to the backend


def _check_seed(seed: Any) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise SpaceError(f"seed must be None or an int in [0, 2**32), got {seed!r}")
    return seed


def split_value(value: Any) -> tuple[float, dict[str, Any]]:
    """``(value, metrics)`` from what an objective returned: a number or a mapping (with
    ``"value"``/``"loss"``; a ``"constraints"`` entry is not a metric)."""
    parsed = parse_value(value, Objectives.unnamed())
    return float(parsed.value if parsed.value is not None else math.nan), parsed.metrics


class Optimizer:
    """Ask/tell over any backend.

    Args:
        space: A nested dict/list/tuple of parameters (or a compiled ``Space``).
        backend: ``"library:algorithm"`` or a short name (``tpe``, ``gp``, ``random``, ``grid``),
            a :class:`~hpo_bridge.BackendInfo` (a backend registered nowhere), or a
            :class:`~hpo_bridge.backends.stack.Backend` already resolved and checked.
        seed: Seed of the backend; the same seed gives the same sequence.
        direction: ``"minimize"`` (default) or ``"maximize"``; not with ``objectives``.
        objectives: Several objectives: a list of names (all minimized) or a dict
            ``{name: "minimize" | "maximize"}``; ``tell`` then takes a mapping holding those
            keys (or a sequence in that order), see :mod:`hpo_bridge.objectives`. A
            ``"constraints"`` entry (``<= 0`` feasible) is accepted with or without it.
        pruner: ``"median"``, ``"asha"``, ``"hyperband"`` or an Optuna pruner: then
            ``trial.report(value, step)`` raises ``hb.TrialPruned`` when the trial should stop
            (tell it with ``opt.tell(trial, pruned=True)``).
        callbacks: Callables ``callback(result, record)`` called after each ``tell`` (see
            :mod:`hpo_bridge.callbacks`); one that raises ``hb.stop.StopRun`` sets
            ``opt.stopped`` (the run loop then starts no new trial). Call :meth:`end_run`
            when done so that trackers close their runs (``minimize`` does).
        warm_start: A :class:`Result`, a trials DataFrame (``result.trials``) or a stored study
            (``hb.load(...)``): its finished trials, mapped onto this space by parameter
            name, are told to the backend before the first proposal and kept as records
            (ids from 0, ``warm_start`` set); none is evaluated again (see
            :mod:`hpo_bridge.warmstart`).
        **backend_options: Passed to the native sampler (e.g. ``n_startup_trials=5``).

    Example:
        >>> import hpo_bridge as hb
        >>> opt = hb.Optimizer({"x": hb.uniform(-1.0, 1.0)}, backend="optuna:random", seed=0)
        >>> trial = opt.ask()
        >>> record = opt.tell(trial, trial.params["x"] ** 2)
        >>> record.state
        'complete'
    """

    def __init__(self, space: SpaceLike, backend: str | BackendInfo | Backend = "tpe",
                 seed: int | None = None, *,
                 direction: Direction | None = None,
                 objectives: Sequence[str] | Mapping[str, str] | None = None,
                 pruner: BasePruner | str | None = None,
                 callbacks: Sequence[CallbackLike] | None = None, warm_start: Any = None,
                 **backend_options: Any) -> None:
        if direction is not None and direction not in _DIRECTIONS:
            raise SpaceError(f"direction must be one of {_DIRECTIONS}, got {direction!r}")
        #: The run's objectives (names and directions); one unnamed objective without
        #: ``objectives=`` (``Objectives.unnamed``).
        self.objectives: Objectives = run_objectives(objectives, direction)
        self.space: Space = as_space(space)
        if not isinstance(backend, Backend):
            backend = Backend.checked(backend, backend_options, Optimizer)
        elif backend_options:  # a Backend comes resolved and checked (minimize does it once)
            backend = Backend.checked(backend.info, {**backend.options, **backend_options},
                                      Optimizer)
        self._backend = backend
        self.info = backend.info
        self.backend = self.info.name
        self.seed = _check_seed(seed)
        self.direction: Direction = self.objectives.direction
        self._check_space()
        self._check_objectives()
        self._options = backend.all_options
        #: How many constraints the objective returns (``None`` until a trial says).
        self.n_constraints: int | None = None
        # Built now, so that a value the library refuses is refused with the optimizer; the
        # stack's factory uses it unless the run is on a stored study.
        self._first: Adapter | None = backend.build(self.space, self.seed)
        self._adapter: Adapter | None = None  # the stack, built once (build_stack)
        #: Every finished trial as the adapters are told it, ``(point, told)``, in order: the
        #: one history, read by wrappers in the stack (ParEGO, auto) instead of a copy.
        self.history: list[tuple[dict[str, Any], Told]] = []
        self._setup = RunSetup(n_objectives=len(self.objectives), history=self.history)
        self._pending: dict[int, _Pending] = {}
        self.records: list[TrialRecord] = []
        self._next_id = 0
        #: When the latest ask began (UTC): the start of the trials it proposes.
        self.asking_since: datetime | None = None
        self.hooks: list[Hook] = []
        self._reporter: Reporter | None = None  # set once a hook wants reports (a pruner)
        #: ``(storage, study name)`` when the trials are stored (see ``storage.py``).
        self.study_ref: tuple[str, str] | None = None
        #: What a stored run resumed (set by storage), for ``result.resumed``.
        self.resumed: str | None = None
        #: Why a callback ended the run (``hb.stop.*``), else ``None``.
        self.stopped: str | None = None
        self.callbacks: list[CallbackLike] = check_callbacks(callbacks)
        #: Earlier trials told before the first proposal (``warm_start=``), kept as records.
        self._warm: list[TrialRecord] = []
        if warm_start is not None:
            warm = warm_start_records(warm_start, self.space, self.objectives)
            if warm.message is not None:
                warnings.warn(warm.message, UserWarning, stacklevel=2)
            self._warm = warm.records
        #: How many earlier trials ``warm_start=`` gave (``max_evals`` of a run counts the
        #: others).
        self.warm_started = len(self._warm)
        for callback in self.callbacks:
            on_start = getattr(callback, "on_start", None)
            if on_start is not None:
                on_start(self)
        if pruner is not None:
            from hpo_bridge.pruning import attach_pruner

            attach_pruner(self, pruner)

    def configure(self, *, max_evals: int | None = None, timeout: float | None = None,
                  n_jobs: int = 1, budgets: tuple[float, ...] = (),
                  deterministic: bool = False) -> None:
        """Tell the backend the run's budget before the first trial (``backend="auto"``
        chooses by it; other backends ignore it), and, for a multi-fidelity run, the rung
        ``budgets`` (one proposer per budget, see :mod:`hpo_bridge.backends.rungs`; every
        trial must then be told with ``trial.budget`` set to one of them).
        ``deterministic``: the run must repeat for a seed, so no backend may decide by
        measured time (``backend="auto"``'s cost monitor is off). ``minimize`` calls it."""
        if self._adapter is not None:
            raise RuntimeError("configure: before the first trial (the backend is built)")
        self._setup = replace(self._setup, max_evals=max_evals, timeout=timeout, n_jobs=n_jobs,
                              budgets=tuple(budgets), deterministic=deterministic)

    def build(self, *, seed: int | None = None, study: tuple[Any, str] | None = None
              ) -> Adapter:
        """Build the adapter stack, once, before the first ask (:mod:`hpo_bridge.backends.stack`):
        with ``seed`` instead of the optimizer's (a run joining a stored study with earlier
        runs), on the stored ``study`` ``(storage, name)`` when the backend can work on it.
        Without a call, the first ask builds it with the optimizer's seed."""
        if self._adapter is not None:
            raise RuntimeError("build: the adapter stack is built once, before the first trial")
        first = self._first if seed is None or seed == self.seed else None
        self._first = None
        self._adapter = build_stack(self._backend, self.space,
                                    self.seed if seed is None else seed, self._setup,
                                    study=study, first=first)
        if self._warm:  # told once, with the stack, before the first proposal
            warm, self._warm = self._warm, []
            self.restore(warm)
        return self._adapter

    # -- issue 14 item 4: what the backend's capabilities rule out, refused by name ----------
    def _check_space(self) -> None:
        caps = self.info.capabilities
        for dim in self.space.dims:
            if caps.unbounded == "refused" and isinstance(dim.param, Normal):
                raise UnsupportedError(
                    f"{self.backend}: parameter {dim.name!r} is {dim.param!r}, an unbounded "
                    "prior, which this backend cannot sample (use a bounded parameter, or a "
                    "backend with unbounded='native' or 'transform' in hb.backends())")
            if caps.discrete_only and not dim.param.discrete:
                raise UnsupportedError(
                    f"{self.backend}: parameter {dim.name!r} is {dim.param!r}; a grid needs "
                    "discrete parameters (give uniform a step, or use integer/choice)"
                )

    def _check_objectives(self) -> None:
        if self.info.capabilities.objectives == "refused":
            self.objectives.refuse_several(
                f"{self.backend} cannot optimize",
                "its algorithm keeps a state that "
                "one scalarization at a time would corrupt (capabilities.objectives is "
                "'refused'); use a backend that models them (optuna:tpe, optuna:gp, "
                "optuna:nsga2, optuna:nsga3) or one scalarized with ParEGO (hyperopt:tpe, "
                "skopt:gp); see hb.backends()")

    def _check_constraints(self, constraints: tuple[float, ...] | None) -> None:
        """The objective returned ``constraints``: check the count against earlier trials
        (``ValueError``: the objective's fault)."""
        count = 0 if constraints is None else len(constraints)
        if self.n_constraints is not None and count != self.n_constraints:
            raise ValueError(
                f"objective returned {count or 'no'} constraints, but earlier trials returned "
                f"{self.n_constraints or 'none'}; every trial must return the same number under "
                "'constraints'")

    def _accept_constraints(self, count: int) -> None:
        """The first trial with a value says how many constraints there are: refuse them where
        the backend cannot take them (a backend that takes them as a penalty has the ParEGO
        wrapper in its stack from the start, see :mod:`hpo_bridge.backends.stack`)."""
        if self.n_constraints is not None:
            return
        self.n_constraints = count
        if count and self.info.capabilities.constraints == "refused":
            raise UnsupportedError(
                f"{self.backend} cannot take constraints (capabilities.constraints is "
                "'refused': its algorithm keeps a state that a penalty re-told each proposal "
                "would corrupt); use a backend that models them (optuna:tpe, optuna:gp, "
                "optuna:nsga2) or one that takes them as a penalty (hyperopt:tpe, skopt:gp)")

    @property
    def budgets(self) -> tuple[float, ...]:
        """A multi-fidelity run's rung budgets, lowest first (the last is the full budget),
        once :meth:`configure` set them; empty otherwise."""
        return self._setup.budgets

    @property
    def returns(self) -> str:
        """What the objective must return, for error messages."""
        return self.objectives.returns

    def check_value(self, value: Any) -> Parsed:
        """What an objective returned, checked against ``objectives=`` and the constraints of
        earlier trials. ``ValueError`` names what is wrong (the objective's fault)."""
        parsed = parse_value(value, self.objectives)
        if parsed.nan is None:
            self._check_constraints(parsed.constraints)
        return parsed

    def check_parallel(self, n: int) -> None:
        """Refuse ``n`` trials pending at once if the backend cannot hold them: one, without
        ``capabilities.batch``; ``num_workers``, with ``capabilities.planned``. ``minimize``
        calls it with ``n_jobs`` before any trial."""
        caps = self.info.capabilities
        limit = None if caps.batch else 1
        if caps.planned:
            limit = self._options.get("num_workers", 1)
        if limit is None or n <= limit:
            return
        fix = (f"build it with num_workers={n}" if caps.planned else
               "tell each trial before the next ask, use n_jobs=1, or a backend with batch "
               "support")
        raise UnsupportedError(
            f"{self.backend}: {n} trials pending at once (ask(n), n_jobs, or asks before "
            f"tells), but this backend takes {limit} at a time "
            f"({'num_workers' if caps.planned else 'capabilities.batch is False'}); {fix}")
    # -- end of issue 14 item 4 ------------------------------------------------------------

    def __repr__(self) -> str:
        return (f"Optimizer(backend={self.backend!r}, seed={self.seed!r}, "
                f"trials={len(self.records)}, pending={len(self._pending)})")

    @property
    def remaining(self) -> int | None:
        """Proposals left for a finite backend (a grid), else ``None``."""
        return (self._adapter or self.build()).remaining

    @property
    def pending(self) -> list[Trial]:
        return [p.trial for p in self._pending.values()]

    @property
    def adapter(self) -> Adapter:
        """The adapter stack that runs (see :mod:`hpo_bridge.backends.stack`), built on first
        use; it is never replaced."""
        return self._adapter or self.build()

    def add_hook(self, hook: Hook) -> None:
        """Let ``hook`` see every ask, report and tell of this optimizer (see :class:`Hook`)."""
        self.hooks.append(hook)
        if hook.wants_reports and self._reporter is None:
            self._reporter = _OptimizerReporter(self)

    def _since(self) -> tuple[datetime, float]:
        """Now, as a trial's start: kept in :attr:`asking_since` while the backend proposes
        (a hook that stores the trial gives it as the trial's start)."""
        since = (datetime.now(timezone.utc), time.perf_counter())
        self.asking_since = since[0]
        return since

    def _new_trial(self, handle: Any, point: dict[str, Any],
                   since: tuple[datetime, float] | None = None) -> Trial:
        trial_id = next((i for i in (h.trial_id(self, handle, point) for h in self.hooks)
                         if i is not None), self._next_id)
        trial = Trial(trial_id, self.space.decode(point), point, self._reporter, since)
        self._next_id = max(self._next_id, trial_id) + 1
        self._pending[trial.trial_id] = _Pending(trial, handle)
        for hook in self.hooks:
            hook.on_ask(self, trial, handle)
        return trial

    def _before_ask(self) -> None:
        for hook in self.hooks:
            hook.before_ask(self)

    @overload
    def ask(self, n: None = None) -> Trial: ...

    @overload
    def ask(self, n: int) -> list[Trial]: ...

    def ask(self, n: int | None = None) -> Trial | list[Trial]:
        """Propose one trial, or a list of ``n`` pending trials (the library's batch policy)."""
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise SpaceError(f"ask: n must be an int >= 1, got {n!r}")
        self.check_parallel(len(self._pending) + (n or 1))
        adapter = self._adapter or self.build()
        self._before_ask()
        since = self._since()
        if n is None:
            handle, point = adapter.ask()
            self._check_proposal(point)
            return self._new_trial(handle, point, since)
        batch = adapter.ask_batch(n)
        for _, point in batch:
            self._check_proposal(point)
        return [self._new_trial(h, p, since) for h, p in batch]

    def _check_proposal(self, point: dict[str, Any]) -> None:
        """What the backend proposed, checked against the space (domain and type) before any
        objective sees it: a ``BackendError`` naming the backend otherwise."""
        try:
            self.space.check_point(point)
        except SpaceError as exc:
            raise BackendError(
                f"{self.backend} proposed a configuration outside the space: {exc} (proposal "
                f"{point!r}); this is a defect of the backend's adapter, not of the space"
            ) from None

    def enqueue(self, config: Any) -> Trial:
        """A pending trial at a given configuration (``ValueError`` if not in the space)."""
        return self.enqueue_point(self.space.encode(config))

    def enqueue_point(self, point: dict[str, Any]) -> Trial:
        """:meth:`enqueue` with the configuration already encoded as a point of the space
        (``space.encode``): warm starts are encoded once, where they are checked."""
        adapter = self._adapter or self.build()
        self._before_ask()
        since = self._since()
        return self._new_trial(adapter.ask_fixed(point), point, since)

    def report(self, trial: Trial, value: float, step: int) -> bool:
        """An intermediate value of ``trial`` (``trial.report`` calls it, from a worker too).

        Kept in ``trial.intermediate``, passed to the backend while the trial is pending (Optuna
        keeps it) and to the hooks that want reports. Returns whether one of them (a pruner)
        says the trial should stop.
        """
        trial.intermediate[step] = float(value)
        pending = self._pending.get(trial.trial_id)
        if pending is not None:
            for s, v in sorted(trial.intermediate.items()):
                if s not in pending.reported:
                    pending.reported.add(s)
                    self.adapter.report(pending.handle, self._loss(v), s)
        stop = [hook.on_report(self, trial, float(value), step)
                for hook in self.hooks if hook.wants_reports]
        return any(stop)

    def _loss(self, value: float) -> float:
        return -value if self.direction == "maximize" else value

    def tell(self, trial: Trial | Any, value: Any = None, *, error: BaseException | str | None
             = None, pruned: bool = False, duration_s: float | None = None,
             objective_s: float | None = None) -> TrialRecord:
        """Finish a trial with its value (a number or a mapping with ``value``/``loss``).

        ``error=`` records a failure instead; ``pruned=True`` a trial stopped by the pruner
        (``value``, if given, is what it got before it stopped, a number or a mapping with
        metrics, which are kept; else its last reported value, if any). ``trial`` may also be a
        configuration the optimizer never proposed (a warm start). NaN is a failure.
        ``duration_s``: the trial's wall time (by default, from its ask to this tell);
        ``objective_s``: the objective's own time, if measured.
        """
        if not isinstance(trial, Trial):
            trial = self.enqueue(trial)
        if trial.trial_id not in self._pending:
            raise ValueError(f"tell: trial {trial.trial_id} is not pending (told twice?)")
        metrics: dict[str, Any] = {}
        values: tuple[float, ...] | None = None
        constraints: tuple[float, ...] | None = None
        state: State = "complete"
        message: str | None = None
        if error is not None:
            state, value = "failed", None
            message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        elif pruned:
            state = "pruned"
            if value is None and trial.intermediate:
                value = trial.intermediate[max(trial.intermediate)]
            if isinstance(value, Parsed):  # the run loop hands over what it checked
                value, metrics = value.value, value.metrics
            elif value is not None:
                value, metrics = split_value(value)
        else:  # parsed once: the run loop hands over what it checked (a Parsed)
            parsed = value if isinstance(value, Parsed) else self.check_value(value)
            value, values, constraints, metrics = (parsed.value, parsed.values,
                                                   parsed.constraints, parsed.metrics)
            if parsed.nan is not None:
                state, value, values, message = "failed", None, None, parsed.nan
            else:
                self._accept_constraints(0 if constraints is None else len(constraints))
        handle = self._pending.pop(trial.trial_id).handle
        record = TrialRecord(
            trial_id=trial.trial_id, state=state, value=value, params=trial.params,
            point=trial.point, metrics=metrics, error=message,
            duration_s=trial.elapsed_s if duration_s is None else duration_s,
            started=trial.started, finished=datetime.now(timezone.utc),
            intermediate=dict(trial.intermediate),
            values=values if state != "failed" else None,
            constraints=constraints if state == "complete" else None,
            budget=trial.budget, config_id=trial.config_id,
            objective_s=None if objective_s is None else float(objective_s),
        )
        for hook in self.hooks:
            hook.on_tell(self, record, handle)
        self.records.append(record)  # kept even if the backend's library refuses it below
        told = self._told(record)
        self.history.append((record.point, told))
        cast(Adapter, self._adapter).tell(handle, told)
        self._call_back(record)
        return record

    # -- callbacks ---------------------------------------------------------------------------
    def add_callback(self, callback: CallbackLike) -> None:
        """Call ``callback(result, record)`` after each ``tell`` from now on."""
        self.callbacks.append(check_callbacks([callback])[0])
        on_start = getattr(callback, "on_start", None)
        if on_start is not None:
            on_start(self)

    def _call_back(self, record: TrialRecord) -> None:
        """Every callback, after ``record`` was told: a ``StopRun`` sets :attr:`stopped`, any
        other exception is a :class:`CallbackError` naming the callback."""
        if not self.callbacks:
            return
        result = self.result()
        for callback in self.callbacks:
            try:
                callback(result, record)
            except StopRun as stop:
                if self.stopped is None:
                    self.stopped = result.stopped = stop.reason
            except Exception as exc:
                raise CallbackError(
                    f"callback {callback_name(callback)} raised {type(exc).__name__}: {exc} "
                    f"after trial {record.trial_id} ({record.state}); the run stopped. That "
                    "trial and every one before it are recorded (and stored, with storage=): "
                    "they are in this error's .result") from exc

    def end_run(self, result: Result | None = None) -> None:
        """Tell the callbacks that have ``on_run_end(result)`` that the run ended (a tracker
        closes its run); ``minimize`` calls it once, whatever ended the run."""
        result = self.result() if result is None else result
        for callback in self.callbacks:
            on_run_end = getattr(callback, "on_run_end", None)
            if on_run_end is None:
                continue
            try:
                on_run_end(result)
            except Exception as exc:
                raise CallbackError(
                    f"callback {callback_name(callback)}.on_run_end raised "
                    f"{type(exc).__name__}: {exc}; the run's trials are in this error's "
                    ".result") from exc

    def _told(self, record: TrialRecord) -> Told:
        """What the adapters are told of ``record``: every loss (``None`` for a failure, or a
        NaN), the constraints of a complete trial."""
        values = record.values if record.values is not None else (
            None if record.value is None else (record.value,))
        if record.state == "failed" or values is None or any(math.isnan(v) for v in values):
            return Told(record.state, None, record.constraints, record.budget)
        return Told(record.state, self.objectives.losses(values), record.constraints,
                    record.budget)

    # -- resume and shared studies (used by ``storage/``) --------------------------------
    def restore(self, records: Iterable[TrialRecord], *, tell_backend: bool = True) -> None:
        """Add finished trials run elsewhere (an earlier run, another worker), keeping their ids,
        states, values and metrics.

        ``tell_backend=False`` when the backend already holds them (an Optuna study that is the
        stored study).
        """
        records = list(records)
        done = [r for r in records if r.state == "complete"]
        if done:
            self._check_constraints(done[0].constraints)
            self._accept_constraints(len(done[0].constraints or ()))
        adapter = self._adapter or self.build()
        told = [(r.point, self._told(r)) for r in records]
        self.history.extend(told)
        if tell_backend and told:
            adapter.tell_many(told)
        for record in records:
            self.records.append(record)
            self._next_id = max(self._next_id, record.trial_id + 1)
        if records:
            for hook in self.hooks:
                hook.on_restore(self, records)

    def result(self) -> Result:
        """The :class:`Result` of every trial told so far."""
        described = None if self._adapter is None else self._adapter.describe()
        result = Result(self.records, space=self.space, backend=described or self.backend,
                        seed=self.seed, direction=self.direction,
                        objectives=self.objectives)
        result.study_ref = self.study_ref
        result.resumed = self.resumed
        result.stopped = self.stopped
        return result
