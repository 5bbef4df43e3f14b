"""The scoring of benchmarks/multifidelity.py (issue 21, item 7) on a small hand-made table."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from benchmark_scripts import load_benchmark

pytest.importorskip("scipy")

mfb = load_benchmark("multifidelity")


def _runs(problem: str, arm: str, curves: list[list[tuple[float, float]]],
          total: float = 12.0) -> list[dict[str, object]]:
    return [{"problem": problem, "family": "fam-" + problem, "arm": arm, "seed": seed,
             "B": total, "cum_budget": b, "regret": r, "cpu_s": 0.0}
            for seed, curve in enumerate(curves) for b, r in curve]


def _table() -> pd.DataFrame:
    rows = []
    for problem in ("p", "q"):
        # full fidelity: medians 0.5 at 4, 0.2 at 8, 0.1 at 12 -> target 0.1, reached at 12
        rows += _runs(problem, "full:good", [[(4, .5), (8, .3), (12, .1)],
                                             [(4, .4), (8, .2), (12, .2)],
                                             [(4, .6), (8, .1), (12, .1)]])
        # multi-fidelity: medians 0.9 at 1 (one seed has nothing yet: inf), 0.1 at 2
        rows += _runs(problem, "mf:good", [[(1, .9), (2, .1), (3, .1)],
                                           [(1, .1), (3, .05)],
                                           [(2, .5), (4, .1)]])
        rows += _runs(problem, "full:bad", [[(12, .1)], [(12, .1)], [(12, .1)]])
        rows += _runs(problem, "mf:bad", [[(3, .9), (12, .1)], [(3, .9), (12, .2)],
                                          [(3, .9), (12, .1)]])
        # plain Hyperband: 4 seeds, all worse at 25 % of B (= 3) than mf:good
        rows += _runs(problem, mfb.BASELINE, [[(3, .6)], [(3, .7)], [(3, .8)], [(3, .85)]])
    return pd.DataFrame(rows)


def test_regret_at_is_a_step_function_with_inf_before_the_first_evaluation() -> None:
    run = pd.DataFrame({"cum_budget": [2.0, 5.0], "regret": [0.4, 0.1]})
    assert mfb.regret_at(run, 1.9) == math.inf
    assert mfb.regret_at(run, 2.0) == 0.4
    assert mfb.regret_at(run, 4.9) == 0.4
    assert mfb.regret_at(run, 100.0) == 0.1


def test_budget_to_reach_the_full_runs_final_median() -> None:
    t = _table()
    full = t[(t.problem == "p") & (t.arm == "full:good")]
    mf = t[(t.problem == "p") & (t.arm == "mf:good")]
    assert mfb.median_regret_at(full, 12) == pytest.approx(0.1)
    assert mfb.budget_to_reach(full, 0.1) == 12
    assert mfb.budget_to_reach(mf, 0.1) == 2
    assert mfb.budget_to_reach(mf, 0.01) == math.inf


def test_score_ratio_and_one_sided_mann_whitney() -> None:
    s = mfb.score(_table(), ["good", "bad"]).set_index(["problem", "backend"])
    good, bad = s.loc[("p", "good")], s.loc[("p", "bad")]
    assert good["target"] == pytest.approx(0.1)
    assert (good["full_reach"], good["mf_reach"], good["ratio"]) == (12, 2, 6.0)
    assert good["speedup_ok"] and not good["enough_seeds"]       # 3 seeds < 10
    # at 3 = 25 % of B: mf [0.1, 0.05, 0.5] all below HB [0.6, 0.7, 0.8, 0.85]: U = 0, and the
    # exact one-sided p is 1 / C(7, 3)
    assert good["mf_median_early"] == pytest.approx(0.1)
    assert good["hb_median_early"] == pytest.approx(0.75)
    assert good["mw_p"] == pytest.approx(1 / 35)
    assert good["beats_hb"]
    # bad: full reaches 0.1 at 12, mf only at 12 -> ratio 1; at 3 it is worse than HB
    assert (bad["mf_reach"], bad["ratio"], bad["speedup_ok"]) == (12, 1.0, False)
    assert not bad["beats_hb"] and bad["mw_p"] > 0.5


def test_goals_need_two_of_three_families_and_ten_seeds_for_the_speedup() -> None:
    g = mfb.goals(mfb.score(_table(), ["good", "bad"])).set_index("backend")
    assert g.loc["good", "beats_hb_goal"] == "met"                # families p and q
    assert g.loc["good", "speedup_goal"] == "MISSED"              # fast, but only 3 seeds
    assert g.loc["bad", "beats_hb_goal"] == "MISSED"
    assert g.loc["bad", "speedup_goal"] == "MISSED"
    md = mfb.markdown(mfb.score(_table(), ["good"]), g.reset_index(), ["header"])
    assert "6.0× (< 10 seeds)" in md and "header" in md.splitlines()[0]


def test_mf_same_copies_one_backends_multi_fidelity_runs_for_another() -> None:
    t = _table()
    both = mfb.with_same(t[t.arm != "mf:bad"], {"bad": "good"})
    assert both[both.arm == "mf:bad"].drop(columns="arm").reset_index(drop=True).equals(
        t[t.arm == "mf:good"].drop(columns="arm").reset_index(drop=True))
    assert len(mfb.with_same(t, {"bad": "good"})) == len(t)  # its own runs are kept
