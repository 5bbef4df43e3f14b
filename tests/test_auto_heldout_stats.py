"""The rank tests of ``benchmarks/auto_heldout.py`` (issue 27): van Elteren's stratified test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import mannwhitneyu

from tests.benchmark_scripts import load_benchmark

ah = load_benchmark("auto_heldout")


def _scores(groups: dict[tuple[str, str], list[float]]) -> pd.DataFrame:
    return pd.DataFrame([{"problem": p, "backend": b, "score": s}
                         for (p, b), values in groups.items() for s in values])


def test_one_stratum_is_the_mann_whitney_test_with_ties() -> None:
    x = [0.1, 0.4, 0.4, 0.9, 1.2, 0.3]
    y = [0.2, 0.4, 0.5, 0.05, 0.0, 0.1, 0.0]
    worse, better = ah.stratified_p(_scores({("p", "a"): x, ("p", "b"): y}), ["p"], "a", "b")
    expected = mannwhitneyu(x, y, alternative="greater", method="asymptotic",
                            use_continuity=False).pvalue
    assert worse == pytest.approx(expected)
    assert worse + better == pytest.approx(1.0)


def test_scores_are_compared_within_a_problem_only() -> None:
    """``a`` beats ``b`` on both problems, but has ten runs where every score is large and one
    where scores are small (``b`` the other way round, as with identical runs counted once):
    pooled over the problems ``a`` looks worse; stratified by problem it is better."""
    a = {("big", "a"): [10.0 + i / 100 for i in range(10)], ("small", "a"): [0.0]}
    b = {("big", "b"): [10.5], ("small", "b"): [0.5 + i / 100 for i in range(10)]}
    scores = _scores({**a, **b})
    pooled_worse = mannwhitneyu(scores.loc[scores["backend"] == "a", "score"],
                                scores.loc[scores["backend"] == "b", "score"],
                                alternative="greater").pvalue
    worse, better = ah.stratified_p(scores, ["big", "small"], "a", "b")
    assert pooled_worse < 0.05
    assert better < 0.05 < worse
    rng = np.random.default_rng(0)
    shifted = {(f"p{i}", name): list(rng.normal(1.0 if name == "a" else 0.0, 0.1, 10))
               for i in range(4) for name in ("a", "b")}
    worse, _ = ah.stratified_p(_scores(shifted), [f"p{i}" for i in range(4)], "a", "b")
    assert worse < 1e-6


def test_no_scores_gives_no_p_value() -> None:
    worse, better = ah.stratified_p(_scores({("p", "a"): [1.0]}), ["p"], "a", "b")
    assert np.isnan(worse) and np.isnan(better)


def test_class_ranks_script_ranks_a_bench_folder_and_refuses_bad_arguments(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hpo_bridge.cli import main as cli

    out = tmp_path / "bench"
    assert cli(["bench", "--problems", "branin,six-hump-camel", "--backends", "optuna:tpe",
                "--seeds", "2", "--max-evals", "6", "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    ranks = load_benchmark("auto_class_ranks")
    ranks.main([str(out), "--problems", "branin,six-hump-camel", "--budgets", "3,6",
                "--pair", "optuna:tpe,optuna:random"])
    printed = capsys.readouterr().out
    assert printed.count("| `optuna:tpe` |") == 4  # two budgets, the table and the pair
    assert "p (optuna:tpe worse) = " in printed
    for bad in ([str(tmp_path / "none"), "--problems", "branin"],
                [str(out), "--problems", "branin,no-such"],
                [str(out), "--problems", "branin", "--budgets", "3,x"],
                [str(out), "--problems", "branin", "--pair", "optuna:tpe"]):
        with pytest.raises(SystemExit):
            ranks.main(bad)


def test_holm_adjusts_in_step_down_order_and_leaves_missing_tests_out() -> None:
    # sorted 0.01, 0.03, 0.04 of 3 tests: 3 * 0.01, 2 * 0.03, max(1 * 0.04, 0.06)
    assert ah.holm([0.04, 0.01, float("nan"), 0.03]) == pytest.approx(
        [0.06, 0.03, float("nan"), 0.06], nan_ok=True)
    assert ah.holm([0.9, 0.8]) == [1.0, 1.0]
    assert ah.holm([]) == []


def _class_table(p: float, other: str = "optuna:tpe") -> pd.DataFrame:
    return pd.DataFrame([{"class": "conditional", "other": other, "p (auto worse)": 0.5,
                          "stratified p (auto worse)": p}]).set_index("class")


def test_verdict_needs_first_place_at_every_budget_and_no_loss_after_holm() -> None:
    ranks = {"30 trials": pd.Series({"auto": 2.0, "optuna:tpe": 2.5,
                                     "autosampler-rule (in auto's place)": 1.0}),
             "60 trials": pd.Series({"auto": 2.0, "optuna:tpe": 2.5})}
    # 0.03 alone is a loss; beside 0.04 Holm makes them 0.06 and 0.06: none
    single = ah.verdict({"30 trials": ranks["30 trials"]}, {"30 trials": _class_table(0.03)})
    assert "conditional at 30 trials against `optuna:tpe`" in single
    assert "item 1 on this set: not met" in single
    two = ah.verdict(ranks, {"30 trials": _class_table(0.03), "60 trials": _class_table(0.04)})
    assert "Holm over the 2 tests, family-wise α = 0.05): none" in two
    assert "(not deciding): conditional at 30 trials" in two  # uncorrected, still reported
    assert "item 1 on this set: met" in two  # the baseline row in auto's place is no rival
    tied = dict(ranks, **{"60 trials": pd.Series({"auto": 2.0, "optuna:gp": 2.0})})
    assert "item 1 on this set: not met" in ah.verdict(
        tied, {"30 trials": _class_table(0.5), "60 trials": _class_table(0.5)})


def test_report_prints_the_verdict_on_a_bench_folder(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from hpo_bridge.cli import main as cli

    out = tmp_path / "bench"
    problems = "branin,six-hump-camel"
    assert cli(["bench", "--problems", problems, "--backends", "optuna:gp,optuna:tpe,skopt:gp",
                "--seeds", "2", "--max-evals", "6", "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    text = ah.main([str(out), "--problems", problems, "--budgets", "3,6"])
    verdict = text.split("Verdict on item 1")[1]
    # auto runs optuna:gp on both problems: its runs and their rank, so never ahead of it
    assert verdict.count(": not first") == 2 and "item 1 on this set: not met" in verdict
    assert verdict.count("| 3 trials |") == 2 and verdict.count("| 6 trials |") == 2
