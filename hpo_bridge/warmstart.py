"""``warm_start=``: earlier trials (a ``Result``, a trials DataFrame, a stored study loaded with
``hb.load``) as finished trials of a new run, mapped onto its space by parameter name.

Each earlier finished trial (``complete``, ``pruned`` or ``failed``) becomes a record of the
new run, told to its backend with the rest of the history before the first proposal; the
objective is never called for it. A value is taken for each active parameter of the new space
by its name (``params.<name>`` in a table): a number must lie in the new range, a choice's
value must equal one of the new options or be its label (what a table or a study loaded
without ``space=`` shows for an object). A trial with a parameter missing, or a value outside
the new space, is skipped; one ``UserWarning`` counts them. Objective values are taken by
name (``values.<name>``); a run with one objective takes the earlier run's one value
whatever its name. Values are in the user's directions, so an earlier run may have had
another direction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hpo_bridge.errors import SpaceError
from hpo_bridge.objectives import Objectives
from hpo_bridge.results import Result, State, TrialRecord
from hpo_bridge.space import Choice, Space
from hpo_bridge.space.params import same_option
from hpo_bridge.space.tree import option_label

__all__ = ["WarmStart", "warm_start_records"]

_STATES = ("complete", "pruned", "failed")


@dataclass
class _Row:
    """One earlier trial, read from its source: values by parameter and objective name."""

    state: str
    params: dict[str, Any]
    values: dict[str, float | None]
    constraints: tuple[float, ...] | None
    metrics: dict[str, Any]
    error: str | None


@dataclass
class WarmStart:
    """Earlier trials as records of the new run, and what was skipped."""

    records: list[TrialRecord]
    skipped_missing: int
    skipped_outside: int
    total: int

    @property
    def message(self) -> str | None:
        """The one message that counts the skipped trials (``None``: none skipped)."""
        skipped = self.skipped_missing + self.skipped_outside
        if not skipped:
            return None
        return (f"warm_start: {skipped} of {self.total} earlier trials skipped "
                f"({self.skipped_missing} missing a parameter of the new space, "
                f"{self.skipped_outside} with a value outside it); "
                f"{len(self.records)} told to the backend")


def _state(value: Any) -> str:
    """A table's state as ours: any case, and Optuna's names (``COMPLETE``, ``FAIL``)."""
    state = str(value).strip().lower()
    return {"fail": "failed", "trialstate.complete": "complete", "trialstate.pruned": "pruned",
            "trialstate.fail": "failed"}.get(state, state)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _rows_of_result(result: Result) -> list[_Row]:
    rows = []
    names = result.objectives.names
    for r in result.records:
        params = {}
        for name, value in r.point.items():
            param = result.space[name].param
            params[name] = param.options[value] if isinstance(param, Choice) else value
        values: dict[str, float | None] = (
            {n: (None if r.values is None else r.values[i]) for i, n in enumerate(names)}
            if r.values is not None or len(names) > 1 else {names[0]: r.value})
        rows.append(_Row(r.state, params, values, r.constraints, dict(r.metrics), r.error))
    return rows


def _rows_of_frame(frame: Any) -> list[_Row]:
    columns = list(frame.columns)
    if "state" not in columns or not any(str(c).startswith("params.") for c in columns):
        raise SpaceError("warm_start: a trials table needs the columns 'state' and "
                         "'params.<name>' (the shape of result.trials); got columns "
                         f"{columns[:12]}")
    params = [c for c in columns if str(c).startswith("params.")]
    values = [c for c in columns if c == "value" or str(c).startswith("values.")]
    metrics = [c for c in columns if str(c).startswith("metrics.")]
    rows = []
    for item in frame.to_dict("records"):
        vals = {("value" if c == "value" else c[len("values."):]): (
            None if _missing(item[c]) else float(item[c])) for c in values}
        constraints = item.get("constraints")
        rows.append(_Row(
            _state(item["state"]),
            {c[len("params."):]: item[c] for c in params if not _missing(item[c])},
            vals,
            None if constraints is None or _missing(constraints) else tuple(constraints),
            {c[len("metrics."):]: item[c] for c in metrics if not _missing(item[c])},
            None if _missing(item.get("error")) else str(item.get("error"))))
    return rows


def _option_index(param: Choice, value: Any) -> int | None:
    for i, option in enumerate(param.options):
        if same_option(option, value):
            return i
    for i, option in enumerate(param.options):  # a table's or a loaded study's label
        if isinstance(value, str) and option_label(option, i) == value:
            return i
    for i, option in enumerate(param.options):  # a table's int column read as a float
        if (isinstance(option, (int, float)) and not isinstance(option, bool)
                and isinstance(value, (int, float)) and not isinstance(value, bool)
                and option == value):
            return i
    return None


def _point(space: Space, params: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The new space's point of ``params`` (by name), or ``(None, why)``."""
    point: dict[str, Any] = {}
    for dim in space.dims:
        if not space.is_active(dim, point):
            continue
        if dim.name not in params:
            return None, "missing"
        value, param = params[dim.name], dim.param
        if hasattr(value, "item") and callable(value.item):  # a NumPy scalar from a table
            value = value.item()
        if isinstance(param, Choice):
            index = _option_index(param, value)
            if index is None:
                return None, "outside"
            point[dim.name] = index
            continue
        if (isinstance(value, float) and value.is_integer() and not param.contains(value)
                and param.contains(int(value))):
            value = int(value)  # an int column with a missing value is read as floats
        if not param.contains(value):
            return None, "outside"
        point[dim.name] = param.canonical(value)
    return point, ""


