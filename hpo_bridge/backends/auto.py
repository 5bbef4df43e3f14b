"""``backend="auto"``: pick a backend from the space and the budget, and switch when it pays.

The rule reads only the space's features (:mod:`hpo_bridge.backends.features`), ``max_evals``,
``timeout``, ``n_jobs``, the number of objectives and whether the run is multi-fidelity; never
the objective's values (only whether it returns constraints: a backend that takes them only
as a penalty, ``skopt:gp`` when optuna is missing, hands over to one that models them). In
order:

0. **Multi-fidelity** (``fidelity=``: auto is one rung's proposer, see
   :mod:`hpo_bridge.backends.rungs`): ``optuna:tpe``, whatever the space. Each proposer is
   fitted on its own rung's evaluations: few at the top rungs (BOHB's ``N_min``, here
   ``max(d + 1, startup)``, is often all a rung gets), very many at the lowest (``eta ** s_max`` new configurations per
   bracket), where a GP's cubic fit would cost most; a grid would be used up by the lowest
   rung's new configurations. TPE is cheap per fit at any count and works from few points;
   BOHB (Falkner et al., ICML 2018) chose a TPE-like KDE for the same reasons. It is shown in
   ``result.backend``: ``auto(optuna:tpe, per rung: multi-fidelity)``.

1. **A grid that fits the budget** (every parameter discrete and the number of configurations
   at most ``max_evals``): ``optuna:grid``, which tries every configuration once.
2. **Conditional spaces** (some parameter exists only under some option of a ``choice``):
   ``optuna:tpe``. TPE models the tree natively; Optuna's GP samples a parameter outside the
   always-present ones at random. Evidence: on ``mixed`` (the suite's conditional problem)
   ``optuna:tpe`` has the best mean rank at 50 and 100 trials over 10 seeds (README, "auto
   against the single backends"); at 30 trials ``hyperopt:tpe`` leads there, on one problem.
3. **Many parallel workers** (``n_jobs >= 4``): ``optuna:tpe``. A GP proposes one point at a
   time in the driving process and gains little from parallel trials (``skopt:gp`` with
   ``n_jobs=4``, README "Parallel and distributed trials"), while TPE proposes in about 1 ms.
4. **More than** :data:`GP_MAX_DIMS` **parameters**: ``optuna:tpe`` (a GP needs many more
   trials than dimensions to model the space; a judgment, the suite stops at 11 dimensions).
   **Or a choice of more than** :data:`GP_MAX_OPTIONS` **options**: ``optuna:tpe``. Optuna's
   GP scores every option of a choice when it optimizes its acquisition, so its cost per
   trial grows with the options. Measured (issue 26, D7; 30 trials of a choice of N integers
   plus a uniform, seed 0, one BLAS thread, 2 cores at load 2–5): ``optuna:gp`` took 3.1 s in
   all at N = 10, 3.2 s at 1,000, 6.3 s at 3,000, 8.5 s at 10,000 and 26 s at 30,000 (1.8 s
   per proposal at trial 30, and growing); at 200,000, 31.8 s for 30 trials in the issue's
   run, against 16 s for 30 trials of ``optuna:tpe`` here (``benchmarks/choice_cost.py``).
   No problem of the suite has a choice that large: auto's choices there are unchanged.
5. **4 to 10 parameters, every one a float** (no integer, no choice; at least
   :data:`NGOPT_MIN_DIMS`), **one objective, one worker, a** ``max_evals`` **of at most**
   :data:`NGOPT_BUDGET`: ``nevergrad:ngopt`` when nevergrad is installed (built for the run's
   budget), else rule 6. NGOpt runs a deterministic method there, started from the centre of
   the box: **every seed gives the same run** (``result.backend``'s reason says so; a benchmark
   counts such runs once). Evidence (issue 27, ``docs/reports/auto_s7_decision.md``): it beats
   ``optuna:gp`` on the suite's three such problems (hartmann6, rosenbrock-4d, ackley; on
   ackley only because the centre is the optimum) and on held-out set 1's two (shekel,
   powell-8d, p <= 0.013), and stays far ahead with the boxes translated off the optimum. It
   is not used with an integer (on sklearn-dt-breast, a tree's CV loss with an integer and
   plateaus, its one run never beats the median random search), with several workers (NGOpt
   then picks another method, and fails inside nevergrad with ``n_jobs=4`` on a space of
   docs/results.md), without a budget, or beyond 100 trials (no evidence). Nor with 2 or 3
   floats: session 8 tried it (ahead of ``optuna:gp`` in mean rank on the eight such problems
   of the suite and held-out sets 1 and 2, ``docs/reports/auto_s8_decision.md``) and held-out
   set 3 rejected it: ``nevergrad:ngopt``'s one run ranked 10–13 among 11–14 backends on
   eggholder, ishigami and sklearn-svc-moons (first on mccormick), and ``auto``'s mean rank
   there went from first at every budget (5.45 / 3.86 / 3.54 at 30 / 60 / 100 trials) to
   behind ``optuna:gp`` and ``optuna:tpe`` (6.82 / 5.35 / 5.03;
   ``docs/reports/auto_heldout3.md``).
   Until session 7 rule 5 chose ``skopt:gp`` for at most 3 parameters and 30 trials; over
   the suite's five problems of that rule and held-out set 1's two it is level with
   ``optuna:gp`` (head to head 1.55 against 1.45 at 30 trials, p = 0.33), loses
   significantly on two of them (p = 0.017, 0.00066) and wins on one (branin, p = 0.045), at
   3× the cost per proposal: rule 6 takes those spaces now.
6. **Otherwise** (numeric, categorical or mixed, not conditional, at most 10 parameters, one
   objective or several): ``optuna:gp``. On the proof suite (``docs/reports/auto_proof.md``) it has
   the best mean rank on the 4–10-D numeric problems at 30, 50 and 100 trials (among the
   proof's backends, which did not include nevergrad) and on the 1–3-D ones at 100
   (``skopt:gp`` is level at 50; at 30 see rule 5); on the two all-categorical problems
   ``optuna:tpe`` ranks ahead of it at 50 and 100 trials (2.8 against 3.0, 2.4 against 3.1,
   p = 0.17 and 0.18), but on two held-out tables (fcnet-protein-structure,
   hpobench-mlp-kc1, 100 trials, 10 seeds) ``optuna:gp`` ranks 1.2 and ``optuna:tpe`` 2.1,
   so the GP is kept there. With several objectives (log EHVI) it leads on ZDT1–3 and DTLZ2
   at 60 trials (docs/objectives.md). Its cost per trial grows
   with the number of trials (a GP fit is cubic in them; about 0.25 s per proposal at 60 trials
   with two or three objectives), so after :data:`GP_TRIALS` trials it hands over to
   ``optuna:tpe``, when the budget (``max_evals``, or a ``timeout`` alone, which leaves it
   open) goes beyond that. With several objectives, rules 1–4 apply as they are (TPE and the
   grid model several objectives natively) and rule 5 does not (its evidence is for one
   objective).

A backend whose library is missing is replaced by the next of its family (``nevergrad:ngopt``
→ ``optuna:gp`` → ``skopt:gp`` → ``optuna:tpe`` → ``hyperopt:tpe``). Switching builds the next backend and tells
it every finished trial (``ask_fixed`` + ``tell``); trials still pending are told to it when they
finish. Each backend gets a seed derived from the run's seed, so a seeded run is reproducible.
The choice is logged once (logger ``"hpo_bridge"``) and shown in ``result.backend``, e.g.
``auto(optuna:gp → optuna:tpe at trial 200)``.

**Aware of cost** (:mod:`hpo_bridge.backends.cost`): as the run goes, auto measures each
trial's proposal time (its backend's ask and tell) and the rest of its wall time (the
objective). At trials 15, 30, 60, 120, a GP whose median proposal over its last 5 trials took
longer than the median objective hands over to ``optuna:tpe``, told every finished trial, and
says so: ``auto(optuna:gp → optuna:tpe at trial 15: proposals 40 ms vs objective 2 ms)``. The
decision reads measured times, so near the ratio it may differ from one machine to another:
it is on by default only when the run has **no seed**. A seed asks for a run that repeats in
any process on any machine (the project's promise), so with ``seed=`` the rule above alone
chooses, unless ``backend="auto", cost="measured"`` asks for the monitor anyway;
``cost="ignore"`` turns it off without a seed too, and ``deterministic=True`` always does.

Example:
    >>> import hpo_bridge as hb
    >>> r = hb.minimize(lambda c: (c["x"] - 1) ** 2, {"x": hb.uniform(-5.0, 5.0)},
    ...                 backend="auto", max_evals=12, seed=0, progress=False)  # doctest: +SKIP
    >>> r.backend  # doctest: +SKIP
    'auto(optuna:gp)'
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hpo_bridge.backends.base import Adapter, Capabilities, Handle, RunSetup, Told
from hpo_bridge.backends.cost import (
    CHEAPER,
    COST_MODES,
    EXPENSIVE,
    CostMonitor,
    Verdict,
    is_checkpoint,
)
from hpo_bridge.backends.features import SpaceFeatures, space_features
from hpo_bridge.errors import MissingBackendError, SpaceError, UnsupportedError
from hpo_bridge.space import Space

__all__ = ["AutoAdapter", "choose", "GP_TRIALS", "GP_MAX_DIMS", "GP_MAX_OPTIONS", "MANY_JOBS",
           "NGOPT_MIN_DIMS", "NGOPT_BUDGET", "clock"]

log = logging.getLogger("hpo_bridge")

#: Trials after which a GP hands over to TPE.
GP_TRIALS = 200
#: Spaces with more parameters start with TPE.
GP_MAX_DIMS = 10
#: Spaces with a choice of more options start with TPE (rule 4: measured in the docstring).
GP_MAX_OPTIONS = 1000
#: From this many trials in flight, TPE.
MANY_JOBS = 4
#: Rule 5: spaces of at least this many parameters, every one a float (and at most
#: :data:`GP_MAX_DIMS`), take ``nevergrad:ngopt`` ...
NGOPT_MIN_DIMS = 4
#: ... when the budget is at most this many trials (the evidence's largest budget).
NGOPT_BUDGET = 100
#: What the cost monitor reads the time with (seconds; a test may put a fake clock here).
clock: Callable[[], float] = time.perf_counter

_FALLBACK = {"nevergrad:ngopt": ("nevergrad:ngopt", "optuna:gp", "skopt:gp", "optuna:tpe",
                                 "hyperopt:tpe"),
             "optuna:gp": ("optuna:gp", "skopt:gp", "optuna:tpe", "hyperopt:tpe"),
             "skopt:gp": ("skopt:gp", "optuna:gp", "optuna:tpe", "hyperopt:tpe"),
             "optuna:tpe": ("optuna:tpe", "hyperopt:tpe", "skopt:gp"),
             "optuna:grid": ("optuna:grid", "optuna:tpe", "hyperopt:tpe", "skopt:gp")}


def choose(features: SpaceFeatures, max_evals: int | None = None, timeout: float | None = None,
           n_jobs: int = 1, n_objectives: int = 1, rung: bool = False
           ) -> tuple[list[tuple[str, int]], str]:
    """The rule: ``([(backend, first trial), ...], why)``, before library availability.

    Example:
        >>> from hpo_bridge.backends.features import SpaceFeatures
        >>> choose(SpaceFeatures(2, 2, 0, False, None), max_evals=500)[0]
        [('optuna:gp', 0), ('optuna:tpe', 200)]
    """
    f = features
    if rung:
        return [("optuna:tpe", 0)], (
            "multi-fidelity: a model per rung, fitted on few evaluations at the top rungs and "
            "many at the lowest; TPE is cheap per fit and works from few points, as in BOHB")
    if f.grid_size is not None and max_evals is not None and f.grid_size <= max_evals:
        return [("optuna:grid", 0)], f"a grid of {f.grid_size} configurations fits the budget"
    grid = "" if f.grid_size is None else f", a grid of {f.grid_size} configurations"
    if f.conditional:
        return [("optuna:tpe", 0)], f"space: conditional, {f.dims} parameters{grid}"
    if n_jobs >= MANY_JOBS:
        return [("optuna:tpe", 0)], f"n_jobs={n_jobs} trials in flight"
    if f.dims > GP_MAX_DIMS:
        return [("optuna:tpe", 0)], f"{f.dims} parameters (more than {GP_MAX_DIMS})"
    if f.max_options > GP_MAX_OPTIONS:
        return [("optuna:tpe", 0)], (f"a choice of {f.max_options} options (more than "
                                     f"{GP_MAX_OPTIONS}, too many for a GP)")
    why = f"space: {f.kind}, {f.dims} parameters{grid}"
    if n_objectives > 1:
        why += f", {n_objectives} objectives"
    elif (NGOPT_MIN_DIMS <= f.dims == f.continuous and n_jobs == 1 and max_evals is not None
          and max_evals <= NGOPT_BUDGET):
        return [("nevergrad:ngopt", 0)], (
            f"{why}, every one a float, {max_evals} trials; deterministic here: every seed "
            "gives the same run")
    if max_evals is None or max_evals > GP_TRIALS:
        return ([("optuna:gp", 0), ("optuna:tpe", GP_TRIALS)],
                f"{why}; the GP hands over after {GP_TRIALS} trials")
    return [("optuna:gp", 0)], why


def _to_checkpoint(asked: int) -> int:
    """Trials from ``asked`` to the next checkpoint of the cost monitor."""
    n = asked + 1
    while not is_checkpoint(n):
        n += 1
    return n - asked


def _available(name: str) -> str:
    from hpo_bridge.backends.registry import resolve

    for candidate in _FALLBACK.get(name, (name,)):
        if resolve(candidate).available:
            return candidate
    raise MissingBackendError("backend 'auto' needs optuna, hyperopt or scikit-optimize: "
                              "pip install 'hpo_bridge[all]'")


def _takes_constraints(name: str) -> bool:
    from hpo_bridge.backends.registry import resolve

    return resolve(name).capabilities.constraints in ("native", "unused")


def _has_library(name: str) -> bool:
    from hpo_bridge.backends.registry import resolve

    return resolve(name).available


@dataclass
class _Handle:
    stage: int
    inner: Handle
    point: dict[str, Any]
    proposal_s: float | None = None  # its share of the ask (None: not proposed, ask_fixed)
    asked_at: float = 0.0  # the clock when the ask returned


class AutoAdapter(Adapter):
    """Delegates to the backend(s) :func:`choose` names; see the module's docstring."""

    capabilities = Capabilities(conditional="native", objects="indices")

    def __init__(self, space: Space, seed: int | None, cost: str | None = None,
                 **options: Any) -> None:
        super().__init__(space, seed, **options)
        if cost is not None and cost not in COST_MODES:
            raise SpaceError(
                f"backend 'auto': cost must be 'measured' (a GP whose proposals take longer "
                f"than the objective hands over to TPE; the default without a seed) or "
                f"'ignore' (the rule alone, reproducible on any machine; the default with a "
                f"seed), got {cost!r}")
        #: ``"measured"`` or ``"ignore"`` (:mod:`hpo_bridge.backends.cost`); ``None``: measured
        #: when the run has no seed and is not ``deterministic`` (a seed promises a run that
        #: repeats on any machine, which measured times cannot).
        self.cost = cost
        watch = cost == "measured" or (cost is None and seed is None)
        self._monitor: CostMonitor | None = CostMonitor() if watch else None
        self._why: dict[int, Verdict] = {}  # stage -> the measurement that switched to it
        self.features = space_features(space)
        self._setup = RunSetup()
        self._plan: list[tuple[str, int]] = []
        self._stage = -1
        self._inner: Adapter | None = None
        self._asked = 0
        self._known = 0  # how many trials of the run's history were told to auto

    @classmethod
    def to_native(cls, space: Space, point: Mapping[str, Any]) -> Any:
        """``auto`` hands points to the backend it chose: its own form is the point."""
        return dict(point)

    @classmethod
    def from_native(cls, space: Space, native: Any) -> dict[str, Any]:
        return dict(native)

    @classmethod
    def option_names(cls, **fixed: Any) -> set[str]:
        """Only ``cost`` (``"measured"`` or ``"ignore"``, see :mod:`hpo_bridge.backends.cost`):
        ``auto`` chooses the backend and its settings (pass options to a named backend
        instead)."""
        return {"cost"}

    def configure(self, setup: RunSetup) -> None:
        """The run's budget and objectives: the rule chooses here, before the first ask. The
        run's history (``setup.history``, the optimizer's) is what a switch replays."""
        if self._inner is not None:
            raise RuntimeError("auto: configure before the first trial")
        self._setup = setup  # minimize passes its default max_evals when neither is given
        if setup.deterministic and self.cost == "measured":
            raise SpaceError(
                "backend 'auto': cost='measured' hands a GP over to TPE by measured time, "
                "which deterministic=True rules out (the run must repeat for a seed); drop "
                "cost= (deterministic=True then ignores the cost) or deterministic=True")
        if setup.deterministic:
            self._monitor = None
        if self._monitor is not None:
            self._monitor.n_jobs = setup.n_jobs
        self._start()

    def _start(self) -> Adapter:
        if self._inner is None:
            setup = self._setup
            budget = {"max_evals": setup.max_evals, "timeout": setup.timeout,
                      "n_jobs": setup.n_jobs}
            plan, why = choose(self.features, max_evals=setup.max_evals, timeout=setup.timeout,
                               n_jobs=setup.n_jobs, n_objectives=setup.n_objectives,
                               rung=setup.rung)
            self._plan = [(_available(name), at) for name, at in plan]
            self._plan = [p for i, p in enumerate(self._plan)
                          if i == 0 or p[0] != self._plan[i - 1][0]]
            shown = ", ".join(f"{k}={v}" for k, v in budget.items() if v is not None)
            log.info("backend auto: %s (%s; budget: %s)", self.describe(planned=True), why,
                     shown)
            self._next()
        return self._current()

    def _current(self) -> Adapter:
        if self._inner is None:
            raise RuntimeError("auto: no backend chosen yet")
        return self._inner

    def _next(self) -> None:
        from hpo_bridge.backends.registry import resolve

        self._stage += 1
        seed = None if self.seed is None else (self.seed + self._stage) % 2**32
        name, at = self._plan[self._stage]
        family = _FALLBACK.get(name, (name,))
        for candidate in family[family.index(name):]:
            info = resolve(candidate)
            if not _has_library(candidate):
                continue
            options = dict(info.options)
            if info.capabilities.planned:  # built for the run's budget and workers (nevergrad)
                options.update(num_workers=self._setup.n_jobs)
                if self._setup.max_evals is not None:
                    options.update(budget=self._setup.max_evals)
            try:
                inner = info.load()(self.space, seed, **options)
            except UnsupportedError as exc:  # e.g. skopt and a choice too large to one-hot
                log.info("backend auto: %s cannot take this space (%s); next of its family",
                         candidate, exc)
                continue
            self._plan[self._stage] = (candidate, at)
            break
        else:
            raise UnsupportedError(f"auto: no backend of {family} can take this space")
        self._inner = inner
        if self._monitor is not None:
            self._monitor.restart()
        inner.configure(RunSetup(n_objectives=self._setup.n_objectives))
        history = self._setup.history[:self._known]
        if history:  # every finished trial told so far, in the order they finished
            if any(told.constraints is not None for _, told in history):
                self._check_constraints()
            inner.tell_many(history)

    def _check_constraints(self) -> None:
        """When no installed backend models constraints (``optuna`` missing), refuse rather
        than drop them."""
        name = self._plan[self._stage][0]
        if not _takes_constraints(name):
            raise UnsupportedError(
                f"auto: the objective returned constraints, but auto runs {name} here, which "
                "takes them only through a penalty, and no backend that models them is "
                "installed; pass backend=" f"'{name}' to use its penalty, or install optuna")

    def _switch_for_constraints(self) -> None:
        """The objective returned constraints and the chosen backend (``skopt:gp``) takes them
        only through a penalty: hand over to ``optuna:gp``, which models them, now."""
        name = next((n for n in _FALLBACK["optuna:gp"] if _takes_constraints(n)
                     and _has_library(n)), None)
        if name is None:
            self._check_constraints()  # refuses, naming the backend
            return
        log.info("backend auto: the objective returns constraints; %s → %s at trial %d",
                 self._plan[self._stage][0], name, self._asked)
        later = [(b, at) for b, at in self._plan[self._stage + 1:] if at > self._asked]
        self._plan = [*self._plan[:self._stage + 1], (name, self._asked), *later]
        self._next()

    def _switch_for_cost(self, verdict: Verdict) -> None:
        """The GP's proposals took longer than the objective (:mod:`hpo_bridge.backends.cost`):
        hand over to TPE now, for the rest of the run."""
        name = _available(CHEAPER)
        if name in EXPENSIVE:
            return  # nothing cheaper installed
        log.info("backend auto: %s → %s at trial %d: %s", self._plan[self._stage][0], name,
                 self._asked, verdict)
        later = [(b, at) for b, at in self._plan[self._stage + 1:]
                 if at > self._asked and b != name]
        self._plan = [*self._plan[:self._stage + 1], (name, self._asked), *later]
        self._why[self._stage + 1] = verdict
        self._next()

    def _maybe_switch(self) -> Adapter:
        self._start()
        stage = self._stage + 1
        if stage < len(self._plan) and self._asked >= self._plan[stage][1]:
            self._next()
        if self._monitor is not None and self._plan[self._stage][0] in EXPENSIVE:
            verdict = self._monitor.decide(self._asked)
            if verdict is not None:
                self._switch_for_cost(verdict)
        return self._current()

    def describe(self, planned: bool = False) -> str:
        """``auto(first → next at trial k)``: the switches made (or, ``planned``, planned)."""
        steps = self._plan if planned else self._plan[:self._stage + 1]
        if not steps:
            return "auto"
        text = steps[0][0] + "".join(
            f" → {b} at trial {k}" + (f": {self._why[i]}" if i in self._why else "")
            for i, (b, k) in enumerate(steps) if i)
        if self._setup.rung:
            text += ", per rung: multi-fidelity"
        return f"auto({text})"

    def _wrap(self, inner: Handle, point: dict[str, Any], proposal_s: float | None = None,
              asked_at: float = 0.0) -> _Handle:
        self._asked += 1
        return _Handle(self._stage, inner, dict(point), proposal_s, asked_at)

    def _now(self) -> float:
        return 0.0 if self._monitor is None else clock()

    def ask(self) -> tuple[Handle, dict[str, Any]]:
        inner = self._maybe_switch()
        started = self._now()
        handle, point = inner.ask()
        now = self._now()
        return self._wrap(handle, point, now - started, now), point

    def ask_batch(self, n: int) -> list[tuple[Handle, dict[str, Any]]]:
        inner = self._maybe_switch()
        room = n
        if self._stage + 1 < len(self._plan):  # do not ask past the next switch
            room = max(1, min(n, self._plan[self._stage + 1][1] - self._asked))
        if self._monitor is not None and self._plan[self._stage][0] in EXPENSIVE:
            # nor past the next checkpoint of the cost monitor
            room = min(room, max(1, _to_checkpoint(self._asked)))
        started = self._now()
        asked = inner.ask_batch(room)
        now = self._now()
        share = (now - started) / max(1, len(asked))
        batch = [(self._wrap(h, p, share, now), p) for h, p in asked]
        return batch + (self.ask_batch(n - room) if room < n else [])

    def ask_fixed(self, point: Mapping[str, Any]) -> Handle:
        return self._wrap(self._maybe_switch().ask_fixed(point), dict(point))

    def tell(self, handle: Handle, told: Told) -> None:
        self._known += 1  # the optimizer put it in the history before telling it
        inner = self._start()
        if told.constraints is not None and not _takes_constraints(self._plan[self._stage][0]):
            self._switch_for_constraints()  # tells the new backend the history, this trial too
            return
        started = self._now()
        if handle.stage == self._stage:
            inner.tell(handle.inner, told)
        else:  # asked before a switch: the current backend never saw it
            inner.tell(inner.ask_fixed(handle.point), told)
        if (self._monitor is not None and handle.stage == self._stage
                and handle.proposal_s is not None):
            self._monitor.finished(handle.proposal_s + self._now() - started,
                                   started - handle.asked_at)

    def report(self, handle: Handle, value: float, step: int) -> None:
        if handle.stage == self._stage:
            self._start().report(handle.inner, value, step)

    def withdraw(self, handle: Handle) -> None:
        if handle.stage == self._stage:
            self._start().withdraw(handle.inner)

    @property
    def startup(self) -> int:
        return self._start().startup

    @property
    def remaining(self) -> int | None:
        return self._start().remaining
