"""hb.SearchCV (issue 22): scikit-learn's own search tests, ported, and ours.

The first part ports cases of scikit-learn's ``sklearn/model_selection/tests/test_search.py``
(named after the original in each docstring). Where the original runs ``GridSearchCV``, ours runs
``backend="optuna:grid"`` (every candidate of a finite space once, in the grid sampler's order,
so assertions are on the parameters, not on positions); where it runs ``RandomizedSearchCV``,
``optuna:random``.
"""

from __future__ import annotations

import os
import pickle
import re
import warnings

import joblib
import numpy as np
import optuna
import pytest
import scipy.stats as st
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from sklearn.base import BaseEstimator, ClassifierMixin, clone, is_classifier
from sklearn.cluster import KMeans
from sklearn.datasets import load_iris, make_blobs, make_classification
from sklearn.exceptions import FitFailedWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, recall_score
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    KFold,
    LeaveOneGroupOut,
    RandomizedSearchCV,
    StratifiedKFold,
    cross_val_score,
)
from sklearn.neighbors import KernelDensity
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier

import hpo_bridge as hb

X4 = np.array([[-1, -1], [-2, -1], [1, 1], [2, 1]])
y4 = np.array([1, 1, 2, 2])
IRIS_X, IRIS_Y = load_iris(return_X_y=True)
X_IRIS, Y_IRIS = IRIS_X[::3], IRIS_Y[::3]  # 50 rows: every test stays in milliseconds


def grid(estimator, space, **kwargs):
    """``GridSearchCV``'s part in the ported tests: each candidate of a finite space once."""
    size = kwargs.pop("n_iter", 50)
    return hb.SearchCV(estimator, space, backend="optuna:grid", n_iter=size, random_state=0,
                       **kwargs)


class MockClassifier(ClassifierMixin, BaseEstimator):
    """scikit-learn's test double: scores 1 when foo_param > 1."""

    def __init__(self, foo_param=0):
        self.foo_param = foo_param

    def fit(self, X, Y):
        assert len(X) == len(Y)
        self.classes_ = np.unique(Y)
        return self

    def predict(self, T):
        return T.shape[0]

    def transform(self, X):
        return X + self.foo_param

    def inverse_transform(self, X):
        return X - self.foo_param

    predict_proba = predict
    predict_log_proba = predict
    decision_function = predict

    def score(self, X=None, Y=None):
        return 1.0 if self.foo_param > 1 else 0.0


class CheckingClassifier(ClassifierMixin, BaseEstimator):
    """Checks what ``fit`` receives (a small stand-in for sklearn.utils._mocking's)."""

    def __init__(self, check_X=None, check_y=None, expected_fit_params=None, foo_param=0):
        self.check_X, self.check_y = check_X, check_y
        self.expected_fit_params, self.foo_param = expected_fit_params, foo_param

    def fit(self, X, y, **fit_params):
        if self.check_X is not None:
            assert self.check_X(X)
        if self.check_y is not None:
            assert self.check_y(y)
        missing = set(self.expected_fit_params or ()) - set(fit_params)
        assert not missing, f"Expected fit parameter(s) {sorted(missing)} not seen."
        for key, value in fit_params.items():
            assert len(value) == len(X), f"Fit parameter {key} has length {len(value)}"
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])

    def score(self, X=None, y=None):
        return 1.0 if self.foo_param > 1 else 0.0


class FailingClassifier(BaseEstimator):
    """Raises on fit when ``parameter == 2``."""

    FAILING_PARAMETER = 2

    def __init__(self, parameter=None):
        self.parameter = parameter

    def fit(self, X, y=None):
        if self.parameter == FailingClassifier.FAILING_PARAMETER:
            raise ValueError("Failing classifier failed as required")
        return self

    def predict(self, X):
        return np.zeros(X.shape[0])

    def score(self, X=None, Y=None):
        return 0.0


class BrokenClassifier(BaseEstimator):
    """Broken classifier that cannot be fit twice."""

    def __init__(self, parameter=None):
        self.parameter = parameter

    def fit(self, X, y):
        assert not hasattr(self, "has_been_fit_")
        self.has_been_fit_ = True
        return self

    def predict(self, X):
        return np.zeros(X.shape[0])


class LinearSVCNoScore(LinearSVC):
    """A LinearSVC classifier that has no score method."""

    @property
    def score(self):
        raise AttributeError


FITS: list[dict] = []


class CountingTree(DecisionTreeClassifier):
    """A decision tree that records each fit's parameters (to count fits)."""

    def fit(self, X, y, **kwargs):
        FITS.append(self.get_params())
        return super().fit(X, y, **kwargs)


# -- ported from scikit-learn's test_search.py ------------------------------------------------
def test_grid_search():
    """test_grid_search: the best estimator, the delegated methods, a bad scorer."""
    search = grid(MockClassifier(), {"foo_param": [1, 2, 3]}, cv=2).fit(X4, y4)
    assert search.best_estimator_.foo_param > 1
    assert sorted(search.cv_results_["param_foo_param"].data) == [1, 2, 3]
    search.score(X4, y4)
    search.predict_proba(X4)
    search.decision_function(X4)
    search.transform(X4)
    search.scoring = "sklearn"
    with pytest.raises(ValueError):
        search.fit(X4, y4)


def test_grid_search_pipeline_steps():
    """test_grid_search_pipeline_steps: estimators in the space are cloned, never fitted."""
    pipe = Pipeline([("regressor", LinearRegression())])
    space = {"regressor": [LinearRegression(), Ridge()]}
    search = grid(pipe, space, cv=2).fit(X4, y4)
    results = search.cv_results_["param_regressor"]
    assert {type(r) for r in results} == {LinearRegression, Ridge}
    for r in results:
        assert not hasattr(r, "coef_") and r is not search.best_estimator_
    assert not hasattr(space["regressor"][0], "coef_")
    assert not hasattr(space["regressor"][1], "coef_")


def test_search_with_fit_params():
    """test_SearchCV_with_fit_params: fit parameters reach fit, sliced per fold."""
    X = np.arange(100).reshape(10, 10)
    y = np.array([0] * 5 + [1] * 5)
    search = grid(CheckingClassifier(expected_fit_params=["spam", "eggs"]),
                  {"foo_param": [1, 2, 3]}, cv=2, error_score="raise")
    with pytest.raises(AssertionError, match=r"Expected fit parameter\(s\) \['eggs'\]"):
        search.fit(X, y, spam=np.ones(10))
    with pytest.raises(AssertionError, match="Fit parameter spam has length 1"):
        search.fit(X, y, spam=np.ones(1), eggs=np.zeros(10))
    search.fit(X, y, spam=np.ones(10), eggs=np.zeros(10))


def test_grid_search_no_score():
    """test_grid_search_no_score: scoring= replaces a missing score method."""
    X, y = make_blobs(random_state=0, centers=2)
    with_score = grid(LinearSVC(random_state=0), {"C": [0.1, 1, 10]}, scoring="accuracy")
    no_score = grid(LinearSVCNoScore(random_state=0), {"C": [0.1, 1, 10]}, scoring="accuracy")
    with_score.fit(X, y)
    no_score.fit(X, y)
    assert no_score.best_params_ == with_score.best_params_
    assert with_score.score(X, y) == no_score.score(X, y)
    with pytest.raises(TypeError, match="no scoring"):
        grid(LinearSVCNoScore(random_state=0), {"C": [0.1, 1, 10]}).fit([[1]])


