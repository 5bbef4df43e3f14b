"""Simulated time: a multi-fidelity study on ``workers`` virtual workers, replaying each
evaluation's recorded cost on a virtual clock (issue 21, item 6).

An asynchronous study of ``W`` workers, as a real one would run, without waiting: the run's
own books (:class:`hpo_bridge.loop.RunBooks`, the ``asha`` scheduler by default, the
backend's proposers of :mod:`hpo_bridge.backends.rungs`) choose every evaluation, exactly as
``hb.minimize(..., fidelity=, scheduler="asha", n_jobs=W)`` does; only the clock is virtual.
It follows the idea of Syne Tune's simulator backend (a simulated time keeper, advanced by
the real time spent in the tuner and scheduler) and of Watanabe's zero-wait simulator
(``mfhpo-simulator``: workers are busy for the benchmark's recorded runtime, and the
optimizer's sampling time counts):

- an event queue holds each running evaluation's finish time: ``start + cost``, where
  ``cost`` is the problem's recorded cost (``objective.cost(config, reached)``: with
  ``resume=True`` a promoted configuration continues from the budget it reached, paying only
  the steps after it; otherwise it retrains from the start);
- the next completion is the earliest finish time; completions at the same time are told
  together, in the order they started (ties broken deterministically, as ``run_parallel``
  tells every finished future before it starts new ones); the freed worker (the lowest id
  first) starts the next evaluation;
- the optimizer's time is counted: the measured wall time of each ask (``next_trial``: the
  scheduler and the backend's proposal) and tell (``finish``) is added to the clock, so an
  evaluation starts at ``completion + overhead``. ``overhead=`` a fixed number of seconds
  instead makes the run independent of the machine (exactly reproducible with its seed).

Example:
    >>> from hpo_bridge.bench.problems import get_problem
    >>> sim = simulate(get_problem("hartmann6-mf"), "optuna:random", workers=4, max_evals=20,
    ...                seed=0, overhead=0.0)
    >>> len(sim.timeline), sim.timeline["worker"].nunique()
    (20, 4)
"""

from __future__ import annotations

import bisect
import heapq
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hpo_bridge.evaluate import Outcome, evaluate
from hpo_bridge.loop import RunBooks
from hpo_bridge.optimizer import Optimizer, Trial
from hpo_bridge.progress import ProgressBar
from hpo_bridge.schedulers import check_fidelity_run

if TYPE_CHECKING:
    import pandas as pd

    from hpo_bridge.bench.problems.base import Problem
    from hpo_bridge.compare import RunOutput, RunTask
    from hpo_bridge.results import Result

__all__ = ["Simulation", "simulate", "run_sim_task"]

TIMELINE_COLUMNS = ["trial_id", "worker", "start_s", "finish_s", "cost_s", "overhead_s"]


@dataclass
class Simulation:
    """A simulated run: its :class:`~hpo_bridge.Result` (the same as a real run's), the
    ``timeline`` (one row per evaluation, :data:`TIMELINE_COLUMNS`, in order of completion:
    virtual seconds) and the real ``wall_s`` it took."""

    result: Result
    timeline: pd.DataFrame
    wall_s: float

    @property
    def clock_s(self) -> float:
        """The virtual time of the last completion."""
        return float(self.timeline["finish_s"].max()) if len(self.timeline) else 0.0


def _check(problem: Problem, workers: Any, overhead: Any) -> None:
    if problem.fidelity is None or not problem.simulatable:
        raise ValueError(f"simulate: problem {problem.name!r} has no fidelity with a recorded "
                         "cost (objective.cost); simulated time needs one of the tabulated "
                         "multi-fidelity problems (e.g. mlp-digits-tab, gb-wine-tab) or "
                         "hartmann6-mf")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"simulate: workers must be an int >= 1, got {workers!r}")
    if overhead is not None and (isinstance(overhead, bool)
                                 or not isinstance(overhead, (int, float))
                                 or not math.isfinite(overhead) or overhead < 0):
        raise ValueError(f"simulate: overhead must be None (measured) or seconds >= 0, got "
                         f"{overhead!r}")


