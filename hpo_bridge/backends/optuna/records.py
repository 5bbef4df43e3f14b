"""Trial records as Optuna trials and back: what a stored study holds for every backend.

A stored trial is its *point*: an object choice (or one whose options Optuna would confuse by
``==``) is its option index, with a readable ``label.<name>`` user attribute; a normal prior is
its quantile (see ``translate.py``), with the exact value in a ``value.<name>`` user attribute
when the quantile does not give it back bit-identical. Values are stored in the user's
direction, with the user attributes ``metrics.<key>``, ``error`` and ``duration_s``. Several
objectives are the trial's ``values`` (the study has ``directions``); constraints are the
system attributes ``constraints:<i>``, where Optuna (its samplers, ``study.best_trials``,
optuna-dashboard) reads them.
"""

from __future__ import annotations

import json
import math
import warnings
from datetime import datetime, timezone
from typing import Any, Protocol, runtime_checkable

import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import FrozenTrial, TrialState

from hpo_bridge.backends.optuna.translate import (
    distributions,
    from_params,
    native_options,
    to_params,
)
from hpo_bridge.objectives import Objectives
from hpo_bridge.results import State, TrialRecord
from hpo_bridge.space import Choice, Normal, Space
from hpo_bridge.space.transforms import from_unit, to_unit

__all__ = ["StudyAdapter", "STATES", "labels", "native", "finish_attrs", "to_record", "to_records",
           "to_frozen", "naive", "constraint_attrs", "CONSTRAINT_PREFIX", "counted", "unproposed",
           "checked_attrs"]

_A = "hpo_bridge."


def _signature_ok(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)
        and isinstance(item[1], str) and (item[2] is None or isinstance(item[2], list))
        for item in value)


#: The study attributes hpo_bridge checks a study against, with what each must be (the space
#: description ``space_doc`` is checked when it is rebuilt).
_STUDY_ATTRS: dict[str, tuple[str, Any]] = {
    "space_signature": ("a list of [name, description, condition]", _signature_ok),
    "objectives": ("an object {name: 'minimize' | 'maximize'}", lambda v: isinstance(v, dict)
                   and all(isinstance(k, str) and d in ("minimize", "maximize")
                           for k, d in v.items())),
}
#: The attributes that only inform (the runs' backends, seed and version): one of another
#: form is left out with a warning.
_INFO_ATTRS: dict[str, tuple[str, Any]] = {
    "backend": ("a string", lambda v: isinstance(v, str)),
    "backends": ("a list of strings", lambda v: isinstance(v, list)
                 and all(isinstance(b, str) for b in v)),
    "seed": ("an integer or null", lambda v: v is None or (isinstance(v, int)
                                                          and not isinstance(v, bool))),
    "version": ("a string", lambda v: isinstance(v, str)),
}


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def checked_attrs(attrs: dict[str, Any], where: str) -> dict[str, Any]:
    """A stored study's user attributes, checked: a ``StorageError`` names a damaged attribute
    that the study is checked against, and what still reads; an informative one that is
    damaged is left out of the returned copy with a warning."""
    from hpo_bridge.errors import StorageError

    for key, (form, ok) in _STUDY_ATTRS.items():
        if _A + key in attrs and not ok(attrs[_A + key]):
            raise StorageError(
                f"{where}: the study's user attribute {_A + key!r} is damaged (it should be "
                f"{form}, it is {_shown(attrs[_A + key])}); nothing was written. The trials "
                "themselves can still be read with Optuna (optuna.load_study(study_name=..., "
                "storage=...)); to repair the study, set the attribute again with "
                "study.set_user_attr")
    damaged = [key for key, (_, ok) in _INFO_ATTRS.items()
               if _A + key in attrs and not ok(attrs[_A + key])]
    if not damaged:
        return attrs
    warnings.warn(f"{where}: the study's user attributes "
                  + ", ".join(f"{_A + k!r} (should be {_INFO_ATTRS[k][0]}, is "
                              f"{_shown(attrs[_A + k])})" for k in damaged)
                  + " are damaged and left out; everything else is read", stacklevel=3)
    return {k: v for k, v in attrs.items() if k[len(_A):] not in damaged
            or not k.startswith(_A)}