def test_grid_search_score_method():
    """test_grid_search_score_method: score() uses the search's scorer."""
    X, y = make_classification(n_samples=100, n_classes=2, flip_y=0.2, random_state=0)
    clf, space = LinearSVC(random_state=0), {"C": [0.1]}
    plain = grid(clf, space, scoring=None).fit(X, y)
    accuracy = grid(clf, space, scoring="accuracy").fit(X, y)
    auc_no_score = grid(LinearSVCNoScore(), space, scoring="roc_auc").fit(X, y)
    auc = grid(clf, space, scoring="roc_auc").fit(X, y)
    assert auc.score(X, y) < 1.0 and accuracy.score(X, y) < 1.0
    assert auc.score(X, y) != accuracy.score(X, y)
    assert accuracy.score(X, y) == pytest.approx(plain.score(X, y))
    assert auc.score(X, y) == pytest.approx(auc_no_score.score(X, y))


def test_grid_search_groups():
    """test_grid_search_groups: groups reach the splitter, and are required where needed."""
    X, y = make_classification(n_samples=15, n_classes=2, random_state=0)
    groups = np.random.RandomState(0).randint(0, 3, 15)
    for cv in (LeaveOneGroupOut(), GroupKFold(n_splits=3)):
        search = grid(LinearSVC(random_state=0), {"C": [1]}, cv=cv)
        with pytest.raises(ValueError, match="The 'groups' parameter should not be None"):
            search.fit(X, y)
        search.fit(X, y, groups=groups)
        assert search.n_splits_ == 3
    grid(LinearSVC(random_state=0), {"C": [1]}, cv=StratifiedKFold(3)).fit(X, y)


def test_classes__property():
    """test_classes__property: classes_ is the best estimator's, only after a refit."""
    X = np.arange(100).reshape(10, 10)
    y = np.array([0] * 5 + [1] * 5)
    search = grid(LinearSVC(random_state=0), {"C": [0.1, 1, 10]}).fit(X, y)
    np.testing.assert_array_equal(search.best_estimator_.classes_, search.classes_)
    assert not hasattr(grid(Ridge(), {"alpha": [1.0, 2.0]}).fit(X, y), "classes_")
    assert not hasattr(grid(LinearSVC(random_state=0), {"C": [0.1]}), "classes_")
    no_refit = grid(LinearSVC(random_state=0), {"C": [0.1, 1]}, refit=False).fit(X, y)
    assert not hasattr(no_refit, "classes_")


def test_trivial_cv_results_attr():
    """test_trivial_cv_results_attr: a space of one point."""
    search = grid(MockClassifier(), {"foo_param": [1]}, cv=2).fit(X4, y4)
    assert len(search.cv_results_["params"]) == 1
    random = hb.SearchCV(MockClassifier(), {"foo_param": [0]}, backend="optuna:random",
                         n_iter=1, cv=2).fit(X4, y4)
    assert random.cv_results_["params"] == [{"foo_param": 0}]


def test_no_refit():
    """test_no_refit: refit=False keeps best_index_/best_params_, and predict says why not."""
    search = grid(MockClassifier(), {"foo_param": [1, 2, 3]}, refit=False, cv=2).fit(X4, y4)
    assert not hasattr(search, "best_estimator_")
    assert hasattr(search, "best_index_") and hasattr(search, "best_params_")
    for name in ("predict", "predict_proba", "transform", "inverse_transform"):
        with pytest.raises(AttributeError, match=f"has no attribute '{name}'") as info:
            getattr(search, name)(X4)
        assert "refit=False" in str(info.value.__cause__)


@pytest.mark.parametrize("refit", [True, "recall", "accuracy"])
def test_no_refit_multimetric_needs_a_metric(refit):
    """test_no_refit (end): several metrics and a refit naming none of them."""
    FITS.clear()
    with pytest.raises(ValueError, match="For multi-metric scoring, the parameter refit"):
        grid(CountingTree(), {"max_depth": [1]}, refit=refit,
             scoring={"acc": "accuracy", "prec": "precision_macro"}).fit(X_IRIS, Y_IRIS)
    assert FITS == []  # refused before the first fit


def test_grid_search_error():
    """test_grid_search_error: X and y of different lengths."""
    X, y = make_classification(n_samples=200, n_features=100, random_state=0)
    with pytest.raises(ValueError):
        grid(LinearSVC(), {"C": [0.1, 1.0]}).fit(X[:180], y)


def test_grid_search_one_grid_point():
    """test_grid_search_one_grid_point: the refit model is the plain model."""
    X, y = make_classification(n_samples=200, n_features=100, random_state=0)
    search = grid(SVC(gamma="auto"), {"C": [1.0], "kernel": ["rbf"], "gamma": [0.1]}).fit(X, y)
    plain = SVC(C=1.0, kernel="rbf", gamma=0.1).fit(X, y)
    np.testing.assert_array_equal(plain.dual_coef_, search.best_estimator_.dual_coef_)


def test_refit():
    """test_refit: the refit estimator is a fresh clone (a broken one fits only once)."""
    X = np.arange(100).reshape(10, 10)
    y = np.array([0] * 5 + [1] * 5)
    grid(BrokenClassifier(), [{"parameter": [0, 1]}], scoring="precision", refit=True).fit(X, y)


def test_refit_callable():
    """test_refit_callable: refit=callable picks the index; best_score_ is not set."""
    X, y = make_classification(n_samples=100, n_features=4, random_state=42)
    search = grid(LinearSVC(random_state=42), {"C": [0.01, 0.1, 1]}, scoring="precision",
                  refit=lambda results: int(results["mean_test_score"].argmin())).fit(X, y)
    results = search.cv_results_
    assert search.best_index_ == results["mean_test_score"].argmin()
    assert not hasattr(search, "best_score_")


def test_refit_callable_invalid_type():
    """test_refit_callable_invalid_type."""
    X, y = make_classification(n_samples=100, n_features=4, random_state=42)
    search = grid(LinearSVC(random_state=42), {"C": [0.1, 1]}, scoring="precision",
                  refit=lambda results: None)
    with pytest.raises(TypeError, match="best_index_ returned is not an integer"):
        search.fit(X, y)


@pytest.mark.parametrize("out_bound_value", [-1, 2])
def test_refit_callable_out_bound(out_bound_value):
    """test_refit_callable_out_bound."""
    X, y = make_classification(n_samples=100, n_features=4, random_state=42)
    search = grid(LinearSVC(random_state=42), {"C": [0.1, 1]}, scoring="precision",
                  refit=lambda results: out_bound_value)
    with pytest.raises(IndexError, match="best_index_ index out of range"):
        search.fit(X, y)


def test_refit_callable_multi_metric():
    """test_refit_callable_multi_metric."""
    X, y = make_classification(n_samples=100, n_features=4, random_state=42)
    search = grid(LinearSVC(random_state=42), {"C": [0.01, 0.1, 1]},
                  scoring={"Accuracy": "accuracy", "prec": "precision"},
                  refit=lambda results: int(results["mean_test_prec"].argmin())).fit(X, y)
    assert search.best_index_ == search.cv_results_["mean_test_prec"].argmin()
    assert not hasattr(search, "best_score_")