def simulate(problem: Problem, backend: str, *, workers: int = 4, max_evals: int | None = None,
             max_budget: float | None = None, seed: int | None = 0, scheduler: str = "asha",
             resume: bool = True, overhead: float | None = None) -> Simulation:
    """Run ``problem`` under ``backend`` on ``workers`` virtual workers (see the module).

    Args:
        problem: A multi-fidelity problem whose objective has ``cost(config, reached)``.
        backend: Any single-objective backend that takes batches (as ``n_jobs > 1`` needs).
        workers: Virtual workers.
        max_evals: Evaluations in all (at least one of ``max_evals``/``max_budget``).
        max_budget: Total budget (sum of the evaluations' budgets).
        seed: The backend's seed.
        scheduler: ``"asha"`` (default; asynchronous), ``"hyperband"`` or ``"sha"``.
        resume: A promoted configuration continues from the budget it reached (its cost is
            the steps after it); ``False``: it retrains from the first step.
        overhead: ``None``: the measured wall time of each ask and tell is added to the
            clock; a number: that many seconds per ask and per tell instead (reproducible).

    Returns:
        A :class:`Simulation`.
    """
    _check(problem, workers, overhead)
    assert problem.fidelity is not None
    t_wall = time.perf_counter()
    opt = Optimizer(problem.space, backend, seed)
    plan = check_fidelity_run(opt, problem.fidelity, max_budget, scheduler,
                              max_evals=max_evals, timeout=None, pruner=None, storage=None,
                              study_name=None)
    opt.configure(max_evals=max_evals, n_jobs=workers, budgets=plan.fidelity.rungs)
    opt.check_parallel(workers)
    opt.build()
    run = RunBooks(problem.objective, opt, max_evals=max_evals, timeout=None, points=[],
                   n_jobs=workers, executor=None, catch=(Exception,), progress=False,
                   scheduler=plan, max_budget=max_budget)
    cost_of = problem.objective.cost  # type: ignore[attr-defined]
    rows = _event_loop(run, workers, cost_of, resume, overhead)
    run.close()
    import pandas as pd

    timeline = pd.DataFrame(rows, columns=TIMELINE_COLUMNS)
    return Simulation(run.result(), timeline, time.perf_counter() - t_wall)


def _event_loop(run: RunBooks, workers: int, cost_of: Any, resume: bool,
                overhead: float | None) -> list[tuple[Any, ...]]:
    """The virtual workers: start while a worker is free, then the earliest completion(s)."""

    def timed(call: Any, *args: Any) -> tuple[Any, float]:
        t0 = time.perf_counter()
        out = call(*args)
        return out, (time.perf_counter() - t0) if overhead is None else float(overhead)

    now = 0.0
    free = list(range(workers))  # a heap of worker ids: the lowest free one starts next
    events: list[tuple[float, int, int, Trial, Outcome, float, float]] = []
    seq = 0
    rows: list[tuple[Any, ...]] = []
    bar = ProgressBar(None, False)
    while True:
        while free and not run.stopped:
            trial, spent = timed(run.next_trial)
            if trial is None:
                break
            now += spent  # the proposal is made before the worker starts
            outcome = evaluate(run.objective, trial, run.pass_trial, run.catch)
            cost = float(cost_of(trial.params, trial.budget_reached if resume else None))
            heapq.heappush(events, (now + cost, seq, heapq.heappop(free), trial, outcome,
                                    now, spent))
            seq += 1
        if not events:
            return rows
        first = events[0][0]
        now = max(now, first)
        while events and events[0][0] == first:  # simultaneous completions, in start order
            end, _, worker, trial, outcome, start, spent = heapq.heappop(events)
            _, told = timed(run.finish, trial, outcome, bar)
            now += told
            rows.append((trial.trial_id, worker, start, end, end - start, spent + told))
            heapq.heappush(free, worker)
            if outcome.reraise is not None:
                raise outcome.reraise


def run_sim_task(task: RunTask) -> RunOutput:
    """A bench run in simulated time (``task.kwargs``: ``problem``, ``workers``, and
    ``simulate``'s other options): the run's compare rows with ``sim_time_s`` (the virtual
    time its evaluation finished), ``sim_cost_s`` (its recorded cost; ``duration_s`` stays
    the real time of the lookup) and ``worker``."""
    import time as _time

    from hpo_bridge.backends.registry import resolve
    from hpo_bridge.bench.problems import get_problem
    from hpo_bridge.compare import RunOutput, quiet_run
    from hpo_bridge.results import result_frame

    options = dict(task.kwargs)
    problem = get_problem(options.pop("problem"))
    resolve(task.backend).load()
    t0, c0 = _time.time(), _time.process_time()
    try:
        with quiet_run(task.quiet):
            sim = simulate(problem, task.backend, seed=task.seed, max_evals=task.max_evals,
                           **options)
    except Exception as exc:  # reported with the run's name by the caller
        return RunOutput(None, f"{type(exc).__name__}: {exc}", _time.time() - t0,
                         _time.process_time() - c0)
    frame = result_frame(sim.result, t0)
    timeline = sim.timeline.set_index("trial_id")
    frame["sim_time_s"] = frame["trial_id"].map(timeline["finish_s"])
    frame["sim_cost_s"] = frame["trial_id"].map(timeline["cost_s"])
    frame["worker"] = frame["trial_id"].map(timeline["worker"])
    return RunOutput(frame, None, _time.time() - t0, _time.process_time() - c0)


