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


@pytest.mark.parametrize("pruner", ["asha", "percentile+percentile=25.0+n_startup_trials=2"])
def test_a_replayed_pruner_is_the_pruned_run(pruner):
    """replay() of the unpruned random search gives what the pruned search gives."""
    plain = bench.one_run("sklearn-dt-iris", "optuna:random", None, 3, 8)
    pruned = bench.one_run("sklearn-dt-iris", "optuna:random", pruner, 3, 8)
    replayed = bench.replay(plain, pruner)
    assert pruned["pruned"] > 0
    for key in ("fits", "best_loss", "pruned"):
        assert replayed[key] == pruned[key], key