def test_gridsearch_nd():
    """test_gridsearch_nd: X and y of any number of dimensions."""
    X_4d = np.arange(10 * 5 * 3 * 2).reshape(10, 5, 3, 2)
    y_3d = np.arange(10 * 7 * 11).reshape(10, 7, 11)
    clf = CheckingClassifier(check_X=lambda x: x.shape[1:] == (5, 3, 2),
                             check_y=lambda x: x.shape[1:] == (7, 11))
    search = grid(clf, {"foo_param": [1, 2, 3]}, cv=KFold(3), scoring=lambda e, X, y: 0.0)
    search.fit(X_4d, y_3d)
    assert len(search.cv_results_["params"]) == 3


@pytest.mark.parametrize("as_list", ["X", "y"])
def test_X_y_as_list(as_list):
    """test_X_as_list, test_y_as_list: lists reach the estimator as lists."""
    X = np.arange(100).reshape(10, 10)
    y = np.array([0] * 5 + [1] * 5)
    check = {"check_X" if as_list == "X" else "check_y": lambda v: isinstance(v, list)}
    search = grid(CheckingClassifier(**check), {"foo_param": [1, 2, 3]}, cv=KFold(3))
    search.fit(X.tolist() if as_list == "X" else X, y.tolist() if as_list == "y" else y)
    search.score(X, y)


def test_pandas_input():
    """test_pandas_input: a DataFrame and a Series reach the estimator as such."""
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(np.arange(100).reshape(10, 10))
    y = pd.Series([0] * 5 + [1] * 5)
    clf = CheckingClassifier(check_X=lambda x: isinstance(x, pd.DataFrame),
                             check_y=lambda x: isinstance(x, pd.Series))
    search = grid(clf, {"foo_param": [1, 2, 3]}).fit(X, y)
    search.score(X, y)
    search.predict(X)


def test_unsupervised_grid_search():
    """test_unsupervised_grid_search: clustering, with and without y."""
    X, y = make_blobs(n_samples=50, random_state=0)
    km = KMeans(random_state=0, init="random", n_init=1)
    for refit in ["adjusted_rand_score", "fowlkes_mallows_score"]:
        search = grid(km, {"n_clusters": [2, 3, 4]}, refit=refit,
                      scoring=["adjusted_rand_score", "fowlkes_mallows_score"]).fit(X, y)
        assert search.best_params_["n_clusters"] == 3
    search = grid(km, {"n_clusters": [2, 3, 4]}).fit(X)
    assert search.best_params_["n_clusters"] == 4


def test_gridsearch_no_predict():
    """test_gridsearch_no_predict: an estimator without predict and a custom scorer."""
    X, _ = make_blobs(cluster_std=0.1, random_state=1, centers=[[0, 1], [1, 0], [0, 0]])
    search = grid(KernelDensity(), {"bandwidth": [0.01, 0.1, 1]},
                  scoring=lambda est, X: 42 if est.bandwidth == 0.1 else 0).fit(X)
    assert search.best_params_["bandwidth"] == 0.1
    assert search.best_score_ == 42


def test_random_search_cv_results():
    """test_random_search_cv_results: keys, masked parameter arrays, lengths."""
    X, y = make_classification(n_samples=50, n_features=4, random_state=42)
    n_iter, n_splits = 5, 3
    space = {"C": st.loguniform(1e-2, 1e2), "gamma": st.uniform(0.01, 0.2)}
    search = hb.SearchCV(SVC(), space, backend="optuna:random", n_iter=n_iter, cv=n_splits,
                         random_state=0, return_train_score=True).fit(X, y)
    results = search.cv_results_
    keys = {"param_C", "param_gamma", "params", "mean_test_score", "std_test_score",
            "rank_test_score", "mean_train_score", "std_train_score", "mean_fit_time",
            "std_fit_time", "mean_score_time", "std_score_time"}
    keys |= {f"split{i}_{k}_score" for i in range(n_splits) for k in ("test", "train")}
    assert set(results) == keys
    assert all(len(v) == n_iter for v in results.values())
    assert all(isinstance(results[k], np.ma.MaskedArray) for k in ("param_C", "param_gamma"))
    assert not np.any(results["param_C"].mask)
    assert results["rank_test_score"].dtype == np.int32
    assert [p["C"] for p in results["params"]] == list(results["param_C"])


def test_random_search_cv_results_multimetric():
    """test_random_search_cv_results_multimetric: several metrics, refit by name."""
    X, y = make_classification(n_samples=50, n_features=4, random_state=42)
    space = {"C": st.loguniform(1e-2, 1e2), "gamma": st.uniform(0.01, 0.2)}
    runs = {}
    for scoring, refit in [("accuracy", True), (("accuracy", "recall"), "accuracy")]:
        runs[refit] = hb.SearchCV(SVC(), space, backend="optuna:random", n_iter=4, cv=3,
                                  random_state=0, scoring=scoring, refit=refit).fit(X, y)
    single, multi = runs[True].cv_results_, runs["accuracy"].cv_results_
    assert single["params"] == multi["params"]
    np.testing.assert_allclose(single["mean_test_score"], multi["mean_test_accuracy"])
    assert "mean_test_recall" in multi and "rank_test_recall" in multi
    assert runs[True].best_index_ == runs["accuracy"].best_index_


def test_search_cv_results_rank_tie_breaking():
    """test_search_cv_results_rank_tie_breaking: tied candidates share the 'min' rank."""
    X, y = make_blobs(n_samples=50, random_state=42)
    search = grid(SVC(), {"C": [1, 1.001, 0.001]}, return_train_score=True).fit(X, y)
    by_c = {p["C"]: i for i, p in enumerate(search.cv_results_["params"])}
    ranks = search.cv_results_["rank_test_score"]
    assert ranks[by_c[1]] == ranks[by_c[1.001]] == 1
    assert ranks[by_c[0.001]] == 3


def test_search_cv_results_none_param():
    """test_search_cv_results_none_param: None is a value like any other."""
    X, y = [[1], [2], [3], [4], [5]], [0, 0, 0, 0, 1]
    search = grid(DecisionTreeClassifier(), {"random_state": [0, None]}, cv=KFold()).fit(X, y)
    assert sorted(search.cv_results_["param_random_state"], key=str) == [0, None]


def test_search_cv_timing():
    """test_search_cv_timing: fit, score and refit times are measured."""
    search = grid(LinearSVC(random_state=0), {"C": [0.1]}, cv=2).fit(X4, y4)
    for key in ("mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time"):
        assert np.all(search.cv_results_[key] >= 0)
    assert np.all(search.cv_results_["mean_fit_time"] > 0)
    assert search.refit_time_ >= 0


def test_grid_search_correct_score_results():
    """test_grid_search_correct_score_results: each fold's score is cross_val_score's."""
    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    search = grid(LinearSVC(random_state=0), {"C": [0.1, 1.0]}, scoring="roc_auc",
                  cv=3).fit(X, y)
    results = search.cv_results_
    for i, params in enumerate(results["params"]):
        expected = cross_val_score(LinearSVC(random_state=0, **params), X, y, cv=3,
                                   scoring="roc_auc")
        folds = [results[f"split{k}_test_score"][i] for k in range(3)]
        np.testing.assert_allclose(folds, expected)


def test_pickle():
    """test_pickle: a fitted search pickles and predicts the same."""
    search = grid(MockClassifier(), {"foo_param": [1, 2, 3]}, refit=True, cv=2).fit(X4, y4)
    again = pickle.loads(pickle.dumps(search))
    np.testing.assert_array_almost_equal(search.predict(X4), again.predict(X4))


