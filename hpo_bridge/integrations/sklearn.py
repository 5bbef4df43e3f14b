"""``hb.SearchCV``: scikit-learn's search estimator, with candidates from any backend.

Used like ``RandomizedSearchCV``; the space is read the same way (a list is a choice among its
values, a list of dicts a choice among sub-spaces, a ``scipy.stats`` distribution is sampled),
and it may also hold ``hb`` parameters or be a hyperopt, Optuna, skopt or ConfigSpace space.

How ``fit`` runs:

- It is one :func:`hpo_bridge.maximize` run in this process: each trial is one candidate, its
  value the mean test score of the refit metric over the folds of ``cv``. So ``backend``,
  ``random_state`` (the seed), ``pruner``, ``storage``/``study_name`` mean what they mean in
  ``hb.maximize``, and ``result_`` is the run's :class:`~hpo_bridge.Result`.
- Each fold is fitted and scored by scikit-learn's ``_fit_and_score``, the function its own
  searches call, and ``cv_results_`` is made from those fold results by ``BaseSearchCV``'s own
  formatting; ``best_*``, ``refit``, ``multimetric_``, ``error_score`` follow
  ``BaseSearchCV.fit`` line by line. ``evaluate_candidates`` (what ``BaseSearchCV.fit`` gives a
  search) is not used: it runs every fold of a batch at once, so it can neither stop a candidate
  between folds (``pruner=``) nor put stored trials back into ``cv_results_`` (``storage=``).
- The folds of a candidate run one by one (with a ``pruner``, the running mean is reported
  after each, or each fold's score to Optuna's ``WilcoxonPruner``, which pairs it with the
  best candidate's score on the same fold). The step is the number of folds run so far (1 to
  ``n_splits``): the resource Optuna's ``SuccessiveHalvingPruner`` and ``HyperbandPruner``
  count (their first rung is at ``min_resource >= 1`` steps, so with the fold's index, 0 to
  ``n_splits - 1``, no candidate could stop before its second fold).
  ``n_jobs`` (read by joblib's ``effective_n_jobs``, so ``-1`` is every core):
  ``None`` or 1, the candidates run one after another in this process; ``k > 1``, the run is
  ``maximize(n_jobs=k)``, k candidates at once in its worker processes (a ``pruner`` is
  reached from there through the run's reporter). Candidates, not folds, are what run in
  parallel: a candidate's folds cannot be stopped early if they all run at once. The objective,
  holding the estimator, ``X`` and ``y``, is pickled once and given to each process once; a
  trial's fold results come back as its metrics (as ``storage=`` keeps them), a pruned one's
  with its ``TrialPruned(value=...)``. ``pre_dispatch`` has no effect: the run asks for a
  candidate only when a worker is free, so that it is proposed from the scores finished so far.
- Which pruner: ``"asha"`` (``SuccessiveHalvingPruner()``: after the first fold, only the
  top quarter of the candidates that got there go on, ties included) saved the most fits of
  those measured on the suite's scikit-learn problems (``benchmarks/searchcv_pruning.py``:
  1.83x fewer fits for 2.0 normalized-score points lost on 35 problems, 10 seeds, a random
  search of 30 candidates); ``optuna.pruners.WilcoxonPruner(p_threshold=0.5)`` lost almost
  nothing (1.61x fewer fits, one problem lost 1 point). A ``WilcoxonPruner`` at its default
  ``p_threshold=0.1`` can stop a candidate only after its 4th of 5 folds (the smallest
  one-sided p-value over 2, 3, 4 paired folds is 0.25, 0.125, 0.0625). ``"median"`` saves less here than with learning curves: it never stops a candidate
  equal to the median (many small-data candidates tie, e.g. every constant predictor) nor one
  whose running mean was above it after some earlier fold (it compares the best value
  reported). With a pruner, a larger ``n_iter`` spends the fits saved on more candidates.
- A pruned candidate's folds that ran keep their scores and times, whatever ``n_jobs``; those
  that did not run have NaN scores (not ``error_score``: they did not fail) and 0 s times, so
  its mean is NaN and it ranks last; with a ``pruner``, ``cv_results_["state"]`` says
  ``complete``, ``failed`` or ``pruned``.
- ``storage=``: every candidate's fold scores and times are stored with its trial (as the trial's
  metrics; its value is the mean test score). A fit with the same ``storage`` and ``study_name``
  resumes: the stored candidates are rows of ``cv_results_`` again (a pruned one with the folds
  it ran), they are told to the backend, and ``n_iter`` counts them (as ``max_evals`` does).
"""

