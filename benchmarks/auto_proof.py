"""The proof table of ``backend="auto"``: mean rank of every backend at several budgets, per
class of space, and where ``auto`` loses significantly to the best single backend.

    python benchmarks/auto_proof.py FULL [--budgets 30,50,100] [--extra DIR ...]

``FULL`` is a folder made by ``hpo-bridge bench --max-evals N`` (N = the largest budget) with
``auto`` among the backends. A single backend is blind to ``max_evals`` (no backend of the
proof is told the budget), so its first B trials of an N-trial run *are* its B-trial run with
the same seed: budgets below N are read off the same runs (prefixes). ``auto`` is told the
budget and its rule may choose another backend for it (a grid that fits the budget): for each
problem and budget where :func:`hpo_bridge.backends.auto.choose` gives another choice than at
N, the ``auto`` runs must come from a folder made with ``--max-evals B`` (``--extra``), and
the script refuses if it is missing. Made with (see docs/results.md, "auto against the
single backends")::

    hpo-bridge bench --problems P --backends B --seeds 10 --max-evals 100 --out results/proof
    hpo-bridge bench --problems KNN --backends auto --seeds 10 --max-evals 30 --out results/proof-30
    python benchmarks/auto_proof.py results/proof --extra results/proof-30 results/proof-50
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import pandas as pd
from scipy.stats import mannwhitneyu

from hpo_bridge.backends.auto import choose
from hpo_bridge.backends.features import space_features
from hpo_bridge.backends.registry import resolve
from hpo_bridge.bench.problems import get_problem
from hpo_bridge.bench.report import markdown_table
from hpo_bridge.bench.scoring import against_best, normalized_scores
from hpo_bridge.plots import rank_table

AUTO = "auto"


def _read(folder: str) -> tuple[pd.DataFrame, int]:
    table = pd.read_csv(Path(folder) / "results.csv", low_memory=False)
    top = int(table["trial_id"].max()) + 1
    _check_auto_runs(Path(folder), table, top)
    return table, top


def _check_auto_runs(folder: Path, table: pd.DataFrame, top: int) -> None:
    """Each ``auto`` run must have run what today's rule chooses for its budget (a run made
    before the rule changed is refused, naming it)."""
    for problem in table.loc[table["backend"] == AUTO, "problem"].unique():
        want = choose(space_features(get_problem(problem).space), top)[0][0][0]
        for meta in sorted((folder / "runs" / problem / AUTO).glob("seed*.json")):
            chosen = json.loads(meta.read_text()).get("chosen", "")
            if not chosen.startswith(f"auto({want}"):
                raise SystemExit(f"{meta}: ran {chosen}, but the rule now chooses {want} at "
                                 f"{top} trials; run it again")


def at_budget(folders: list[tuple[pd.DataFrame, int]], budget: int
              ) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Every (problem, backend)'s first ``budget`` trials, from the folder with the smallest
    budget at least ``budget`` that holds it; ``auto`` only from a folder whose budget gives
    the same choice. Returns the table, the problems where ``auto`` ran at this very budget,
    and the backends left out (not run on every problem at this budget)."""
    by_pair: dict[tuple[str, str], list[tuple[int, pd.DataFrame]]] = {}
    for table, top in folders:
        if top < budget:
            continue
        for (problem, backend), runs in table.groupby(["problem", "backend"], sort=False):
            by_pair.setdefault((str(problem), str(backend)), []).append((top, runs))
    pieces, own = [], []
    for (problem, backend), options in by_pair.items():
        if backend == AUTO:
            features = space_features(get_problem(problem).space)
            want = choose(features, budget)[0]
            options = [(top, t) for top, t in options if choose(features, top)[0] == want]
            if not options:
                raise SystemExit(
                    f"auto chooses {want} for {problem} at {budget} trials, which no folder's "
                    f"budget gives: run hpo-bridge bench --problems {problem} --backends auto "
                    f"--max-evals {budget} and pass its folder too")
        top, runs = min(options, key=lambda o: o[0])
        if backend == AUTO and top == budget and any(t > budget for t, _ in by_pair[(problem, backend)]):
            own.append(problem)
        pieces.append(runs[runs["trial_id"] < budget])
    table = pd.concat(pieces, ignore_index=True)
    problems = table["problem"].nunique()
    counts = table.groupby("backend")["problem"].nunique()
    missing = sorted(counts[counts < problems].index)
    return table, own, missing


