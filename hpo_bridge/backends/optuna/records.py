"""Trial records as Optuna trials and back: what a stored study holds for every backend.

A stored trial is its *point*: an object choice (or one whose options Optuna would confuse by
``==``) is its option's label (``translate.choice_labels``: a ``CategoricalDistribution`` of
the labels, so every Optuna tool shows ``Adam``, not ``0``); a study stored before labels
(without the study system attribute ``hpo_bridge:choices``) keeps its option indices, with a
readable ``label.<name>`` user attribute, for every later run too (Optuna refuses another
distribution for a parameter it holds). A normal prior is its quantile (see ``translate.py``),
with the exact value in a ``value.<name>`` user attribute when the quantile does not give it
back bit-identical. Values are stored in the user's direction, with the user attributes
``metrics.<key>``, ``error``, ``duration_s`` (the trial's wall time) and ``objective_s`` (the
objective's own). Several objectives are the trial's ``values`` (the study has
``directions``, and its objectives' names set by ``study.set_metric_names``); constraints are
the list system attribute ``constraints`` that ``constraints_func`` writes, where Optuna's
samplers, ``study.best_trials`` and optuna-dashboard all read them. In a multi-fidelity run,
the user attributes ``budget`` and ``config_id`` are the evaluation's budget and its
configuration's id, written when it starts, so that a resumed study or another worker
continues the brackets (see :mod:`hpo_bridge.schedulers`).
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
    choice_labels,
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
           "to_frozen", "naive", "constraint_attrs", "CONSTRAINTS_KEY", "counted", "unproposed",
           "checked_attrs", "CHOICES_ATTR", "SPACE_DOC_ATTR", "is_labelled", "read_attrs",
           "name_metrics", "choice_labels", "scheduled", "schedule_attrs"]

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


#: The study system attribute of a study whose object choices are stored by label
#: (``"labels"``); a study of hpo_bridge without it was stored before labels, by index.
CHOICES_ATTR = "hpo_bridge:choices"
#: The study system attribute that holds the space description (``space_doc``): out of the
#: user attributes, which optuna-dashboard shows. A study stored before keeps it in the user
#: attribute ``hpo_bridge.space_doc``, which is read first.
SPACE_DOC_ATTR = "hpo_bridge:space_doc"


def is_labelled(system_attrs: dict[str, Any]) -> bool:
    """Whether a study (its system attributes) stores object choices by label."""
    return system_attrs.get(CHOICES_ATTR) == "labels"


def read_attrs(storage: Any, study_id: int, where: str) -> tuple[dict[str, Any], bool]:
    """A stored study's user attributes, checked (:func:`checked_attrs`), with its space
    description ``hpo_bridge.space_doc`` wherever it is kept, and whether its object choices
    are stored by label. Read once, without ``study.user_attrs``'s deep copy."""
    system = storage.get_study_system_attrs(study_id)
    attrs = checked_attrs(storage.get_study_user_attrs(study_id), where)
    if _A + "space_doc" not in attrs and SPACE_DOC_ATTR in system:
        attrs = {**attrs, _A + "space_doc": system[SPACE_DOC_ATTR]}
    return attrs, is_labelled(system)