from __future__ import annotations

import difflib
import numbers
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import _fit_context, clone, is_classifier
from sklearn.metrics import get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.model_selection._search import BaseSearchCV
from sklearn.model_selection._validation import (
    _fit_and_score,
    _insert_error_scores,
    _warn_or_raise_about_fit_failures,
)
from sklearn.utils import check_random_state, indexable

from hpo_bridge.backends.registry import check_options, resolve
from hpo_bridge.callbacks import check_callbacks
from hpo_bridge.convert import as_space
from hpo_bridge.errors import NoSuccessfulTrialError, SpaceError, TrialPruned
from hpo_bridge.run import maximize
from hpo_bridge.space import choice

#: What RandomizedSearchCV samples from as a list of values.
_SEQUENCES = (list, tuple, np.ndarray)


class SearchCV(BaseSearchCV):
    """A scikit-learn hyperparameter search whose candidates come from an ``hb`` backend.

    Args:
        estimator: The estimator (or pipeline) to tune.
        space: ``{parameter: values}`` as for ``RandomizedSearchCV``: a list (or tuple, or
            array) is a choice among its values, a ``scipy.stats`` distribution is sampled, an
            ``hb`` parameter (``hb.loguniform(1e-3, 1e3)``) or a hyperopt/Optuna/skopt leaf
            is itself. A list of such dicts is a choice among them. Whole spaces of other
            libraries (and ``hb.Space``) are read by :func:`hpo_bridge.as_space`; they must
            decode to a dict of parameter names.
        backend: Any single-objective backend of ``hb.backends()``.
        n_iter: Candidates in all (with ``storage``, counting the stored ones).
        scoring: As in ``RandomizedSearchCV``. With several metrics and ``refit`` not a
            metric's name, the backend maximizes the first metric.
        refit: As in ``RandomizedSearchCV``.
        cv: As in ``RandomizedSearchCV``.
        verbose: As in ``RandomizedSearchCV``.
        error_score: As in ``RandomizedSearchCV``.
        return_train_score: As in ``RandomizedSearchCV``.
        n_jobs: Candidates evaluated at once, in worker processes (``-1``: every core; ``None``
            or 1: in this process, seed-exact). With a seeded ``random`` backend, the same
            candidates and split scores as a serial fit, perhaps in another order; a
            model-based backend proposes from the candidates finished so far.
        pre_dispatch: Accepted for scikit-learn's API; no effect (see the module docstring).
        random_state: The backend's seed (an int, or a ``RandomState`` an int is drawn from).
        pruner: ``"median"``, ``"asha"``, ``"hyperband"`` or an Optuna pruner: the running mean
            over folds is reported after each fold (to a ``WilcoxonPruner``, each fold's own
            score), with the number of folds run (1 to ``n_splits``) as the step, and a
            hopeless candidate stops. ``"asha"`` is the recommended one (see the module
            docstring).
        storage: A stored study (SQLite path or database URL); with the same ``study_name``,
            a fit resumes it.
        study_name: Name of the stored study.
        backend_options: Passed to the backend's native sampler (``hb.minimize``'s
            ``**backend_options``); a key the backend does not take is refused before the
            first fit, naming the closest of its options.
        callbacks: As ``hb.maximize(callbacks=...)``: ``callback(result, record)`` after each
            candidate (its value is the mean test score); ``hb.stop.*`` end the search early
            (``result_.stopped`` says why; ``cv_results_`` holds the candidates evaluated).
        deterministic: With ``n_jobs > 1``: the same ``random_state`` gives the same
            candidates and scores whatever finishes first (``hb.minimize``'s
            ``deterministic``; not with ``storage``, nor a ``pruner``).

    Attributes:
        result_: The :class:`~hpo_bridge.Result` of the run (the trials, their states).

    A fitted search also has ``cv_results_``, ``best_params_``, ``best_score_``,
    ``best_index_``, ``best_estimator_``, ``scorer_``, ``n_splits_``, ``refit_time_`` and
    ``multimetric_``, as in ``RandomizedSearchCV``.

    Example:
        >>> import hpo_bridge as hb
        >>> from sklearn.datasets import load_iris
        >>> from sklearn.svm import SVC
        >>> X, y = load_iris(return_X_y=True)
        >>> search = hb.SearchCV(SVC(), {"C": hb.loguniform(1e-2, 1e2), "kernel": ["rbf", "linear"]},
        ...                      backend="optuna:tpe", n_iter=5, cv=3, random_state=0).fit(X, y)
        >>> sorted(search.best_params_)
        ['C', 'kernel']
    """

    def __init__(self, estimator: Any, space: Any, *, backend: str = "auto", n_iter: int = 50,
                 scoring: Any = None, n_jobs: int | None = None, refit: Any = True,
                 cv: Any = None, verbose: int = 0, pre_dispatch: Any = "2*n_jobs",
                 random_state: Any = None, error_score: Any = np.nan,
                 return_train_score: bool = False, pruner: Any = None, storage: Any = None,
                 study_name: str | None = None,
                 backend_options: dict[str, Any] | None = None,
                 deterministic: bool = False,
                 callbacks: list[Any] | None = None) -> None:
        super().__init__(estimator=estimator, scoring=scoring, n_jobs=n_jobs, refit=refit,
                         cv=cv, verbose=verbose, pre_dispatch=pre_dispatch,
                         error_score=error_score, return_train_score=return_train_score)
        self.space = space
        self.backend = backend
        self.n_iter = n_iter
        self.random_state = random_state
        self.pruner = pruner
        self.storage = storage
        self.study_name = study_name
        self.backend_options = backend_options
        self.callbacks = callbacks
        self.deterministic = deterministic

    def fit(self, X: Any, y: Any = None, **params: Any) -> SearchCV:
        """Run the search, then refit the best candidate on the whole data (as ``refit`` says).

        Args:
            X: The data.
            y: The targets (``None`` without them, as in ``RandomizedSearchCV.fit``).
            **params: Passed to the estimator's ``fit``, the scorer and the splitter (``groups``)
                as in ``RandomizedSearchCV.fit``.

        Raises:
            SpaceError: Before the first fit, for a space key the estimator does not take (the
                closest valid one is named), an unknown scorer, ``n_iter < 1``, an invalid space.
        """
        self._check_arguments()
        fitted: SearchCV = self._search(X, y, **params)  # scikit-learn's decorator is untyped
        return fitted

    def _run_search(self, evaluate_candidates: Any, **_: Any) -> None:
        raise NotImplementedError("SearchCV.fit runs its own search: see the module docstring")

    # -- checks before the first fit ------------------------------------------------------
    def _check_arguments(self) -> None:
        n_iter = self.n_iter
        if isinstance(n_iter, bool) or not isinstance(n_iter, numbers.Integral) or n_iter < 1:
            raise SpaceError(f"SearchCV: n_iter must be an int >= 1 (the candidates to "
                             f"evaluate), got {n_iter!r}")
        _check_scoring(self.scoring)
        _check_keys(self.estimator, self.space)
        as_space(sklearn_space(self.space))  # an invalid space fails here, naming the parameter
        check_callbacks(self.callbacks)
        options = self.backend_options
        if options is not None and not isinstance(options, Mapping):
            raise SpaceError(f"SearchCV: backend_options must be a dict of the backend's "
                             f"options (e.g. {{'n_startup_trials': 5}}), got {options!r}")
        # the backend's own option names, as minimize checks its **backend_options
        check_options(resolve(self.backend), options or {}, "SearchCV(backend_options=)")

    # -- the search -----------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=False)
    def _search(self, X: Any, y: Any = None, **params: Any) -> SearchCV:
        scorers, refit_metric = self._get_scorers()
        X, y = indexable(X, y)
        routed = self._get_routed_params_for_fit(params)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        self.n_splits_ = cv.get_n_splits(X, y, **routed.splitter.split)
        splits = list(cv.split(X, y, **routed.splitter.split))  # once: every candidate's folds
        if not splits:
            raise ValueError("No fits were performed. Was the CV iterator empty? "
                             "Were there no candidates?")
        if len(splits) != self.n_splits_:
            raise ValueError(f"cv.split and cv.get_n_splits return inconsistent results. "
                             f"Expected {self.n_splits_} splits, got {len(splits)}")
        base = clone(self.estimator)
        folds = _Folds(base, X, y, splits, dict(
            scorer=scorers, fit_params=routed.estimator.fit, score_params=routed.scorer.score,
            return_train_score=self.return_train_score, return_n_test_samples=True,
            return_times=True, return_parameters=False, error_score=self.error_score,
            verbose=self.verbose), metric=self._optimized_metric(refit_metric),
            check=self._check_refit_for_multimetric, report=_reported(self.pruner))
        # n_jobs > 1: candidates at once in maximize's worker processes, the folds one by one
        result = self._run(folds, effective_n_jobs(self.n_jobs))
        candidates, outs, states = folds.table(result.records)
        _warn_or_raise_about_fit_failures(outs, self.error_score)
        if callable(self.scoring):
            _insert_error_scores(outs, self.error_score)
        more = {"state": states} if self.pruner is not None else None
        results = self._format_results(candidates, self.n_splits_, outs, more)
        self.result_ = result
        self._finish(results, scorers, refit_metric, outs, base, X, y, routed.estimator.fit)
        return self

    def _optimized_metric(self, refit_metric: str) -> str | None:
        """The metric the backend maximizes (``None``: the first of several, known at the first
        score): ``refit``'s when it names one, else scikit-learn's single ``"score"``."""
        if isinstance(self.refit, str):
            return self.refit
        several = not (self.scoring is None or isinstance(self.scoring, str))
        return None if several else refit_metric

    def _run(self, folds: _Folds, n_jobs: int) -> Any:
        seed = self.random_state
        if seed is not None and not isinstance(seed, numbers.Integral):
            seed = int(check_random_state(seed).randint(np.iinfo(np.int32).max))
        try:
            return maximize(folds.objective, sklearn_space(self.space), backend=self.backend,
                            max_evals=self.n_iter, seed=seed, pruner=self.pruner, n_jobs=n_jobs,
                            storage=self.storage, study_name=self.study_name,
                            catch=(), progress=bool(self.verbose),
                            deterministic=self.deterministic, callbacks=self.callbacks,
                            **(self.backend_options or {}))
        except NoSuccessfulTrialError as error:  # every candidate failed or was pruned
            if error.result is None:
                raise
            return error.result

    def _finish(self, results: dict[str, Any], scorers: Any, refit_metric: Any,
                outs: list[dict[str, Any]], base: Any, X: Any, y: Any,
                fit_params: dict[str, Any]) -> None:
        """What ``BaseSearchCV.fit`` does once the candidates are evaluated (same order)."""
        first_test_score = outs[0]["test_scores"]
        self.multimetric_ = isinstance(first_test_score, dict)
        if callable(self.scoring) and self.multimetric_:
            self._check_refit_for_multimetric(first_test_score)
            refit_metric = self.refit
        if self.refit or not self.multimetric_:
            self.best_index_ = self._select_best_index(self.refit, refit_metric, results)
            if not callable(self.refit):
                self.best_score_ = results[f"mean_test_{refit_metric}"][self.best_index_]
            self.best_params_ = results["params"][self.best_index_]
        if self.refit:
            # the parameters are cloned too: they may be estimators (a pipeline's step)
            self.best_estimator_ = clone(base).set_params(**clone(self.best_params_, safe=False))
            start = time.time()
            if y is not None:
                self.best_estimator_.fit(X, y, **fit_params)
            else:
                self.best_estimator_.fit(X, **fit_params)
            self.refit_time_ = time.time() - start
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        self.scorer_ = getattr(scorers, "_scorers", scorers)  # a dict for several metrics
        self.cv_results_ = results