def test_grid_search_allows_nans():
    """test_grid_search_allows_nans: NaN in X, imputed inside the pipeline."""
    X = np.arange(20, dtype=np.float64).reshape(5, -1)
    X[2, :] = np.nan
    pipe = Pipeline([("imputer", SimpleImputer(strategy="mean", missing_values=np.nan)),
                     ("classifier", MockClassifier())])
    grid(pipe, {"classifier__foo_param": [1, 2, 3]}, cv=2).fit(X, [0, 0, 1, 1, 1])


@pytest.mark.parametrize("error_score", [0.0, np.nan])
def test_grid_search_failing_classifier(error_score):
    """test_grid_search_failing_classifier: failed folds get error_score, with a warning."""
    X, y = make_classification(n_samples=20, n_features=10, random_state=0)
    search = grid(FailingClassifier(), [{"parameter": [0, 1, 2]}], scoring="accuracy",
                  refit=False, error_score=error_score)
    message = re.compile(
        "5 fits failed.+total of 15.+The score on these train-test partitions for these "
        f"parameters will be set to {error_score}.+ValueError.+Failing classifier failed",
        flags=re.DOTALL)
    with pytest.warns(FitFailedWarning, match=message):
        search.fit(X, y)
    results = search.cv_results_
    failing = [i for i, p in enumerate(results["params"]) if p["parameter"] == 2]
    scores = [results[f"split{k}_test_score"][failing[0]] for k in range(5)]
    np.testing.assert_array_equal(scores, [error_score] * 5)
    if np.isnan(error_score):
        assert results["rank_test_score"][failing[0]] == 3
        assert search.best_index_ != failing[0]


def test_grid_search_classifier_all_fits_fail():
    """test_grid_search_classifier_all_fits_fail: scikit-learn's error when nothing fits."""
    X, y = make_classification(n_samples=20, n_features=10, random_state=0)
    search = hb.SearchCV(FailingClassifier(), {"parameter": [2]}, backend="optuna:random",
                         n_iter=3, error_score=0.0, random_state=0)
    message = re.compile("All the 15 fits failed.+ValueError.+Failing classifier failed",
                         flags=re.DOTALL)
    with pytest.raises(ValueError, match=message):
        search.fit(X, y)


def test_grid_search_failing_classifier_raise():
    """test_grid_search_failing_classifier_raise: error_score='raise' raises the fit's error."""
    X, y = make_classification(n_samples=20, n_features=10, random_state=0)
    search = grid(FailingClassifier(), [{"parameter": [0, 1, 2]}], scoring="accuracy",
                  refit=False, error_score="raise")
    with pytest.raises(ValueError, match="Failing classifier failed as required"):
        search.fit(X, y)


def test_search_train_scores_set_to_false():
    """test_search_train_scores_set_to_false: no train keys unless asked."""
    search = grid(LinearSVC(random_state=0), {"C": [0.1, 0.2, 0.3]}, cv=3,
                  return_train_score=False).fit(X_IRIS, Y_IRIS)
    assert not any("train" in key for key in search.cv_results_)


def test_empty_cv_iterator_error():
    """test_empty_cv_iterator_error."""
    cv = KFold(n_splits=3).split(X4)
    list(cv)
    search = hb.SearchCV(Ridge(), {"alpha": [1e-3, 1e-2, 1e-1]}, cv=cv, n_iter=2)
    with pytest.raises(ValueError, match=r"No fits were performed. Was the CV iterator empty"):
        search.fit(X4, y4)


def test_random_search_bad_cv():
    """test_random_search_bad_cv: a splitter whose count is wrong."""
    class BrokenKFold(KFold):
        def get_n_splits(self, *args, **kw):
            return 1

    search = hb.SearchCV(Ridge(), {"alpha": [1e-3, 1e-2]}, cv=BrokenKFold(n_splits=3), n_iter=2)
    with pytest.raises(ValueError, match=r"inconsistent results. Expected \d+ splits, got \d+"):
        search.fit(X_IRIS, Y_IRIS)


def test_callable_multimetric_same_as_list_of_strings():
    """test_callable_multimetric_same_as_list_of_strings."""
    def custom_scorer(est, X, y):
        y_pred = est.predict(X)
        return {"recall": recall_score(y, y_pred), "accuracy": accuracy_score(y, y_pred)}

    X, y = make_classification(n_samples=40, n_features=4, random_state=42)
    by_callable = grid(LinearSVC(random_state=42), {"C": [0.1, 1]}, scoring=custom_scorer,
                       refit="recall").fit(X, y)
    by_names = grid(LinearSVC(random_state=42), {"C": [0.1, 1]},
                    scoring=["recall", "accuracy"], refit="recall").fit(X, y)
    assert by_callable.best_score_ == pytest.approx(by_names.best_score_)
    assert by_callable.best_params_ == by_names.best_params_
    assert by_callable.score(X, y) == pytest.approx(by_names.score(X, y))


def test_callable_single_metric_same_as_single_string():
    """test_callable_single_metric_same_as_single_string."""
    X, y = make_classification(n_samples=40, n_features=4, random_state=42)
    by_callable = grid(LinearSVC(random_state=42), {"C": [0.1, 1]},
                       scoring=lambda est, X, y: recall_score(y, est.predict(X))).fit(X, y)
    by_name = grid(LinearSVC(random_state=42), {"C": [0.1, 1]}, scoring="recall").fit(X, y)
    by_list = grid(LinearSVC(random_state=42), {"C": [0.1, 1]}, scoring=["recall"],
                   refit="recall").fit(X, y)
    for other in (by_callable, by_list):
        assert other.best_score_ == pytest.approx(by_name.best_score_)
        assert other.best_params_ == by_name.best_params_


def test_callable_multimetric_error_on_invalid_key():
    """test_callable_multimetric_error_on_invalid_key."""
    X, y = make_classification(n_samples=40, n_features=4, random_state=42)
    search = grid(LinearSVC(random_state=42), {"C": [0.1, 1]},
                  scoring=lambda est, X, y: {"bad_name": 1}, refit="good_name")
    with pytest.raises(ValueError, match="For multi-metric scoring, the parameter refit"):
        search.fit(X, y)


def test_callable_multimetric_error_failing_clf():
    """test_callable_multimetric_error_failing_clf: error_score under a callable's names."""
    X, y = make_classification(n_samples=20, n_features=10, random_state=0)
    search = grid(FailingClassifier(), [{"parameter": [0, 1, 2]}],
                  scoring=lambda est, X, y: {"acc": 1}, refit=False, error_score=0.1)
    with pytest.warns(FitFailedWarning, match="5 fits failed.+total of 15"):
        search.fit(X, y)
    by_param = {p["parameter"]: m for p, m in zip(search.cv_results_["params"],
                                                   search.cv_results_["mean_test_acc"],
                                                   strict=True)}
    assert by_param == pytest.approx({0: 1, 1: 1, 2: 0.1})


def test_n_features_in():
    """test_n_features_in: delegated to the best estimator after fit."""
    X, y = make_classification(n_features=4, n_samples=40, random_state=0)
    search = grid(DecisionTreeClassifier(), {"max_depth": [3, 4]})
    assert not hasattr(search, "n_features_in_")
    assert search.fit(X, y).n_features_in_ == 4


