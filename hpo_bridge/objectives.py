"""Several objectives and constraints: the ``objectives=`` argument and what an objective returns.

``objectives=["error", "latency"]`` (every objective minimized) or
``objectives={"acc": "maximize", "latency": "minimize"}``. The objective then returns a mapping
holding those keys (other keys are kept as metrics), or a sequence of numbers in that order.
An optional ``"constraints"`` entry (a number or a sequence of numbers) says whether the
configuration is feasible: every constraint ``<= 0``, Optuna's ``constraints_func`` convention.
``"constraints"`` is also read from a single objective's mapping (``{"value": v,
"constraints": c}``).

Whose fault: a missing key, a sequence of the wrong length or a value that is not a number is
the objective's (``ValueError`` here, an ``ObjectiveError`` that stops the run in
``minimize``); NaN in an objective or a constraint makes a failed trial, as NaN does for one
objective; ``inf`` is kept.

Example:
    >>> spec = parse_objectives({"acc": "maximize", "latency": "minimize"})
    >>> spec
    Objectives(acc='maximize', latency='minimize')
    >>> parse_value({"acc": 0.9, "latency": 3, "constraints": [-1, 0.5]}, spec).values
    (0.9, 3.0)
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, ClassVar, Literal, cast

from hpo_bridge.errors import SpaceError, UnsupportedError

__all__ = [
    "CONSTRAINTS",
    "Objectives",
    "Parsed",
    "Unnamed",
    "feasible",
    "parse_objectives",
    "parse_value",
    "run_objectives",
    "to_number",
    "violation",
]

Direction = Literal["minimize", "maximize"]
_DIRECTIONS = ("minimize", "maximize")
#: The key of the constraints in what an objective returns.
CONSTRAINTS = "constraints"
_RESERVED = (CONSTRAINTS, "value", "loss")


@dataclass(frozen=True, repr=False)
class Objectives:
    """The run's objectives: names, in order, and each one's direction.

    Every run has one: a run without ``objectives=`` has one unnamed objective
    (:meth:`unnamed`, an :class:`Unnamed`: it returns a number or ``{"value": ...}``, and its
    records keep ``value`` alone). What differs between the two is carried here, as data and
    methods (:meth:`parse`, :attr:`columns`, :meth:`metadata`, :attr:`returns`,
    :meth:`record_values`), so callers do not branch on it.
    """

    names: tuple[str, ...]
    directions: tuple[Direction, ...]
    #: Whether the objectives have names (``objectives=``); :class:`Unnamed` for one without.
    named: ClassVar[bool] = True

    @classmethod
    def unnamed(cls, direction: Direction = "minimize") -> Objectives:
        """One unnamed objective, ``direction`` (a run without ``objectives=``)."""
        return Unnamed(("value",), (direction,))

    @classmethod
    def from_stored(cls, stored: Any, directions: Sequence[str]) -> Objectives:
        """The objectives of a stored study: ``stored`` is what :meth:`metadata` wrote under
        ``"objectives"`` (``None``: the study has one unnamed objective, in its first
        direction). ``len()`` of the result differs from ``len(directions)`` in a damaged
        study."""
        if stored is None:  # what metadata() of an unnamed objective leaves out
            return cls.unnamed(*cast("list[Direction]", list(directions[:1])))
        return _named(stored)

    def __len__(self) -> int:
        return len(self.names)

    # The fields are not checked against each other here (parse_objectives and unnamed build
    # them of one length), so the zips below do not assert it.
    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={d!r}" for n, d in zip(self.names, self.directions,
                                                            strict=False))
        return f"Objectives({inner})"

    @property
    def multi(self) -> bool:
        """More than one objective."""
        return len(self.names) > 1

    @property
    def direction(self) -> Direction:
        """The run's one direction: the objective's own, ``"minimize"`` with several (each is
        told as a loss)."""
        return self.directions[0] if len(self.names) == 1 else "minimize"

    @property
    def columns(self) -> tuple[str, ...]:
        """The names of the ``values.<name>`` columns of a trials table (none when unnamed)."""
        return self.names

    @property
    def returns(self) -> str:
        """What the objective must return, for error messages."""
        return f"a mapping with {list(self.names)} (or a sequence in that order)"

    def refuse_several(self, who: str, why: str) -> None:
        """Refuse several objectives where something cannot take them (a backend whose
        ``capabilities.objectives`` is ``'refused'``, a pruner): ``UnsupportedError`` saying
        ``"{who} several objectives (names): {why}"``, before the first trial.

        Raises:
            UnsupportedError: with several objectives.
        """
        if self.multi:
            raise UnsupportedError(f"{who} several objectives ({', '.join(self.names)}): {why}")

    def losses(self, values: Sequence[float]) -> tuple[float, ...]:
        """``values`` (the user's directions) as losses: every objective minimized."""
        return tuple(-v if d == "maximize" else v for v, d in zip(values, self.directions,
                                                                    strict=False))

    def as_dict(self) -> dict[str, str]:
        return dict(zip(self.names, self.directions, strict=False))

    def metadata(self) -> dict[str, Any]:
        """What a stored study and a trials table hold of the objectives, by key (the
        study's user attribute ``hpo_bridge.objectives``, the table's ``attrs``); read back
        with :meth:`from_stored`. Empty for one unnamed objective."""
        return {"objectives": self.as_dict()}

    def changed_directions(self, stored: Sequence[str]) -> str:
        """How ``stored`` (a stored study's directions) differs from these, for an error."""
        return f"was stored with directions {list(stored)}; this run has {list(self.directions)}"

    def record_values(self, stored: Sequence[float]) -> tuple[float, ...] | None:
        """A record's ``values`` from the stored values of a trial (``None`` when unnamed)."""
        return tuple(stored)

    def parse(self, returned: Any) -> Parsed:
        """Check what an objective returned (a mapping holding every name, or a sequence in
        their order; one objective: a number too).

        Raises:
            ValueError: the objective's fault (a missing key, a wrong length, not a number).
        """
        metrics, constraints = _metrics(returned)
        if isinstance(returned, Mapping):
            missing = [n for n in self.names if n not in returned]
            if missing:
                raise ValueError(_missing(missing, returned))
            raw = [metrics.pop(n) for n in self.names]
        elif isinstance(returned, (list, tuple)) or (
                hasattr(returned, "__len__") and hasattr(returned, "__getitem__")
                and not isinstance(returned, (str, bytes))
                and getattr(returned, "ndim", 1) != 0):  # a 0-d array or tensor is one number
            raw = list(returned)
            if len(raw) != len(self):
                raise ValueError(f"objective returned {len(raw)} values, objectives= names "
                                 f"{len(self)} ({', '.join(self.names)}); return them in that "
                                 "order or as a mapping")
        elif len(self) == 1:
            raw = [returned]
        else:
            raise ValueError(f"objective must return a mapping with keys {list(self.names)} "
                             f"(or a sequence in that order), got {returned!r}")
        values = tuple(to_number(v, f"objective {n!r}")
                       for n, v in zip(self.names, raw, strict=True))
        nan_names = [n for n, v in zip(self.names, values, strict=True) if math.isnan(v)]
        nan = (f"objective returned NaN for {', '.join(map(repr, nan_names))}" if nan_names
               else None)
        single = values[0] if len(self) == 1 else None
        return _with_constraints(Parsed(single, values, constraints, metrics, nan))


@dataclass(frozen=True, repr=False)
class Unnamed(Objectives):
    """One unnamed objective (a run without ``objectives=``): it returns a number or a
    mapping with ``"value"`` (or ``"loss"``), its records keep ``value`` alone, and a trials
    table or a stored study holds nothing more of it."""

    named: ClassVar[bool] = False

    def __repr__(self) -> str:
        return f"Objectives.unnamed({self.directions[0]!r})"

    @property
    def columns(self) -> tuple[str, ...]:
        return ()

    @property
    def returns(self) -> str:
        return "a number or a mapping with 'value' (or 'loss')"

    def metadata(self) -> dict[str, Any]:
        return {}

    def changed_directions(self, stored: Sequence[str]) -> str:
        if len(stored) == 1:  # the stored study's shape, not this run's
            return f"was stored with direction {stored[0]!r}; this run would {self.direction}"
        return super().changed_directions(stored)

    def record_values(self, stored: Sequence[float]) -> tuple[float, ...] | None:
        return None

    def parse(self, returned: Any) -> Parsed:
        """Check what an objective returned: a number, or a mapping with ``"value"`` (or
        ``"loss"``).

        Raises:
            ValueError: the objective's fault (a missing key, not a number).
        """
        metrics, constraints = _metrics(returned)
        if isinstance(returned, Mapping):
            key = "value" if "value" in returned else "loss" if "loss" in returned else None
            if key is None:
                raise ValueError(f"objective returned a mapping without 'value' or 'loss': keys "
                                 f"{sorted(map(str, returned))}")
            returned = metrics.pop(key)
        value = to_number(returned, "objective")
        nan = "objective returned NaN" if math.isnan(value) else None
        return _with_constraints(Parsed(value, None, constraints, metrics, nan))


def run_objectives(objectives: Any, direction: Any = None) -> Objectives:
    """:func:`parse_objectives`: a run without ``objectives=`` has one unnamed objective in
    ``direction`` (default ``"minimize"``)."""
    return parse_objectives(objectives, direction)


def parse_objectives(objectives: Any, direction: Any = None) -> Objectives:
    """Check ``objectives=`` (a list of names, or a mapping name -> direction).

    ``None`` gives one unnamed objective (:meth:`Objectives.unnamed`) in ``direction``
    (default ``"minimize"``). ``direction`` is what the caller got for ``direction=``
    (``None`` when not given): both together are refused, since each objective has its own
    direction.

    Raises:
        SpaceError: naming the rule and the fix.
    """
    if objectives is None:  # the one place a run's objectives get their shape
        return Objectives.unnamed(cast(Direction, direction or "minimize"))
    if direction is not None:
        raise SpaceError(
            f"objectives= and direction={direction!r} were both given; with objectives= each "
            "objective has its own direction: objectives={'acc': 'maximize', 'latency': "
            "'minimize'} (a list of names minimizes every one)")
    return _named(objectives)


def _named(objectives: Any) -> Objectives:
    """Named objectives from ``objectives=`` (or a stored study's), checked."""
    if isinstance(objectives, Mapping):
        names, directions = list(objectives), list(objectives.values())
    elif isinstance(objectives, (list, tuple)):
        names, directions = list(objectives), ["minimize"] * len(objectives)
    else:
        raise SpaceError("objectives must be a list of names (all minimized) or a dict "
                         f"{{name: 'minimize' | 'maximize'}}, got {objectives!r}")
    if not names:
        raise SpaceError("objectives must name at least one objective, got an empty "
                         f"{type(objectives).__name__}")
    for name in names:
        if not isinstance(name, str) or not name:
            raise SpaceError(f"objectives: every name must be a non-empty string, got {name!r}")
        if name in _RESERVED:
            raise SpaceError(f"objectives: {name!r} is reserved ({CONSTRAINTS!r} holds the "
                             "constraints, 'value'/'loss' a single unnamed objective); choose "
                             "another name")
    if len(set(names)) != len(names):
        raise SpaceError(f"objectives: names must be unique, got {names}")
    for name, d in zip(names, directions, strict=True):
        if d not in _DIRECTIONS:
            raise SpaceError(f"objectives: the direction of {name!r} must be 'minimize' or "
                             f"'maximize', got {d!r}")
    return Objectives(tuple(names), tuple(cast(Direction, d) for d in directions))


def _one_element(value: Any) -> bool:
    if not callable(getattr(value, "item", None)):
        return False
    numel = getattr(value, "numel", None)  # torch: size() is a method, numel() the count
    size = numel() if callable(numel) else getattr(value, "size", 1)
    return isinstance(size, int) and size == 1


def to_number(value: Any, what: str = "objective") -> float:
    """A real number from a Python, NumPy or torch scalar (0-d or one element); ``ValueError``
    naming ``what`` otherwise."""
    if _one_element(value):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{what} must be a real number, got {value!r}")
    return float(value)


@dataclass
class Parsed:
    """What an objective returned, checked: ``value`` (one objective), ``values`` (each
    objective, the user's directions, ``None`` without ``objectives=``), ``constraints``,
    ``metrics``, and ``nan`` (why the trial fails: a NaN, else ``None``)."""

    value: float | None
    values: tuple[float, ...] | None
    constraints: tuple[float, ...] | None
    metrics: dict[str, Any] = field(default_factory=dict)
    nan: str | None = None


def _constraints(raw: Any) -> tuple[float, ...]:
    if isinstance(raw, (str, bytes, Mapping)):
        raise ValueError(f"'constraints' must be a number or a sequence of numbers (<= 0 is "
                         f"feasible), got {raw!r}")
    if not _one_element(raw) and hasattr(raw, "__iter__"):
        items = list(raw)
        if not items:
            raise ValueError("'constraints' is empty; return a number or a non-empty sequence "
                             "(<= 0 is feasible), or leave the key out")
        return tuple(to_number(c, "each constraint") for c in items)
    return (to_number(raw, "'constraints'"),)


def _missing(keys: list[str], returned: Mapping[Any, Any]) -> str:
    have = [str(k) for k in returned]
    hints = []
    for key in keys:
        close = difflib.get_close_matches(key, have, n=1, cutoff=0.6)
        hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return (f"objective returned a mapping without {', '.join(hints)}: keys {sorted(have)}; "
            "it must hold every name in objectives=")


def parse_value(returned: Any, spec: Objectives) -> Parsed:
    """Check what an objective returned against ``spec`` (:meth:`Objectives.parse`; one
    unnamed objective: a number or a mapping with ``"value"``/``"loss"``).

    Raises:
        ValueError: the objective's fault (a missing key, a wrong length, not a number).
    """
    return spec.parse(returned)


def _metrics(returned: Any) -> tuple[dict[str, Any], tuple[float, ...] | None]:
    """The metrics of a returned mapping (every key, for now) and its constraints."""
    metrics: dict[str, Any] = {}
    constraints = None
    if isinstance(returned, Mapping):
        metrics = {k: v for k, v in returned.items()}
        if CONSTRAINTS in metrics:
            constraints = _constraints(metrics.pop(CONSTRAINTS))
    return metrics, constraints


def _with_constraints(parsed: Parsed) -> Parsed:
    if parsed.nan is None and parsed.constraints is not None and any(
            math.isnan(c) for c in parsed.constraints):
        parsed.nan = "objective returned NaN in 'constraints'"
    return parsed


def violation(constraints: Sequence[float] | None) -> float:
    """How far from feasible: the sum of the positive constraints (0 when feasible)."""
    return 0.0 if constraints is None else float(sum(c for c in constraints if c > 0))


def feasible(constraints: Sequence[float] | None) -> bool:
    """Every constraint ``<= 0`` (no constraints: feasible)."""
    return constraints is None or all(c <= 0 for c in constraints)