class _Folds:
    """One candidate's evaluation on every fold, and the table of all candidates after the run.

    The fold results (``_fit_and_score``'s dicts) of this run's trials are kept here by trial
    id; a resumed trial's come back from its stored metrics (:func:`_fold_metrics`).
    """

    def __init__(self, base: Any, X: Any, y: Any, splits: list[Any], kwargs: dict[str, Any],
                 metric: str | None, check: Any, report: str | None) -> None:
        self.base, self.X, self.y, self.splits, self.kwargs = base, X, y, splits, kwargs
        self.metric = metric  # None: the first of several metrics, known at the first score
        self.check = check  # BaseSearchCV's check of refit against a callable's metric names
        self.report = report  # after each fold, for a pruner: "mean" (running) or "fold"
        self.outs: dict[int, list[dict[str, Any]]] = {}

    def objective(self, config: Any, trial: Any) -> dict[str, float | str]:
        """The folds one by one, reporting the running mean after each with a pruner
        (``trial.report`` raises ``TrialPruned`` to stop there). The fold results are kept
        here (in this process) and returned as the trial's metrics (from a worker process)."""
        params, outs = candidate(config), []  # type: dict[str, Any], list[dict[str, Any]]
        self.outs[trial.trial_id] = outs
        for index, (train, test) in enumerate(self.splits):
            outs.append(_fit_and_score(clone(self.base), self.X, self.y, train=train,
                                       test=test, parameters=params,
                                       split_progress=(index, len(self.splits)),
                                       **self.kwargs))
            if not self.report:
                continue
            try:  # the step is the folds run so far: the resource successive halving counts
                trial.report(self._mean(outs[-1:] if self.report == "fold" else outs),
                             index + 1)
            except TrialPruned as pruned:  # the folds that ran go back with it, as metrics
                raise TrialPruned(*pruned.args, value=self._results(outs)) from None
        return self._results(outs)

    def _results(self, outs: list[dict[str, Any]]) -> dict[str, float | str]:
        """The mean score over the folds that ran, and their results (as metrics)."""
        return {"value": self._mean(outs), **_fold_metrics(outs)}

    def _mean(self, outs: list[dict[str, Any]]) -> float:
        scores = [out["test_scores"] for out in outs]
        named = next((s for s in scores if isinstance(s, dict)), None)
        if named is None:  # one metric (or only failed folds so far)
            return float(np.mean(scores))
        if self.metric is None:
            self.metric = next(iter(named))
        elif self.metric not in named:
            self.check(named)  # a callable scorer without refit's metric: BaseSearchCV's error
        return float(np.mean([s[self.metric] if isinstance(s, dict) else s for s in scores]))

    def table(self, records: list[Any]
              ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
        """Candidates, fold results (candidate-major) and states of every trial of the run."""
        candidates: list[dict[str, Any]] = []
        folds: list[list[dict[str, Any]]] = []
        states: list[str] = []
        for record in records:
            mine = self.outs.get(record.trial_id)
            if mine is None:
                mine = _outs_from_metrics(record.metrics, len(self.splits), record.state)
            candidates.append(candidate(record.params))
            folds.append(mine)
            states.append(record.state)
        # a candidate without a fold result (pruned at once, or its folds in a worker process)
        # gets NaN for each metric the others have
        like = next((outs[0]["test_scores"] for outs in folds if outs), None)
        outs = [out for mine in folds for out in self._padded(mine, like)]
        return candidates, outs, states

    def _padded(self, outs: list[dict[str, Any]], like: Any) -> list[dict[str, Any]]:
        """A candidate's folds, those that did not run (pruned) with NaN scores."""
        like = outs[0]["test_scores"] if outs else like
        return outs + [_skipped(like, test, self.kwargs["return_train_score"])
                       for _, test in self.splits[len(outs):]]


def _reported(pruner: Any) -> str | None:
    """What a pruner is told after each fold: Optuna's ``WilcoxonPruner`` pairs each fold's
    own score with the best candidate's on that fold (``"fold"``); any other pruner compares
    the running mean (``"mean"``) with the other candidates' after as many folds."""
    if pruner is None:
        return None
    try:
        from optuna.pruners import WilcoxonPruner
    except ImportError:
        return "mean"
    return "fold" if isinstance(pruner, WilcoxonPruner) else "mean"


def _skipped(like: Any, test: Any, train_score: bool) -> dict[str, Any]:
    score = ({name: np.nan for name in like} if isinstance(like, dict) else np.nan)
    out = {"fit_error": None, "test_scores": score, "n_test_samples": len(test),
           "fit_time": 0.0, "score_time": 0.0}
    if train_score:
        out["train_scores"] = score
    return out


def _fold_metrics(outs: list[dict[str, Any]]) -> dict[str, float | str]:
    """A candidate's fold results as a trial's metrics (what ``storage=`` keeps)."""
    metrics: dict[str, float | str] = {}
    for index, out in enumerate(outs):
        for kind in ("test", "train"):
            scores = out.get(f"{kind}_scores")
            if scores is None:
                continue
            named = scores.items() if isinstance(scores, dict) else [("score", scores)]
            metrics.update({f"split{index}_{kind}_{name}": float(v) for name, v in named})
        for key in ("fit_time", "score_time", "n_test_samples"):
            metrics[f"split{index}_{key}"] = float(out[key])
        if out.get("fit_error") is not None:  # a failed fit's traceback (for the warning)
            metrics[f"split{index}_fit_error"] = str(out["fit_error"])
    return metrics


def _outs_from_metrics(metrics: Mapping[str, Any], n_splits: int,
                       state: str) -> list[dict[str, Any]]:
    """The fold results of a trial evaluated in a worker process or stored: every fold, or
    those that ran before it was pruned (none for a trial that failed outside the folds)."""
    stored = sum(1 for key in metrics if key.endswith("_fit_time"))
    if stored > n_splits or (stored not in (0, n_splits) and state != "pruned"):
        raise SpaceError(f"SearchCV: the stored study's candidates were evaluated on {stored} "
                         f"folds, this cv has {n_splits}; resume with the same cv, or use "
                         f"another study_name")
    outs = []
    for index in range(stored):
        out: dict[str, Any] = {"fit_error": metrics.get(f"split{index}_fit_error")}
        for kind in ("test", "train"):
            prefix = f"split{index}_{kind}_"
            named = {k[len(prefix):]: v for k, v in metrics.items() if k.startswith(prefix)}
            if named:
                out[f"{kind}_scores"] = named["score"] if list(named) == ["score"] else named
        for key in ("fit_time", "score_time"):
            out[key] = float(metrics[f"split{index}_{key}"])
        out["n_test_samples"] = int(metrics[f"split{index}_n_test_samples"])
        outs.append(out)
    return outs


# -- the space, as RandomizedSearchCV reads it ------------------------------------------------
def sklearn_space(space: Any) -> Any:
    """``space`` with scikit-learn's reading made explicit: lists are ``hb.choice``.

    A dict's values that are lists, tuples or arrays become choices among their values; a list
    of dicts becomes a choice among them. Anything else (``hb`` parameters, ``scipy.stats``
    distributions, another library's space) is left for :func:`hpo_bridge.as_space`.
    """
    if _is_dicts(space):
        return choice([sklearn_space(sub) for sub in space])
    if isinstance(space, Mapping):
        return {key: _values(key, value) for key, value in space.items()}
    return space


def _is_dicts(space: Any) -> bool:
    return (isinstance(space, (list, tuple)) and len(space) > 0
            and all(isinstance(sub, Mapping) for sub in space))


def _values(key: Any, value: Any) -> Any:
    if not isinstance(key, str):
        raise SpaceError(f"SearchCV space: keys are parameter names (str), got {key!r}")
    if isinstance(value, _SEQUENCES):
        options = value.tolist() if isinstance(value, np.ndarray) else list(value)
        if not options:
            raise SpaceError(f"SearchCV space: {key!r} is an empty list; give at least one "
                             f"value")
        try:
            return choice(options)
        except SpaceError as error:  # e.g. a value listed twice (a weight, for scikit-learn)
            raise SpaceError(f"SearchCV space: {key!r}: {error}") from error
    return value


def candidate(config: Any) -> dict[str, Any]:
    """A decoded configuration as the estimator's parameters."""
    if not isinstance(config, Mapping):
        raise SpaceError(f"SearchCV: the space must decode to a dict of parameter names, "
                         f"got {config!r}")
    return dict(config)


# -- checks ---------------------------------------------------------------------------------
def _check_scoring(scoring: Any) -> None:
    names = (scoring.values() if isinstance(scoring, Mapping)
             else scoring if isinstance(scoring, (list, tuple, set)) else [scoring])
    valid = get_scorer_names()
    for name in names:
        if isinstance(name, str) and name not in valid:
            close = difflib.get_close_matches(name, valid, n=3)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise SpaceError(f"SearchCV: scoring {name!r} is not a scikit-learn scorer{hint} "
                             f"(sklearn.metrics.get_scorer_names() lists them)")


def _check_keys(estimator: Any, space: Any) -> None:
    """Every key of a dict space (or list of dicts) is a parameter of ``estimator``."""
    subs = space if _is_dicts(space) else [space] if isinstance(space, Mapping) else []
    for sub in subs:
        for key in sub:
            if isinstance(key, str):
                problem = _key_problem(estimator, key, sub)
                if problem:
                    raise SpaceError(problem)


def _options(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _owners(estimator: Any, path: str, sub: Mapping[str, Any]) -> list[Any]:
    """The objects ``path`` (``"clf"``, ``"pipe__clf"``) names, the space's options first."""
    if path in sub:
        return _options(sub[path])
    head, _, name = path.rpartition("__")
    parents = _owners(estimator, head, sub) if head else [estimator]
    return [_own(parent)[name] for parent in parents
            if hasattr(parent, "get_params") and name in _own(parent)]


def _own(estimator: Any) -> dict[str, Any]:
    """An estimator's own parameters and (a pipeline's) steps: ``get_params`` without nesting."""
    return {k: v for k, v in estimator.get_params(deep=True).items() if "__" not in k}


def _all_keys(estimator: Any, sub: Mapping[str, Any]) -> list[str]:
    keys = set(estimator.get_params(deep=True))
    for path, value in sub.items():
        for option in _options(value):
            if hasattr(option, "get_params") and not isinstance(option, type):
                keys.update(f"{path}__{k}" for k in option.get_params(deep=True))
    return sorted(keys)


def _key_problem(estimator: Any, key: str, sub: Mapping[str, Any]) -> str | None:
    head, _, name = key.rpartition("__")
    owners = [o for o in (_owners(estimator, head, sub) if head else [estimator])
              if hasattr(o, "get_params") and not isinstance(o, type)]
    where = f"{type(estimator).__name__}"
    if head and not owners:
        valid = _all_keys(estimator, sub)
        steps = sorted({k.split("__")[0] for k in valid if "__" in k})
        hint = difflib.get_close_matches(key, valid, n=1)
        return (f"SearchCV space: {key!r}: {where} has no step or parameter {head!r} (its "
                f"steps and nested estimators: {', '.join(steps) or 'none'})"
                + (f"; did you mean {hint[0]!r}?" if hint else "")
                + " Is the space written for another estimator?")
    for owner in owners:
        names = list(_own(owner))
        if name in names:
            continue
        close = difflib.get_close_matches(name, names, n=1)
        hint = [f"{head}__{close[0]}" if head else close[0]] if close else []
        if not hint and not head:  # a pipeline's step parameter given without its step
            hint = [k for k in _all_keys(estimator, sub) if k.endswith(f"__{name}")][:1]
        what = f"{type(owner).__name__} (at {head!r} in {where})" if head else where
        return (f"SearchCV space: {what} has no parameter {name!r}"
                + (f"; did you mean {hint[0]!r}?" if hint else "")
                + f" (valid: {', '.join(sorted(names))})")
    return None


__all__ = ["SearchCV", "sklearn_space"]
