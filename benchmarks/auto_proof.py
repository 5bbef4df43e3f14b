"""The proof table of ``backend="auto"``: mean rank per backend at each budget, and where auto
loses significantly to the best single backend, from bench folders made with
``hpo-bridge bench`` (one folder per budget).

    python benchmarks/auto_proof.py results/proof-30 results/proof-100
"""

from __future__ import annotations

import sys

import pandas as pd

from hpo_bridge.bench.report import markdown_table
from hpo_bridge.bench.scoring import against_best
from hpo_bridge.plots import rank_table


def main(folders: list[str]) -> str:
    ranks, losses = {}, []
    for folder in folders:
        table = pd.read_csv(f"{folder}/results.csv", low_memory=False)
        budget = int(table["trial_id"].max()) + 1
        seeds = table["seed"].nunique()
        label = f"{budget} trials ({seeds} seeds)"
        ranks[label] = rank_table(table)["mean_rank"]
        vs = against_best(table, "auto")
        losses += [f"{label}: {p} (best {vs.loc[p, 'best other']}, p={vs.loc[p, 'p (worse)']:.2g})"
                   for p in vs.index if vs.loc[p, "p (worse)"] < 0.05]
    frame = pd.DataFrame(ranks)
    frame["mean over budgets"] = frame.mean(axis=1, skipna=False)  # only if at every budget
    frame = frame.sort_values("mean over budgets", na_position="last")
    text = markdown_table(frame, fmt=lambda v: "–" if pd.isna(v) else f"{v:.2f}",
                          index="backend")
    text += "\n\nauto loses significantly (one-sided Mann–Whitney, p < 0.05) on: "
    text += "; ".join(losses) if losses else "no problem at any budget."
    return text


if __name__ == "__main__":
    print(main(sys.argv[1:]))
