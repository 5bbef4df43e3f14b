"""The report's opening advice, read off its own ranks: per class of space, the backend with
the best mean rank on the problems of that class.

Classes are :attr:`hpo_bridge.backends.features.SpaceFeatures.kind` (the ones
``backend="auto"`` decides by), so the advice and the rule speak of the same spaces.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from hpo_bridge.backends.features import space_features

if TYPE_CHECKING:
    import pandas as pd

    from hpo_bridge.bench.problems import Problem

__all__ = ["recommend"]


def recommend(table: pd.DataFrame, problems: Sequence[Problem]) -> list[str]:
    """One markdown bullet per class of space, then one for all problems.

    Only backends that ran every problem of a class (every seed present) compete in it.

    Example:
        >>> recommend(results, plan.problems)  # doctest: +SKIP
        ['- For **numeric, 1–3-D** spaces (branin), use `optuna:gp`: ...', ...]
    """
    from hpo_bridge.plots import rank_table

    groups: dict[str, list[str]] = {}
    present = set(table["problem"])
    for p in problems:
        if p.name in present:
            groups.setdefault(space_features(p.space).kind, []).append(p.name)
    lines = []
    for kind, names in [*groups.items(), ("any", [n for g in groups.values() for n in g])]:
        if kind == "any" and len(groups) < 2:
            break
        part = table[table["problem"].isin(names)]
        runs = part.groupby(["backend", "problem"])["seed"].nunique().unstack()
        full = runs.reindex(columns=names).notna().all(axis=1)
        full &= runs.eq(runs.max(axis=0), axis=1).all(axis=1)
        ranks = rank_table(part[part["backend"].isin(full[full].index)])["mean_rank"]
        if ranks.empty:
            continue
        best, others = ranks.index[0], ranks.iloc[1:]
        ties = [b for b in others.index if others[b] == ranks.iloc[0]]
        pick = " or ".join(f"`{b}`" for b in [best, *ties])
        nxt = others.drop(ties)
        then = f"; next `{nxt.index[0]}` at {nxt.iloc[0]:.2f}" if len(nxt) else ""
        where = "For **all problems** together" if kind == "any" else \
            f"For **{kind}** spaces ({', '.join(names)})"
        lines.append(f"- {where}, use {pick}: mean rank {ranks.iloc[0]:.2f} among "
                     f"{len(ranks)} backends{then}.")
    return lines