def _classes(problems: list[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for problem in problems:
        groups.setdefault(space_features(get_problem(problem).space).kind, []).append(problem)
    return groups


def class_tests(table: pd.DataFrame) -> pd.DataFrame:
    """Per class of space: ``auto`` against the backend with the best mean rank there, by a
    one-sided Mann–Whitney test on the normalized scores of every (problem, seed) run."""
    scores = normalized_scores(table)
    rows = []
    for kind, names in _classes(list(dict.fromkeys(table["problem"]))).items():
        part = table[table["problem"].isin(names)]
        ran = part.groupby("backend")["problem"].nunique()
        part = part[part["backend"].isin(ran[ran == len(names)].index)]  # ran all of the class
        ranks = rank_table(part)["mean_rank"]
        best = ranks.drop(AUTO).idxmin()
        s = scores[scores["problem"].isin(names)]
        x, y = (s.loc[s["backend"] == b, "score"].to_numpy() for b in (AUTO, best))
        p = mannwhitneyu(x, y, alternative="greater").pvalue if len(x) and len(y) else math.nan
        rows.append({"class": kind, "problems": ", ".join(names), "auto rank": ranks[AUTO],
                     "best other": best, "its rank": ranks[best], "p (auto worse)": p})
    return pd.DataFrame(rows).set_index("class")


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--budgets", default="30,50,100")
    args = parser.parse_args(argv)
    folders = [_read(f) for f in args.folders]
    planned = sorted({b for t, _ in folders for b in t["backend"].unique()
                      if b != AUTO and resolve(b).capabilities.planned})
    if planned:
        raise SystemExit(f"{planned} are told the budget: their prefixes are not their runs at "
                         "a smaller budget; leave them out of the proof")
    budgets = [int(b) for b in args.budgets.split(",")]
    ranks, losses, out = {}, [], []
    for budget in budgets:
        table, own, missing = at_budget(folders, budget)
        label = f"{budget} trials"
        seeds = table.groupby(["problem", "backend"])["seed"].nunique()
        complete = table[~table["backend"].isin(missing)]
        ranks[label] = rank_table(complete)["mean_rank"]
        vs = against_best(table, AUTO)
        losses += [f"{label}: {p} (best {vs.loc[p, 'best other']}, p={vs.loc[p, 'p (worse)']:.2g})"
                   for p in vs.index if vs.loc[p, "p (worse)"] < 0.05]
        where = ("; auto run at this budget on " + ", ".join(own)) if own else ""
        gone = (f"; {', '.join(missing)} ran only some problems: in the class tables where it "
                "ran every problem, not in the overall rank") if missing else ""
        out.append(f"\n**{label}** ({table['problem'].nunique()} problems, "
                   f"{int(seeds.min())}–{int(seeds.max())} seeds{where}{gone}): per class of "
                   "space (among the backends that ran all of its problems), auto against the "
                   "other backend with the best mean rank there (one-sided Mann–Whitney on the "
                   "normalized scores of every run)\n\n"
                   + markdown_table(class_tests(table), index="class",
                                    fmt=lambda v: f"{v:.2g}" if isinstance(v, float) else str(v)))
    frame = pd.DataFrame(ranks)
    frame["mean over budgets"] = frame.mean(axis=1, skipna=True)
    frame = frame.sort_values("mean over budgets", na_position="last")
    text = "Mean rank over problems (1 = best; ties share the average rank).\n\n"
    text += markdown_table(frame, fmt=lambda v: "–" if pd.isna(v) else f"{v:.2f}",
                           index="backend")
    text += "\n\nauto loses significantly to the best other backend of a problem (one-sided "
    text += "Mann–Whitney, p < 0.05) on: " + ("; ".join(losses) if losses else "no problem at "
                                               "any budget.")
    return text + "\n" + "\n".join(out)


if __name__ == "__main__":
    print(main())