# -- the report: regret against simulated time ---------------------------------------------
def regret_curve(run: pd.DataFrame, optimum: float) -> tuple[list[float], list[float]]:
    """One run's ``(simulated times, regret)``: at each completion (in simulated-time order),
    the best value at the highest budget reached so far minus the full-fidelity ``optimum``
    (the rule of ``result.best_value`` in a multi-fidelity run)."""
    times: list[float] = []
    regret: list[float] = []
    best, top = math.nan, -math.inf
    for _, row in run.sort_values(["sim_time_s", "trial_id"]).iterrows():
        value, budget = row["value"], row.get("budget", math.nan)
        budget = -math.inf if budget is None or budget != budget else float(budget)
        if row["state"] == "complete" and value == value:
            if math.isnan(best) or budget > top or (budget == top and value < best):
                best, top = float(value), budget
        times.append(float(row["sim_time_s"]))
        regret.append(best - optimum)
    return times, regret


def regret_at(curve: tuple[list[float], list[float]], t: float) -> float:
    """A run's regret at simulated time ``t`` from its :func:`regret_curve` (NaN before its
    first completion)."""
    times, regret = curve
    i = bisect.bisect_right(times, t)
    return regret[i - 1] if i else math.nan


def report_section(out: Any, table: pd.DataFrame, known: dict[str, float | None],
                   slug: Any, markdown_table: Any) -> list[str]:
    """The report's section for simulated runs (a ``sim_time_s`` column): per problem, the
    median regret over seeds at 10, 25, 50 and 100 % of the latest completion, and a plot of
    median regret against simulated time (``simtime_<problem>.png``)."""
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    if "sim_time_s" not in table.columns or table["sim_time_s"].isna().all():
        return []
    lines = ["\n## Regret against simulated time\n",
             "Asynchronous runs (ASHA) on virtual workers: each evaluation takes its recorded "
             "training time on a virtual clock, plus the optimizer's measured ask and tell time "
             "(`hpo_bridge.bench.simulate`). Regret: the best value at the highest budget reached "
             "so far minus the full-fidelity optimum; median over seeds, at fractions of the "
             "latest completion of the problem's runs.\n"]
    fractions = (0.1, 0.25, 0.5, 1.0)
    for key, part in table.groupby("problem", sort=False):
        problem = str(key)
        optimum = known.get(problem)
        if optimum is None:
            full = part[part["budget"] == part["budget"].max()]
            optimum = float(full["value"].min())
        horizon = float(part["sim_time_s"].max())
        rows: dict[str, list[float]] = {}
        fig, ax = plt.subplots(figsize=(6, 4))
        grid = np.linspace(0.0, horizon, 200)
        drawn: list[float] = []
        for backend, runs in part.groupby("backend", sort=False):
            curves = [regret_curve(r, optimum) for _, r in runs.groupby("seed")]
            rows[str(backend)] = [_median([regret_at(c, f * horizon) for c in curves])
                                  for f in fractions]
            median = [_median([regret_at(c, t) for c in curves]) for t in grid]
            drawn += [y for y in median if not math.isnan(y)]
            ax.plot(grid, median, label=str(backend))
        ax.set(xlabel="simulated time (s)", ylabel="regret (median over seeds)",
               title=f"{problem}: regret against simulated time")
        if drawn and min(drawn) > 0:
            ax.set_yscale("log")
        ax.legend(fontsize=8)
        name = f"simtime_{slug(problem)}.png"
        fig.tight_layout()
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        frame = pd.DataFrame(rows, index=[f"t={f:g}×{horizon:.0f}s" for f in fractions]).T
        lines += [f"\n### {problem} (optimum {optimum:.6g})\n", markdown_table(frame,
                  index="backend"), f"\n![regret against simulated time]({name})\n"]
    return lines


def _median(values: list[float]) -> float:
    """The median of the values that are not NaN (NaN if none is)."""
    import numpy as np

    kept = [v for v in values if not math.isnan(v)]
    return float(np.median(kept)) if kept else math.nan