def test_scalar_fit_param():
    """test_scalar_fit_param: a scalar fit parameter is passed as is."""
    class TestEstimator(ClassifierMixin, BaseEstimator):
        def __init__(self, a=None):
            self.a = a

        def fit(self, X, y, r=None):
            self.r_ = r
            return self

        def predict(self, X):
            return np.zeros(shape=(len(X)))

    X, y = make_classification(n_samples=40, random_state=42)
    search = grid(TestEstimator(), {"a": [1, 2]}).fit(X, y, r=42)
    assert search.best_estimator_.r_ == 42


def test_search_cv_verbose_3(capsys):
    """test_search_cv_verbose_3: each fold's score is printed."""
    X, y = make_classification(n_samples=60, n_classes=2, flip_y=0.2, random_state=0)
    grid(LinearSVC(random_state=0), {"C": [0.1]}, scoring="accuracy", verbose=3,
         cv=3).fit(X, y)
    assert len(re.findall(r"score=[\d\.]+", capsys.readouterr().out)) == 3


def test_search_estimator_param():
    """test_search_estimator_param: the space's estimator is not changed; its step is set."""
    X, y = make_classification(n_samples=40, random_state=42)
    params = {"clf": [LinearSVC()], "clf__C": [0.01]}
    pipe = Pipeline([("trs", StandardScaler()), ("clf", None)])
    search = grid(pipe, params, cv=2, scoring="accuracy").fit(X, y)
    assert params["clf"][0].C == 1.0
    assert search.best_estimator_.named_steps["clf"].C == 0.01


# -- the estimator contract ---------------------------------------------------------------------
def test_clone_get_set_params_and_nested_cv():
    """clone-able, get_params/set_params, and inside cross_val_score (nested CV)."""
    search = hb.SearchCV(SVC(), {"C": hb.loguniform(1e-2, 1e2)}, backend="optuna:random",
                         n_iter=2, cv=2, random_state=0)
    copy = clone(search)
    assert copy.get_params()["space"] == search.space and copy.backend == "optuna:random"
    copy.set_params(estimator__kernel="linear", n_iter=3)
    assert copy.estimator.kernel == "linear" and copy.n_iter == 3
    assert is_classifier(search)
    scores = cross_val_score(search, X_IRIS, Y_IRIS, cv=2)
    assert scores.shape == (2,) and np.all(scores > 0.5)


def test_a_choice_of_estimators_as_a_pipeline_step():
    """{"clf": [LR, SVC]} with nested clf__ keys, and a list of sub-spaces."""
    pipe = Pipeline([("scale", StandardScaler()), ("clf", SVC())])
    space = [{"clf": [LogisticRegression()], "clf__C": st.loguniform(1e-2, 1e2)},
             {"clf": [SVC()], "clf__C": hb.loguniform(1e-2, 1e2), "clf__kernel": ["rbf", "poly"]}]
    search = hb.SearchCV(pipe, space, backend="hyperopt:tpe", n_iter=6, cv=2,
                         random_state=0).fit(X_IRIS, Y_IRIS)
    for params in search.cv_results_["params"]:
        if isinstance(params["clf"], SVC):
            assert set(params) == {"clf", "clf__C", "clf__kernel"}
            assert params["clf__kernel"] in ("rbf", "poly")
        else:
            assert set(params) == {"clf", "clf__C"}
        assert isinstance(params["clf__C"], float) and 1e-2 <= params["clf__C"] <= 1e2
    best = search.best_estimator_.named_steps["clf"]
    assert best.C == search.best_params_["clf__C"]
    assert type(best) is type(search.best_params_["clf"])


def test_spaces_of_other_libraries():
    """hyperopt, skopt and Optuna leaves, and scipy.stats distributions, as parameters."""
    from hyperopt import hp
    from optuna.distributions import FloatDistribution
    from skopt.space import Categorical, Real

    spaces = [{"C": hp.loguniform("C", np.log(1e-2), np.log(1e2))},
              {"C": Real(1e-2, 1e2, prior="log-uniform"), "kernel": Categorical(["rbf"])},
              {"C": FloatDistribution(1e-2, 1e2, log=True)},
              {"C": st.loguniform(1e-2, 1e2), "degree": st.randint(2, 4)}]
    for space in spaces:
        search = hb.SearchCV(SVC(), space, backend="optuna:random", n_iter=2, cv=2,
                             random_state=0, refit=False).fit(X_IRIS, Y_IRIS)
        for params in search.cv_results_["params"]:
            assert set(params) == set(space) and 1e-2 <= params["C"] <= 1e2
            assert isinstance(params["C"], float)


def test_the_backend_is_seeded_by_random_state():
    runs = [hb.SearchCV(SVC(), {"C": hb.loguniform(1e-2, 1e2)}, backend="optuna:tpe",
                        n_iter=3, cv=2, random_state=seed).fit(X_IRIS, Y_IRIS)
            for seed in (1, 1, 2)]
    assert runs[0].cv_results_["params"] == runs[1].cv_results_["params"]
    assert runs[0].cv_results_["params"] != runs[2].cv_results_["params"]
    assert runs[0].result_.backend == "optuna:tpe"
    assert len(runs[0].result_.records) == 3


def test_the_backend_is_told_the_mean_test_score():
    search = hb.SearchCV(SVC(), {"C": hb.loguniform(1e-2, 1e2)}, backend="optuna:random",
                         n_iter=3, cv=3, random_state=0,
                         scoring=["accuracy", "f1_macro"], refit="f1_macro").fit(X_IRIS, Y_IRIS)
    values = [r.value for r in search.result_.records]
    np.testing.assert_allclose(values, search.cv_results_["mean_test_f1_macro"])


DRIVER = os.getpid()


def _pid(estimator, X, y):
    """A scorer: the process that scores."""
    return float(os.getpid())


def _in_worker(estimator, X, y):
    """A scorer: 1.0 when scoring in another process than the test's."""
    return float(os.getpid() != DRIVER)


def _split_scores(results, n_splits, kind="test"):
    """``{candidate: its split scores}``: a parallel run's candidates finish in any order."""
    return {repr(sorted(p.items())): [results[f"split{k}_{kind}_score"][i]
                                      for k in range(n_splits)]
            for i, p in enumerate(results["params"])}


@pytest.fixture
def n_jobs_run(monkeypatch):
    """The ``n_jobs`` of each ``hb.maximize`` run a ``SearchCV`` makes."""
    from hpo_bridge.integrations import sklearn as module

    seen = []

    def spy(*args, **kwargs):
        seen.append(kwargs.get("n_jobs", 1))
        return hb.maximize(*args, **kwargs)

    monkeypatch.setattr(module, "maximize", spy)
    return seen


def test_n_jobs_runs_candidates_in_parallel_with_the_same_split_scores(n_jobs_run):
    kwargs = dict(backend="optuna:random", n_iter=6, cv=3, random_state=0,
                  return_train_score=True)
    space = {"max_depth": hb.integer(1, 5), "criterion": ["gini", "entropy"]}
    serial = hb.SearchCV(DecisionTreeClassifier(random_state=0), space,
                         **kwargs).fit(X_IRIS, Y_IRIS)
    parallel = hb.SearchCV(DecisionTreeClassifier(random_state=0), space, n_jobs=2,
                           **kwargs).fit(X_IRIS, Y_IRIS)
    assert n_jobs_run == [1, 2]
    assert sorted(parallel.cv_results_) == sorted(serial.cv_results_)
    for kind in ("test", "train"):
        assert (_split_scores(parallel.cv_results_, 3, kind)
                == _split_scores(serial.cv_results_, 3, kind))
    assert parallel.best_score_ == serial.best_score_
    assert len(parallel.result_.records) == 6
    # each candidate's folds ran one after another in one worker process
    where = hb.SearchCV(DecisionTreeClassifier(random_state=0), space, n_jobs=2,
                        scoring=_pid, refit=False, **kwargs).fit(X_IRIS, Y_IRIS)
    for pids in _split_scores(where.cv_results_, 3).values():
        assert len(set(pids)) == 1 and pids[0] != DRIVER


