"""``hb.stop``: stopping rules, as callbacks (``callbacks=[hb.stop.no_improvement(20)]``).

Each ends the run cleanly by raising :class:`~hpo_bridge.callbacks.StopRun`: no new trial
starts, trials in flight finish and are recorded, and ``result.stopped`` says why, e.g.
``"no improvement: best 0.0123 (trial 17) not improved by more than 0 in 20 trials"``.
Both read one objective (a run with several is refused before its first trial) and count
only complete, feasible trials as results; failed and pruned trials count as trials without
improvement. In a multi-fidelity run (``fidelity=``) both read only the evaluations at the full
budget (``fidelity.high``, the last rung): a value at a lower budget is not comparable with
one at the full budget (``result.best_*`` is the best at the highest budget reached, which is
the full budget once a rule can fire), and a rule that counted low-budget evaluations would end
Hyperband's first bracket before any promotion. A rule forgets the previous run when it is given to a new one (``on_start``), so
one object can serve the runs of ``hb.compare`` one after the other.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING

from hpo_bridge.callbacks import Callback, StopRun
from hpo_bridge.errors import SpaceError

if TYPE_CHECKING:
    from hpo_bridge.optimizer import Optimizer
    from hpo_bridge.results import Result, TrialRecord

__all__ = ["StopRun", "no_improvement", "target"]


def _one_objective(rule: str, opt: Optimizer) -> None:
    names = opt.objectives.names
    if len(names) > 1:
        raise SpaceError(f"hb.stop.{rule}: reads one objective, and this run has "
                         f"{len(names)} ({', '.join(names)}); stop it with your own "
                         "callback (e.g. on result.hypervolume()) instead")


class _Rule(Callback):
    """What both rules share: the run's full budget (multi-fidelity), read from the
    optimizer they were given in ``on_start`` (its rung budgets are set after that, by
    ``minimize``, before the first trial)."""

    _optimizer: Optimizer | None = None

    def _full_budget(self) -> float | None:
        budgets = () if self._optimizer is None else self._optimizer.budgets
        return max(budgets) if budgets else None

    def _reads(self, record: TrialRecord) -> bool:
        """Whether the rule reads ``record``: any trial, but in a multi-fidelity run only an
        evaluation at the full budget."""
        full = self._full_budget()
        return full is None or record.budget is None or record.budget >= full

    def __getstate__(self) -> dict[str, object]:  # a copy for another process: no optimizer
        state = dict(self.__dict__)
        state.pop("_optimizer", None)
        return state


def _result_value(record: TrialRecord) -> float | None:
    """The value a rule reads: a complete, feasible trial's (else ``None``)."""
    if record.state != "complete" or record.value is None or not record.feasible:
        return None
    return None if math.isnan(record.value) else record.value


class no_improvement(_Rule):  # lower case: used like a function, hb.stop.*
    """Stop after ``n_trials`` finished trials in a row that did not improve the best value by
    more than ``min_delta`` (in the run's direction).

    With ``fidelity=``, only evaluations at the full budget count, both as the best and as
    trials without improvement; evaluations at lower budgets are skipped (neither count nor
    reset the count), so the rule cannot fire before an evaluation reached the full budget,
    and when it fires its best is ``result.best_trial``'s value.

    Args:
        n_trials: Trials without improvement that end the run (an int >= 1); with
            ``fidelity=``, evaluations at the full budget.
        min_delta: How much better than the best a value must be to count (>= 0).
    """

    def __init__(self, n_trials: int, min_delta: float = 0.0) -> None:
        if (isinstance(n_trials, bool) or not isinstance(n_trials, numbers.Integral)
                or n_trials < 1):
            raise SpaceError(f"hb.stop.no_improvement: n_trials must be an int >= 1, got "
                             f"{n_trials!r}")
        if (isinstance(min_delta, bool) or not isinstance(min_delta, numbers.Real)
                or not math.isfinite(min_delta) or min_delta < 0):
            raise SpaceError(f"hb.stop.no_improvement: min_delta must be a number >= 0, got "
                             f"{min_delta!r}")
        self.n_trials: int = int(n_trials)  # NumPy's integers too
        self.min_delta: float = float(min_delta)
        self._reset()

    def _reset(self) -> None:
        self.best: float | None = None
        self.best_trial: int | None = None
        self.since = 0

    def __repr__(self) -> str:
        return f"hb.stop.no_improvement({self.n_trials}, min_delta={self.min_delta})"

    def on_start(self, optimizer: Optimizer) -> None:
        _one_objective("no_improvement", optimizer)
        self._reset()
        self._optimizer = optimizer

    def __call__(self, result: Result, record: TrialRecord) -> None:
        if not self._reads(record):
            return
        value = _result_value(record)
        sign = -1.0 if result.direction == "maximize" else 1.0
        if value is not None and (self.best is None
                                  or sign * (self.best - value) > self.min_delta):
            self.best, self.best_trial, self.since = value, record.trial_id, 0
            return
        self.since += 1
        if self.since >= self.n_trials:
            best = ("no complete trial" if self.best is None
                    else f"best {self.best:.6g} (trial {self.best_trial})")
            full = self._full_budget()
            trials = ("trials" if full is None
                      else f"evaluations at the full budget ({full:g})")
            raise StopRun(f"no improvement: {best} not improved by more than "
                          f"{self.min_delta:g} in {self.since} {trials}")


class target(_Rule):  # lower case: used like a function, hb.stop.*
    """Stop at the first complete, feasible trial whose value reaches ``value`` (``<=`` when
    minimizing, ``>=`` when maximizing).

    With ``fidelity=``, only an evaluation at the full budget can reach it (a value at a lower
    budget is not ``result.best_value``'s kind), so when the rule fires ``result.best_value``
    has reached ``value`` too."""

    def __init__(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
            raise SpaceError(f"hb.stop.target: value must be a number, got {value!r}")
        self.value: float = float(value)

    def __repr__(self) -> str:
        return f"hb.stop.target({self.value})"

    def on_start(self, optimizer: Optimizer) -> None:
        _one_objective("target", optimizer)
        self._optimizer = optimizer

    def __call__(self, result: Result, record: TrialRecord) -> None:
        value = _result_value(record) if self._reads(record) else None
        if value is None:
            return
        maximize = result.direction == "maximize"
        if (value >= self.value) if maximize else (value <= self.value):
            full = self._full_budget()
            at = "" if full is None else f" at the full budget ({full:g})"
            raise StopRun(f"target reached: trial {record.trial_id} value {value:.6g} "
                          f"{'>=' if maximize else '<='} {self.value:g}{at}")
