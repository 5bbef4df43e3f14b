"""Model-based multi-fidelity under every backend: one proposer per rung budget (BOHB's rule).

For a run with ``fidelity=``, the stack's factory (:mod:`hpo_bridge.backends.stack`) puts a
:class:`RungAdapter` in front of one proposer per rung budget: each is the chosen backend's
own stack (its adapter, configured, behind ParEGO where it needs it), built once before the
first ask, and each is told only the trials of its budget (``Told.budget``). A new
configuration comes from the proposer of the **highest budget with at least ``n_min``
complete trials**, ``n_min = max(d + 1, startup)`` (``d`` the number of parameters of the
space, ``startup`` the backend's random start-up: Optuna's ``n_startup_trials``, hyperopt's
``n_startup_jobs``, skopt's ``n_initial_points``; :attr:`Adapter.startup`), else from the
lowest budget's (which then proposes as the backend does before it has data). This is BOHB's
rule (Falkner, Klein and Hutter, "BOHB: Robust and Efficient Hyperparameter Optimization at
Scale", ICML 2018, section 4: "we always use the model for the largest budget for which enough
observations are available", with ``N_min = d + 1``, the fewest points its KDE takes), with
the backend's own model in place of BOHB's KDE: a model is "available" once it has the points
its library needs to be a model, so a rung whose proposer would still draw at random does not
take over from a lower rung whose model is fitted. Under ``optuna:random`` it is plain
Hyperband/ASHA.

Which configuration runs at which budget is the scheduler's (:mod:`hpo_bridge.schedulers`); a
promoted configuration comes in through ``ask_fixed``. A configuration proposed by a budget's
proposer but run at a lower budget first (a bracket starts at its lowest rung) is withdrawn
from its proposer (:meth:`Adapter.withdraw`): it is not an evaluation at that budget, and a
pending trial weighs on some libraries' next proposals (hyperopt's TPE counts it as
infinitely bad, skopt lies about it); if it reaches that budget, it is told there like any
promoted configuration. Each budget's proposer is told exactly the trials of its budget.
Nothing is swapped or rebuilt during the run.

A new configuration is one this run has not started yet (at any budget): a proposal of a
configuration already started, which a model proposes again and again on a space of choices,
is withdrawn from its proposer and replaced by a configuration drawn at random among those not
started (up to :data:`RETRIES` draws; the last one runs if all were repeats, and once every
configuration of a finite space has started, the proposal runs as it is). Running a repeat
would spend budget on a result the run already has, and promote it twice when it is good.
SMAC3 never returns a configuration of its run history twice either (its ``ConfigSelector``,
``retries=16``; SMAC's Hyperband facade is its BOHB), taking the next of its challengers, a
list that interleaves random configurations; HpBandSter's BOHB and Optuna's samplers do not
deduplicate. The proposer is not asked again: each ask costs a model fit (skopt returns the
same point until it is told something), and asking up to 16 times made a
``gb-breast-cancer-tab`` run at 150 full evaluations' budget 9 times as costly (44.7 s CPU
instead of about 5). This library's plain Hyperband (``optuna:random``) thus samples without
replacement.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hpo_bridge.backends.base import Adapter, Handle, Told
from hpo_bridge.backends.features import space_features
from hpo_bridge.space import Space

__all__ = ["RANDOM_FRACTION", "RETRIES", "RungAdapter"]

#: BOHB's ``rho``: the share of new configurations drawn at random once a model proposes.
RANDOM_FRACTION = 0.0

#: How many random draws replace a proposal of a configuration this run has already started
#: before a repeat runs (SMAC3's ``ConfigSelector(retries=16)``).
RETRIES = 16

#: Builds the proposer of rung ``i`` with its seed and its own history list.
Factory = Callable[[int, "int | None", Sequence[tuple[Mapping[str, Any], Told]]], Adapter]


@dataclass
class _Handle:
    point: dict[str, Any]
    budget: float | None = None  # the proposer that asked it (None: a fixed point)
    inner: Handle = None


class RungAdapter(Adapter):
    """One proposer per rung budget; asks the highest one with ``n_min`` complete trials.

    Args:
        budgets: The rung budgets, lowest first.
        factory: ``factory(i, seed, history)`` builds rung ``i``'s proposer (the chosen
            backend's configured stack); rung ``i`` gets ``seed + i`` (``None`` stays
            ``None``), so a seeded run repeats.
        n_min: Complete trials a budget needs before its proposer is asked (default
            ``max(len(space.dims) + 1, proposer.startup)``, per budget).
        random_fraction: Once a budget's model proposes, the share of new configurations
            drawn at random instead (BOHB's ``rho``; default :data:`RANDOM_FRACTION`), so
            that a model misled by few points, or by a low budget's ranking, is never all
            there is.
    """

    def __init__(self, space: Space, seed: int | None, *, budgets: Sequence[float],
                 factory: Factory, n_min: int | None = None,
                 random_fraction: float | None = None) -> None:
        super().__init__(space, seed)
        self.random_fraction = RANDOM_FRACTION if random_fraction is None else random_fraction
        self._rng = random.Random(seed)
        self._random: Adapter | None = None
        self.budgets = tuple(budgets)
        self.histories: dict[float, list[tuple[Mapping[str, Any], Told]]] = {
            b: [] for b in self.budgets}
        self.proposers: dict[float, Adapter] = {
            b: factory(i, None if seed is None else (seed + i) % 2**32, self.histories[b])
            for i, b in enumerate(self.budgets)}
        d = len(space.dims) + 1
        #: Complete trials each budget needs before its proposer is asked.
        self.n_min: dict[float, int] = {
            b: max(d, p.startup) if n_min is None else n_min for b, p in self.proposers.items()}
        self.complete: dict[float, int] = dict.fromkeys(self.budgets, 0)
        self._started: set[Any] = set()  # the configurations of this run (their keys)
        self._size = space_features(space).grid_size  # None: infinitely many

    @property
    def asking(self) -> float:
        """The budget whose proposer makes the next new configuration (BOHB's rule)."""
        enough = [b for b in self.budgets if self.complete[b] >= self.n_min[b]]
        return enough[-1] if enough else self.budgets[0]

    def ask(self) -> tuple[Handle, dict[str, Any]]:
        budget = self.asking
        modelled = self.complete[budget] >= self.n_min[budget]
        if modelled and self.random_fraction and self._rng.random() < self.random_fraction:
            handle, point = self._new(self._draw)
        else:
            handle, point = self._new(lambda: self._propose(budget))
        self._started.add(_key(point))
        return handle, point

    def _propose(self, budget: float) -> tuple[_Handle, dict[str, Any]]:
        inner, point = self.proposers[budget].ask()
        return _Handle(point, budget, inner), point

    def _new(self, source: Callable[[], tuple[_Handle, dict[str, Any]]]
             ) -> tuple[_Handle, dict[str, Any]]:
        """``source``'s configuration if this run has not started it (or every configuration
        of a finite space has started), else, withdrawn from its proposer, one drawn at random
        that the run has not started (the last of :data:`RETRIES` draws if all were)."""
        handle, point = source()
        exhausted = self._size is not None and len(self._started) >= self._size
        if exhausted or _key(point) not in self._started:
            return handle, point
        if handle.budget is not None:
            self.proposers[handle.budget].withdraw(handle.inner)
        for _ in range(RETRIES):
            handle, point = self._draw()
            if _key(point) not in self._started:
                break
        return handle, point

    def _draw(self) -> tuple[_Handle, dict[str, Any]]:
        """A configuration drawn uniformly at random (the backend ``optuna:random``, Optuna's
        RandomSampler, seeded from the run's seed), told to no model until it has a result.
        Built by its name in the registry, as ``auto`` builds its backends: the scheduler
        knows no backend's module (Optuna is a core dependency)."""
        if self._random is None:
            from hpo_bridge.backends.registry import resolve

            seed = None if self.seed is None else (self.seed + len(self.budgets)) % 2**32
            info = resolve("optuna:random")
            self._random = info.load()(self.space, seed, **info.options)
        handle, point = self._random.ask()
        self._random.withdraw(handle)
        return _Handle(point), point

    def ask_fixed(self, point: Mapping[str, Any]) -> Handle:
        self._started.add(_key(point))
        return _Handle(dict(point))

    def tell(self, handle: Handle, told: Told) -> None:
        budget = told.budget
        if budget is None and told.state == "failed":
            return  # a stored trial whose worker died before it got its budget: never run
        if budget not in self.proposers:
            raise ValueError(f"multi-fidelity: told a trial at budget {budget!r}, which is not "
                             f"a rung ({list(self.budgets)})")
        point = handle.point
        if handle.budget is not None and handle.budget != budget:
            # Asked of another budget's proposer, run at this one: not that budget's trial.
            self.proposers[handle.budget].withdraw(handle.inner)
        if told.state == "complete" and told.losses is not None:
            self.complete[budget] += 1
        self.histories[budget].append((point, told))
        if handle.budget == budget:
            self.proposers[budget].tell(handle.inner, told)
        else:
            self.proposers[budget].tell_many([(point, told)])

    def tell_many(self, trials: Sequence[tuple[Mapping[str, Any], Told]]) -> None:
        for point, told in trials:
            self.tell(self.ask_fixed(point), told)

    def describe(self) -> str | None:
        return self.proposers[self.budgets[0]].describe()


def _key(point: Mapping[str, Any]) -> Any:
    """A configuration as a hashable value (numpy scalars as Python's; an unhashable value by
    its ``repr``)."""
    items = []
    for name, value in sorted(point.items()):
        value = value.item() if hasattr(value, "item") and hasattr(value, "dtype") else value
        try:
            hash(value)
        except TypeError:
            value = repr(value)
        items.append((name, value))
    return tuple(items)
