"""The adapter stack of one run, built once by one factory before the first ask.

What runs behind :class:`hpo_bridge.Optimizer` is decided here and nowhere else:

- the backend's adapter, built with the run's seed (a run joining a stored study with earlier
  runs gets a seed derived from its run index: the caller passes it), on the stored study itself
  when the run is stored and the adapter can work on it (``on_study``, Optuna's: the study is
  loaded with the adapter's own sampler, never replaced);
- :meth:`~hpo_bridge.backends.base.Adapter.configure` with the run's
  :class:`~hpo_bridge.backends.base.RunSetup` (budget, number of objectives, the history):
  ``backend="auto"`` makes its choice there;
- the ParEGO wrapper (:mod:`hpo_bridge.backends.parego`) in front of a single-objective library:
  for several objectives on a backend whose ``capabilities.objectives`` is ``"scalarized"``,
  and, gated (passing through until a trial returns constraints), on one whose
  ``capabilities.constraints`` is ``"penalty"``;
- for a multi-fidelity run (``setup.budgets``), :class:`~hpo_bridge.backends.rungs.RungAdapter`
  in front of one such stack per rung budget, each with its own history (BOHB's rule).

The optimizer never replaces or rebuilds what this returns. A hand-over inside the stack (auto
switching backends, the gate opening at the first constrained trial) keeps the pending handles
the optimizer holds valid.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from typing import Any

from hpo_bridge.backends.base import Adapter, RunSetup
from hpo_bridge.backends.registry import BackendInfo, check_options, resolve
from hpo_bridge.errors import SpaceError, map_errors
from hpo_bridge.space import Space

__all__ = ["Backend", "build_stack"]


@dataclass(frozen=True)
class Backend:
    """A backend resolved and its options checked, once, on the way in.

    ``options`` are the user's (and, for a ``planned`` backend, ``minimize``'s budget); the
    registry's fixed options are added when the adapter is built.
    """

    info: BackendInfo
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def checked(cls, backend: str | BackendInfo, options: Mapping[str, Any],
                caller: Callable[..., Any]) -> Backend:
        """Resolve ``backend`` and check ``options`` against its native sampler, naming
        ``caller`` in the error (:func:`~hpo_bridge.backends.registry.check_options`)."""
        info = backend if isinstance(backend, BackendInfo) else resolve(backend)
        check_options(info, options, caller)
        return cls(info, dict(options))

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def all_options(self) -> dict[str, Any]:
        """What the adapter is built with: the registry's options, then the user's."""
        return {**self.info.options, **self.options}

    def build(self, space: Space, seed: int | None, study: tuple[Any, str] | None = None
              ) -> Adapter:
        """The backend's own adapter (on the stored study ``(storage, name)`` when it can
        work on it). A value its library refuses is a ``SpaceError`` naming the backend."""
        cls = self.info.load()
        options = self.all_options

        def refused(exc: Exception) -> SpaceError:
            shown = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
            return SpaceError(f"{self.name} refused its options ({shown}): "
                              f"{type(exc).__name__}: {exc}. Fix the value; see the native "
                              "sampler's documentation for what it takes")

        on_study = getattr(cls, "on_study", None) if study is not None else None
        # Nothing of the user's to blame: the library's error as it is.
        mapped = map_errors((ValueError, TypeError), refused) if self.options else nullcontext()
        with mapped:
            if on_study is not None and study is not None:
                built: Adapter = on_study(space, seed, *study, **options)
                return built
            return cls(space, seed, **options)


def build_stack(backend: Backend, space: Space, seed: int | None, setup: RunSetup, *,
                study: tuple[Any, str] | None = None, first: Adapter | None = None) -> Adapter:
    """What runs: the adapter, configured, behind the ParEGO wrapper where it needs one.

    ``first``: the adapter already built with ``seed`` (the optimizer builds one to check the
    options when it is made); used unless the run is on a stored study.
    """
    if setup.budgets:
        return _rungs(backend, space, seed, setup, first if study is None else None)
    native = first if first is not None and study is None else backend.build(space, seed, study)
    caps = backend.info.capabilities
    n = setup.n_objectives
    several = n > 1 and caps.objectives == "scalarized"
    if not several and caps.constraints != "penalty":
        native.configure(setup)
        return native
    from hpo_bridge.backends.parego import ScalarizedAdapter

    native.configure(replace(setup, n_objectives=1, history=()))  # it is told one loss

    def factory(s: int | None) -> Adapter:
        adapter = backend.build(space, s)
        adapter.configure(replace(setup, n_objectives=1, history=()))
        return adapter

    return ScalarizedAdapter(space, seed, n_objectives=n, factory=factory, first=native,
                             history=setup.history, gated=not several)


def _rungs(backend: Backend, space: Space, seed: int | None, setup: RunSetup,
           first: Adapter | None) -> Adapter:
    """One stack per rung budget (rung 0 reuses ``first``, built with the same seed)."""
    from hpo_bridge.backends.rungs import RungAdapter

    def factory(i: int, s: int | None, history: Any) -> Adapter:
        rung = replace(setup, budgets=(), history=history, rung=True)
        return build_stack(backend, space, s, rung, first=first if i == 0 else None)

    return RungAdapter(space, seed, budgets=setup.budgets, factory=factory)