def _objective_values(objectives: Objectives, row: _Row) -> dict[str, float | None] | None:
    """The row's value of each objective of the new run, by name (``None``: they do not fit)."""
    if all(n in row.values for n in objectives.names):
        return {n: row.values[n] for n in objectives.names}
    given = {n: v for n, v in row.values.items() if n != "value"} or row.values
    if len(objectives.names) == 1 and len(given) == 1:  # one objective: whatever its name
        return {objectives.names[0]: next(iter(given.values()))}
    return None


def warm_start_records(source: Any, space: Space, objectives: Objectives) -> WarmStart:
    """The finished trials of ``source`` as records of a run on ``space`` with ``objectives``,
    numbered from 0 (``SpaceError`` for a source that is none of the accepted kinds, or
    whose objective values do not fit, before any trial)."""
    if isinstance(source, Result):
        rows = _rows_of_result(source)
    elif hasattr(source, "columns") and hasattr(source, "to_dict"):
        rows = _rows_of_frame(source)
    else:
        raise SpaceError("warm_start must be a Result, a trials DataFrame (result.trials) or a "
                         f"stored study loaded with hb.load(storage, name); got "
                         f"{type(source).__name__}")
    rows = [r for r in rows if r.state in _STATES]
    records: list[TrialRecord] = []
    missing = outside = 0
    for row in rows:
        point, why = _point(space, row.params)
        if point is None:
            missing += why == "missing"
            outside += why == "outside"
            continue
        values = _objective_values(objectives, row)
        if values is None:
            raise SpaceError(
                f"warm_start: the earlier trials hold the values {sorted(row.values)}, and this "
                f"run's objectives are {list(objectives.names)}; the losses do not fit (name "
                "the objectives as the earlier run did)")
        state: State = row.state  # type: ignore[assignment]  # checked against _STATES
        numbers = tuple(values.values())
        if state == "complete" and any(v is None or math.isnan(v) for v in numbers):
            state = "failed"
        ok = state != "failed" and all(v is not None for v in numbers)
        full = tuple(float(v) for v in numbers if v is not None) if ok else None
        value = None if full is None or len(full) != 1 else full[0]
        records.append(TrialRecord(
            trial_id=len(records), state=state, value=value, params=space.decode(point),
            point=point, metrics=row.metrics, error=row.error,
            values=None if full is None else objectives.record_values(full),
            constraints=row.constraints if state == "complete" else None, warm_start=True))
    return WarmStart(records, missing, outside, len(rows))