def name_metrics(study: Any, names: list[str]) -> None:
    """Set the objectives' names on the study (``study.set_metric_names``, where Optuna's
    tools and optuna-dashboard read them), one objective too."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names(names)


def labels(space: Space, point: dict[str, Any], labelled: bool = True) -> dict[str, Any]:
    """The user attributes that complete a stored point: ``label.<name>`` of each choice
    stored as an index (a study stored before labels), and ``value.<name>`` of each
    normal/lognormal value that its quantile does not give back bit-identical (the value is
    read back from it)."""
    params = {name: space[name].param for name in point}
    attrs: dict[str, Any] = {} if labelled else {
        f"label.{name}": str(space.display_value(name, v)) for name, v in point.items()
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


def native(space: Space, point: dict[str, Any], labelled: bool = True
           ) -> tuple[dict[str, Any], dict[str, BaseDistribution]]:
    """Optuna ``(params, distributions)`` of a point (``labelled=False``: object choices by
    index, for a study stored before labels)."""
    dists = distributions(space, labelled)  # translated once: a large choice takes a while
    return to_params(space, point, labelled), {name: dists[name] for name in point}


def finish_attrs(record: TrialRecord) -> dict[str, Any]:
    """The user attributes written when a trial finishes."""
    attrs: dict[str, Any] = {f"metrics.{k}": _jsonable(v) for k, v in record.metrics.items()}
    attrs["duration_s"] = float(record.duration_s)
    # null when not measured: its presence says duration_s is the wall time
    attrs["objective_s"] = None if record.objective_s is None else float(record.objective_s)
    if record.error is not None:
        attrs["error"] = record.error
    return {**attrs, **schedule_attrs(record.budget, record.config_id)}


def schedule_attrs(budget: float | None, config_id: int | None) -> dict[str, Any]:
    """The user attributes of a multi-fidelity evaluation: ``budget`` and ``config_id``."""
    if budget is None or config_id is None:
        return {}
    return {"budget": budget, "config_id": int(config_id)}


def scheduled(frozen: FrozenTrial) -> tuple[float, int] | None:
    """``(budget, config_id)`` of a stored multi-fidelity evaluation (``None``: none, or
    damaged)."""
    budget, config_id = frozen.user_attrs.get("budget"), frozen.user_attrs.get("config_id")
    if (isinstance(budget, bool) or not isinstance(budget, (int, float))
            or not math.isfinite(budget) or type(config_id) is not int or config_id < 0):
        return None
    return budget, config_id


#: Where a trial's constraints are: the system attribute ``constraints``, a list, as
#: ``constraints_func`` writes it (Optuna's ``_CONSTRAINTS_KEY``). Optuna 5 reads it as
#: ``trial.constraints == {"0": c0, "1": c1, ...}``, what ``set_constraint(str(i), ci)``
#: gives, so its samplers see the same; optuna-dashboard reads only this list.
CONSTRAINTS_KEY = "constraints"


def constraint_attrs(constraints: Any) -> dict[str, list[float]]:
    """The system attribute of a trial's constraints (none without constraints)."""
    if constraints is None:
        return {}
    return {CONSTRAINTS_KEY: [float(c) for c in constraints]}


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
               objectives: Objectives, budget_name: str | None = None) -> list[TrialRecord]:
    """The records of finished stored trials; a trial that does not fit ``space`` (written by
    another tool) is left out with a warning naming it. ``objectives``: the study's (named
    ones fill ``values`` even for one); ``budget_name``: a multi-fidelity study's fidelity (its
    budget is in the record's ``params`` under that name)."""
    records, foreign = [], []
    why = ""
    for frozen in trials:
        if unproposed(space, frozen):
            continue
        try:
            records.append(to_record(space, frozen, objectives, budget_name))
        except (ValueError, KeyError, TypeError, IndexError, OverflowError, RecursionError,
                AttributeError, AssertionError) as exc:  # damaged, or another tool's
            foreign.append(frozen.number)
            why = why if foreign[1:] else f"{type(exc).__name__}: {str(exc)[:100]}"
    if foreign:
        warnings.warn(f"{where}: trials {foreign} are damaged or do not fit the stored space "
                      f"(written by another tool?) and are left out (trial {foreign[0]}: "
                      f"{why}); the other {len(records)} trials are read", stacklevel=3)
    return records


def to_record(space: Space, frozen: FrozenTrial, objectives: Objectives,
              budget_name: str | None = None) -> TrialRecord:
    """The :class:`TrialRecord` of a finished stored trial (``ValueError`` if it does not fit
    ``space``)."""
    state = _FROM_OPTUNA[frozen.state]
    attrs = frozen.user_attrs
    point = from_params(space, frozen.params)
    _exact_values(space, point, frozen)
    space.check_point(point)
    started, finished = _aware(frozen.datetime_start), _aware(frozen.datetime_complete)
    wall = (finished - started).total_seconds() if started and finished else None
    duration, objective = attrs.get("duration_s"), attrs.get("objective_s")
    if "objective_s" not in attrs and "duration_s" in attrs and wall is not None:
        # stored before objective_s: duration_s was the objective's time
        objective, duration = duration, wall
    if duration is None:
        duration = wall if wall is not None else 0.0
    stored = None if state == "failed" or frozen.values is None else [float(v) for v in
                                                                      frozen.values]
    value = stored[0] if stored is not None and len(stored) == 1 else None
    values = None if stored is None else objectives.record_values(stored)
    params = space.decode(point)
    budget, config_id = scheduled(frozen) or (None, None)
    if budget is not None and budget_name is not None and isinstance(params, dict):
        params[budget_name] = budget
    return TrialRecord(
        trial_id=frozen.number, state=state, value=value, params=params,
        point=point, error=attrs.get("error"), duration_s=float(duration),
        metrics={k[len("metrics."):]: v for k, v in attrs.items() if k.startswith("metrics.")},
        started=started, finished=finished,
        intermediate={int(k): float(v) for k, v in frozen.intermediate_values.items()},
        values=values, constraints=_constraints(frozen) if state == "complete" else None,
        objective_s=None if not isinstance(objective, (int, float)) else float(objective),
        budget=budget, config_id=config_id,
    )


def to_frozen(space: Space, record: TrialRecord, backend: str) -> FrozenTrial:
    """An Optuna ``FrozenTrial`` of a finished record (for an in-memory study)."""
    params, dists = native(space, record.point)  # object choices by label
    values: list[float] | None = None
    if record.state != "failed":
        values = (list(record.values) if record.values is not None
                  else None if record.value is None else [record.value])
    trial = optuna.trial.create_trial(
        state=STATES[record.state], values=values, params=params, distributions=dists,
        system_attrs=constraint_attrs(record.constraints),
        user_attrs={**labels(space, record.point), "backend": backend, **finish_attrs(record)},
        intermediate_values=dict(record.intermediate),
    )
    if record.started is not None and record.finished is not None:
        trial.datetime_start, trial.datetime_complete = (naive(record.started),
                                                         naive(record.finished))
    return trial
