"""What ``backend="auto"`` measures as the run goes, and when a GP hands over to TPE for it.

A GP (``optuna:gp``, ``skopt:gp``) proposes better points per trial than TPE, and costs far
more per proposal: issue 27 measured ~30 ms of CPU per ``optuna:gp`` proposal at 60 trials
(~210 ms for ``skopt:gp``) against ~1 ms for TPE. On an objective that takes a few
milliseconds, the GP's proposals are most of the wall time. :class:`CostMonitor` keeps, for
each trial the current backend proposed and was told, two times:

- **proposal**: the time spent in the backend's ``ask`` (a batch's time shared by its trials)
  plus its ``tell`` (``skopt`` fits its GP when told, Optuna when asked);
- **objective**: from the end of the ask to the start of the tell: the objective, and what
  the run loop does around it (storage, callbacks), i.e. the rest of the trial's wall time.

**The rule.** At the checkpoints :data:`FIRST_CHECK` · 2^k trials (15, 30, 60, 120, ...),
while a GP runs, auto takes the medians of the last :data:`WINDOW` trials it finished and
hands over to ``optuna:tpe`` (every finished trial told to it, as for any switch of
:mod:`hpo_bridge.backends.auto`) when ``proposal > RATIO × objective / n_jobs``: proposals
take more of the wall time than the objectives (``n_jobs`` workers run objectives while the
driver proposes). The hand-over is one way: a GP's proposal time only grows with the trials.

Why these numbers:

- :data:`RATIO` = 1. Handing over cuts a trial's wall time from ``p + o`` to about ``o``, and
  TPE needs more trials than the GP for the same regret: if it needs ``E`` times as many, the
  GP is ahead in wall time while ``p < (E - 1) · o``. ``E`` depends on the problem; 2 is a
  judgment (the GP's lead on the suite is a matter of ranks at equal trials, not of orders
  of magnitude), which puts the break-even at ``p ≈ o``: the GP keeps the run while it costs
  less than the objective, i.e. less than half the wall time (the word of issue 27:
  "proposals would dominate the wall time").
- :data:`FIRST_CHECK` = 15. Both GPs sample their first 10 trials at random (Optuna's
  ``n_startup_trials``, skopt's ``n_initial_points``): the window of the first check, trials
  10–14, holds the GP's own proposals, not random ones.
- :data:`WINDOW` = 5, medians: one slow trial (a garbage collection, another process taking
  the core) does not decide.
- Checkpoints, not every trial: the switch can only happen at one of a few trials, and each
  decision reads five trials' medians. The hysteresis is in both: a ratio that wobbles
  around 1 is read at most once per doubling of the trials. Doubling the gap keeps the GP's
  over-run after the crossing below the trials already run, and the GP's cost grows with the
  trials, so later crossings are caught.
- TPE, not CMA-ES: TPE takes every space and objective count auto gives a GP (categorical
  parameters, several objectives, constraints), and it is what the budget rule already
  hands over to after :data:`~hpo_bridge.backends.auto.GP_TRIALS` trials.

**Measured** (``benchmarks/auto_cost.py``; Hartmann-6, where the rule gives ``optuna:gp``,
wall time to regret 0.2, 10 seeds, 2 shared cores at load 13–20): the cost-aware rule got
there 2.4× sooner (median) on the objective as it is, 0.99× with 300 ms added to each
evaluation (still less than the loaded machine's GP proposals, so it handed over: about
break-even), and 1.00× with 1.5 s added (the GP kept: the same trials as without the rule).

**Reproducibility.** The decision reads measured times, so it can differ between machines
and between runs: the same seed would give the same run only when every checkpoint's
comparison falls on the same side (it does when the two times are far apart, an objective of
microseconds against a GP's milliseconds; near the ratio it may not). A seed promises a run
that repeats in any process on any machine, so **the monitor is on by default only in a run
without a seed**: with ``seed=``, the rule of :mod:`hpo_bridge.backends.auto` alone chooses
(it reads only the space and the budget) unless ``backend="auto", cost="measured"`` asks for
the monitor. ``cost="ignore"`` turns it off in an unseeded run, and
``minimize(..., deterministic=True)`` always does (``cost="measured"`` with it is refused).
``result.backend`` says when and why it handed over, e.g.
``auto(optuna:gp → optuna:tpe at trial 15: proposals 40 ms vs objective 2 ms)``. The benchmark suite runs ``auto`` with
``cost="ignore"`` (:func:`hpo_bridge.bench.runner.backend_options`): it scores regret per
trial, and its objectives stand in for expensive ones.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

__all__ = ["CostMonitor", "Verdict", "COST_MODES", "EXPENSIVE", "CHEAPER", "RATIO", "WINDOW",
           "FIRST_CHECK", "is_checkpoint"]

#: ``backend="auto", cost=...``: measure and hand over (the default, unless the run is
#: ``deterministic``), or ignore the costs.
COST_MODES = ("measured", "ignore")
#: The proposers whose cost is watched.
EXPENSIVE = frozenset({"optuna:gp", "skopt:gp"})
#: What they hand over to.
CHEAPER = "optuna:tpe"
#: Hand over when the median proposal takes more than ``RATIO`` × the median objective.
RATIO = 1.0
#: Trials (the last ones the current backend finished) whose medians are compared.
WINDOW = 5
#: The first checkpoint; the next ones double it.
FIRST_CHECK = 15


def is_checkpoint(trial: int) -> bool:
    """Whether the rule is read before proposing ``trial`` (0-based): 15, 30, 60, 120, ...

    Example:
        >>> [n for n in range(200) if is_checkpoint(n)]
        [15, 30, 60, 120]
    """
    if trial < FIRST_CHECK or trial % FIRST_CHECK:
        return False
    k = trial // FIRST_CHECK
    return k & (k - 1) == 0


def _shown(seconds: float) -> str:
    """``1.3 s``, ``130 ms``, ``2 ms``, ``0.16 ms``."""
    if seconds >= 1.0:
        return f"{seconds:.1f} s"
    if seconds >= 0.0095:
        return f"{seconds * 1e3:.0f} ms"
    return f"{seconds * 1e3:.2g} ms"


@dataclass(frozen=True)
class Verdict:
    """A hand-over: at ``trial``, the medians ``proposal_s`` and ``objective_s``."""

    trial: int
    proposal_s: float
    objective_s: float
    n_jobs: int = 1

    def __str__(self) -> str:
        """What ``result.backend`` says, e.g. ``proposals 40 ms vs objective 2 ms``."""
        workers = f" / {self.n_jobs} workers" if self.n_jobs > 1 else ""
        return (f"proposals {_shown(self.proposal_s)} vs objective "
                f"{_shown(self.objective_s)}{workers}")


@dataclass
class CostMonitor:
    """The times of the trials the current backend proposed and was told (see the module).

    Example:
        >>> m = CostMonitor()
        >>> for _ in range(5):
        ...     m.finished(proposal_s=0.040, objective_s=0.002)
        >>> str(m.decide(15))
        'proposals 40 ms vs objective 2 ms'
        >>> m.decide(16) is None  # not a checkpoint
        True
    """

    n_jobs: int = 1
    times: list[tuple[float, float]] = field(default_factory=list)

    def finished(self, proposal_s: float, objective_s: float) -> None:
        """A trial of the current backend was told: its proposal and objective times."""
        self.times.append((max(0.0, proposal_s), max(0.0, objective_s)))
        del self.times[:-WINDOW]

    def restart(self) -> None:
        """A new backend runs: its own times from now on."""
        self.times.clear()

    def decide(self, trial: int) -> Verdict | None:
        """Before proposing ``trial``: a :class:`Verdict` if the proposer should hand over."""
        if not is_checkpoint(trial) or len(self.times) < WINDOW:
            return None
        proposal = statistics.median(p for p, _ in self.times)
        objective = statistics.median(o for _, o in self.times)
        if proposal > RATIO * objective / max(1, self.n_jobs):
            return Verdict(trial, proposal, objective, self.n_jobs)
        return None
