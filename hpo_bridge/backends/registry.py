"""Backend names, resolved to adapters by lazy import.

``hpo_bridge.backends()`` lists every backend; nothing here imports a backend's library until
that backend is used. Each backend is declared once, as a :class:`BackendInfo` with its
:class:`~hpo_bridge.backends.base.Capabilities`: the built-in ones below, and those that
installed packages declare in the entry-point group ``hpo_bridge.backends`` (read on first
use). An entry point names a :class:`BackendInfo`, a list of them, or a function returning
them; it must import no backend library (``available`` tells whether that is installed)::

    # pyproject.toml of a package that brings backends
    [project.entry-points."hpo_bridge.backends"]
    mylib = "mylib_hpo.backends:BACKENDS"      # a list of hb.BackendInfo

A name is registered once: a second declaration of it is refused with both origins named. An
entry point that cannot be loaded is skipped with a ``RuntimeWarning`` naming it, and every
other backend keeps working. A backend's missing library names its own package's extra
(``BackendInfo.package``, filled from the entry point's distribution). A
:class:`BackendInfo` whose ``target`` is the adapter class runs registered nowhere
(:meth:`BackendInfo.for_adapter`; ``resolve`` returns it as it is).
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from importlib import metadata
from typing import Any

from hpo_bridge.backends.base import Adapter, Capabilities
from hpo_bridge.errors import MissingBackendError, SpaceError

__all__ = [
    "ENTRY_POINT_GROUP",
    "SHORT_NAMES",
    "BackendInfo",
    "backends",
    "check_options",
    "register",
    "resolve",
]


@dataclass(frozen=True)
class BackendInfo:
    """One backend: its name, what it runs, what it needs and what it supports.

    Attributes:
        name: ``"library:algorithm"``.
        runs: What runs underneath, for people (``"optuna.samplers.TPESampler"``).
        target: The :class:`~hpo_bridge.backends.base.Adapter`: ``"module:Class"``, imported
            only when the backend is used, or the class itself (a backend under development,
            run without registering it: see :meth:`for_adapter`).
        requires: Modules that must be importable (``available``).
        extra: The pip extra of ``package`` that installs them (named when one is missing;
            ``""``: the package does not install them).
        options: Keywords the adapter is built with (``{"sampler": "tpe"}``).
        capabilities: What it supports; the optimizer refuses what they rule out.
        package: The distribution that declares the backend: ``"hpo_bridge"`` for the built-in
            ones; for an entry point, filled with the distribution that declares it.

    Example:
        >>> BackendInfo(name="mylib:algo", library="mylib", algorithm="algo", runs="mylib.Algo",
        ...             target="mylib_hpo.adapter:MyAdapter", requires=("mylib",),
        ...             extra="mylib").available
        False
    """

    name: str
    library: str
    algorithm: str
    runs: str
    target: str | type[Adapter]  # "module:Class" of the adapter, or the class
    requires: tuple[str, ...]
    extra: str
    options: dict[str, Any] = field(default_factory=dict, hash=False)
    capabilities: Capabilities = field(default_factory=Capabilities)
    package: str = ""

    @classmethod
    def for_adapter(cls, adapter: type[Adapter], name: str, *,
                    capabilities: Capabilities | None = None,
                    options: Mapping[str, Any] | None = None, requires: tuple[str, ...] = (),
                    package: str = "", extra: str = "") -> BackendInfo:
        """The backend that runs the class ``adapter``, registered nowhere: pass it as
        ``backend=`` to ``hb.minimize``/``hb.Optimizer``, or return it from the ``backend``
        fixture of :class:`hpo_bridge.testing.BackendSuite` to run the conformance kit on a
        class before it is installed or declared.

        Example:
            >>> from hpo_bridge.backends.base import Adapter
            >>> BackendInfo.for_adapter(Adapter, "mylib:algo").library
            'mylib'
        """
        library, _, algorithm = name.partition(":")
        return cls(name=name, library=library, algorithm=algorithm or library,
                   runs=f"{adapter.__module__}.{adapter.__qualname__}", target=adapter,
                   requires=tuple(requires), extra=extra, options=dict(options or {}),
                   capabilities=capabilities or Capabilities(), package=package)

    @property
    def available(self) -> bool:
        """Whether every library it needs is importable here."""
        return all(importlib.util.find_spec(mod) is not None for mod in self.requires)

    def missing(self) -> list[str]:
        return [mod for mod in self.requires if importlib.util.find_spec(mod) is None]

    @property
    def install(self) -> str:
        """The command that installs what the backend needs: its own package's extra
        (``pip install 'hpo_bridge[optuna]'``, ``pip install 'mylib-hpo[fast]'``), else the
        missing modules themselves.

        Example:
            >>> resolve("optuna:gp").install
            "pip install 'hpo_bridge[torch]'"
        """
        if self.package and self.extra:
            return f"pip install '{self.package}[{self.extra}]'"
        return "pip install " + " ".join(self.missing() or self.requires)

    def load(self) -> type[Adapter]:
        missing = self.missing()
        if missing:
            origin = f" (from {self.package})" if self.package else ""
            raise MissingBackendError(
                f"backend {self.name!r}{origin} needs {', '.join(missing)}: {self.install}"
            )
        if not isinstance(self.target, str):
            return self.target
        module, cls = self.target.split(":")
        adapter: type[Adapter] = getattr(importlib.import_module(module), cls)
        return adapter


_REGISTRY: dict[str, BackendInfo] = {}
#: Where each name was declared, for the error on a duplicate.
_ORIGIN: dict[str, str] = {}
#: The entry-point group read for backends from other packages.
ENTRY_POINT_GROUP = "hpo_bridge.backends"
_entry_points_read = False

#: Short names pick a default library for an algorithm.
SHORT_NAMES = {
    "tpe": "optuna:tpe",
    "gp": "skopt:gp",
    "random": "optuna:random",
    "grid": "optuna:grid",
}


def register(info: BackendInfo, origin: str = "register()") -> None:
    """Add a backend; a name can be registered once (the error names both origins)."""
    if not isinstance(info, BackendInfo):
        raise TypeError(f"{origin}: expected an hpo_bridge.BackendInfo, got {info!r}")
    if info.name in SHORT_NAMES:
        raise ValueError(f"backend {info.name!r} from {origin}: the name is a short name "
                         f"for {SHORT_NAMES[info.name]!r}; choose 'library:algorithm'")
    if info.name in _REGISTRY:
        raise ValueError(f"backend {info.name!r} is declared twice: by {_ORIGIN[info.name]} "
                         f"and by {origin}; uninstall or rename one of them")
    _REGISTRY[info.name] = info
    _ORIGIN[info.name] = origin


def _read_entry_points() -> None:
    """Register the backends installed packages declare (once, on first use).

    An entry point that cannot be loaded (a missing module, an error on import, a declaration
    that is not :class:`BackendInfo`) is skipped with a warning naming it and its
    distribution, so that every other backend keeps working; a name declared twice is refused
    (which of the two is meant cannot be guessed).
    """
    global _entry_points_read
    if _entry_points_read:
        return
    _entry_points_read = True
    for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = getattr(ep, "dist", None)
        package = dist.name if dist is not None else ""
        origin = (f"entry point {ep.name!r} ({ep.value}) of "
                  f"{package or 'an unknown distribution'}")
        try:
            declared = ep.load()
            if callable(declared) and not isinstance(declared, BackendInfo):
                declared = declared()
            infos = [declared] if isinstance(declared, BackendInfo) else list(declared)
            bad = [i for i in infos if not isinstance(i, BackendInfo)]
            if bad:
                raise TypeError(f"expected hpo_bridge.BackendInfo objects, got {bad[0]!r}")
        except Exception as exc:
            warnings.warn(f"{origin} in group {ENTRY_POINT_GROUP!r} cannot be loaded "
                          f"({type(exc).__name__}: {exc}); its backends are skipped. Fix or "
                          f"uninstall {package or 'that package'}.", RuntimeWarning,
                          stacklevel=3)
            continue
        for info in infos:
            register(replace(info, package=info.package or package), origin)


def backends() -> list[BackendInfo]:
    """Every backend, in a stable order, with ``available`` and ``capabilities``: the built-in
    ones, then those of the entry-point group ``hpo_bridge.backends``.

    Example:
        >>> [b.name for b in backends()][:3]
        ['hyperopt:tpe', 'hyperopt:random', 'hyperopt:anneal']
    """
    _read_entry_points()
    return list(_REGISTRY.values())


def resolve(name: str | BackendInfo) -> BackendInfo:
    """The backend called ``name`` (a full or short name, any case); a :class:`BackendInfo`
    is its own backend (registered or not).

    Raises:
        SpaceError: for an unknown name, with the closest valid ones and the full list.
    """
    if isinstance(name, BackendInfo):
        return name
    if not isinstance(name, str):
        raise SpaceError(f"backend must be a string such as 'optuna:tpe', got {name!r}")
    _read_entry_points()
    names = {n.lower(): n for n in [*_REGISTRY, *SHORT_NAMES]}
    full = names.get(name.strip().lower())
    full = full if full is None else SHORT_NAMES.get(full, full)
    if full not in _REGISTRY:
        close = difflib.get_close_matches(name.strip().lower(), list(names), n=3, cutoff=0.5)
        hint = f" (did you mean {' or '.join(repr(names[c]) for c in close)}?)" if close else ""
        raise SpaceError(f"backend: unknown name {name!r}{hint}; valid names are "
                         f"{', '.join(names.values())}")
    return _REGISTRY[full]


#: What the native calls name some of ``minimize``'s keywords.
_NATIVE_NAMES = {"n_trials": "max_evals", "n_calls": "max_evals", "n_iter": "max_evals",
                 "random_state": "seed", "rstate": "seed", "algo": "backend",
                 "sampler": "backend", "base_estimator": "backend", "x0": "points_to_evaluate"}


def check_options(info: BackendInfo, options: Mapping[str, Any],
                  caller: Callable[..., Any] | str) -> None:
    """Refuse keywords that neither ``caller`` nor the backend's native sampler takes.

    ``options`` are the keywords ``caller`` (``minimize``, ``Optimizer``...) did not take
    itself; each must be an option of the native sampler (checked against its signature).
    The error names ``caller`` and the closest valid keyword. ``caller`` may instead be the
    argument that holds nothing but backend options (``"SearchCV(backend_options=)"``): the
    error then names it and suggests only the backend's own options.

    Example:
        >>> check_options(resolve("optuna:tpe"), {"n_startup_trials": 5}, print)
    """
    native = info.load().option_names(**info.options)
    if native is None:
        return
    unknown = sorted(set(options) - native)
    if not unknown:
        return
    key = unknown[0]
    takes = (f"backend {info.name!r} takes {', '.join(sorted(native)) or 'no options'} "
             f"(from {info.runs})")
    if isinstance(caller, str):
        close = difflib.get_close_matches(key, sorted(native), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else "."
        raise SpaceError(f"{caller}: {key!r} is not an option of backend {info.name!r}{hint} "
                         f"{takes}; fix or drop the key (another backend's options need "
                         "backend= naming it)")
    own = [p for p in inspect.signature(caller).parameters
           if p not in ("self", "backend_options", "kwargs")]
    name = getattr(caller, "__qualname__", str(caller)).split(".")[0]
    close = [_NATIVE_NAMES[key]] if _NATIVE_NAMES.get(key) in own else (
        difflib.get_close_matches(key, [*own, *native], n=1, cutoff=0.6))
    hint = f"; did you mean {close[0]!r}?" if close else "."
    raise SpaceError(
        f"{name}() got an unexpected keyword argument {key!r}{hint} {name} takes "
        f"{', '.join(own)}; {takes}"
    )


def _add(library: str, algorithm: str, runs: str, cls: str, options: dict[str, Any],
         caps: Capabilities, requires: tuple[str, ...] = (), extra: str = "") -> None:
    register(BackendInfo(
        name=f"{library}:{algorithm}",
        library=library,
        algorithm=algorithm,
        runs=runs,
        target=f"hpo_bridge.backends.{library}.adapter:{cls}",
        requires=(library, *requires),
        extra=extra or library,
        options=options,
        capabilities=caps,
        package="hpo_bridge",
    ), origin="hpo_bridge (built in)")


# Several objectives and constraints: Optuna's samplers model them natively (CMA-ES does
# not: refused); hyperopt's and skopt's model-based algorithms through ParEGO and a penalty
# (backends/parego.py); random search ignores values ("unused").
_HYPEROPT = Capabilities(conditional="native", objects="indices", unbounded="native",
                         objectives="scalarized", constraints="penalty")
_OPTUNA = Capabilities(conditional="native", objects="indices", objectives="native",
                       constraints="native")
_SKOPT = Capabilities(conditional="encoded", objects="indices", failures="penalty",
                      objectives="scalarized", constraints="penalty")
# The grid walks the tree of configurations itself (grid.py), takes only discrete parameters
# (so no normal prior) and runs out.
_GRID = Capabilities(conditional="enumerated", objects="indices", discrete_only=True,
                     unbounded="refused", finite=True, objectives="native",
                     constraints="native")

_add("hyperopt", "tpe", "hyperopt.tpe.suggest", "HyperoptAdapter", {"algo": "tpe"}, _HYPEROPT)
_add("hyperopt", "random", "hyperopt.rand.suggest", "HyperoptAdapter", {"algo": "random"},
     replace(_HYPEROPT, objectives="unused", constraints="unused"))
_add("hyperopt", "anneal", "hyperopt.anneal.suggest", "HyperoptAdapter", {"algo": "anneal"},
     _HYPEROPT)
_add("optuna", "tpe", "optuna.samplers.TPESampler", "OptunaAdapter", {"sampler": "tpe"}, _OPTUNA)
_add("optuna", "gp", "optuna.samplers.GPSampler", "OptunaAdapter", {"sampler": "gp"}, _OPTUNA,
     requires=("torch",), extra="torch")
_add("optuna", "random", "optuna.samplers.RandomSampler", "OptunaAdapter", {"sampler": "random"},
     _OPTUNA)
_add("optuna", "cmaes", "optuna.samplers.CmaEsSampler", "OptunaAdapter", {"sampler": "cmaes"},
     replace(_OPTUNA, objectives="refused", constraints="refused"), requires=("cmaes",))
_add("optuna", "qmc", "optuna.samplers.QMCSampler", "OptunaAdapter", {"sampler": "qmc"}, _OPTUNA)
_add("optuna", "nsga2", "optuna.samplers.NSGAIISampler", "OptunaAdapter", {"sampler": "nsga2"},
     _OPTUNA)
_add("optuna", "nsga3", "optuna.samplers.NSGAIIISampler", "OptunaAdapter", {"sampler": "nsga3"},
     _OPTUNA)
_add("optuna", "grid", "GridSampler's order, each point enqueued once", "OptunaAdapter",
     {"sampler": "grid"}, _GRID)
_add("skopt", "gp", "skopt.gp_minimize", "SkoptAdapter", {"estimator": "GP"}, _SKOPT)
_add("skopt", "rf", "skopt.forest_minimize(base_estimator='RF')", "SkoptAdapter",
     {"estimator": "RF"}, _SKOPT)
_add("skopt", "et", "skopt.forest_minimize(base_estimator='ET')", "SkoptAdapter",
     {"estimator": "ET"}, _SKOPT)
_add("skopt", "random", "skopt.Space.rvs (what dummy_minimize does)", "SkoptAdapter",
     {"estimator": "random"}, replace(_SKOPT, objectives="unused", constraints="unused"))

register(BackendInfo(
    name="auto", library="auto", algorithm="auto",
    # Read alone (tables, JSON) and after "from" in an option error: no "one of the above".
    runs="hpo_bridge.backends.auto, which picks a built-in backend and its options by the "
         "space, max_evals, timeout, n_jobs and objectives, and hands a GP over to TPE when "
         "its proposals cost more than the objective (hpo_bridge.backends.cost)",
    target="hpo_bridge.backends.auto:AutoAdapter", requires=("optuna",), extra="optuna",
    package="hpo_bridge",
    capabilities=Capabilities(conditional="native", objects="indices", objectives="native",
                              constraints="native")))
