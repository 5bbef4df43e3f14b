"""Bayesmark-style ``sklearn-<model>-<dataset>`` problems: a model x dataset grid, fully offline.

Data come only from scikit-learn's bundled loaders. Each dataset is split once into 80 % train
and 20 % held out (``random_state=0``, stratified for classification); the objective is the
5-fold cross-validation loss on the 80 % part (folds shuffled with ``random_state=0``):

* classification (iris, wine, breast, digits): ``1 - accuracy`` (mean over folds);
* regression (diabetes): ``1 - R^2`` (mean over folds), i.e. the fold's MSE divided by the
  variance of its targets: 0 is perfect, about 1 is no better than predicting the mean.
  Chosen over the raw MSE so losses are on the same scale as the classification ones.

No optimum is known (``optimum=None``).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hpo_bridge.bench.problems.base import Problem
from hpo_bridge.bench.problems.sklearn_spaces import BUILDERS, MODEL_NAMES, SPACES

#: Dataset key -> (sklearn loader name, task).
DATASETS: dict[str, tuple[str, str]] = {
    "iris": ("load_iris", "classification"),
    "wine": ("load_wine", "classification"),
    "breast": ("load_breast_cancer", "classification"),
    "digits": ("load_digits", "classification"),
    "diabetes": ("load_diabetes", "regression"),
}

_QUICK = {("svm", "wine"), ("dt", "breast")}
# Measured on a 2-core CPU: cheap < 0.1 s, medium < 1.5 s, expensive up to ~5 s per evaluation.
_MEDIUM = {("svm", "digits"), ("rf", "digits"), ("linear", "digits")}
_MEDIUM |= {("mlp", name) for name in DATASETS} | {("ada", name) for name in DATASETS}
_EXPENSIVE = {("mlp", "digits")}


@functools.cache
def load_train_split(dataset: str) -> tuple[Any, Any]:
    """The fixed 80 % training part ``(X, y)`` of a bundled scikit-learn dataset.

    Example:
        >>> x, y = load_train_split("iris")
        >>> x.shape
        (120, 4)
    """
    import sklearn.datasets
    from sklearn.model_selection import train_test_split

    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {dataset!r}")
    loader, task = DATASETS[dataset]
    x, y = getattr(sklearn.datasets, loader)(return_X_y=True)
    stratify = y if task == "classification" else None
    x_train, _, y_train, _ = train_test_split(x, y, test_size=0.2, random_state=0, stratify=stratify)
    return x_train, y_train


@dataclass(frozen=True)
class SklearnObjective:
    """5-fold CV loss of one scikit-learn model on one bundled dataset (picklable).

    Example:
        >>> objective = SklearnObjective("knn", "iris")
        >>> 0.0 <= objective({"n_neighbors": 5, "p": 2, "weights": "uniform"}) <= 1.0
        True
    """

    model: str
    dataset: str

    def __post_init__(self) -> None:
        if self.model not in BUILDERS:
            raise ValueError(f"model must be one of {sorted(BUILDERS)}, got {self.model!r}")
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {self.dataset!r}")

    def __call__(self, config: Mapping[str, Any]) -> float:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

        task = DATASETS[self.dataset][1]
        x, y = load_train_split(self.dataset)
        estimator = BUILDERS[self.model](config, task)
        splitter = StratifiedKFold if task == "classification" else KFold
        cv = splitter(n_splits=5, shuffle=True, random_state=0)
        scoring = "accuracy" if task == "classification" else "r2"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", UserWarning)
            scores = cross_val_score(estimator, x, y, cv=cv, scoring=scoring, n_jobs=1, error_score="raise")
        return float(1.0 - scores.mean())


def _cost(model: str, dataset: str) -> str:
    if (model, dataset) in _EXPENSIVE:
        return "expensive"
    return "medium" if (model, dataset) in _MEDIUM else "cheap"


def _problem(model: str, dataset: str) -> Problem:
    loader, task = DATASETS[dataset]
    model_text = MODEL_NAMES[model][0 if task == "classification" else 1]
    loss = "1 - accuracy" if task == "classification" else "1 - R^2 (MSE / target variance)"
    return Problem(
        name=f"sklearn-{model}-{dataset}",
        space=SPACES[model],
        objective=SklearnObjective(model, dataset),
        optimum=None,
        cost=_cost(model, dataset),
        quick=(model, dataset) in _QUICK,
        description=(
            f"Bayesmark-style: {model_text} on sklearn.datasets.{loader}() ({task}); loss is {loss}, "
            "5-fold CV on a fixed 80 % training split (random_state=0). Optimum unknown."
        ),
    )


PROBLEMS = tuple(_problem(model, dataset) for model in BUILDERS for dataset in DATASETS)