def test_n_jobs_minus_one_is_all_cores_and_one_is_serial(n_jobs_run):
    space = {"max_depth": hb.integer(1, 5)}
    kwargs = dict(backend="optuna:random", n_iter=3, cv=2, random_state=0, refit=False,
                  scoring=_in_worker)
    for n_jobs in (-1, 1, None):
        search = hb.SearchCV(DecisionTreeClassifier(random_state=0), space, n_jobs=n_jobs,
                             **kwargs).fit(X_IRIS, Y_IRIS)
        expected = 1.0 if n_jobs == -1 and joblib.effective_n_jobs(-1) > 1 else 0.0
        assert search.cv_results_["mean_test_score"].tolist() == [expected] * 3, n_jobs
    assert n_jobs_run == [joblib.effective_n_jobs(-1), 1, 1]


class _BelowPruner(optuna.pruners.BasePruner):
    """Prunes a trial whose first fold scores below 0.8, whatever else has finished."""

    def prune(self, study, trial):
        return trial.intermediate_values.get(1, 1.0) < 0.8  # step 1: one fold run


def test_n_jobs_prunes_between_folds_in_worker_processes():
    kwargs = dict(backend="optuna:random", n_iter=8, cv=5, random_state=3,
                  pruner=_BelowPruner(), scoring={"score": "accuracy", "where": _in_worker},
                  refit="score")
    space = {"max_depth": [1, 2, 3], "criterion": ["gini", "entropy"]}  # depth 1: pruned
    serial = hb.SearchCV(DecisionTreeClassifier(random_state=0), space,
                         **kwargs).fit(X_IRIS, Y_IRIS)
    parallel = hb.SearchCV(DecisionTreeClassifier(random_state=0), space, n_jobs=2,
                           **kwargs).fit(X_IRIS, Y_IRIS)
    states = {repr(sorted(p.items())): s for p, s in zip(serial.cv_results_["params"],
                                                         serial.cv_results_["state"],
                                                         strict=True)}
    assert "pruned" in states.values() and "complete" in states.values()
    results = parallel.cv_results_
    assert {repr(sorted(p.items())): s for p, s in zip(results["params"],
                                                       results["state"], strict=True)} == states
    complete = _split_scores(serial.cv_results_, 5)
    for i, (params, state) in enumerate(zip(results["params"], results["state"], strict=True)):
        if state == "pruned":  # the fold it ran came back from the worker; the others NaN
            assert np.isnan(results["mean_test_score"][i])
            assert results["rank_test_score"][i] == results["rank_test_score"].max()
            ran = _split_scores(results, 5)[repr(sorted(params.items()))]
            assert ran[0] == complete[repr(sorted(params.items()))][0] < 0.8
            assert np.isnan(ran[1:]).all()
            assert results["split0_test_where"][i] == 1.0  # scored in a worker process
        else:
            assert _split_scores(results, 5)[repr(sorted(params.items()))] == \
                complete[repr(sorted(params.items()))]
            assert results["mean_test_where"][i] == 1.0  # scored in a worker process


@pytest.fixture(scope="module")
def single_objective_backends():
    return [b.name for b in hb.backends() if b.available and b.name != "optuna:grid"]


def test_every_backend_runs_a_search(single_objective_backends):
    """Every backend available here (optuna:grid is the ported tests' GridSearchCV)."""
    assert len(single_objective_backends) >= 12
    for backend in single_objective_backends:
        search = hb.SearchCV(DecisionTreeClassifier(random_state=0),
                             {"max_depth": hb.integer(1, 4), "criterion": ["gini", "entropy"]},
                             backend=backend, n_iter=3, cv=2, random_state=0)
        search.fit(X_IRIS, Y_IRIS)
        assert len(search.cv_results_["params"]) == 3, backend
        assert search.best_score_ > 0.5, backend
        assert search.result_.backend.endswith(backend) or backend == "auto", backend


# -- bad input, before the first fit -------------------------------------------------------------
PIPE = Pipeline([("scale", StandardScaler()), ("clf", CountingTree())])


@pytest.mark.parametrize("estimator, space, message", [
    (CountingTree(), {"max_dept": [1, 2]}, r"no parameter 'max_dept'; did you mean 'max_depth'"),
    (PIPE, {"max_depth": [1, 2]}, r"Pipeline has no parameter 'max_depth'; did you mean "
                                   r"'clf__max_depth'"),
    (PIPE, {"clf__max_dept": [1]}, r"CountingTree \(at 'clf' in Pipeline\) has no parameter "
                                    r"'max_dept'; did you mean 'clf__max_depth'"),
    (PIPE, {"svc__C": [1.0]}, r"Pipeline has no step or parameter 'svc' \(its steps and nested "
                               r"estimators: clf, scale\).+another estimator"),
    (PIPE, {"clf": [LogisticRegression()], "clf__max_depth": [1]},
     r"LogisticRegression \(at 'clf' in Pipeline\) has no parameter 'max_depth'"),
    (CountingTree(), [{"max_depth": [1]}, {"min_samples": [2]}],
     r"no parameter 'min_samples'; did you mean 'min_samples_"),
    (CountingTree(), {"max_depth": []}, r"'max_depth' is an empty list"),
    (CountingTree(), {"max_depth": [1, 1]}, r"'max_depth': choice: options must be distinct"),
])
def test_a_bad_space_is_refused_before_the_first_fit(estimator, space, message):
    FITS.clear()
    with pytest.raises(hb.SpaceError, match=message):
        hb.SearchCV(estimator, space, n_iter=2).fit(X_IRIS, Y_IRIS)
    assert FITS == []


@pytest.mark.parametrize("kwargs, message", [
    ({"scoring": "acuracy"}, r"scoring 'acuracy' is not a scikit-learn scorer; did you mean "
                             r"'accuracy'"),
    ({"scoring": ["accuracy", "f1_macr"]}, r"scoring 'f1_macr' .+did you mean 'f1_macro'"),
    ({"n_iter": 0}, r"n_iter must be an int >= 1"),
    ({"n_iter": 2.5}, r"n_iter must be an int >= 1"),
    ({"backend": "optuna:tpx"}, r"unknown name 'optuna:tpx' \(did you mean 'optuna:tpe'"),
    ({"backend_options": {"n_startup": 3}, "backend": "optuna:tpe"}, r"n_startup"),
])
def test_bad_arguments_are_refused_before_the_first_fit(kwargs, message):
    FITS.clear()
    with pytest.raises(ValueError, match=message):
        hb.SearchCV(CountingTree(), {"max_depth": [1, 2]}, **kwargs).fit(X_IRIS, Y_IRIS)
    assert FITS == []


