"""Bayesmark-style search spaces and estimator builders for the ``sklearn-*`` problems.

Ranges follow Bayesmark's ``sklearn_funcs`` where they make sense on standardized features
(its logit-scaled reals become plain uniforms). scikit-learn is imported inside the builders.
Every builder takes ``(config, task)`` with ``task`` either ``"classification"`` or
``"regression"`` and returns an unfitted estimator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hpo_bridge.space import choice, integer, loguniform, uniform

_TREE_SPACE: dict[str, Any] = {
    "max_depth": integer(1, 15),
    "max_features": uniform(0.01, 0.99),
    "min_samples_split": uniform(0.01, 0.99),
    "min_samples_leaf": uniform(0.01, 0.49),
    "min_weight_fraction_leaf": uniform(0.01, 0.49),
    "min_impurity_decrease": uniform(0.0, 0.5),
}

SPACES: dict[str, dict[str, Any]] = {
    "knn": {"n_neighbors": integer(1, 25), "p": integer(1, 2), "weights": choice(["uniform", "distance"])},
    "svm": {"C": loguniform(1.0, 1e3), "gamma": loguniform(1e-4, 1.0), "tol": loguniform(1e-5, 1e-1)},
    "dt": dict(_TREE_SPACE),
    "rf": dict(_TREE_SPACE),
    "mlp": {
        "hidden_layer_sizes": integer(50, 200),
        "alpha": loguniform(1e-5, 1e1),
        "batch_size": integer(10, 250),
        "learning_rate_init": loguniform(1e-5, 1e-1),
        "tol": loguniform(1e-5, 1e-1),
        "beta_1": uniform(0.5, 0.99),
        "beta_2": uniform(0.9, 0.9999),
    },
    "ada": {"n_estimators": integer(10, 100), "learning_rate": loguniform(1e-4, 1e1)},
    "linear": {
        "C": loguniform(1e-2, 1e2),
        "l1_ratio": uniform(0.0, 1.0),
        "fit_intercept": choice([True, False]),
    },
}

#: Model key -> (short description for classification, for regression).
MODEL_NAMES: dict[str, tuple[str, str]] = {
    "knn": ("k-nearest neighbours (KNeighborsClassifier)", "k-nearest neighbours (KNeighborsRegressor)"),
    "svm": ("RBF support vector machine (SVC)", "RBF support vector regression (SVR)"),
    "dt": ("decision tree (DecisionTreeClassifier)", "decision tree (DecisionTreeRegressor)"),
    "rf": ("10-tree random forest (RandomForestClassifier)", "10-tree random forest (RandomForestRegressor)"),
    "mlp": ("MLPClassifier, adam, max_iter=30", "MLPRegressor, adam, max_iter=30"),
    "ada": ("AdaBoostClassifier", "AdaBoostRegressor"),
    "linear": ("elastic-net logistic regression (saga, max_iter=50)", "elastic-net regression (ElasticNet)"),
}


def _scaled(estimator: Any, task: str, scale_target: bool = False) -> Any:
    """Standardize features (and, for regression, optionally the target) around ``estimator``."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipeline = make_pipeline(StandardScaler(), estimator)
    if task == "regression" and scale_target:
        return TransformedTargetRegressor(regressor=pipeline, transformer=StandardScaler())
    return pipeline


def _knn(config: Mapping[str, Any], task: str) -> Any:
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    cls = KNeighborsClassifier if task == "classification" else KNeighborsRegressor
    return _scaled(cls(n_neighbors=config["n_neighbors"], p=config["p"], weights=config["weights"]), task)


def _svm(config: Mapping[str, Any], task: str) -> Any:
    from sklearn.svm import SVC, SVR

    if task == "classification":
        return _scaled(SVC(C=config["C"], gamma=config["gamma"], tol=config["tol"]), task)
    return _scaled(SVR(C=config["C"], gamma=config["gamma"], tol=config["tol"]), task, scale_target=True)


def _tree_kwargs(config: Mapping[str, Any]) -> dict[str, Any]:
    return {key: config[key] for key in _TREE_SPACE} | {"random_state": 0}


def _dt(config: Mapping[str, Any], task: str) -> Any:
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    cls = DecisionTreeClassifier if task == "classification" else DecisionTreeRegressor
    return cls(**_tree_kwargs(config))


def _rf(config: Mapping[str, Any], task: str) -> Any:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    cls = RandomForestClassifier if task == "classification" else RandomForestRegressor
    return cls(n_estimators=10, n_jobs=1, **_tree_kwargs(config))


def _mlp(config: Mapping[str, Any], task: str) -> Any:
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    cls = MLPClassifier if task == "classification" else MLPRegressor
    kwargs = dict(config) | {"hidden_layer_sizes": (config["hidden_layer_sizes"],)}
    return _scaled(cls(solver="adam", max_iter=30, random_state=0, **kwargs), task, scale_target=True)


def _ada(config: Mapping[str, Any], task: str) -> Any:
    from sklearn.ensemble import AdaBoostClassifier, AdaBoostRegressor

    cls = AdaBoostClassifier if task == "classification" else AdaBoostRegressor
    return cls(n_estimators=config["n_estimators"], learning_rate=config["learning_rate"], random_state=0)


def _linear(config: Mapping[str, Any], task: str) -> Any:
    import sklearn
    from sklearn.linear_model import ElasticNet, LogisticRegression

    if task == "regression":
        # ElasticNet's alpha is the inverse of C (up to scaling), so one space serves both tasks.
        estimator = ElasticNet(
            alpha=1.0 / config["C"], l1_ratio=config["l1_ratio"], fit_intercept=config["fit_intercept"]
        )
        return _scaled(estimator, task, scale_target=True)
    extra = {} if _version(sklearn.__version__) >= (1, 8) else {"penalty": "elasticnet"}
    estimator = LogisticRegression(
        C=config["C"], l1_ratio=config["l1_ratio"], fit_intercept=config["fit_intercept"],
        solver="saga", max_iter=50, tol=1e-3, random_state=0, **extra,
    )  # fmt: skip
    return _scaled(estimator, task)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:2] if part.isdigit())


BUILDERS: dict[str, Callable[[Mapping[str, Any], str], Any]] = {
    "knn": _knn,
    "svm": _svm,
    "dt": _dt,
    "rf": _rf,
    "mlp": _mlp,
    "ada": _ada,
    "linear": _linear,
}