@runtime_checkable
class StudyAdapter(Protocol):
    """An adapter that can ask and tell through the record store's Optuna study itself (the
    Optuna backend's): its class has ``on_study(space, seed, storage, study_name, **options)``,
    which the stack's factory calls for a stored run (:mod:`hpo_bridge.backends.stack`).
    Storage checks for it with ``isinstance``; any other adapter learns stored trials through
    ``Adapter.tell_many``."""

    @property
    def stored(self) -> bool:
        """Whether it works on the stored study (its trials are then known)."""

    def trial_number(self, handle: Any) -> int:
        """The study's number of the trial behind ``handle``."""


#: hpo_bridge's trial states and Optuna's.
STATES: dict[State, TrialState] = {"complete": TrialState.COMPLETE, "failed": TrialState.FAIL,
          "pruned": TrialState.PRUNED}
_FROM_OPTUNA: dict[TrialState, State] = {state: name for name, state in STATES.items()}


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item") and getattr(value, "size", 2) == 1:
        value = value.item()
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)


def naive(moment: datetime | None) -> datetime:
    """Optuna's datetimes are naive local time."""
    moment = moment or datetime.now(timezone.utc)
    return moment.astimezone().replace(tzinfo=None)


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(timezone.utc)


def labels(space: Space, point: dict[str, Any]) -> dict[str, Any]:
    """The user attributes that complete a stored point: ``label.<name>`` of each choice
    stored as an index, and ``value.<name>`` of each normal/lognormal value that its quantile
    does not give back bit-identical (the value is read back from it)."""
    params = {name: space[name].param for name in point}
    attrs: dict[str, Any] = {f"label.{name}": str(space.display_value(name, v))
                             for name, v in point.items()
                             if _indexed_choice(params[name])}
    for name, value in point.items():
        param = params[name]
        if isinstance(param, Normal) and from_unit(param, to_unit(param, value)) != value:
            attrs[f"{VALUE_PREFIX}{name}"] = float(value)
    return attrs


#: The user attribute of a normal/lognormal value that its quantile does not give back.
VALUE_PREFIX = "value."


def _exact_values(space: Space, point: dict[str, Any], frozen: FrozenTrial) -> None:
    """Put back the exact normal/lognormal values of ``point`` (read from its quantiles) that
    ``value.<name>`` attributes hold; one that does not match its quantile is not used."""
    for name in point:
        param = space[name].param
        exact = frozen.user_attrs.get(f"{VALUE_PREFIX}{name}")
        if not isinstance(param, Normal) or type(exact) is not float:
            continue
        try:
            quantile = float(frozen.params[name])
            if math.isclose(to_unit(param, exact), quantile, rel_tol=1e-9, abs_tol=1e-12):
                point[name] = exact
        except (ValueError, OverflowError, TypeError):  # damaged: the quantile's value stays
            pass


def _indexed_choice(param: Any) -> bool:
    return isinstance(param, Choice) and native_options(param) is None


def native(space: Space, point: dict[str, Any]
           ) -> tuple[dict[str, Any], dict[str, BaseDistribution]]:
    """Optuna ``(params, distributions)`` of a point."""
    dists = distributions(space)  # translated once: a large choice takes a while
    return to_params(space, point), {name: dists[name] for name in point}


def finish_attrs(record: TrialRecord) -> dict[str, Any]:
    """The user attributes written when a trial finishes."""
    attrs: dict[str, Any] = {f"metrics.{k}": _jsonable(v) for k, v in record.metrics.items()}
    attrs["duration_s"] = float(record.duration_s)
    if record.error is not None:
        attrs["error"] = record.error
    return attrs


#: Where a trial's constraints are: ``constraints:<i>`` system attributes.
CONSTRAINT_PREFIX = "constraints:"


def constraint_attrs(constraints: Any) -> dict[str, float]:
    """The system attributes of a trial's constraints (``trial.set_constraint``'s keys)."""
    if constraints is None:
        return {}
    return {f"{CONSTRAINT_PREFIX}{i}": float(c) for i, c in enumerate(constraints)}


def _constraints(frozen: FrozenTrial) -> tuple[float, ...] | None:
    found = frozen.constraints
    if not found:
        return None
    keys = sorted(found, key=lambda k: (0, int(k), k) if k.isdigit() else (1, 0, k))
    return tuple(float(found[k]) for k in keys)