@pytest.mark.parametrize("kwargs, message", [
    ({"backend_options": {"n_startup": 3}},  # backend="auto": its one option is cost
     r"^SearchCV\(backend_options=\): 'n_startup' is not an option of backend 'auto'\. "
     r"backend 'auto' takes cost "),
    ({"backend_options": {"n_startup": 3}, "backend": "optuna:tpe"},
     r"^SearchCV\(backend_options=\): 'n_startup' is not an option of backend 'optuna:tpe'; "
     r"did you mean 'n_startup_trials'\? backend 'optuna:tpe' takes .*n_startup_trials"),
    ({"backend_options": [("n_startup_trials", 3)]}, r"backend_options must be a dict"),
])
def test_backend_options_are_checked_against_the_backends_own_options(kwargs, message):
    FITS.clear()
    with pytest.raises(hb.SpaceError, match=message) as info:
        hb.SearchCV(CountingTree(), {"max_depth": [1, 2]}, **kwargs).fit(X_IRIS, Y_IRIS)
    assert "minimize" not in str(info.value) and "warm_start" not in str(info.value)
    assert FITS == []


# -- pruning across folds, storage --------------------------------------------------------------
def test_pruning_stops_candidates_between_folds():
    FITS.clear()
    search = hb.SearchCV(CountingTree(random_state=0), {"max_depth": hb.integer(1, 8)},
                         backend="optuna:random", n_iter=12, cv=5, random_state=3,
                         pruner="median").fit(IRIS_X, IRIS_Y)
    results = search.cv_results_
    states = list(results["state"])
    assert "pruned" in states and states.count("complete") >= 1
    fits_in_search = len(FITS) - 1  # the refit
    ran = [sum(not np.isnan(results[f"split{k}_test_score"][i]) for k in range(5))
           for i in range(12)]
    assert fits_in_search == sum(ran) < 12 * 5
    for i, state in enumerate(states):
        if state == "pruned":
            assert ran[i] < 5 and np.isnan(results["mean_test_score"][i])
            assert results["rank_test_score"][i] == results["rank_test_score"].max()
        else:
            assert ran[i] == 5
    assert states[search.best_index_] == "complete"
    assert [r.state for r in search.result_.records] == states


def test_a_pruned_candidates_row_is_the_same_with_n_jobs_1_and_2():
    """The folds that ran keep their scores and times, the others are NaN (not error_score:
    they did not fail) with 0 s times, so the mean is NaN and the candidate ranks last."""
    kwargs = dict(backend="optuna:random", n_iter=6, cv=4, random_state=2, refit=False,
                  pruner=_BelowPruner(), return_train_score=True,
                  scoring={"score": "accuracy", "bal": "balanced_accuracy"})
    space = {"max_depth": [1, 3, 4]}  # seed 2: one depth 1 (0.69 on fold 0: pruned there)
    rows = {}
    for n_jobs in (1, 2):
        results = hb.SearchCV(DecisionTreeClassifier(random_state=0), space, n_jobs=n_jobs,
                              **kwargs).fit(X_IRIS, Y_IRIS).cv_results_
        states = list(results["state"])
        assert "pruned" in states and "complete" in states
        i = states.index("pruned")
        assert results["params"][i] == {"max_depth": 1}
        rows[n_jobs] = {key: value[i] for key, value in results.items()
                        if "time" not in key}
        for metric in ("score", "bal"):
            for kind in ("test", "train"):
                assert not np.isnan(results[f"split0_{kind}_{metric}"][i])
                assert all(np.isnan(results[f"split{k}_{kind}_{metric}"][i]) for k in (1, 2, 3))
            assert np.isnan(results[f"mean_test_{metric}"][i])
            assert results[f"rank_test_{metric}"][i] == max(results[f"rank_test_{metric}"])
        assert results["mean_fit_time"][i] > 0  # the fold that ran
    assert rows[1].keys() == rows[2].keys()
    for key, value in rows[1].items():
        assert value == rows[2][key] or (isinstance(value, float) and np.isnan(value)
                                         and np.isnan(rows[2][key])), key


def test_a_resumed_pruned_candidate_keeps_the_folds_it_ran(tmp_path):
    kwargs = dict(backend="optuna:random", cv=4, random_state=2, refit=False,
                  pruner=_BelowPruner(), storage=str(tmp_path / "s.log"), study_name="a")
    first = hb.SearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 3, 4]},
                        n_iter=3, **kwargs).fit(X_IRIS, Y_IRIS).cv_results_
    again = hb.SearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 3, 4]},
                        n_iter=4, **kwargs).fit(X_IRIS, Y_IRIS).cv_results_
    assert list(first["state"]) == list(again["state"])[:3] == ["complete", "pruned", "complete"]
    for k in range(4):
        np.testing.assert_array_equal(again[f"split{k}_test_score"][:3],
                                      first[f"split{k}_test_score"])
    assert first["split0_test_score"][1] < 0.8 and np.isnan(first["split1_test_score"][1])


class _Recording(optuna.pruners.BasePruner):
    """Never prunes; keeps what each trial reported (the pruner is copied per run)."""

    def prune(self, study, trial):
        REPORTED[trial.number] = dict(trial.intermediate_values)
        return False


class _RecordingWilcoxon(optuna.pruners.WilcoxonPruner):
    def prune(self, study, trial):
        REPORTED[trial.number] = dict(trial.intermediate_values)
        return False


REPORTED: dict[int, dict[int, float]] = {}


@pytest.mark.parametrize("pruner", [_Recording(), _RecordingWilcoxon()])
def test_the_pruner_gets_the_running_mean_or_for_wilcoxon_each_folds_score(pruner):
    REPORTED.clear()
    results = hb.SearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2, 3]},
                          backend="optuna:random", n_iter=3, cv=4, random_state=0,
                          refit=False, pruner=pruner).fit(X_IRIS, Y_IRIS).cv_results_
    for i in range(3):
        folds = [results[f"split{k}_test_score"][i] for k in range(4)]
        if isinstance(pruner, optuna.pruners.WilcoxonPruner):  # paired with the best's folds
            expected = folds
        else:  # compared with the others' running means after as many folds
            expected = [np.mean(folds[:k + 1]) for k in range(4)]
        assert list(REPORTED[i].values()) == pytest.approx(expected)
        assert list(REPORTED[i]) == [1, 2, 3, 4]  # the step: folds run so far


def test_asha_can_stop_a_candidate_after_its_first_fold():
    """The step is the number of folds run (the resource successive halving counts): with
    steps 0, 1, ... Optuna's SuccessiveHalvingPruner (min_resource >= 1) could stop no
    candidate before its second fold."""
    results = hb.SearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2, 3, 4]},
                          backend="optuna:random", n_iter=8, cv=5, random_state=0,
                          refit=False, pruner="asha").fit(X_IRIS, Y_IRIS).cv_results_
    ran = [sum(not np.isnan(results[f"split{k}_test_score"][i]) for k in range(5))
           for i in range(8)]
    pruned = [n for n, state in zip(ran, results["state"], strict=True) if state == "pruned"]
    assert 1 in pruned, (ran, list(results["state"]))


