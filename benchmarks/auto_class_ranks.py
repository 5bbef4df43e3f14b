"""Per-problem mean ranks of the backends on a few problems, at several budgets (evidence for a
rule change of ``auto``, issue 27): the tables ``auto_heldout.py`` pools into one row per class.

Usage:
    python benchmarks/auto_class_ranks.py FOLDER [FOLDER ...] --problems a,b,c
        [--planned 30=DIR ...] [--budgets 30,60,100] [--pair A,B]

FOLDER and ``--planned`` are read as ``auto_heldout.py`` reads them (a run of 100 trials gives
its first 30 and 60 too; nevergrad's, built for their budget, come per budget). Each table
ranks the backends that ran every problem at that budget (1 = best, ranked within each problem
and seed, then averaged over seeds and problems). With ``--pair A,B``, A against B alone too:
their mean rank head to head and van Elteren's test stratified by problem (normalized scores,
identical runs counted once; ``optuna:random`` must be in the folders as the reference).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import auto_heldout as ah  # the same loading, budgets and scores

from hpo_bridge.plots import rank_table


def _markdown(table: pd.DataFrame) -> str:
    head = "| backend | " + " | ".join(table.columns) + " |"
    rule = "|---|" + "---|" * len(table.columns)
    rows = [f"| {name} | " + " | ".join(f"{v:.2f}" for v in row) + " |"
            for name, row in table.iterrows()]
    return "\n".join([head, rule, *rows])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("blind", nargs="+")
    parser.add_argument("--problems", required=True)
    parser.add_argument("--planned", nargs="*", default=[])
    parser.add_argument("--budgets", default="30,60,100")
    parser.add_argument("--pair", default="")
    args = parser.parse_args(argv)
    problems = args.problems.split(",")
    blind = [ah._load(f) for f in args.blind]
    planned: dict[int, pd.DataFrame] = {}
    for b, d in (item.split("=", 1) for item in args.planned):
        planned[int(b)] = pd.concat([planned.get(int(b)), ah._load(d)], ignore_index=True)
    for budget in (int(b) for b in args.budgets.split(",")):
        table, _ = ah.at_budget(blind, planned, budget, problems)
        full, _ = ah.complete(table[~table["backend"].isin(list(ah.DERIVED))])
        print(f"\n**{budget} trials**\n")
        print(_markdown(rank_table(full)))
        if args.pair:
            a, b = args.pair.split(",")
            two = full[full["backend"].isin([a, b])]
            scores = ah._independent_scores(full[full["backend"].isin([a, b, ah.REFERENCE])])
            worse, better = ah.stratified_p(scores, problems, a, b)
            print(f"\n{a} against {b} alone:\n")
            print(_markdown(rank_table(two)))
            print(f"\nstratified by problem (van Elteren, one-sided): p ({a} worse) = "
                  f"{worse:.2g}, p ({a} better) = {better:.2g}")


if __name__ == "__main__":
    main()