def unproposed(space: Space, frozen: FrozenTrial) -> bool:
    """Whether a stored trial is one whose worker died while its backend proposed it: failed
    as interrupted, without a whole point. It is no trial of the study's budget (nothing was
    evaluated) and has no record."""
    if frozen.state != TrialState.FAIL or not str(frozen.user_attrs.get("error", "")
                                                   ).startswith("interrupted"):
        return False
    try:
        space.check_point(from_params(space, frozen.params))
    except (ValueError, KeyError, TypeError, IndexError):
        return True
    return False


def counted(space: Space, trials: list[FrozenTrial]) -> int:
    """How many of a study's trials count toward ``max_evals``: all but :func:`unproposed`."""
    return sum(1 for frozen in trials if not unproposed(space, frozen))


def to_records(space: Space, trials: list[FrozenTrial], where: str,
               objectives: Objectives) -> list[TrialRecord]:
    """The records of finished stored trials; a trial that does not fit ``space`` (written by
    another tool) is left out with a warning naming it. ``objectives``: the study's (named
    ones fill ``values`` even for one)."""
    records, foreign = [], []
    why = ""
    for frozen in trials:
        if unproposed(space, frozen):
            continue
        try:
            records.append(to_record(space, frozen, objectives))
        except (ValueError, KeyError, TypeError, IndexError, OverflowError, RecursionError,
                AttributeError, AssertionError) as exc:  # damaged, or another tool's
            foreign.append(frozen.number)
            why = why if foreign[1:] else f"{type(exc).__name__}: {str(exc)[:100]}"
    if foreign:
        warnings.warn(f"{where}: trials {foreign} are damaged or do not fit the stored space "
                      f"(written by another tool?) and are left out (trial {foreign[0]}: "
                      f"{why}); the other {len(records)} trials are read", stacklevel=3)
    return records


def to_record(space: Space, frozen: FrozenTrial, objectives: Objectives) -> TrialRecord:
    """The :class:`TrialRecord` of a finished stored trial (``ValueError`` if it does not fit
    ``space``)."""
    state = _FROM_OPTUNA[frozen.state]
    attrs = frozen.user_attrs
    point = from_params(space, frozen.params)
    _exact_values(space, point, frozen)
    space.check_point(point)
    started, finished = _aware(frozen.datetime_start), _aware(frozen.datetime_complete)
    duration = attrs.get("duration_s")
    if duration is None:
        duration = (finished - started).total_seconds() if started and finished else 0.0
    stored = None if state == "failed" or frozen.values is None else [float(v) for v in
                                                                      frozen.values]
    value = stored[0] if stored is not None and len(stored) == 1 else None
    values = None if stored is None else objectives.record_values(stored)
    return TrialRecord(
        trial_id=frozen.number, state=state, value=value, params=space.decode(point),
        point=point, error=attrs.get("error"), duration_s=float(duration),
        metrics={k[len("metrics."):]: v for k, v in attrs.items() if k.startswith("metrics.")},
        started=started, finished=finished,
        intermediate={int(k): float(v) for k, v in frozen.intermediate_values.items()},
        values=values, constraints=_constraints(frozen) if state == "complete" else None,
    )


def to_frozen(space: Space, record: TrialRecord, backend: str) -> FrozenTrial:
    """An Optuna ``FrozenTrial`` of a finished record (for an in-memory study)."""
    params, dists = native(space, record.point)
    values: list[float] | None = None
    if record.state != "failed":
        values = (list(record.values) if record.values is not None
                  else None if record.value is None else [record.value])
    trial = optuna.trial.create_trial(
        state=STATES[record.state], values=values, params=params, distributions=dists,
        constraints=None if record.constraints is None else {
            str(i): float(c) for i, c in enumerate(record.constraints)},
        user_attrs={**labels(space, record.point), "backend": backend, **finish_attrs(record)},
        intermediate_values=dict(record.intermediate),
    )
    if record.started is not None and record.finished is not None:
        trial.datetime_start, trial.datetime_complete = (naive(record.started),
                                                         naive(record.finished))
    return trial
