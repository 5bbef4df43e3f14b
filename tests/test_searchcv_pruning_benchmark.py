"""benchmarks/searchcv_pruning.py (issue 22, item 3): its problems and its replay of pruners."""

from __future__ import annotations

import pytest
from sklearn.base import is_regressor

from benchmark_scripts import load_benchmark

pytest.importorskip("optuna")

bench = load_benchmark("searchcv_pruning")


def test_each_problem_is_the_suites_model_for_its_task_and_space():
    """diabetes is a regression (R^2): its model is a regressor, as in the suite's problem
    (it was the classifier, which R^2 scored, its 214 target values taken as classes)."""
    import hpo_bridge as hb
    from hpo_bridge.bench.problems.sklearn_models import DATASETS
    from hpo_bridge.bench.problems.sklearn_spaces import BUILDERS, SPACES

    for problem in bench.PROBLEMS:
        estimator, space = bench.estimator_and_space(problem)
        _, model, dataset = problem.split("-")
        config = hb.Optimizer(SPACES[model], "optuna:random", seed=0).ask().params
        suites = BUILDERS[model](config, DATASETS[dataset][1])
        assert type(estimator) is type(suites), problem
        assert is_regressor(estimator) == (dataset == "diabetes"), problem
        estimator.set_params(**{key: None for key in space})  # every key is a parameter


@pytest.mark.parametrize(("pruner", "seed"), [
    ("asha", 3), ("percentile+percentile=25.0+n_startup_trials=2", 3),
    # seed 6: a replay telling it the running mean instead would make 31 fits, not 36
    ("wilcoxon+p_threshold=0.5", 6)])
def test_a_replayed_pruner_is_the_pruned_run(pruner, seed):
    """replay() of the unpruned random search gives what the pruned search gives (a
    WilcoxonPruner is told each fold's own score, the others the running mean, with the
    folds run as the step: as SearchCV tells them)."""
    plain = bench.one_run("sklearn-dt-iris", "optuna:random", None, seed, 8)
    pruned = bench.one_run("sklearn-dt-iris", "optuna:random", pruner, seed, 8)
    replayed = bench.replay(plain, pruner)
    assert pruned["pruned"] > 0
    for key in ("fits", "best_loss", "pruned"):
        assert replayed[key] == pruned[key], key


def test_a_shorter_random_search_is_the_longer_ones_first_candidates():
    """truncated(): the unpruned n_iter=4 search is the n_iter=8 one's first 4 candidates, so
    one long reference run gives both sides of the equal-fits comparison."""
    short = bench.one_run("sklearn-dt-iris", "optuna:random", None, 3, 4)
    long = bench.one_run("sklearn-dt-iris", "optuna:random", None, 3, 8)
    cut = bench.truncated(long, 4)
    assert len(long["splits"]) == 8
    for key in ("n_iter", "fits", "best_loss", "splits"):
        assert cut[key] == short[key], key
    with pytest.raises(ValueError, match=">= 9"):
        bench.truncated(long, 9)


def test_a_fit_budget_starts_no_candidate_that_could_exceed_it():
    """replay(max_fits=): the pruned search of the first candidates, stopped before one whose
    folds could pass the budget; equal_fits() labels each variant."""
    splits = [[0.9] * 5, [0.8] * 5, [0.85] * 5] + [[0.5 - 0.01 * i] * 5 for i in range(9)]
    row = {"problem": "p", "backend": "optuna:random", "pruner": None, "seed": 0,
           "n_iter": 12, "fits": 60, "best_loss": 0.1, "splits": splits}
    full = bench.replay(row, "asha")
    assert full["fits"] == 24  # asha stops the 9 worse ones after their first fold
    fits = [0] + [bench.replay(bench.truncated(row, k), "asha")["fits"] for k in range(1, 13)]
    assert fits[:4] == [0, 5, 10, 15] and fits[4] == 16
    for budget in (4, 5, 12, 19, 20, 21, 100):
        capped = bench.replay(row, "asha", budget)
        started = sum(fits[k] + 5 <= budget for k in range(12))  # monotone: a prefix
        assert capped["fits"] == fits[started] <= budget, budget
        assert capped["pruner"] == f"asha <= {budget} fits"
    rows = bench.equal_fits([row], ["asha"], 4, [15])
    assert [r["pruner"] for r in rows] == [None, "asha n_iter=12", "asha <= 15 fits"]
    assert rows[0]["fits"] == 20 and rows[1]["fits"] == full["fits"]
