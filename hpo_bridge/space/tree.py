"""Compile a user's nested space into named dimensions, and map configurations both ways.

A *point* is the backend-neutral form of one configuration: a dict from dimension name to
value, holding only the active dimensions, where a ``choice`` holds its option index and every
other parameter its real value. Backends translate their native samples to points and back;
this module turns points into the user's structure (``decode``) and the user's structure into
points (``encode``).

Names: a key of a flat dict names its parameter; nested parameters are named by their dotted
path (``optimizer.lr``, ``layers.0``); a parameter inside an option of a ``choice`` carries the
option's label in brackets (``optimizer[adam].lr``): an option dict's ``name``/``type``/``kind``
string or the name of its ``cls``/``class`` value (``optimizer[SGD].momentum``), a class or
function's name, a plain value, else the option's index (all indices when labels would
clash). A bare parameter as the whole space is named ``x``.
"""

from __future__ import annotations

import inspect
import os
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any, TypeAlias, cast

from hpo_bridge.errors import SpaceError
from hpo_bridge.space.params import Choice, Param, same_option

__all__ = ["VIEWS", "Dim", "Space", "SpaceLike", "compile_space", "looks_like_distribution",
           "option_label", "warn_option_lists"]

#: ``Space.to_hyperopt()``/``to_optuna()``/``to_skopt()``: ``{library: view(space)}``, filled by
#: :mod:`hpo_bridge.convert`, the layer above the translators, so that this layer imports no
#: backend (docs/ARCHITECTURE.md, "One direction of imports").
VIEWS: dict[str, Callable[[Space], Any]] = {}


@dataclass(frozen=True)
class Dim:
    """One named parameter of a space.

    Attributes:
        name: Unique, readable name (a column of the trial table).
        param: The parameter.
        condition: ``(choice_name, option_index)`` that must be chosen for this dimension to be
            active, or ``None`` if it always is.
    """

    name: str
    param: Param
    condition: tuple[str, int] | None = None


# -- template nodes: the user's structure with parameters replaced by names ------------------


@dataclass(frozen=True)
class _Const:
    value: Any


@dataclass(frozen=True)
class _Leaf:
    name: str


@dataclass(frozen=True)
class _Branch:
    name: str
    options: tuple[_Node, ...]


@dataclass(frozen=True)
class _Dict:
    kind: type
    items: tuple[tuple[Any, _Node], ...]  # (key, node), in the mapping's order


@dataclass(frozen=True)
class _Seq:
    kind: type
    items: tuple[_Node, ...]


_Node = _Const | _Leaf | _Branch | _Dict | _Seq


