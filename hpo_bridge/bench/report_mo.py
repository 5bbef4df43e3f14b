"""The report's sections for problems with several objectives, and their front plots."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpo_bridge.bench import mo_scoring, scoring

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from hpo_bridge.bench.problems import Problem
    from hpo_bridge.bench.runner import Plan

__all__ = ["multi_objective_sections", "plot_fronts"]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def multi_objective_sections(out: Path, table: pd.DataFrame, plan: Plan,
                             slug: Callable[[str], str], markdown_table: Callable[..., str]
                             ) -> list[str]:
    """Markdown lines for the multi-objective problems of ``table`` (front PNGs into ``out``);
    ``slug`` and ``markdown_table`` are the report's (:mod:`hpo_bridge.bench.report`)."""
    import pandas as pd

    problems = [p for p in plan.problems if p.multi_objective and p.name in set(table["problem"])]
    if not problems:
        return []
    refs = mo_scoring.reference_hypervolumes(table, problems)
    gaps = mo_scoring.gap_table(table, problems)
    known = {p.name: 0.0 for p in problems}
    lines = ["\n# Several objectives\n",
             "Each run's front is its feasible non-dominated trials; its hypervolume (HV) is "
             "measured at the problem's fixed reference point (Optuna's exact algorithm). HV* is "
             "the hypervolume of a dense sample of the true front where it is known, else of "
             "every run's trials together.\n",
             markdown_table(pd.DataFrame(
                 {"objectives": [", ".join(p.objectives or ()) for p in problems],
                  "reference point": [str(p.reference_point) for p in problems],
                  "HV*": [refs[p.name][0] for p in problems],
                  "HV* from": [refs[p.name][1] for p in problems]},
                 index=[p.name for p in problems]), fmt=_fmt, index="problem")]
    scores = scoring.normalized_scores(gaps, known, plan.reference)
    ranked = scoring.score_table(scores)
    medians = mo_scoring.median_hypervolumes(table, plan.reference or "").reindex(ranked.index)
    lines += ["\n## Median final hypervolume\n",
              f"Median over seeds of the final front's HV (higher is better). `above random`: "
              f"problems where the median beats `{plan.reference}`'s. Rows in the order of the "
              "score below.\n",
              markdown_table(medians, fmt=_fmt, index="backend")]
    lines += ["\n## Normalized hypervolume gap\n",
              "The gap HV* − HV after the budget, divided by the median gap of the random-search "
              f"reference `{plan.reference}`, clipped to [−1, 1], mean over seeds (Bayesmark's "
              "normalization, as for one objective). 0 = the true front's HV reached, 1 = no "
              "better than the median random search. `score` = 100 × (1 − mean over problems).\n",
              markdown_table(ranked, index="backend", fmt=_fmt,
                             formats={"score": lambda v: f"{v:.1f}"})]
    from hpo_bridge.plots import rank_table

    lines += ["\n## Mean rank (hypervolume)\n",
              "Final HV gaps ranked within each (problem, seed), 1 = best; mean over seeds per "
              "problem, then over problems.\n",
              markdown_table(rank_table(gaps), index="backend", fmt=_fmt)]
    sig = scoring.significance(gaps, plan.reference, scores)
    sig["wins"] = sig["wins"].astype(int)
    lines += ["\n## Larger hypervolume than random search?\n",
              "One-sided Mann–Whitney U test per problem of the final HV gaps against "
              f"`{plan.reference}`'s, across seeds; ✓: p < 0.05.\n",
              markdown_table(sig, index="backend", fmt=lambda v: (
                  f"{v:.2g}" + (" ✓" if v < 0.05 else "")) if isinstance(v, float)
                  and not math.isnan(v) else _fmt(v))]
    lines.append("\n## Fronts\n")
    lines.append("Per backend, the final front of its median seed (by final HV), with the true "
                 "front where it is known; and the median HV gap against trials.\n")
    for p in problems:
        name = slug(p.name)
        fig = plot_fronts(mo_scoring.median_fronts(table, p), p)
        fig.savefig(out / f"front_{name}.png", dpi=110)
        from hpo_bridge.plots import plot_convergence

        fig = plot_convergence(gaps[gaps["problem"] == p.name], optimum=0.0,
                               title=f"{p.name}: median hypervolume gap HV* - HV, IQR")
        fig.axes[0].set_ylabel("hypervolume gap HV* - HV (log)")
        fig.savefig(out / f"hv_{name}.png", dpi=110)
        lines.append(f"- {p.name}: [front](front_{name}.png), [HV gap](hv_{name}.png)")
    lines.append(f"\n![front](front_{slug(problems[0].name)}.png)\n")
    return lines


def plot_fronts(fronts: dict[str, pd.DataFrame], problem: Problem) -> Figure:
    """Each backend's front (a step line in 2-D, points in 3-D) and the true front if known."""
    from matplotlib.figure import Figure

    names = list(problem.spec.columns)
    fig = Figure(figsize=(7.5, 5.0), layout="constrained")
    three = len(names) == 3
    ax: Any = fig.add_subplot(projection="3d") if three else fig.add_subplot()
    if problem.true_front is not None:
        true = problem.true_front()
        if three:
            step = max(1, len(true) // 400)
            ax.scatter(*true[::step].T, s=2, color="0.7", label="true front")
        else:
            ax.plot(true[:, 0], true[:, 1], ".", ms=1, color="0.6", label="true front")
    for i, (backend, front) in enumerate(fronts.items()):
        points = front[[f"values.{n}" for n in names]].to_numpy(dtype=float)
        label = f"{backend} (seed {int(front['seed'].iloc[0])}, {len(points)} pts)" \
            if len(front) else f"{backend} (no front)"
        if three:
            ax.scatter(*points.T, s=14, color=f"C{i % 10}", label=label)
        else:
            order = points[:, 0].argsort()
            ax.plot(*points[order].T, "o-", ms=3, lw=0.8, color=f"C{i % 10}", label=label,
                    drawstyle="steps-post")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    if three:
        ax.set_zlabel(names[2])
    ax.set_title(f"{problem.name}: final front of each backend's median seed")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return fig


def split(table: pd.DataFrame, problems: Sequence[Problem]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``table``'s rows of single-objective problems, and of multi-objective ones."""
    mo = table["problem"].isin([p.name for p in problems if p.multi_objective])
    return table[~mo], table[mo]