def test_storage_resumes_with_the_stored_candidates_in_cv_results(tmp_path):
    storage = str(tmp_path / "search.log")  # a journal file: the fastest to open
    space = {"C": hb.loguniform(1e-2, 1e2)}
    kwargs = dict(backend="optuna:tpe", cv=3, random_state=0, storage=storage, study_name="svc")
    first = hb.SearchCV(SVC(), space, n_iter=2, **kwargs).fit(X_IRIS, Y_IRIS)
    second = hb.SearchCV(SVC(), space, n_iter=3, **kwargs).fit(X_IRIS, Y_IRIS)
    one, two = first.cv_results_, second.cv_results_
    assert two["params"][:2] == one["params"] and len(two["params"]) == 3
    for key in ("split0_test_score", "split2_test_score", "mean_fit_time", "rank_test_score"):
        assert len(two[key]) == 3
    np.testing.assert_allclose(two["split1_test_score"][:2], one["split1_test_score"])
    np.testing.assert_allclose(two["mean_fit_time"][:2], one["mean_fit_time"])
    assert [r.trial_id for r in second.result_.records] == [0, 1, 2]
    assert second.best_score_ >= first.best_score_
    with pytest.raises(hb.SpaceError, match="evaluated on 3 folds, this cv has 2"):
        hb.SearchCV(SVC(), space, n_iter=4, **{**kwargs, "cv": 2}).fit(X_IRIS, Y_IRIS)


# -- the structure of cv_results_ ---------------------------------------------------------------
def _structure(results: dict) -> dict:
    return {key: (type(v).__name__, getattr(v, "dtype", None), len(v))
            for key, v in results.items()}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(depths=hs.lists(hs.sampled_from([1, 2, 3, 4]), min_size=1, max_size=3, unique=True),
       criteria=hs.lists(hs.sampled_from(["gini", "entropy"]), min_size=1, unique=True),
       n_iter=hs.integers(1, 3), train=hs.booleans(),
       scoring=hs.sampled_from([None, "accuracy", ("accuracy", "f1_macro")]))
def test_cv_results_has_the_structure_and_values_of_scikit_learns(depths, criteria, n_iter,
                                                                  train, scoring):
    """Same keys, dtypes and lengths as RandomizedSearchCV's; same values for the same
    candidates as GridSearchCV's (the same BaseSearchCV formatting)."""
    space = {"max_depth": depths, "criterion": criteria}
    refit = "accuracy" if isinstance(scoring, tuple) else True
    common = dict(cv=3, scoring=scoring, refit=refit, return_train_score=train)
    ours = hb.SearchCV(DecisionTreeClassifier(random_state=0), space, backend="optuna:random",
                       n_iter=n_iter, random_state=0, **common).fit(X_IRIS, Y_IRIS)
    random = RandomizedSearchCV(DecisionTreeClassifier(random_state=0), space, n_iter=n_iter,
                                random_state=0, **common)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "the total space ... is smaller"
        random.fit(X_IRIS, Y_IRIS)
    n_ours = len(ours.cv_results_["params"])
    expected = {k: (t, d, n_ours) for k, (t, d, _) in _structure(random.cv_results_).items()}
    assert _structure(ours.cv_results_) == expected
    same = GridSearchCV(DecisionTreeClassifier(random_state=0),
                        [{k: [v] for k, v in p.items()} for p in ours.cv_results_["params"]],
                        **common).fit(X_IRIS, Y_IRIS)
    for key, value in same.cv_results_.items():
        if "time" in key:
            continue
        if key == "params":
            assert ours.cv_results_[key] == value
        else:
            np.testing.assert_array_equal(np.asarray(ours.cv_results_[key]), np.asarray(value))
    assert ours.best_index_ == same.best_index_


# -- the same answers as the originals -----------------------------------------------------------
def test_skopt_gp_proposes_what_bayes_search_cv_proposes():
    """BayesSearchCV asks skopt's Optimizer through ``ask(n_points=1)`` (a copy seeded from its
    generator); ``batch_asks=True`` asks the same way. gp_minimize's ``ask()`` (skopt:gp's
    default) gives other points for the same seed."""
    from skopt import BayesSearchCV
    from skopt.space import Categorical, Integer, Real

    space = {"C": Real(1e-2, 1e2, prior="log-uniform"), "degree": Integer(1, 4),
             "kernel": Categorical(["linear", "poly", "rbf"])}  # BayesSearchCV sorts the keys
    # 3 random points, then 2 from the GP, each scoring fewer candidates (to stay fast)
    options = {"n_initial_points": 3, "acq_optimizer_kwargs": {
        "n_points": 100, "n_restarts_optimizer": 1, "n_jobs": 1}}
    native = BayesSearchCV(SVC(), space, n_iter=5, cv=3, random_state=0,
                           optimizer_kwargs=options).fit(X_IRIS, Y_IRIS)
    ours = hb.SearchCV(SVC(), space, backend="skopt:gp", n_iter=5, cv=3, random_state=0,
                       backend_options={"batch_asks": True, **options}).fit(X_IRIS, Y_IRIS)
    assert [dict(p) for p in native.cv_results_["params"]] == ours.cv_results_["params"]
    np.testing.assert_allclose(native.cv_results_["mean_test_score"],
                               ours.cv_results_["mean_test_score"])
    assert native.best_params_ == ours.best_params_


def test_optuna_tpe_proposes_what_optuna_search_cv_proposes():
    """OptunaSearchCV seeds its TPESampler with ``RandomState(random_state).randint(2**31 - 1)``:
    a RandomState given as ``random_state`` is drawn from the same way."""
    optuna_integration = pytest.importorskip("optuna_integration")  # the dev extra has it
    import optuna
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = {"C": FloatDistribution(1e-2, 1e2, log=True), "degree": IntDistribution(1, 4),
             "kernel": CategoricalDistribution(["linear", "poly", "rbf"])}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # OptunaSearchCV is experimental
        native = optuna_integration.OptunaSearchCV(SVC(), space, n_trials=13, cv=3,
                                                   random_state=0).fit(X_IRIS, Y_IRIS)
    ours = hb.SearchCV(SVC(), space, backend="optuna:tpe", n_iter=13, cv=3,
                       random_state=np.random.RandomState(0)).fit(X_IRIS, Y_IRIS)
    assert [t.params for t in native.trials_] == ours.cv_results_["params"]
    np.testing.assert_allclose([t.value for t in native.trials_],
                               ours.cv_results_["mean_test_score"])
    assert native.best_params_ == ours.best_params_


def test_deterministic_parallel_fits_repeat(monkeypatch):
    """Issue 25 item 2: ``deterministic=True`` reaches ``hb.maximize``; two parallel fits with
    one seed give the same candidates and scores, whichever candidate finishes first."""
    from hpo_bridge.integrations import sklearn as module

    seen = []

    def spy(*args, **kwargs):
        seen.append(kwargs.get("deterministic"))
        return hb.maximize(*args, **kwargs)

    monkeypatch.setattr(module, "maximize", spy)
    space = {"max_depth": hb.integer(1, 8), "min_samples_leaf": hb.integer(1, 20)}
    fits = [hb.SearchCV(DecisionTreeClassifier(random_state=0), space, backend="optuna:tpe",
                        n_iter=8, cv=2, random_state=0, n_jobs=2, deterministic=True,
                        backend_options={"n_startup_trials": 2}).fit(X_IRIS, Y_IRIS)
            for _ in range(2)]
    assert seen == [True, True]
    one, two = (f.cv_results_ for f in fits)
    assert one["params"] == two["params"] and len(one["params"]) == 8
    assert one["mean_test_score"].tolist() == two["mean_test_score"].tolist()
