"""Model-based multi-fidelity under every backend: one proposer per rung budget (BOHB's rule).

For a run with ``fidelity=``, the stack's factory (:mod:`hpo_bridge.backends.stack`) puts a
:class:`RungAdapter` in front of one proposer per rung budget: each is the chosen backend's
own stack (its adapter, configured, behind ParEGO where it needs it), built once before the
first ask, and each is told only the trials of its budget (``Told.budget``). A new
configuration comes from the proposer of the **highest budget with at least ``n_min = d + 1``
complete trials** (``d`` the number of parameters of the space), else from the lowest budget's
(which then proposes as the backend does before it has data). This is BOHB's rule (Falkner,
Klein and Hutter, "BOHB: Robust and Efficient Hyperparameter Optimization at Scale", ICML
2018, section 4: "we always use the model for the largest budget for which enough
observations are available", with ``N_min = d + 1``), with the backend's own model in place
of BOHB's KDE. Under ``optuna:random`` it is plain Hyperband/ASHA.

Which configuration runs at which budget is the scheduler's (:mod:`hpo_bridge.schedulers`); a
promoted configuration comes in through ``ask_fixed``. A proposer that proposed a
configuration which then ran at a lower budget keeps that ask pending, and is told it when (if)
the configuration reaches its budget; the lower budget's proposer is told the trial as a
history (``tell_many``). Nothing is swapped or rebuilt during the run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hpo_bridge.backends.base import Adapter, Handle, Told
from hpo_bridge.space import Space

__all__ = ["RungAdapter"]

#: Builds the proposer of rung ``i`` with its seed and its own history list.
Factory = Callable[[int, "int | None", Sequence[tuple[Mapping[str, Any], Told]]], Adapter]


@dataclass
class _Handle:
    point: dict[str, Any]
    budget: float | None = None  # the proposer that asked it (None: a fixed point)
    inner: Handle = None


def _key(point: Mapping[str, Any]) -> str:
    return repr(sorted(point.items()))


class RungAdapter(Adapter):
    """One proposer per rung budget; asks the highest one with ``n_min`` complete trials.

    Args:
        budgets: The rung budgets, lowest first.
        factory: ``factory(i, seed, history)`` builds rung ``i``'s proposer (the chosen
            backend's configured stack); rung ``i`` gets ``seed + i`` (``None`` stays
            ``None``), so a seeded run repeats.
        n_min: Complete trials a budget needs before its proposer is asked (default
            ``len(space.dims) + 1``).
    """

    def __init__(self, space: Space, seed: int | None, *, budgets: Sequence[float],
                 factory: Factory, n_min: int | None = None) -> None:
        super().__init__(space, seed)
        self.budgets = tuple(budgets)
        self.n_min = len(space.dims) + 1 if n_min is None else n_min
        self.histories: dict[float, list[tuple[Mapping[str, Any], Told]]] = {
            b: [] for b in self.budgets}
        self.proposers: dict[float, Adapter] = {
            b: factory(i, None if seed is None else (seed + i) % 2**32, self.histories[b])
            for i, b in enumerate(self.budgets)}
        self.complete: dict[float, int] = dict.fromkeys(self.budgets, 0)
        self._borrowed: dict[tuple[float, str], Handle] = {}

    @property
    def asking(self) -> float:
        """The budget whose proposer makes the next new configuration (BOHB's rule)."""
        enough = [b for b in self.budgets if self.complete[b] >= self.n_min]
        return enough[-1] if enough else self.budgets[0]

    def ask(self) -> tuple[Handle, dict[str, Any]]:
        budget = self.asking
        inner, point = self.proposers[budget].ask()
        return _Handle(point, budget, inner), point

    def ask_fixed(self, point: Mapping[str, Any]) -> Handle:
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
            # Asked of a higher budget's proposer, run lower: that ask waits for this
            # configuration to reach its budget.
            self._borrowed[(handle.budget, _key(point))] = handle.inner
        if told.state == "complete" and told.losses is not None:
            self.complete[budget] += 1
        self.histories[budget].append((point, told))
        proposer = self.proposers[budget]
        if handle.budget == budget:
            proposer.tell(handle.inner, told)
        elif (budget, _key(point)) in self._borrowed:
            proposer.tell(self._borrowed.pop((budget, _key(point))), told)
        else:
            proposer.tell_many([(point, told)])

    def tell_many(self, trials: Sequence[tuple[Mapping[str, Any], Told]]) -> None:
        for point, told in trials:
            self.tell(self.ask_fixed(point), told)

    def describe(self) -> str | None:
        return self.proposers[self.budgets[0]].describe()
