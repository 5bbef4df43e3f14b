"""``hb.fidelity``: the budget an objective is evaluated at, and Hyperband's arithmetic.

A :class:`Fidelity` names the budget (``"epochs"``), its bounds and the reduction factor
``eta``. Pure functions on it give the rungs (the budgets a configuration may be evaluated at)
and Hyperband's brackets (Li et al., "Hyperband: A Novel Bandit-Based Approach to
Hyperparameter Optimization", JMLR 18(185), 2018, Algorithm 1):

- ``R = high / low`` (the maximum budget in units of the minimum), ``s_max`` the largest ``s``
  with ``eta ** s <= R``;
- the rung budgets are ``high * eta ** -k`` for ``k = s_max .. 0`` (rounded to ints when the
  bounds are ints), so the highest is ``high`` and the lowest is at least ``low``;
- bracket ``s`` (``s = s_max .. 0``) starts ``n = ceil((s_max + 1) / (s + 1) * eta ** s)``
  configurations at the budget of rung ``s_max - s`` and keeps, at each later rung ``i``, the
  best ``floor(n * eta ** -i)`` of them.

It knows nothing of trials; :mod:`hpo_bridge.schedulers` runs the brackets.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from hpo_bridge.errors import SpaceError

__all__ = ["Bracket", "Fidelity", "fidelity", "hyperband_brackets"]

Number = int | float


@dataclass(frozen=True)
class Fidelity:
    """The budget of an evaluation: ``config[name]`` runs between ``low`` and ``high``.

    Build it with :func:`fidelity` (which checks it).
    """

    name: str
    low: Number
    high: Number
    eta: int = 3

    def __repr__(self) -> str:
        return f"fidelity({self.name!r}, {self.low!r}, {self.high!r}, eta={self.eta!r})"

    @property
    def integer(self) -> bool:
        """Whether budgets are ints (both bounds are)."""
        return isinstance(self.low, int) and isinstance(self.high, int)

    @property
    def s_max(self) -> int:
        """The number of halvings: the largest ``s`` with ``eta ** s <= high / low``."""
        s = 0
        while self.low * self.eta ** (s + 1) <= self.high * (1 + 1e-12):
            s += 1
        return s

    @property
    def rungs(self) -> tuple[Number, ...]:
        """The budgets a configuration may be evaluated at, lowest first (the last is
        ``high``)."""
        return tuple(self._at(self.high / self.eta ** k) for k in range(self.s_max, -1, -1))

    def _at(self, budget: float) -> Number:
        if not self.integer:
            return float(budget)
        return max(int(self.low), min(int(self.high), round(budget)))


def _number(name: str, value: object) -> Number:
    """``value`` as a Python int (any integer, NumPy's too) or float (any real number)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SpaceError(f"fidelity: {name} must be a finite number, got {value!r}")
    number = int(value) if isinstance(value, numbers.Integral) else float(value)
    if not math.isfinite(number):
        raise SpaceError(f"fidelity: {name} must be a finite number, got {value!r}")
    return number


def fidelity(name: str, low: Number, high: Number, eta: int = 3) -> Fidelity:
    """The budget the objective reads as ``config[name]``, from ``low`` to ``high``.

    Args:
        name: The key of the configuration that holds the budget (``"epochs"``); not a
            parameter of the space.
        low: The smallest budget (``> 0``).
        high: The full budget (``>= low * eta``, so that there are at least two rungs).
            Budgets are ints when both bounds are ints.
        eta: The reduction factor (an int ``>= 2``): each rung keeps the best ``1/eta`` of its
            configurations and evaluates them at ``eta`` times the budget.

    Raises:
        SpaceError: A bound or ``eta`` that breaks these rules (a ``ValueError``).

    Example:
        >>> import hpo_bridge as hb
        >>> f = hb.fidelity("epochs", 1, 81, eta=3)
        >>> f
        fidelity('epochs', 1, 81, eta=3)
        >>> f.rungs
        (1, 3, 9, 27, 81)
    """
    if not isinstance(name, str) or not name:
        raise SpaceError(f"fidelity: name must be a non-empty string, got {name!r}")
    low, high = _number("low", low), _number("high", high)
    if low <= 0:
        raise SpaceError(f"fidelity {name!r}: low must be > 0 (a budget of nothing evaluates "
                         f"nothing), got low={low!r}")
    if low >= high:
        raise SpaceError(f"fidelity {name!r}: low must be < high, got low={low!r}, "
                         f"high={high!r}; give the smallest budget first")
    if isinstance(eta, bool) or not isinstance(eta, numbers.Integral) or eta < 2:
        raise SpaceError(f"fidelity {name!r}: eta must be an int >= 2 (each rung keeps the "
                         f"best 1/eta), got eta={eta!r}; 3 is the usual value")
    eta = int(eta)
    if low * eta > high * (1 + 1e-12):
        raise SpaceError(f"fidelity {name!r}: high / low must be at least eta, got low={low!r}, "
                         f"high={high!r}, eta={eta!r}: there would be one rung (every "
                         "evaluation at the full budget, nothing to halve); lower low or eta "
                         f"(e.g. low={high / eta!r})")
    return Fidelity(name, low, high, eta)


@dataclass(frozen=True)
class Bracket:
    """One bracket of Hyperband: ``rungs[i] = (n_i, rung index)``: ``n_i`` configurations
    evaluated at ``fidelity.rungs[rung index]``."""

    s: int
    rungs: tuple[tuple[int, int], ...]


def hyperband_brackets(f: Fidelity) -> list[Bracket]:
    """Hyperband's brackets for ``f``, ``s = s_max`` (most configurations) first
    (Li et al. 2018, Algorithm 1, with ``R = eta ** s_max``)."""
    s_max, eta = f.s_max, f.eta
    out = []
    for s in range(s_max, -1, -1):
        n = -(-(s_max + 1) * eta ** s // (s + 1))  # ceil, in integers
        out.append(Bracket(s, tuple((n // eta ** i, s_max - s + i) for i in range(s + 1))))
    return out