def _has_params(obj: Any) -> bool:
    if isinstance(obj, Param):
        return True
    if isinstance(obj, Mapping):
        return any(_has_params(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return any(_has_params(v) for v in obj)
    return False


_PLAIN = (type(None), bool, int, float, str)


def looks_like_distribution(obj: Any) -> bool:
    """Whether ``obj`` looks like another library's distribution (duck-typed, no imports).

    Caught: anything with ``rvs`` (``scipy.stats`` distributions, skopt dimensions), hyperopt
    ``hp.*`` nodes (``pos_args``/``named_args``), Optuna distributions (``single``/
    ``to_internal_repr``), ConfigSpace hyperparameters (``sample_value``) and objects with
    ``sample`` plus ``log_prob`` or ``get_sampler`` (torch, Ray Tune). Classes never are.

    Example:
        >>> import scipy.stats
        >>> looks_like_distribution(scipy.stats.uniform(0, 1)), looks_like_distribution(3)
        (True, False)
    """
    if isinstance(obj, (type, str, bytes, int, float, Mapping, list, tuple)) or obj is None:
        return False

    def has(*names: str) -> bool:
        try:
            return all(hasattr(obj, n) for n in names)
        except Exception:  # an object whose attributes raise is not a distribution we know
            return False

    return (
        has("rvs")
        or has("pos_args", "named_args")
        or has("single", "to_internal_repr")
        or has("sample_value")
        or has("sample", "log_prob")
        or has("sample", "get_sampler")
    )


def _refuse_foreign(obj: Any, path: str) -> None:
    """``SpaceError`` for a foreign distribution anywhere in a constant subtree."""
    if type(obj) in _PLAIN:  # the common case, fast: a choice may hold 100,000 of them
        return
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            _refuse_foreign(value, _join(path, str(key)))
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            _refuse_foreign(value, _join(path, str(i)))
    elif looks_like_distribution(obj):
        raise SpaceError(
            f"space: {path or 'x'} is a {type(obj).__module__}.{type(obj).__qualname__}, "
            "another library's distribution, which hpo_bridge would otherwise pass on as a "
            "constant; use hb.* primitives instead (hb.uniform, hb.loguniform, hb.integer, "
            "hb.choice, hb.normal, hb.lognormal)"
        )


def _label(option: Any, index: int) -> str:
    if option is None or isinstance(option, (bool, int, float, str)):
        return str(option)
    if isinstance(option, Mapping):
        for key in ("name", "type", "kind"):
            value = option.get(key)
            if isinstance(value, str):
                return value
        for key in ("cls", "class", "type", "kind"):  # {"cls": torch.optim.SGD, ...} is "SGD"
            value = getattr(option.get(key), "__name__", None)
            if isinstance(value, str):
                return value
    name = getattr(option, "__name__", None)
    return name if isinstance(name, str) else str(index)


def option_label(option: Any, index: int) -> str:
    """The readable label of a choice's ``index``-th option (its name, class name or index)."""
    return _label(option, index)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class _Compiler:
    def __init__(self) -> None:
        self.dims: list[Dim] = []
        self._names: set[str] = set()

    def add(self, name: str, param: Param, condition: tuple[str, int] | None) -> None:
        if name in self._names:
            raise SpaceError(
                f"duplicate parameter name {name!r}: every parameter needs a unique name "
                "(check dict keys that contain '.' or choice options with equal labels)"
            )
        self._names.add(name)
        self.dims.append(Dim(name, param, condition))

    def node(self, obj: Any, path: str, condition: tuple[str, int] | None) -> _Node:
        if not _has_params(obj):
            _refuse_foreign(obj, path)
            return _Const(obj)
        if isinstance(obj, Choice):
            return self.branch(obj, path or "x", condition)
        if isinstance(obj, Param):
            self.add(path or "x", obj, condition)
            return _Leaf(path or "x")
        if isinstance(obj, Mapping):
            entries = tuple(
                (key, self.node(value, _join(path, str(key)), condition))
                for key, value in obj.items()
            )
            return _Dict(type(obj), entries)
        items = tuple(
            self.node(value, _join(path, str(i)), condition) for i, value in enumerate(obj)
        )
        return _Seq(type(obj), items)

    def branch(self, choice: Choice, name: str, condition: tuple[str, int] | None) -> _Branch:
        self.add(name, choice, condition)
        labels = [_label(option, i) for i, option in enumerate(choice.options)]
        if len(set(labels)) != len(labels):
            labels = [str(i) for i in range(len(labels))]
        options = tuple(
            self.node(option, f"{name}[{label}]", (name, i))
            for i, (option, label) in enumerate(zip(choice.options, labels, strict=True))
        )
        return _Branch(name, options)


class Space:
    """A compiled search space: ordered dimensions plus the user's structure.

    Build one with :func:`hpo_bridge.as_space`; every public entry point accepts the raw
    nested structure too. Dimensions come in the space's order, depth first, each ``choice``
    before the parameters of its options.

    Example:
        >>> from hpo_bridge.space import uniform, choice
        >>> s = compile_space({"lr": uniform(0.0, 1.0), "act": choice(["relu", "tanh"])})
        >>> [d.name for d in s.dims]
        ['lr', 'act']
        >>> s.decode({"lr": 0.5, "act": 1})
        {'lr': 0.5, 'act': 'tanh'}
    """

    def __init__(self, structure: Any) -> None:
        compiler = _Compiler()
        self.structure = structure
        #: The DSL structure the dimensions were compiled from (``structure`` may be the
        #: foreign space it was converted from).
        self.compiled_from = structure
        self._template = compiler.node(structure, "", None)
        self.dims: tuple[Dim, ...] = tuple(compiler.dims)
        self._by_name = {d.name: d for d in self.dims}

    def __repr__(self) -> str:
        return f"Space({self.structure!r})"

    def __len__(self) -> int:
        return len(self.dims)

    def __iter__(self) -> Iterator[Dim]:
        return iter(self.dims)

    def __getitem__(self, name: str) -> Dim:
        return self._by_name[name]

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.dims]

    @property
    def is_conditional(self) -> bool:
        """Whether some dimension is active only under some choice option."""
        return any(d.condition is not None for d in self.dims)

    def signature(self) -> list[tuple[str, str, Any]]:
        """A comparable description of the space: ``(name, repr(param), condition)`` per dim."""
        return [(d.name, repr(d.param), d.condition) for d in self.dims]

    def renamed(self, names: Mapping[str, str]) -> Space:
        """The same space with the dimensions in ``names`` (``{old: new}``) renamed.

        Example:
            >>> from hpo_bridge.space import uniform
            >>> compile_space({"a": uniform(0.0, 1.0)}).renamed({"a": "alpha"}).names
            ['alpha']
        """
        new = [names.get(d.name, d.name) for d in self.dims]
        if len(set(new)) != len(new):
            raise SpaceError(f"renamed: names must stay unique, got {new}")
        rename = dict(zip(self.names, new, strict=True))
        space = object.__new__(type(self))
        space.__dict__.update(self.__dict__)
        space._template = _rename(self._template, rename)
        space.dims = tuple(
            Dim(rename[d.name], d.param,
                d.condition and (rename[d.condition[0]], d.condition[1]))
            for d in self.dims
        )
        space._by_name = {d.name: d for d in space.dims}
        return space

    def to_hyperopt(self) -> dict[str, Any]:
        """The ``hp.*`` space the hyperopt backends sample: ``hb.to_hyperopt(space)``.

        See the hyperopt translator (``hpo_bridge/backends/hyperopt/translate.py``) and
        docs/spaces.md for the policy: integers as a widened ``quniform``, stepped parameters over
        their grid index, choices of objects over option indices.
        """
        return cast("dict[str, Any]", self._view("hyperopt"))

    def to_optuna(self) -> dict[str, Any]:
        """``{name: optuna distribution}`` for every dimension (conditional ones included):
        ``hb.to_optuna(space)``."""
        return cast("dict[str, Any]", self._view("optuna"))

    def to_skopt(self) -> list[Any]:
        """One named skopt dimension per dimension, in order (conditionals encoded):
        ``hb.to_skopt(space)``."""
        return cast("list[Any]", self._view("skopt"))

    def _view(self, library: str) -> Any:
        view = VIEWS.get(library)
        if view is None:  # only if hpo_bridge.convert was never imported (it always is)
            raise RuntimeError(f"Space.to_{library}(): no view registered; use "
                               f"hpo_bridge.to_{library}(space)")
        return view(self)

    def display_value(self, name: str, value: Any) -> Any:
        """A readable cell for a point's value: a choice shows its option (plain values) or
        the option's label (other objects), never a bare index."""
        param = self._by_name[name].param
        if not isinstance(param, Choice):
            return value
        option = param.options[value]
        if option is None or isinstance(option, (bool, int, float, str)):
            return option
        return _label(option, value)

    def is_active(self, dim: Dim, point: Mapping[str, Any]) -> bool:
        """Whether ``dim`` is active given the values already in ``point`` (checked in order)."""
        if dim.condition is None:
            return True
        parent, index = dim.condition
        return point.get(parent) == index

    def active_point(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Keep only the active dimensions of a full assignment, canonicalizing each value."""
        point: dict[str, Any] = {}
        for dim in self.dims:
            if self.is_active(dim, point) and dim.name in values:
                point[dim.name] = dim.param.canonical(values[dim.name])
        return point

    def decode(self, point: Mapping[str, Any]) -> Any:
        """The user's structure with every active parameter replaced by its value."""
        return _decode(self._template, point)

    def encode(self, config: Any) -> dict[str, Any]:
        """The point of a configuration; ``SpaceError`` naming the parameter if not in the space.

        A choice value matches an option by identity first, then by equality; for options
        holding parameters, the first option whose structure fits is taken.
        """
        point: dict[str, Any] = {}
        _encode(self._template, config, point, self._by_name, "config")
        return point

    def check_point(self, point: Mapping[str, Any]) -> None:
        """Raise ``SpaceError`` unless ``point`` holds exactly the active dims, each in range."""
        seen: dict[str, Any] = {}
        for dim in self.dims:
            if not self.is_active(dim, seen):
                if dim.name in point:
                    raise SpaceError(f"parameter {dim.name!r} is inactive but has a value")
                continue
            if dim.name not in point:
                raise SpaceError(f"parameter {dim.name!r} is missing")
            if not dim.param.contains(point[dim.name]):
                raise SpaceError(
                    f"parameter {dim.name!r}: {point[dim.name]!r} is not in {dim.param!r}"
                )
            seen[dim.name] = point[dim.name]


#: What :func:`hpo_bridge.as_space` (and so every public entry point) accepts as a space: a
#: compiled :class:`Space`, one parameter, or a nesting of mappings and sequences with
#: parameters as leaves. Spaces written for other libraries fit it too: an Optuna or
#: ``scipy.stats`` dict and a ``ConfigurationSpace`` are mappings, a list of skopt dimensions is
#: a sequence; hyperopt's ``hp.*`` expressions and ``skopt.Space`` come from libraries without
#: type information, which type checkers see as ``Any``.
SpaceLike: TypeAlias = Space | Param | Mapping[str, Any] | Sequence[Any]


def compile_space(space: SpaceLike) -> Space:
    """Compile ``space`` (a nesting of dict/list/tuple with DSL parameters as leaves) once; a
    :class:`Space` is returned as it is.

    This reads the DSL only; :func:`hpo_bridge.as_space` also reads spaces written for other
    libraries (and is what every public entry point calls).

    Raises:
        SpaceError: if the space has no parameter or two parameters share a name, or holds
            another library's distribution.
    """
    if isinstance(space, Space):
        return space
    compiled = Space(space)
    if not compiled.dims:
        raise SpaceError("space: it holds no parameter (uniform, integer, choice, ...)")
    return compiled


def warn_option_lists(space: SpaceLike) -> None:
    """A ``UserWarning`` when ``space`` looks like scikit-learn's ``param_distributions``: a
    flat dict (every value a list or a single distribution) with a list of plain values
    (numbers, strings, ``None``) at the top level. hpo_bridge passes such a list on as a
    constant (``kernel=['rbf', 'poly']``), where scikit-learn samples one of its items.
    Lists nested deeper, tuples, and dicts holding other structures never warn."""
    if not isinstance(space, Mapping) or not space:
        return
    lists = []
    for key, value in space.items():
        if type(value) is list:
            if len(value) >= 2 and all(type(v) in _PLAIN for v in value):
                lists.append((key, value))
        elif not (isinstance(value, Param) or looks_like_distribution(value)):
            return  # a constant or a nested structure: not a scikit-learn parameter dict
    if lists:
        key, value = lists[0]
        more = f" (and {', '.join(repr(k) for k, _ in lists[1:])})" if len(lists) > 1 else ""
        warnings.warn(
            f"space: {key!r}{more} is a list of plain values, {value!r}, which the objective "
            "gets as that constant list. If it lists options to sample, as scikit-learn's "
            f"param_distributions does, write hb.choice({value!r}) or convert the whole dict "
            "with hb.from_scipy(...); if it is a constant, pass a tuple to silence this",
            UserWarning, stacklevel=_user_frame())


def _user_frame() -> int:
    """The ``stacklevel`` of the first caller outside hpo_bridge (where the space was given)."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    here = inspect.currentframe()
    frame: FrameType | None = here.f_back if here is not None else None
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def _rename(node: _Node, names: Mapping[str, str]) -> _Node:
    if isinstance(node, _Leaf):
        return _Leaf(names[node.name])
    if isinstance(node, _Branch):
        return _Branch(names[node.name], tuple(_rename(o, names) for o in node.options))
    if isinstance(node, _Dict):
        return _Dict(node.kind, tuple((k, _rename(v, names)) for k, v in node.items))
    if isinstance(node, _Seq):
        return _Seq(node.kind, tuple(_rename(v, names) for v in node.items))
    return node


def _decode(node: _Node, point: Mapping[str, Any]) -> Any:
    if isinstance(node, _Const):
        return node.value
    if isinstance(node, _Leaf):
        return point[node.name]
    if isinstance(node, _Branch):
        return _decode(node.options[point[node.name]], point)
    if isinstance(node, _Dict):
        return _rebuild(node.kind, {k: _decode(v, point) for k, v in node.items})
    return _rebuild(node.kind, [_decode(v, point) for v in node.items])


def _rebuild(kind: type, values: Any) -> Any:
    if kind in (dict, list, tuple):
        return kind(values)
    if hasattr(kind, "_fields"):  # namedtuple
        return kind(*values)
    try:
        return kind(values)
    except TypeError:
        return type(values)(values)


def _encode(node: _Node, value: Any, point: dict[str, Any], dims: Mapping[str, Dim], path: str,
            strict: bool = False) -> None:
    """``value`` into ``point``; ``strict``: a list or tuple must be the node's own kind (a
    choice between ``[x]`` and ``(x,)`` is told apart by it first)."""
    if isinstance(node, _Const):
        if not same_option(node.value, value):
            raise SpaceError(f"{path}: expected the constant {node.value!r}, got {value!r}")
    elif isinstance(node, _Leaf):
        param = dims[node.name].param
        if not param.contains(value):
            raise SpaceError(f"parameter {node.name!r}: {value!r} is not in {param!r}")
        point[node.name] = param.canonical(value)
    elif isinstance(node, _Branch):
        point[node.name] = _encode_branch(node, value, point, dims)
    elif isinstance(node, _Dict):
        if not isinstance(value, Mapping) or set(value) != {k for k, _ in node.items}:
            keys = [k for k, _ in node.items]
            raise SpaceError(f"{path}: expected a mapping with keys {keys}, got {value!r}")
        for key, child in node.items:
            _encode(child, value[key], point, dims, f"{path}[{key!r}]", strict)
    else:
        if not isinstance(value, (list, tuple)) or len(value) != len(node.items):
            raise SpaceError(
                f"{path}: expected a sequence of length {len(node.items)}, got {value!r}"
            )
        if strict and node.kind in (list, tuple) and type(value) is not node.kind:
            raise SpaceError(f"{path}: expected a {node.kind.__name__}, got {value!r}")
        for i, (child, item) in enumerate(zip(node.items, value, strict=True)):
            _encode(child, item, point, dims, f"{path}[{i}]", strict)


def _encode_branch(node: _Branch, value: Any, point: dict[str, Any],
                   dims: Mapping[str, Dim]) -> int:
    consts = [(i, o) for i, o in enumerate(node.options) if isinstance(o, _Const)]
    for i, const in consts:
        if const.value is value:
            return i
    for i, const in consts:
        if same_option(const.value, value):
            return i
    for strict in (True, False):  # an option of the value's own kinds first
        for i, option in enumerate(node.options):
            if isinstance(option, _Const):
                continue
            trial: dict[str, Any] = {}
            try:
                _encode(option, value, trial, dims, f"{node.name}[{i}]", strict)
            except ValueError:
                continue
            point.update(trial)
            return i
    param = dims[node.name].param
    options = param.options if isinstance(param, Choice) else ()
    raise SpaceError(f"parameter {node.name!r}: {value!r} is not one of the options {options!r}")
