"""Read a hyperopt space (``hp.*`` expressions in dicts, lists and ``hp.choice``) as a DSL space.

The objective receives what ``fmin`` would pass (``space_eval``'s structure: lists become
tuples, as hyperopt makes them). Labels become the dimension names, so the hyperopt backends
run the same labels, and a space of ``uniform``, ``loguniform``, ``normal``, ``lognormal``
and ``choice`` proposes exactly what ``fmin`` proposes on the original with the same seed.

Policy, per primitive:

==================================  ===========================================================
``uniform``, ``normal``,            the DSL primitive of the same name (same distribution)
``lognormal``, ``choice``
``loguniform(l, lo, hi)``           ``loguniform(exp(lo), exp(hi))``: bounds in real units,
                                    chosen so that ``log`` gives back ``lo`` and ``hi``
``randint(l, [lo,] hi)``            ``integer(lo, hi - 1)`` (same distribution)
``pchoice``                         ``choice`` when every probability is equal, else refused
``quniform(l, lo, hi, q)``          the grid ``round(lo/q)*q .. round(hi/q)*q`` step ``q``:
``uniformint``, ``int(quniform)``   ``integer`` (``int`` values) or stepped ``uniform``
                                    (``float`` values, as hyperopt gives). hyperopt gives the end
                                    points less weight (half, for ``uniformint``); the DSL
                                    weighs every value equally: a ``ConversionWarning`` names
                                    them. Bounds half a step outside the grid (what
                                    ``Space.to_hyperopt`` writes) are equal weights: no warning.
``qloguniform(l, lo, hi, 1)``       ``integer(round(exp(lo)), round(exp(hi)), log=True)``, with a
                                    warning unless the bounds are half a step outside;
                                    refused when ``exp(lo) < 0.5``: hyperopt then draws 0,
                                    which a log-scaled integer cannot hold
``qloguniform`` with ``q != 1``,    refused (the DSL has no such grid)
``qnormal``, ``qlognormal``
other expressions (``+``, ``*``)    refused by name
==================================  ===========================================================
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any, TypeVar

from hyperopt.pyll import Apply

from hpo_bridge.errors import SpaceError
from hpo_bridge.foreign.common import ConversionWarning, library, make_space
from hpo_bridge.foreign.leaves import convert_leaf
from hpo_bridge.space import (
    Choice,
    Param,
    Space,
    choice,
    integer,
    lognormal,
    loguniform,
    normal,
    uniform,
)

__all__ = ["from_hyperopt"]

_TOL = 1e-9
_SUPPORTED = ("uniform, loguniform, normal, lognormal, choice, pchoice (equal weights), "
              "randint, quniform, uniformint, qloguniform (q=1)")

_P = TypeVar("_P", bound=Param)


def from_hyperopt(space: Any) -> Space:
    """The :class:`~hpo_bridge.space.Space` of a hyperopt space (see the module's policy)."""
    reader = _Reader()
    structure = reader.node(space, "")
    if not reader.labels:
        raise SpaceError(f"from_hyperopt: no hp.* expression in {space!r}")
    compiled = make_space(structure)
    names = {d.name: reader.labels.get(id(d.param), d.name) for d in compiled.dims}
    try:
        compiled = compiled.renamed(names)
    except ValueError as exc:
        raise SpaceError(f"hyperopt: {exc}") from None
    compiled.structure = space  # storage re-reads the original
    return compiled


def exp_exact(a: float) -> float:
    """A float ``x`` near ``exp(a)`` with ``math.log(x) == a`` when one exists (the shortest)."""
    x = math.exp(a)
    candidates, down, up = [x], x, x
    for _ in range(8):
        down, up = math.nextafter(down, 0.0), math.nextafter(up, math.inf)
        candidates += [down, up]
    exact = [c for c in candidates if math.log(c) == a]
    return min(exact, key=lambda c: (len(repr(c)), abs(c - x))) if exact else x


def _number(value: Any) -> float:
    number: float = value.item() if hasattr(value, "item") else value
    return number


class _Reader:
    """Walks a hyperopt space; ``labels`` maps each DSL parameter (by id) to its label."""

    def __init__(self) -> None:
        self.labels: dict[int, str] = {}
        self.changed: list[str] = []

    def node(self, obj: Any, path: str) -> Any:
        if isinstance(obj, Apply):
            return self.apply(obj, path)
        if isinstance(obj, Mapping):
            return {k: self.node(v, f"{path}.{k}" if path else str(k)) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):  # hyperopt hands every sequence back as a tuple
            return tuple(self.node(v, f"{path}.{i}" if path else str(i))
                         for i, v in enumerate(obj))
        if isinstance(obj, Choice):
            return Choice(tuple(self.node(o, f"{path}[{i}]") for i, o in enumerate(obj.options)))
        if library(obj) is not None:
            return convert_leaf(obj, path or "x")
        return obj

    def apply(self, node: Apply, path: str) -> Any:
        name = node.name
        if name == "literal":
            return self.node(node.obj, path)
        if name == "dict":
            return {k: self.node(v, f"{path}.{k}" if path else k) for k, v in node.named_args}
        if name == "pos_args":
            return tuple(self.node(v, f"{path}.{i}" if path else str(i))
                         for i, v in enumerate(node.pos_args))
        if name == "switch" and node.pos_args[0].name == "hyperopt_param":
            return self.switch(node)
        if name in ("float", "int") and node.pos_args:
            inner = node.pos_args[0]
            if name == "int" and inner.name == "float" and inner.pos_args:
                inner = inner.pos_args[0]
            if inner.name == "hyperopt_param":
                return self.param(inner, as_int=name == "int")
        if name == "hyperopt_param":
            return self.param(node, as_int=False)
        raise SpaceError(
            f"hyperopt: {path or 'the space'}: the expression {name!r} is not an hp.* primitive; "
            f"convertible are {_SUPPORTED}, inside dicts, lists and tuples")

    def _label(self, hparam: Apply) -> str:
        label: str = hparam.pos_args[0].obj
        if label in self.labels.values():
            raise SpaceError(f"hyperopt: label {label!r} is used twice; give each hp.* "
                             "expression its own label")
        return label

    def _record(self, param: _P, label: str) -> _P:
        self.labels[id(param)] = label
        return param

    def switch(self, node: Apply) -> Choice:
        hparam = node.pos_args[0]
        label = self._label(hparam)
        dist = hparam.pos_args[1]
        if dist.name == "categorical":
            weights = [float(_number(p.obj)) for p in dist.pos_args[0].pos_args]
            if max(weights) - min(weights) > _TOL:
                raise SpaceError(
                    f"hyperopt: parameter {label!r}: pchoice with unequal probabilities "
                    f"{weights} has no DSL equivalent (every option of a choice is equally "
                    "likely); repeat options or use hp.choice")
        options = tuple(self.node(o, f"{label}[{i}]") for i, o in enumerate(node.pos_args[1:]))
        try:
            return self._record(choice(options), label)
        except ValueError as exc:
            raise SpaceError(f"hyperopt: parameter {label!r}: {exc}") from None

    def param(self, hparam: Apply, as_int: bool) -> Param:
        label = self._label(hparam)
        dist = hparam.pos_args[1]
        nodes = [*dist.pos_args, *(v for _, v in dist.named_args)]
        if any(a.name != "literal" for a in nodes):
            raise SpaceError(f"hyperopt: parameter {label!r}: its arguments must be numbers, "
                             f"not expressions ({dist.name})")
        args = [_number(a.obj) for a in nodes]
        try:
            return self._record(self._primitive(dist.name, args, as_int, label), label)
        except SpaceError:
            raise
        except (ValueError, TypeError) as exc:
            raise SpaceError(f"hyperopt: parameter {label!r}: {exc}") from None

    def _primitive(self, kind: str, args: list[Any], as_int: bool, label: str) -> Param:
        if kind == "uniform":
            return uniform(float(args[0]), float(args[1]))
        if kind == "loguniform":
            return loguniform(exp_exact(float(args[0])), exp_exact(float(args[1])))
        if kind == "normal":
            return normal(float(args[0]), float(args[1]))
        if kind == "lognormal":
            return lognormal(float(args[0]), float(args[1]))
        if kind == "randint":
            low, high = (0, args[0]) if len(args) == 1 else args[:2]
            return integer(int(low), int(high) - 1)
        if kind == "quniform":
            return _quniform(label, float(args[0]), float(args[1]), float(args[2]),
                             as_int=as_int)
        if kind == "qloguniform" and float(args[2]) == 1.0:
            return _qloguniform(label, float(args[0]), float(args[1]), as_int)
        raise SpaceError(
            f"hyperopt: parameter {label!r}: {kind}{tuple(args)} has no DSL equivalent; "
            f"convertible are {_SUPPORTED}")


def _whole(x: float) -> bool:
    return abs(x - round(x)) <= _TOL * max(1.0, abs(x))


def _warn(label: str, what: str, now: Param) -> None:
    warnings.warn(f"hyperopt: parameter {label!r}: {what}; as {now!r} they get their full "
                  "share (see docs/spaces.md, 'Already have a space?')", ConversionWarning, stacklevel=2)


def _quniform(label: str, low: float, high: float, q: float, as_int: bool) -> Param:
    half = _whole(low / q + 0.5) and _whole(high / q - 0.5)
    k_lo, k_hi = (round(low / q + 0.5), round(high / q - 0.5)) if half else (
        round(low / q), round(high / q))
    if k_lo >= k_hi:
        raise SpaceError(f"hyperopt: parameter {label!r}: quniform({low}, {high}, {q}) takes "
                         "a single value; use a constant")
    if as_int:
        if not _whole(q):
            raise SpaceError(f"hyperopt: parameter {label!r}: int(quniform(..., q={q})) needs "
                             "a whole q")
        step = round(q)
        param: Param = integer(k_lo * step, k_hi * step, step=step)
    else:
        param = uniform(float(k_lo * q), float(k_hi * q), step=q)
    if not half:
        _warn(label, f"quniform({low:g}, {high:g}, {q:g}) gives the end points "
              f"{k_lo * q:g} and {k_hi * q:g} less weight than the values between", param)
    return param


def _qloguniform(label: str, low: float, high: float, as_int: bool) -> Param:
    a, b = math.exp(low), math.exp(high)
    if a < 0.5 and not _whole(a + 0.5):
        # hyperopt's value is round(exp(U(low, high))): 0 whenever exp(U) < 0.5 (issue 26, D12)
        share = (math.log(min(b, 0.5)) - low) / (high - low)
        raise SpaceError(
            f"hyperopt: parameter {label!r}: qloguniform({low:g}, {high:g}, 1) draws "
            f"round(exp(U({low:g}, {high:g}))), which is 0 whenever exp(U) < 0.5: "
            f"{share:.1%} of its draws (log(0.5 / {a:g}) / ({high:g} - {low:g})). The DSL "
            "has no equivalent: a log-scaled integer cannot hold 0, and a choice gives each "
            f"option the same weight. Use a low of at least log(0.5) = {math.log(0.5):g} "
            "(0 is then never drawn), or write the space with hb.* (e.g. hb.choice([0, "
            f"hb.integer(1, {max(round(b), 2)}, log=True)]), which gives 0 half the time)")
    # the smallest and largest values hyperopt draws; an end a whole number + 0.5 from
    # exp(bound) gets the same weight as in the DSL's log-scaled integer, the others less
    lo_full, hi_full = _whole(a + 0.5), _whole(b - 0.5)
    lo = round(a + 0.5) if lo_full else max(round(a), 1)
    hi = round(b - 0.5) if hi_full else round(b)
    param = integer(lo, hi, log=True)
    lighter = [str(v) for v, full in ((lo, lo_full), (hi, hi_full)) if not full]
    if lighter:
        ends = " and ".join(lighter)
        _warn(label, f"qloguniform({low:g}, {high:g}, 1) gives the end point"
              f"{'s' if len(lighter) > 1 else ''} {ends} less weight than the DSL's "
              f"log-scaled integer", param)
    if not as_int:
        warnings.warn(f"hyperopt: parameter {label!r}: qloguniform gives floats such as 3.0; "
                      f"as {param!r} the objective receives ints", ConversionWarning,
                      stacklevel=2)
    return param
