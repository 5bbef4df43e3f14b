"""Scores of the problems with several objectives: the hypervolume gap, normalized like
Bayesmark's single-objective score.

For a run on problem *p* after *b* trials, ``HV(b)`` is the hypervolume of its feasible trials'
front at *p*'s reference point, and ``HV*`` the reference hypervolume: that of a dense sample of
the true front where it is known, else that of every run's trials together ("all runs").
The **hypervolume gap** ``HV* - HV(b)`` is a loss with a known optimum, 0, so a table whose
``best_value`` is the gap goes through :func:`hpo_bridge.bench.scoring.normalized_scores`
unchanged:

    score = gap(b) / median_p(gap of the random-search reference's final front)

clipped to ``[-1, 1]``: 0 = the true front's hypervolume reached, 1 = no better than the median
random search. Mean ranks and the Mann-Whitney tests use the same gaps.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from hpo_bridge.bench.pareto import (
    as_losses,
    hypervolume,
    hypervolume_curve,
    run_losses,
)

if TYPE_CHECKING:
    import pandas as pd

    from hpo_bridge.bench.problems import Problem

__all__ = ["add_hypervolume", "reference_hypervolumes", "gap_table", "median_hypervolumes",
           "median_fronts"]

RUN_KEYS = ["problem", "backend", "seed"]


def _by_name(problems: Iterable[Problem]) -> dict[str, Problem]:
    return {p.name: p for p in problems if p.multi_objective}


def add_hypervolume(table: pd.DataFrame, problems: Iterable[Problem]) -> pd.DataFrame:
    """``table`` with a ``hypervolume`` column: on a multi-objective problem's rows, the
    hypervolume of the run's front so far (at the problem's reference point); NaN elsewhere."""
    import numpy as np

    mo = _by_name(problems)
    out: pd.DataFrame = table.copy()
    out["hypervolume"] = np.nan
    rows = out[out["problem"].isin(list(mo))] if "problem" in out.columns else out.iloc[:0]
    for (problem, _, _), run in rows.groupby(RUN_KEYS, sort=False):
        p = mo[str(problem)]
        run = run.sort_values("trial_id")
        reference = as_losses(p.reference_point, list(p.spec.directions))
        out.loc[run.index, "hypervolume"] = hypervolume_curve(run_losses(run, p.spec.as_dict()),
                                                              reference)
    return out


def reference_hypervolumes(table: pd.DataFrame, problems: Iterable[Problem]
                           ) -> dict[str, tuple[float, str]]:
    """Per multi-objective problem in ``table``: ``(HV*, "true front" | "all runs")``."""
    import numpy as np

    out: dict[str, tuple[float, str]] = {}
    for name, p in _by_name(problems).items():
        part = table[table["problem"] == name]
        if part.empty:
            continue
        known = p.reference_hypervolume()
        if known is not None:
            out[name] = (known, "true front")
            continue
        losses = [run_losses(run, p.spec.as_dict())
                  for _, run in part.groupby(RUN_KEYS, sort=False)]
        reference = as_losses(p.reference_point, list(p.spec.directions))
        out[name] = (hypervolume(np.vstack(losses), reference), "all runs")
    return out


def gap_table(table: pd.DataFrame, problems: Iterable[Problem]) -> pd.DataFrame:
    """The multi-objective problems' rows of ``table`` (with ``hypervolume``) with
    ``best_value`` replaced by the hypervolume gap ``HV* - HV``: a table for the
    single-objective scores, ranks and tests, with known optimum 0 on every problem."""
    references = reference_hypervolumes(table, problems)
    rows: pd.DataFrame = table[table["problem"].isin(list(references))].copy()
    rows["best_value"] = rows["problem"].map(lambda p: references[p][0]) - rows["hypervolume"]
    return rows


def median_hypervolumes(table: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Median final hypervolume over seeds per backend (rows) and problem (columns) of a table
    with ``hypervolume``; ``above random`` counts the problems where it beats ``reference``'s."""
    last = table.sort_values("trial_id").groupby(RUN_KEYS, sort=False)["hypervolume"].last()
    medians: pd.DataFrame = (last.groupby(["backend", "problem"], sort=False).median()
                             .unstack("problem"))
    medians = medians[list(dict.fromkeys(table["problem"]))]
    medians.columns.name = None
    medians.index.name = "backend"
    if reference in medians.index:
        medians["above random"] = (medians > medians.loc[reference]).sum(axis=1)
        medians.loc[reference, "above random"] = float("nan")
    return medians


def median_fronts(table: pd.DataFrame, problem: Problem) -> dict[str, pd.DataFrame]:
    """Per backend, the run of median final hypervolume on ``problem`` (the lower median with
    an even number of seeds): its feasible non-dominated trials' ``values.<name>`` columns."""
    import pandas as pd

    from hpo_bridge.bench.pareto import non_dominated

    directions = list(problem.spec.directions)
    columns = [f"values.{name}" for name in problem.spec.columns]
    part = table[table["problem"] == problem.name]
    fronts = {}
    for backend, rows in part.groupby("backend", sort=False):
        finals = rows.groupby("seed")["hypervolume"].max().sort_values(kind="stable")
        seed = finals.index[(len(finals) - 1) // 2]
        run = rows[rows["seed"] == seed]
        front = as_losses(non_dominated(run_losses(run, problem.spec.as_dict())), directions)
        fronts[str(backend)] = pd.DataFrame(front, columns=columns).assign(seed=seed)
    return fronts
