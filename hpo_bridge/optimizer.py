"""``hb.Optimizer``: every backend behind one ask/tell protocol.

This is the one place that validates, numbers trials, keeps the records and turns
maximization into minimization; adapters implement only the native part.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from numbers import Real
from typing import Any, Callable, Iterable

from hpo_bridge.backends.registry import check_options, resolve
from hpo_bridge.errors import TrialPruned, UnsupportedError
from hpo_bridge.results import Result, TrialRecord
from hpo_bridge.space import Normal, Space, as_space

__all__ = ["Hook", "Optimizer", "Trial"]

_DIRECTIONS = ("minimize", "maximize")


class Trial:
    """A pending trial: ``params`` is the decoded configuration.

    Inside an objective that takes a second argument, ``trial.report(value, step)`` records an
    intermediate value and raises :class:`hpo_bridge.TrialPruned` when the pruner says stop.
    """

    def __init__(self, trial_id: int, params: Any, point: dict[str, Any]) -> None:
        self.trial_id = trial_id
        self.params = params
        self.point = point
        self.intermediate: dict[int, float] = {}
        self.started = datetime.now(timezone.utc)
        self._t0 = time.perf_counter()
        self._should_prune: Callable[[Trial, float, int], bool] | None = None

    def __repr__(self) -> str:
        return f"Trial(trial_id={self.trial_id}, params={self.params!r})"

    def __getstate__(self) -> dict[str, Any]:
        # A trial sent to a worker cannot call the driver's pruner; a pruner that can be asked
        # from another process gives a picklable client instead (hpo_bridge.pruning).
        hook = self._should_prune
        for_worker = getattr(hook, "for_worker", None)
        return {**self.__dict__, "_should_prune": for_worker(self) if for_worker else None}

    def report(self, value: float, step: int) -> None:
        """Record an intermediate ``value`` at ``step``; raise ``TrialPruned`` if told to stop."""
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"report: step must be an int >= 0, got {step!r}")
        value = float(value)
        self.intermediate[step] = value
        if self._should_prune is not None and self._should_prune(self, value, step):
            raise TrialPruned(f"trial {self.trial_id} pruned at step {step}")

    def should_prune(self) -> bool:
        """Whether the pruner would stop this trial now (``report`` already raises)."""
        if self._should_prune is None or not self.intermediate:
            return False
        step = max(self.intermediate)
        return self._should_prune(self, self.intermediate[step], step)


class Hook:
    """Sees every ask and tell of an :class:`Optimizer` (``opt.add_hook(hook)``).

    Every method is optional; storage is one. A hook touches the optimizer only through its
    public methods.
    """

    def before_ask(self, opt: Optimizer) -> None:
        """Before each proposal (e.g. restore trials that finished elsewhere)."""

    def trial_id(self, opt: Optimizer, handle: Any, point: dict[str, Any]) -> int | None:
        """The id of a new trial, if this hook assigns ids (a stored study numbers trials)."""
        return None

    def on_ask(self, opt: Optimizer, trial: Trial, handle: Any) -> None:
        """A new pending trial."""

    def on_tell(self, opt: Optimizer, record: TrialRecord, handle: Any) -> None:
        """A finished trial, before the backend is told."""


def _check_seed(seed: Any) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be None or an int in [0, 2**32), got {seed!r}")
    return seed


def _one_element(value: Any) -> bool:
    if not callable(getattr(value, "item", None)):
        return False
    numel = getattr(value, "numel", None)  # torch: size() is a method, numel() the count
    size = numel() if callable(numel) else getattr(value, "size", 1)
    return isinstance(size, int) and size == 1


def split_value(value: Any) -> tuple[float, dict[str, Any]]:
    """``(value, metrics)`` from what an objective returned: a number or a mapping."""
    metrics: dict[str, Any] = {}
    if isinstance(value, Mapping):
        key = "value" if "value" in value else "loss" if "loss" in value else None
        if key is None:
            raise ValueError(
                f"objective returned a mapping without 'value' or 'loss': keys {sorted(value)}"
            )
        metrics = {k: v for k, v in value.items() if k != key}
        value = value[key]
    if _one_element(value):  # numpy and torch scalars, 0-d and 1-element arrays and tensors
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"objective must return a real number, got {value!r}")
    return float(value), metrics


class Optimizer:
    """Ask/tell over any backend.

    Args:
        space: A nested dict/list/tuple of parameters (or a compiled ``Space``).
        backend: ``"library:algorithm"`` or a short name (``tpe``, ``gp``, ``random``, ``grid``).
        seed: Seed of the backend; the same seed gives the same sequence.
        direction: ``"minimize"`` or ``"maximize"``.
        pruner: ``"median"``, ``"asha"``, ``"hyperband"`` or an Optuna pruner: then
            ``trial.report(value, step)`` raises ``hb.TrialPruned`` when the trial should stop
            (tell it with ``opt.tell(trial, pruned=True)``).
        **backend_options: Passed to the native sampler (e.g. ``n_startup_trials=5``).

    Example:
        >>> import hpo_bridge as hb
        >>> opt = hb.Optimizer({"x": hb.uniform(-1.0, 1.0)}, backend="optuna:random", seed=0)
        >>> trial = opt.ask()
        >>> record = opt.tell(trial, trial.params["x"] ** 2)
        >>> record.state
        'complete'
    """

    def __init__(self, space: Any, backend: str = "tpe", seed: int | None = None, *,
                 direction: str = "minimize", pruner: Any = None,
                 **backend_options: Any) -> None:
        if direction not in _DIRECTIONS:
            raise ValueError(f"direction must be one of {_DIRECTIONS}, got {direction!r}")
        self.space: Space = as_space(space)
        self.info = resolve(backend)
        self.backend = self.info.name
        self.seed = _check_seed(seed)
        self.direction = direction
        self._adapter_cls = self.info.load()
        check_options(self.info, backend_options, Optimizer)
        self._check_space()
        self._options = {**self.info.options, **backend_options}
        self._adapter = self._adapter_cls(self.space, self.seed, **self._options)
        self._pending: dict[int, tuple[Trial, Any]] = {}
        self.records: list[TrialRecord] = []
        self._next_id = 0
        self.pruner_hook: Callable[[Trial, float, int], bool] | None = None
        if pruner is not None:
            from hpo_bridge.pruning import attach_pruner

            attach_pruner(self, pruner)
        self.hooks: list[Hook] = []
        #: ``(storage, study name)`` when the trials are stored (see ``storage.py``).
        self.study_ref: tuple[str, str] | None = None

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
        return self._adapter.remaining

    @property
    def pending(self) -> list[Trial]:
        return [t for t, _ in self._pending.values()]

    def add_hook(self, hook: Hook) -> None:
        """Let ``hook`` see every ask and tell of this optimizer (see :class:`Hook`)."""
        self.hooks.append(hook)

    def _new_trial(self, handle: Any, point: dict[str, Any]) -> Trial:
        trial_id = next((i for i in (h.trial_id(self, handle, point) for h in self.hooks)
                         if i is not None), self._next_id)
        trial = Trial(trial_id, self.space.decode(point), point)
        trial._should_prune = self.pruner_hook
        self._next_id = max(self._next_id, trial_id) + 1
        self._pending[trial.trial_id] = (trial, handle)
        for hook in self.hooks:
            hook.on_ask(self, trial, handle)
        return trial

    def _before_ask(self) -> None:
        for hook in self.hooks:
            hook.before_ask(self)

    def ask(self, n: int | None = None) -> Trial | list[Trial]:
        """Propose one trial, or a list of ``n`` pending trials (the library's batch policy)."""
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise ValueError(f"ask: n must be an int >= 1, got {n!r}")
        self.check_parallel(len(self._pending) + (n or 1))
        self._before_ask()
        if n is None:
            handle, point = self._adapter.ask()
            return self._new_trial(handle, point)
        return [self._new_trial(h, p) for h, p in self._adapter.ask_batch(n)]

    def enqueue(self, config: Any) -> Trial:
        """A pending trial at a given configuration (``ValueError`` if not in the space)."""
        point = self.space.encode(config)
        self._before_ask()
        return self._new_trial(self._adapter.ask_fixed(point), point)

    def report(self, trial: Trial, value: float, step: int) -> None:
        """Pass an intermediate value reported in a worker to the backend and the records."""
        trial.intermediate[step] = float(value)
        self._adapter.report(self._pending[trial.trial_id][1], self._loss(value), step)

    def _loss(self, value: float) -> float:
        return -value if self.direction == "maximize" else value

    def tell(self, trial: Trial | Any, value: Any = None, *, error: BaseException | str | None
             = None, pruned: bool = False, duration_s: float | None = None) -> TrialRecord:
        """Finish a trial with its value (a number or a mapping with ``value``/``loss``).

        ``error=`` records a failure instead; ``pruned=True`` a trial stopped by the pruner
        (``value`` is then its last reported value, if any). ``trial`` may also be a
        configuration the optimizer never proposed (a warm start). NaN is a failure.
        """
        if not isinstance(trial, Trial):
            trial = self.enqueue(trial)
        if trial.trial_id not in self._pending:
            raise ValueError(f"tell: trial {trial.trial_id} is not pending (told twice?)")
        metrics: dict[str, Any] = {}
        state, message = "complete", None
        if error is not None:
            state, value = "failed", None
            message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        elif pruned:
            state = "pruned"
            if value is None and trial.intermediate:
                value = trial.intermediate[max(trial.intermediate)]
            value = None if value is None else split_value(value)[0]
        else:
            value, metrics = split_value(value)
            if math.isnan(value):
                state, value, message = "failed", None, "objective returned NaN"
        _, handle = self._pending.pop(trial.trial_id)
        loss = None if value is None or math.isnan(value) else self._loss(value)
        record = TrialRecord(
            trial_id=trial.trial_id, state=state, value=value, params=trial.params,
            point=trial.point, metrics=metrics, error=message,
            duration_s=(time.perf_counter() - trial._t0) if duration_s is None else duration_s,
            started=trial.started, finished=datetime.now(timezone.utc),
            intermediate=dict(trial.intermediate),
        )
        for hook in self.hooks:
            hook.on_tell(self, record, handle)
        self.records.append(record)  # kept even if the backend's library refuses it below
        self._adapter.tell(handle, state, loss)
        return record

    # -- resume and shared studies (used by ``storage.py``) ------------------------------
    def reseed(self, seed: int | None) -> None:
        """Rebuild the backend with another seed; only before the first trial."""
        if self._pending or self.records:
            raise RuntimeError("reseed: the optimizer already has trials")
        self._adapter = self._adapter_cls(self.space, seed, **self._options)

    def use_store(self, study: Any) -> bool:
        """Let the backend work on a stored Optuna study itself when it can (see ``Adapter``)."""
        return self._adapter.use_store(study)

    def restore(self, records: Iterable[TrialRecord], *, tell_backend: bool = True) -> None:
        """Add finished trials run elsewhere (an earlier run, another worker), keeping their ids,
        states, values and metrics.

        ``tell_backend=False`` when the backend already holds them (an Optuna study that is the
        stored study).
        """
        records = list(records)
        if tell_backend and records:
            self._adapter.tell_finished([
                (r.point, r.state, None if r.state == "failed" or r.value is None
                 else self._loss(r.value)) for r in records])
        for record in records:
            self.records.append(record)
            self._next_id = max(self._next_id, record.trial_id + 1)

    def result(self) -> Result:
        """The :class:`Result` of every trial told so far."""
        result = Result(self.records, space=self.space, backend=self.backend, seed=self.seed,
                        direction=self.direction)
        result.study_ref = self.study_ref
        if self.study_ref is not None:
            result.study_name = self.study_ref[1]
        return result
