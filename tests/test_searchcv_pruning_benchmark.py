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
