"""Scores that make benchmark problems comparable (all for minimization).

**Normalized score** (Bayesmark's): for a run on problem *p* after *b* trials,

    score = (best so far after b trials - optimum_p) / (median_p(random) - optimum_p)

clipped to ``[-1, 1]``, where ``median_p(random)`` is the median over seeds of the reference
random search's final best value on *p* (the reference is :data:`REFERENCES`' first backend
present), and ``optimum_p`` is the problem's known optimum, or else the best value seen in any
run of *p*. 0 means the optimum was found, 1 means no better than the median random search (or
no successful trial yet). If random search itself reaches the optimum (the denominator is 0), a
run scores 0 if it reaches the optimum too and 1 otherwise. A problem's score is the mean over
seeds; the headline per backend is ``100 * (1 - mean score over problems)``: 100 means every
problem solved, 0 means random-search level.

**Mean rank**: :func:`hpo_bridge.plots.rank_table`.

**Beats random search**: per problem, a one-sided Mann-Whitney U test (``scipy.stats
.mannwhitneyu``, ``alternative="less"``) of the backend's final best values against the
reference's, across seeds. The samples are unpaired: seed *k* of one library has nothing to do
with seed *k* of another. Across problems, a one-sided Wilcoxon signed-rank test
(``scipy.stats.wilcoxon``) of the per-problem mean scores against the reference's, paired by
problem. No correction for multiple tests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["REFERENCES", "reference_backend", "problem_optima", "normalized_scores",
           "score_table", "headline_by_budget", "significance", "against_best", "time_table"]

#: Random searches usable as the reference, in order of preference.
REFERENCES = ("optuna:random", "hyperopt:random", "skopt:random")


def reference_backend(backends: Sequence[str]) -> str | None:
    """The first of :data:`REFERENCES` among ``backends``, or ``None``."""
    return next((b for b in REFERENCES if b in backends), None)


def problem_optima(df: pd.DataFrame, known: Mapping[str, float | None] | None = None
                   ) -> dict[str, tuple[float, str]]:
    """Per problem: ``(optimum, "known" | "best seen")``."""
    known = known or {}
    optima: dict[str, tuple[float, str]] = {}
    for key, part in df.groupby("problem", sort=False):
        problem = str(key)
        value = known.get(problem)
        if value is not None:
            optima[problem] = (float(value), "known")
        else:
            optima[problem] = (float(part["best_value"].min()), "best seen")
    return optima


def _finals(df: pd.DataFrame) -> pd.DataFrame:
    from hpo_bridge.plots import final_values

    return final_values(df)


def independent_finals(df: pd.DataFrame) -> pd.DataFrame:
    """:func:`_finals` with identical runs of a backend on a problem kept once: a method that
    is deterministic on a space (NGOpt picking COBYLA) gives one sample, however many seeds
    ran it (:func:`hpo_bridge.compare.run_fingerprints`)."""
    from hpo_bridge.compare import run_fingerprints

    keys = [c for c in ("problem", "backend", "seed") if c in df.columns]
    finals = _finals(df).merge(run_fingerprints(df), on=keys, how="left")
    unique: pd.DataFrame = finals.drop_duplicates(
        [c for c in ("problem", "backend") if c in finals.columns] + ["fingerprint"])
    return unique


def _score(best: float, optimum: float, denom: float) -> float:
    if best is None or math.isnan(best):
        return 1.0
    gap = best - optimum
    if denom <= 0:
        return 0.0 if gap <= 0 else 1.0
    return min(1.0, max(-1.0, gap / denom))


def normalized_scores(df: pd.DataFrame, known: Mapping[str, float | None] | None = None,
                      reference: str | None = None, budgets: Sequence[int] | None = None
                      ) -> pd.DataFrame:
    """The normalized score of every run at each budget.

    Args:
        df: A bench table (``problem``, ``backend``, ``seed``, ``trial_id``, ``best_value``).
        known: Known optimum per problem (``None``: use the best value seen).
        reference: The random-search backend (default: the first of :data:`REFERENCES` in
            ``df``).
        budgets: Numbers of trials to score at (default: each problem's largest run length).

    Returns:
        Columns ``problem``, ``backend``, ``seed``, ``budget``, ``best``, ``score``.

    Raises:
        ValueError: No reference random search in ``df``.
    """
    import numpy as np
    import pandas as pd

    reference = reference or reference_backend(list(df["backend"].unique()))
    if reference is None or reference not in set(df["backend"]):
        raise ValueError(f"scoring needs a random-search reference run (one of {REFERENCES}) "
                         "in the table")
    optima = problem_optima(df, known)
    finals = _finals(df)
    rows = []
    for key, part in df.groupby("problem", sort=False):
        problem = str(key)
        optimum = optima[problem][0]
        ref = finals[(finals["problem"] == problem) & (finals["backend"] == reference)]
        if ref.empty:
            raise ValueError(f"problem {problem!r} has no run of the reference {reference!r}")
        denom = float(np.nanmedian(ref["final"].to_numpy(dtype=float))) - optimum
        steps = [int(part["trial_id"].max()) + 1] if budgets is None else list(budgets)
        for (backend, seed), run in part.groupby(["backend", "seed"], sort=False):
            curve = run.sort_values("trial_id")["best_value"].to_numpy(dtype=float)
            for b in steps:
                best = curve[min(b, len(curve)) - 1]
                rows.append((problem, backend, seed, b, best, _score(best, optimum, denom)))
    scores: pd.DataFrame = pd.DataFrame(rows, columns=["problem", "backend", "seed", "budget",
                                                       "best", "score"])
    return scores


def score_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean normalized score per backend (rows) and problem (columns) at each problem's
    largest budget in ``scores``, then ``mean`` over problems and ``score`` =
    ``100 * (1 - mean)``; sorted by ``score``, best first."""
    last = scores[scores["budget"] == scores.groupby("problem")["budget"].transform("max")]
    table = last.pivot_table(index="backend", columns="problem", values="score",
                             aggfunc="mean", sort=False)
    table.columns.name = None
    table = table[list(dict.fromkeys(scores["problem"]))]
    table["mean"] = table.mean(axis=1)
    table["score"] = 100 * (1 - table["mean"])
    ranked: pd.DataFrame = table.sort_values("score", ascending=False, kind="stable")
    return ranked


def headline_by_budget(df: pd.DataFrame, known: Mapping[str, float | None] | None = None,
                       reference: str | None = None,
                       fractions: Sequence[float] = (0.25, 0.5, 1.0)) -> pd.DataFrame:
    """The headline ``100 * (1 - mean score)`` per backend after a fraction of the budget."""
    import pandas as pd

    budget = int(df["trial_id"].max()) + 1
    steps = sorted({max(1, round(f * budget)) for f in fractions})
    scores = normalized_scores(df, known, reference, budgets=steps)
    per_problem = scores.groupby(["backend", "budget", "problem"], sort=False)["score"].mean()
    mean = per_problem.groupby(["backend", "budget"], sort=False).mean()
    table = (100 * (1 - mean)).unstack("budget")
    table.columns = [f"{b} trials" for b in table.columns]
    table.columns.name = None
    ranked: pd.DataFrame = pd.DataFrame(table).sort_values(table.columns[-1], ascending=False,
                                                           kind="stable")
    return ranked


def significance(df: pd.DataFrame, reference: str | None = None,
                 scores: pd.DataFrame | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """One-sided p-values that a backend's final best values are lower than the reference's.

    Identical runs of a backend on a problem count once (:func:`independent_finals`).

    Returns:
        One row per backend (the reference excluded), one column of Mann-Whitney p-values
        per problem, ``wins`` (problems with ``p < alpha``), and, given ``scores``,
        ``across problems`` (Wilcoxon signed-rank p of the per-problem mean scores).
    """
    import pandas as pd
    from scipy.stats import mannwhitneyu, wilcoxon

    reference = reference or reference_backend(list(df["backend"].unique()))
    finals = independent_finals(df)
    problems = list(dict.fromkeys(df["problem"]))
    backends = [b for b in dict.fromkeys(df["backend"]) if b != reference]
    out: pd.DataFrame = pd.DataFrame(index=pd.Index(backends, name="backend"), columns=problems,
                                     dtype=float)
    for problem in problems:
        here = finals[finals["problem"] == problem]
        ref = here.loc[here["backend"] == reference, "final"].fillna(math.inf).to_numpy()
        for backend in backends:
            x = here.loc[here["backend"] == backend, "final"].fillna(math.inf).to_numpy()
            if len(x) and len(ref):
                out.loc[backend, problem] = mannwhitneyu(x, ref, alternative="less").pvalue
    out["wins"] = (out[problems] < alpha).sum(axis=1)
    if scores is not None and len(problems) > 1:
        table = score_table(scores)
        for backend in backends:
            if backend in table.index:
                diff = table.loc[backend, problems] - table.loc[cast(str, reference), problems]
                diff = diff.to_numpy(dtype=float)
                out.loc[backend, "across problems"] = (
                    1.0 if (diff == 0).all() else
                    wilcoxon(diff, alternative="less", zero_method="zsplit").pvalue)
    return out


def against_best(df: pd.DataFrame, backend: str) -> pd.DataFrame:
    """Per problem: ``backend`` against the best other backend there (lowest mean rank).

    Returns:
        One row per problem: ``best other``, the mean ranks of both, and ``p (worse)``: the
        one-sided Mann-Whitney U p-value that ``backend``'s final best values are larger
        (worse) than the best other's, across seeds.
    """
    import pandas as pd
    from scipy.stats import mannwhitneyu

    from hpo_bridge.plots import rank_table

    finals = independent_finals(df)
    ranks = rank_table(df)
    rows = []
    for problem in dict.fromkeys(df["problem"]):
        col = ranks[problem].dropna()
        if backend not in col.index or len(col) < 2:
            continue
        best = col.drop(backend).idxmin()
        here = finals[finals["problem"] == problem]
        x, y = (here.loc[here["backend"] == b, "final"].fillna(math.inf).to_numpy()
                for b in (backend, best))
        rows.append({"problem": problem, "best other": best, "its rank": col[best],
                     f"{backend} rank": col[backend],
                     "p (worse)": mannwhitneyu(x, y, alternative="greater").pvalue})
    tests: pd.DataFrame = pd.DataFrame(rows).set_index("problem")
    return tests


def time_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per backend: median objective time per trial, optimizer overhead per trial (the run's
    wall time minus its trials' durations, over its trials; median and max over runs), and
    the median run's wall time. Seconds."""
    import pandas as pd

    keys = [c for c in ("problem", "backend", "seed") if c in df.columns]
    runs = df.groupby(keys, sort=False).agg(
        wall=("elapsed_s", "max"), busy=("duration_s", "sum"), n=("trial_id", "size"))
    runs["overhead"] = (runs["wall"] - runs["busy"]).clip(lower=0) / runs["n"]
    per_backend = runs.groupby("backend", sort=False)
    table = pd.DataFrame({
        "median trial (s)": df.groupby("backend", sort=False)["duration_s"].median(),
        "overhead/trial median (s)": per_backend["overhead"].median(),
        "overhead/trial max (s)": per_backend["overhead"].max(),
        "median run wall (s)": per_backend["wall"].median(),
    })
    ranked: pd.DataFrame = table.sort_values("overhead/trial median (s)", kind="stable")
    return ranked
