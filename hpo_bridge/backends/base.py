"""The backend protocol: each library implements only the native part.

An :class:`Adapter` proposes *points* (see :mod:`hpo_bridge.space.tree`) and is told outcomes.
It never sees user configurations, trial ids, directions or errors: the public
:class:`hpo_bridge.Optimizer` validates, keeps the books and turns maximization into
minimization once, for every backend. Adapters always minimize.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from hpo_bridge.results import State
from hpo_bridge.space import Space

__all__ = ["Adapter", "Capabilities", "Handle", "RunSetup", "Told", "keyword_names"]

#: Whatever an adapter needs to find a pending trial again (a hyperopt doc, an Optuna trial...).
Handle = Any


@dataclass(frozen=True, slots=True)
class Told:
    """What an adapter is told when a trial finishes: the one message of the protocol.

    Attributes:
        state: ``"complete"``, ``"failed"`` or ``"pruned"``.
        losses: Every objective's loss (minimized, in the objectives' order; one element for
            one objective); the last reported loss for a pruned trial; ``None`` for a failed
            trial (or a pruned one that reported nothing).
        constraints: What the objective returned under ``"constraints"`` (``<= 0`` feasible),
            ``None`` when it returned none (or the trial did not complete).
        budget: The fidelity budget the trial ran at (``hb.fidelity``); ``None`` for a run
            without one. The multi-fidelity stack (:mod:`hpo_bridge.backends.rungs`) tells
            each rung's proposer only the trials of its budget.
    """

    state: State
    losses: tuple[float, ...] | None = None
    constraints: tuple[float, ...] | None = None
    budget: float | None = None

    @property
    def loss(self) -> float | None:
        """The first (for one objective: the) loss, or ``None``."""
        return None if self.losses is None else self.losses[0]


@dataclass(frozen=True)
class RunSetup:
    """What the factory tells an adapter once, before the first ask
    (:meth:`Adapter.configure`): the run's budget, how many objectives it has, and its
    history: the optimizer's list of finished trials, ``(point, told)`` each, appended before
    each trial is told (read-only; what a wrapper replays instead of keeping a copy); and,
    for a multi-fidelity run, the rung budgets (``hb.fidelity``'s, lowest first; empty
    otherwise): the factory then builds one proposer per budget, each told ``rung=True``
    (it is one rung's proposer: ``backend="auto"`` chooses for that); ``deterministic``:
    the run must repeat for a seed, so nothing may decide by measured time (``minimize``'s
    ``deterministic=True``: ``backend="auto"`` then ignores the cost of its proposals)."""

    max_evals: int | None = None
    timeout: float | None = None
    n_jobs: int = 1
    n_objectives: int = 1
    history: Sequence[tuple[Mapping[str, Any], Told]] = ()
    budgets: tuple[float, ...] = ()
    rung: bool = False
    deterministic: bool = False


@dataclass(frozen=True)
class Capabilities:
    """What a backend supports, declared once in its :class:`~hpo_bridge.BackendInfo`.

    The optimizer reads them: what a capability rules out is refused before the first trial,
    naming the backend and the parameter (``hpo_bridge.testing`` checks every such refusal).

    Attributes:
        conditional: ``"native"`` if the library models conditional parameters itself,
            ``"encoded"`` if every branch's parameters are always proposed and the inactive ones
            dropped on decode, ``"enumerated"`` if the backend walks the tree of configurations
            itself (a grid).
        objects: ``"native"`` or ``"indices"``: how choices of non-primitive options reach it.
        batch: several trials may be pending at once (``ask(n)``, asks before tells,
            ``n_jobs > 1``), under the library's own policy. ``False``: refused.
        failures: how a failed trial is told: ``"native"`` or ``"penalty"`` (a stand-in loss).
        discrete_only: the backend enumerates a grid; a continuous parameter is refused.
        unbounded: how ``normal``/``lognormal`` reach it: ``"native"``, ``"transform"`` (the
            quantile through the inverse CDF) or ``"refused"``.
        finite: the backend has a finite number of proposals (``Optimizer.remaining``).
        planned: the library is built for a budget and a number of workers (its ``budget``
            and ``num_workers`` options, as nevergrad's): ``minimize`` passes ``max_evals``
            and ``n_jobs``; more trials pending than ``num_workers`` are refused.
        replicates: another seed gives another run. ``False`` when, for some spaces, the
            library's algorithm is deterministic (NGOpt chooses COBYLA for a bounded
            continuous space), so seeds of a benchmark are not independent replicates.
        objectives: how a run with several objectives reaches it: ``"native"`` (the adapter
            reads ``RunSetup.n_objectives`` in :meth:`Adapter.configure` and takes every loss
            of :class:`Told`: the library models them), ``"scalarized"`` (ParEGO around the single-objective
            adapter, :mod:`hpo_bridge.backends.parego`), ``"unused"`` (its proposals never
            depend on values, e.g. random search: accepted, nothing is modelled) or
            ``"refused"`` (before the first trial, naming the backend and the fix).
        constraints: how constraints reach it: ``"native"`` (told with the trial, the library
            models feasibility), ``"penalty"`` (through the same wrapper: an infeasible trial
            is told a loss worse than every feasible one), ``"unused"`` or ``"refused"`` (at
            the first trial that returns constraints: they cannot be known earlier).
    """

    conditional: Literal["native", "encoded", "enumerated"] = "native"
    objects: Literal["native", "indices"] = "indices"
    batch: bool = True
    failures: Literal["native", "penalty"] = "native"
    discrete_only: bool = False
    unbounded: Literal["native", "transform", "refused"] = "transform"
    finite: bool = False
    planned: bool = False
    replicates: bool = True
    # A backend declared elsewhere opts in: ParEGO rebuilds the library each proposal, which
    # is wrong for one that keeps a generational state.
    objectives: Literal["native", "scalarized", "unused", "refused"] = "refused"
    constraints: Literal["native", "penalty", "unused", "refused"] = "refused"


class Adapter(ABC):
    """The native part of one backend, driven by :class:`hpo_bridge.Optimizer`.

    Subclasses implement :meth:`ask`, :meth:`ask_fixed` and :meth:`tell`; :meth:`ask_batch`
    may use the library's own batch policy, :meth:`tell_many` tell a history at once.
    """

    def __init__(self, space: Space, seed: int | None, **options: Any) -> None:
        self.space = space
        self.seed = seed
        if options:
            raise TypeError(f"{type(self).__name__}: unknown backend options {sorted(options)}")

    @classmethod
    def option_names(cls, **fixed: Any) -> set[str] | None:
        """The native options this backend takes, given its registry options ``fixed``.

        Checked when the optimizer is built (:func:`hpo_bridge.backends.registry.check_options`);
        ``None`` means the adapter cannot tell and takes anything.
        """
        return None

    @classmethod
    def to_native(cls, space: Space, point: Mapping[str, Any]) -> Any:
        """``point`` in the library's own form (hyperopt ``vals``, Optuna params, an skopt
        list...): the translator's encode. ``hpo_bridge.testing`` checks that
        :meth:`from_native` gives the point back, exactly."""
        raise NotImplementedError(f"{cls.__name__}.to_native: the translator's encode")

    @classmethod
    def from_native(cls, space: Space, native: Any) -> dict[str, Any]:
        """The point of a proposal in the library's own form: the translator's decode."""
        raise NotImplementedError(f"{cls.__name__}.from_native: the translator's decode")

    @abstractmethod
    def ask(self) -> tuple[Handle, dict[str, Any]]:
        """Propose one point, pending until told."""

    def ask_batch(self, n: int) -> list[tuple[Handle, dict[str, Any]]]:
        """Propose ``n`` points at once (default: ``n`` pending asks)."""
        return [self.ask() for _ in range(n)]

    @abstractmethod
    def ask_fixed(self, point: Mapping[str, Any]) -> Handle:
        """Register a pending trial at a given point (points to evaluate, warm starts)."""

    @abstractmethod
    def tell(self, handle: Handle, told: Told) -> None:
        """Report the outcome of the pending trial ``handle`` (see :class:`Told`)."""

    def tell_many(self, trials: Sequence[tuple[Mapping[str, Any], Told]]) -> None:
        """Tell trials that finished elsewhere, ``(point, told)`` each (an earlier run, another
        worker, the history a wrapper replays). Default: ``ask_fixed`` and ``tell`` each; a
        library whose ``tell`` refits a model may tell them at once."""
        for point, told in trials:
            self.tell(self.ask_fixed(point), told)

    def withdraw(self, handle: Handle) -> None:
        """Forget the pending ask ``handle``: it will never be told, its configuration is
        evaluated elsewhere (the multi-fidelity stack runs a rung proposer's configuration at
        a lower budget first; :mod:`hpo_bridge.backends.rungs`). A library that weighs its
        pending trials in its next proposals (hyperopt's TPE counts one as infinitely bad,
        skopt lies about it, Optuna's GP sampler conditions on it) must not keep it.
        Default: nothing (a library whose pending asks weigh on nothing)."""
        return None  # an optional hook: a default, not an abstract method

    @property
    def startup(self) -> int:
        """How many complete trials the library takes before its model proposes (its random
        start-up: Optuna's ``n_startup_trials``, hyperopt's ``n_startup_jobs``, skopt's
        ``n_initial_points``); 0 when it has none. The multi-fidelity stack asks a rung's
        proposer only once that rung has this many results (:mod:`hpo_bridge.backends.rungs`).
        """
        return 0

    # -- the run, and a description (used by backend="auto") -------------------------------
    def configure(self, setup: RunSetup) -> None:
        """The run's budget and number of objectives, given once by the stack's factory
        (:mod:`hpo_bridge.backends.stack`) before the first ask (default: ignored; a
        backend whose ``capabilities.objectives`` is ``"native"`` reads ``n_objectives``)."""
        return None  # an optional hook: a default, not an abstract method

    def describe(self) -> str | None:
        """What ran, for ``result.backend`` (default ``None``: the backend's name)."""
        return None

    def report(self, handle: Handle, value: float, step: int) -> None:
        """Pass an intermediate loss to the library, if it keeps them (default: it does not)."""
        return None  # an optional hook: a default, not an abstract method

    @property
    def remaining(self) -> int | None:
        """How many proposals are left (a grid's size), or ``None`` if unbounded."""
        return None


def keyword_names(func: Callable[..., Any], skip: Iterable[str] = ()) -> set[str]:
    """The names ``func`` takes as keywords, less ``skip`` (those the adapter passes itself)."""
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    params = inspect.signature(func).parameters.values()
    return {p.name for p in params if p.kind in kinds} - {"self", *skip}
