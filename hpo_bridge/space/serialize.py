"""A space as plain JSON data, and back: what a stored study keeps instead of a pickle.

:func:`describe` turns a space's structure into JSON-ready data: every parameter with its
arguments, every container with its items, and every constant or option that is a plain value
(``None``, ``bool``, ``int``, ``float``, ``str``) with its type. Any other object (a class, a
function, an instance) is kept as its readable label only.

:func:`rebuild` makes a :class:`Space` from that data without running any code: nothing is
unpickled, imported or evaluated. Objects that were kept as labels come back as
:class:`StoredLabel` strings, and :func:`rebuild` says which.

Example:
    >>> from hpo_bridge.space import choice, compile_space, uniform
    >>> doc = describe(compile_space({"x": uniform(0.0, 1.0), "act": choice([len, "relu"])}))
    >>> space, labels = rebuild(doc)
    >>> space.decode({"x": 0.5, "act": 0})
    {'x': 0.5, 'act': StoredLabel('len')}
    >>> labels
    ['act[0]: len']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from hpo_bridge.errors import SpaceError
from hpo_bridge.space.params import (
    Choice,
    Integer,
    LogNormal,
    LogUniform,
    Normal,
    Param,
    Uniform,
)
from hpo_bridge.space.tree import Space, compile_space, option_label

__all__ = ["describe", "rebuild", "StoredLabel", "FORMAT"]

#: Version of the description; a study written with another one is refused by name.
FORMAT = 1

_PLAIN = {type(None): "none", bool: "bool", int: "int", float: "float", str: "str"}


class StoredLabel(str):
    """An option that a stored study keeps as its label only (a class, a function, ...).

    A ``str`` of another type than ``str``, so it is never mistaken for a string option.
    """

    def __repr__(self) -> str:
        return f"StoredLabel({str.__repr__(self)})"

    @property
    def __name__(self) -> str:
        """The label, where the object it stands for had its name (a class, a function)."""
        return str(self)


def describe(space: Space) -> dict[str, Any]:
    """JSON-ready data of ``space``'s structure (see the module docstring)."""
    source = space.compiled_from
    renames = {a: b for a, b in zip(Space(source).names, space.names, strict=True) if a != b}
    return {"format": FORMAT, "structure": _node(source, ""), "names": space.names,
            "renames": renames}


def _value(obj: Any, label: str) -> dict[str, Any]:
    kind = _PLAIN.get(type(obj))
    if kind is None:
        return {"label": label}
    if kind == "float" and not math.isfinite(obj):
        return {"t": kind, "v": repr(obj)}  # 'nan', 'inf', '-inf': JSON has no such numbers
    return {"t": kind, "v": obj}


def _node(obj: Any, label: str | None = None) -> dict[str, Any]:
    """``label`` names an object kept as a label (a choice's option label); by default its
    ``__name__`` or its type's name."""
    if isinstance(obj, Param):
        return _param(obj)
    if isinstance(obj, Mapping):
        return {"dict": [[_node(k), _node(v)] for k, v in obj.items()], **_kind(obj, dict)}
    if isinstance(obj, (list, tuple)):
        base = list if isinstance(obj, list) else tuple
        return {base.__name__: [_node(v) for v in obj], **_kind(obj, base)}
    name = getattr(obj, "__name__", None)
    return _value(obj, label or (name if isinstance(name, str) else type(obj).__name__))


def _kind(obj: Any, base: type) -> dict[str, str]:
    """A container of a subclass (``OrderedDict``, a namedtuple) keeps its class name."""
    return {} if type(obj) is base else {"kind": type(obj).__qualname__}


def _param(param: Param) -> dict[str, Any]:
    if isinstance(param, Choice):
        labels = [option_label(o, i) for i, o in enumerate(param.options)]
        return {"choice": [_node(o, lab) for o, lab in zip(param.options, labels, strict=True)]}
    if isinstance(param, Integer):
        return {"integer": [param.low, param.high], "step": param.step, "log": param.log}
    if isinstance(param, Uniform):
        return {"uniform": [param.low, param.high], "step": param.step}
    if isinstance(param, LogUniform):
        return {"loguniform": [param.low, param.high]}
    if isinstance(param, Normal):
        name = "lognormal" if isinstance(param, LogNormal) else "normal"
        return {name: [param.mu, param.sigma]}
    raise SpaceError(f"describe: no description for {param!r}")


def rebuild(doc: Any) -> tuple[Space, list[str]]:
    """The :class:`Space` described by ``doc``, and the options kept as labels only.

    Raises:
        SpaceError: if ``doc`` is not a description this version can read.
    """
    if not isinstance(doc, Mapping) or doc.get("format") != FORMAT or "structure" not in doc:
        raise SpaceError(f"space description: expected format {FORMAT}, got "
                         f"{doc.get('format') if isinstance(doc, Mapping) else type(doc).__name__}")
    labels: list[str] = []
    try:
        space = compile_space(_build(doc["structure"], "", labels))
        if doc.get("renames"):  # e.g. a hyperopt space, whose labels name its parameters
            space = space.renamed(dict(doc["renames"]))
    except RecursionError as exc:
        raise SpaceError("space description cannot be rebuilt: it is nested too deeply") from exc
    except (KeyError, TypeError, IndexError, ValueError, OverflowError, AttributeError) as exc:
        raise SpaceError(f"space description cannot be rebuilt: {type(exc).__name__}: "
                         f"{str(exc)[:200]}") from exc
    if space.names != list(doc.get("names", space.names)):
        # e.g. two options with the same label, told apart by index in the original names
        raise SpaceError("space description cannot be rebuilt with its parameter names "
                         f"{doc['names']} (rebuilt: {space.names})")
    return space, labels


def _build(node: Mapping[str, Any], path: str, labels: list[str]) -> Any:
    if "t" in node:
        kind, value = node["t"], node["v"]
        if kind == "float":
            return float(value)
        build: dict[str, Callable[[Any], Any]] = {"none": lambda v: None, "bool": bool,
                                                  "int": int, "str": str}
        return build[kind](value)
    if "label" in node:
        labels.append(f"{path or 'x'}: {node['label']}")
        return StoredLabel(node["label"])
    if "dict" in node:
        keys = [_build(k, path, labels) for k, _ in node["dict"]]
        return {key: _build(v, _join(path, str(key)), labels)
                for key, (_, v) in zip(keys, node["dict"], strict=True)}
    for base in (list, tuple):
        if base.__name__ in node:
            return base(_build(v, _join(path, str(i)), labels)
                        for i, v in enumerate(node[base.__name__]))
    if "choice" in node:
        return Choice([_build(o, f"{path or 'x'}[{i}]", labels)
                       for i, o in enumerate(node["choice"])])
    if "integer" in node:
        low, high = node["integer"]
        return Integer(int(low), int(high), int(node["step"]), bool(node["log"]))
    if "uniform" in node:
        low, high = node["uniform"]
        return Uniform(float(low), float(high), node["step"])
    if "loguniform" in node:
        return LogUniform(*map(float, node["loguniform"]))
    if "normal" in node:
        return Normal(*map(float, node["normal"]))
    if "lognormal" in node:
        return LogNormal(*map(float, node["lognormal"]))
    raise SpaceError(f"unknown node {sorted(node)} at {path or 'the top'}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
