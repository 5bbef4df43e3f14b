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

sys.path.insert(0, str(Path(__file__).resolve().parent))

import auto_heldout as ah  # the same loading, budgets and scores

from hpo_bridge.bench.problems import list_problems
from hpo_bridge.bench.report import markdown_table
from hpo_bridge.plots import rank_table


def _two(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("blind", nargs="+")
    parser.add_argument("--problems", required=True)
    parser.add_argument("--planned", nargs="*", default=[])
    parser.add_argument("--budgets", default="30,60,100")
    parser.add_argument("--pair", default="")
    args = parser.parse_args(argv)
    problems = args.problems.split(",")
    unknown = sorted(set(problems) - set(list_problems()))
    if unknown:
        parser.error(f"--problems: unknown {', '.join(unknown)} (`hpo-bridge problems` lists "
                     "the names)")
    if not all(b.strip().isdigit() and int(b) > 0 for b in args.budgets.split(",")):
        parser.error(f"--budgets: positive whole numbers, comma-separated, got {args.budgets!r}")
    pair = args.pair.split(",") if args.pair else []
    if args.pair and len(pair) != 2:
        parser.error(f"--pair: two backends, comma-separated (A,B), got {args.pair!r}")
    folders = [*args.blind, *(item.split("=", 1)[-1] for item in args.planned)]
    missing = [f for f in folders if not Path(f).is_dir()]
    if missing:
        parser.error(f"no such bench folder: {', '.join(missing)} (folders written by "
                     "`hpo-bridge bench --out`)")
    if any("=" not in item or not item.split("=")[0].isdigit() for item in args.planned):
        parser.error(f"--planned: BUDGET=FOLDER items, got {args.planned!r}")
    blind, planned = ah.load_folders(args.blind, args.planned)
    for budget in (int(b) for b in args.budgets.split(",")):
        table, _ = ah.at_budget(blind, planned, budget, problems)
        if table.empty:
            print(f"\n**{budget} trials**: no runs this long on these problems")
            continue
        full, _ = ah.complete(table[~table["backend"].isin(list(ah.DERIVED))])
        print(f"\n**{budget} trials**\n")
        print(markdown_table(rank_table(full), index="backend", fmt=_two))
        if pair:
            a, b = pair
            absent = [name for name in pair if name not in set(full["backend"])]
            if absent:
                print(f"\n{', '.join(absent)}: no runs on every problem at {budget} trials")
                continue
            two = full[full["backend"].isin([a, b])]
            scores = ah._independent_scores(full[full["backend"].isin([a, b, ah.REFERENCE])])
            worse, better = ah.stratified_p(scores, problems, a, b)
            print(f"\n{a} against {b} alone:\n")
            print(markdown_table(rank_table(two), index="backend", fmt=_two))
            print(f"\nstratified by problem (van Elteren, one-sided): p ({a} worse) = "
                  f"{worse:.2g}, p ({a} better) = {better:.2g}")


if __name__ == "__main__":
    main()
