"""Does pruning across folds pay in ``hb.SearchCV``? Fits made and score lost, with and without.

On the suite's scikit-learn problems (``sklearn-<model>-<dataset>``: the model, its space and its
data from :mod:`hpo_bridge.bench.problems`; 5 shuffled folds, stratified with accuracy for
classification, plain with R^2 for diabetes), each seed runs ``hb.SearchCV`` with the same
``n_iter`` (default 30) every way: the reference random search (``optuna:random``, no pruner),
each ``--backend`` without a pruner, and each ``--backend`` with each of ``--pruners``. A pruner
is a name ``hb`` takes (``median``, ``hyperband``, ``asha``) or an Optuna pruner class with
options after ``+``: ``percentile+percentile=25.0``, ``wilcoxon+p_threshold=0.3`` (SearchCV
reports the running mean after each fold; to a ``WilcoxonPruner``, each fold's score).

Protocol. Counted: the fits made in the search (folds that ran; the refit is not counted), so
"fewer fits" is ``n_iter * 5`` over the mean fits per run, at the same ``n_iter``. Scored: the
suite's normalized score (:mod:`hpo_bridge.bench.scoring`: 0 = the best value any run in the
table found on the problem, 1 = the median of the reference random search's best values;
clipped to [-1, 1]), reported as the suite's headline ``100 * (1 - mean score)``. "Points
lost" is the mean over (problem, seed) of the pruned run's score minus the same backend's
unpruned run's on the same problem and seed (paired: both start from the same candidates), with
its standard error; positive is worse. Seeds are independent replicates (``--first-seed``):
pruner settings were chosen on seeds 100-102 and are reported on seeds 0-9. The normalization
depends on every run in the table (its best value), so compare rows of one table only.

``--replay asha,median,...``: each pruner's runs are computed from the unpruned
``optuna:random`` runs' fold scores (:func:`replay`) instead of being run: exact for a random
search (the same candidates, seeded fits, the same pruner asked the same way), and free, so the
reference random search with ``--backend optuna:random --pruners ""`` is the only thing fitted.
A model-based backend (``optuna:tpe``) proposes other candidates once one is pruned: it must
be run (``--pruners``).

``--equal-fits 30:75,150`` (with ``--n-iter 60 --replay asha,...``): pruning with more
candidates instead of the same ``n_iter``. From unpruned random runs of 60 candidates, the
unpruned search of their first 30 (:func:`truncated`: the same run as ``n_iter=30``) is the
reference, against each replayed pruner over all 60 candidates and over as many candidates as
fit in 75 and in 150 fits (``replay(max_fits=)``: no candidate started that could pass it).

Printed: a markdown table per configuration (fits, fits saved, headline, points lost against the
same backend without a pruner), then per problem.

Usage::

    python benchmarks/searchcv_pruning.py                          # 35 problems, 10 seeds
    python benchmarks/searchcv_pruning.py --seeds 3 --problems sklearn-dt-iris,sklearn-knn-wine
    python benchmarks/searchcv_pruning.py --cache results/searchcv_pruning.jsonl
    python benchmarks/searchcv_pruning.py --backend optuna:random --pruners "" \
        --replay asha,median --cache results/searchcv_pruning.jsonl   # fits only the reference
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from typing import Any

#: The suite's 35 scikit-learn problems (7 models x 5 data sets).
MODELS = ("dt", "knn", "svm", "linear", "rf", "ada", "mlp")
DATASETS = ("iris", "wine", "breast", "digits", "diabetes")
PROBLEMS = tuple(f"sklearn-{m}-{d}" for m in MODELS for d in DATASETS)
#: The 15 cheap ones (a run takes seconds): what fits in an hour on two shared cores.
CHEAP = tuple(f"sklearn-{m}-{d}" for m in MODELS[:5] for d in DATASETS[:3])

#: ``--pruners`` names: an Optuna pruner class, options after ``+`` (``wilcoxon+p_threshold=0.3``)
PRUNER_CLASSES = {"median": "MedianPruner", "percentile": "PercentilePruner",
                  "wilcoxon": "WilcoxonPruner", "hyperband": "HyperbandPruner",
                  "asha": "SuccessiveHalvingPruner"}


def make_pruner(spec: str | None) -> Any:
    """``"median"`` as it is; ``"percentile+percentile=25+n_startup_trials=5"`` an object."""
    if spec is None or "+" not in spec and spec != "wilcoxon" and spec != "percentile":
        return spec
    import optuna

    name, *options = spec.split("+")
    kwargs = {key: float(value) if "." in value else int(value)
              for key, value in (option.split("=") for option in options)}
    return getattr(optuna.pruners, PRUNER_CLASSES[name])(**kwargs)


def estimator_and_space(problem: str) -> tuple[Any, dict[str, Any]]:
    """The problem's estimator (its builder's for the data set's task: a regressor for
    diabetes, a pipeline for scaled models) and its space, keyed by the estimator's own
    (nested) parameter names.

    The suite's regression ``linear`` is ``ElasticNet(alpha=1 / C)``, which no parameter
    of the estimator spells: its space here is ``alpha`` over the same log range (1/C of a
    log-uniform ``C`` in [1e-2, 1e2] has the same law).
    """
    import hpo_bridge as hb
    from hpo_bridge.bench.problems.sklearn_models import DATASETS
    from hpo_bridge.bench.problems.sklearn_spaces import BUILDERS, SPACES

    _, model, dataset = problem.split("-")
    task = DATASETS[dataset][1]
    space = dict(SPACES[model])
    config = hb.Optimizer(space, "optuna:random", seed=0).ask().params
    estimator = BUILDERS[model](config, task)
    if model == "linear" and task == "regression":
        space["alpha"] = space.pop("C")
    names = estimator.get_params(deep=True)
    keyed = {}
    for key, value in space.items():
        found = [n for n in names if n == key or n.endswith(f"__{key}")]
        if len(found) != 1:
            raise ValueError(f"{problem}: parameter {key!r} is {found or 'not'} in the estimator")
        keyed[found[0]] = value
    return estimator, keyed  # mlp: MLP* take an int hidden_layer_sizes as one layer


def one_run(problem: str, backend: str, pruner: str | None, seed: int,
            n_iter: int) -> dict[str, Any]:
    """One SearchCV fit: what it cost and what it found."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import KFold, StratifiedKFold

    import hpo_bridge as hb
    from hpo_bridge.bench.problems.sklearn_models import DATASETS, load_train_split

    estimator, space = estimator_and_space(problem)
    dataset = problem.split("-")[2]
    X, y = load_train_split(dataset)
    classification = DATASETS[dataset][1] == "classification"
    splitter = StratifiedKFold if classification else KFold
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        search = hb.SearchCV(estimator, space, backend=backend, n_iter=n_iter,
                             cv=splitter(5, shuffle=True, random_state=0),
                             scoring="accuracy" if classification else "r2",
                             random_state=seed, pruner=make_pruner(pruner),
                             refit=False).fit(X, y)
    # a pruned candidate reported once per fold it ran
    records = search.result_.records
    fits = sum(len(r.intermediate) if r.state == "pruned" else search.n_splits_ for r in records)
    return {"problem": problem, "backend": backend, "pruner": pruner, "seed": seed,
            "n_iter": n_iter, "fits": fits, "best_loss": 1.0 - float(search.best_score_),
            "pruned": int(sum(r.state == "pruned" for r in search.result_.records)),
            "seconds": round(time.perf_counter() - t0, 2),
            # each candidate's fold scores in trial order (NaN: not run), for --replay
            "splits": [[float(search.cv_results_[f"split{i}_test_score"][c])
                        for i in range(search.n_splits_)] for c in range(len(records))]}


def replay(row: dict[str, Any], pruner: str, max_fits: int | None = None) -> dict[str, Any]:
    """What ``one_run`` with ``pruner`` gives, from an unpruned ``optuna:random`` run's fold
    scores: no fit is made again. With ``max_fits``, no candidate is started once the next one
    could exceed it (``fits + n_splits > max_fits``; a callback stopping the search does the
    same): the pruned search with as many candidates as fit in that many fits.

    Exact for a serial random search: its candidates do not depend on what it was told, the
    fits are seeded, and the pruner is asked as ``SearchCV`` asks it (the same
    :class:`~hpo_bridge.pruning.PrunerHook`, told the running mean after each fold, or each
    fold's score for a ``WilcoxonPruner``), so the pruned run stops the same candidates at the
    same folds. ``tests/test_searchcv.py::test_pruning_replay_is_the_pruned_run`` checks it.
    """
    import hpo_bridge as hb
    from hpo_bridge.errors import TrialPruned
    from hpo_bridge.integrations.sklearn import _reported
    from hpo_bridge.pruning import attach_pruner

    if row["backend"] != "optuna:random" or row["pruner"]:
        raise ValueError("replay needs an unpruned optuna:random run")
    made = make_pruner(pruner)
    opt = hb.Optimizer({"x": hb.uniform(0.0, 1.0)}, "optuna:random", seed=0,
                       direction="maximize")
    attach_pruner(opt, made)
    each_fold = _reported(made) == "fold"
    fits, best, pruned = 0, -math.inf, 0
    for scores in row["splits"]:
        if max_fits is not None and fits + len(scores) > max_fits:
            break
        trial = opt.ask()
        for index, score in enumerate(scores):
            fits += 1
            value = score if each_fold else float(sum(scores[:index + 1]) / (index + 1))
            try:
                trial.report(value, index + 1)  # SearchCV: the step is the folds run
            except TrialPruned:
                opt.tell(trial, pruned=True)
                pruned += 1
                break
        else:
            mean = float(sum(scores) / len(scores))
            if math.isnan(mean):  # a failed fold: not a candidate for best
                opt.tell(trial, error="a fold failed")
                continue
            opt.tell(trial, mean)
            best = max(best, mean)
    label = pruner if max_fits is None else f"{pruner} <= {max_fits} fits"
    return {**{k: v for k, v in row.items() if k != "splits"}, "pruner": label,
            "fits": fits, "best_loss": 1.0 - best, "pruned": pruned, "seconds": 0.0,
            "replayed": True}


def truncated(row: dict[str, Any], n_iter: int) -> dict[str, Any]:
    """The unpruned ``optuna:random`` run with ``n_iter`` candidates, from a longer one: its
    first ``n_iter`` candidates (a seeded random search proposes the same sequence whatever
    ``n_iter`` is; ``test_a_shorter_random_search_is_the_longer_ones_first_candidates``)."""
    if row["backend"] != "optuna:random" or row["pruner"] or row["n_iter"] < n_iter:
        raise ValueError(f"truncated needs an unpruned optuna:random run of >= {n_iter}")
    splits = row["splits"][:n_iter]
    means = [float(sum(s) / len(s)) for s in splits]
    best = max(m for m in means if not math.isnan(m))
    return {**row, "n_iter": n_iter, "splits": splits, "fits": sum(len(s) for s in splits),
            "best_loss": 1.0 - best, "seconds": 0.0, "replayed": True}


def equal_fits(rows: list[dict[str, Any]], pruners: list[str], n_iter: int,
               budgets: list[int]) -> list[dict[str, Any]]:
    """Pruning with more candidates: from unpruned random runs of a larger ``n_iter``, the
    unpruned search of ``n_iter`` candidates (the reference, pruner ``None``) and, for each
    pruner, the pruned search of every candidate of the long run (``"asha n_iter=60"``) and of
    as many as fit in each of ``budgets`` fits (``"asha <= 150 fits"``)."""
    out = []
    for row in rows:
        out.append(truncated(row, n_iter))
        for pruner in pruners:
            out.append({**replay(row, pruner), "pruner": f"{pruner} n_iter={row['n_iter']}"})
            out += [replay(row, pruner, budget) for budget in budgets]
    return out


def configurations(args: argparse.Namespace) -> list[tuple[str, str | None]]:
    """The reference random search, then each backend without and with each pruner."""
    configs: list[tuple[str, str | None]] = [("optuna:random", None)]
    for backend in args.backend.split(","):
        configs += [(backend, None)] * (backend != "optuna:random")
        configs += [(backend, p) for p in args.pruners.split(",") if p]
    return configs


def run_all(args: argparse.Namespace) -> list[dict[str, Any]]:
    jobs = [(p, b, pr, s, args.n_iter) for p in args.problems.split(",")
            for s in range(args.first_seed, args.first_seed + args.seeds)
            for b, pr in configurations(args)]
    done: list[dict[str, Any]] = []
    if args.cache and os.path.exists(args.cache):
        with open(args.cache) as f:
            done = [json.loads(line) for line in f if line.strip()]
    key = lambda r: (r["problem"], r["backend"], r["pruner"], r["seed"], r["n_iter"])  # noqa: E731
    have = {key(r) for r in done}
    todo = [j for j in jobs if j not in have]
    with ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) as pool:
        for future in as_completed([pool.submit(one_run, *j) for j in todo]):
            row = future.result()
            done.append(row)
            if args.cache:
                with open(args.cache, "a") as f:
                    f.write(json.dumps(row) + "\n")
    wanted = set(jobs)
    rows = [r for r in done if key(r) in wanted]
    if args.equal_fits:  # the unpruned search of fewer candidates against the pruned ones
        reference = [r for r in rows if r["backend"] == "optuna:random" and not r["pruner"]]
        n_iter, budgets = _equal_fits(args.equal_fits)
        return equal_fits(reference, _names(args.replay), n_iter, budgets)
    if args.replay:  # each pruner from the unpruned random runs, no fit made again
        rows += [replay(r, pruner) for r in rows for pruner in _names(args.replay)
                 if r["backend"] == "optuna:random" and not r["pruner"]]
    return rows


def _names(spec: str) -> list[str]:
    return [name for name in spec.split(",") if name]


def _equal_fits(spec: str) -> tuple[int, list[int]]:
    """``"30:75,150"``: the reference's ``n_iter``, then the fit budgets."""
    n_iter, _, budgets = spec.partition(":")
    return int(n_iter), [int(b) for b in budgets.split(",") if b]


def shown(args: argparse.Namespace) -> tuple[list[tuple[str, str | None]], int]:
    """The table's rows (backend, pruner) and the reference's ``n_iter``."""
    if args.equal_fits:
        n_iter, budgets = _equal_fits(args.equal_fits)
        pruners = [label for p in _names(args.replay)
                   for label in [f"{p} n_iter={args.n_iter}"]
                   + [f"{p} <= {b} fits" for b in budgets]]
        return [("optuna:random", None)] + [("optuna:random", p) for p in pruners], n_iter
    return (configurations(args) + [("optuna:random", p) for p in _names(args.replay)],
            args.n_iter)


def normalized(rows: list[dict[str, Any]]) -> dict[tuple, float]:
    """Each run's normalized score, as the suite's (:mod:`hpo_bridge.bench.scoring`): 0 = the
    best loss any run in ``rows`` found on the problem, 1 = the median random search's,
    clipped to [-1, 1]; keyed by (problem, backend, pruner, seed)."""
    best: dict[str, float] = {}
    for r in rows:
        best[r["problem"]] = min(best.get(r["problem"], math.inf), r["best_loss"])
    scores: dict[tuple, float] = {}
    for problem in {r["problem"] for r in rows}:
        median = statistics.median(r["best_loss"] for r in rows if r["problem"] == problem
                                   and r["backend"] == "optuna:random" and not r["pruner"])
        span = median - best[problem]
        for r in rows:
            if r["problem"] != problem:
                continue
            score = (0.0 if r["best_loss"] <= best[problem] else 1.0) if span == 0 else \
                max(-1.0, min(1.0, (r["best_loss"] - best[problem]) / span))
            scores[(problem, r["backend"], r["pruner"], r["seed"])] = score
    return scores


def _mean_se(values: list[float]) -> tuple[float, float]:
    mean = statistics.fmean(values)
    return mean, (statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else 0.0)


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    scores = normalized(rows)
    problems = sorted({r["problem"] for r in rows})
    seeds = sorted({r["seed"] for r in rows})
    configs, n_iter = shown(args)
    full = n_iter * 5
    title = (f"n_iter={n_iter} with and without a pruner" if not args.equal_fits else
             f"the unpruned n_iter={n_iter} against pruned searches of up to "
             f"n_iter={args.n_iter} candidates")
    lines = [f"{len(problems)} problems x {len(seeds)} seeds ({seeds[0]}-{seeds[-1]}), "
             f"{title}, 5 folds", "",
             "| backend | pruner | fits per run | fewer fits | median fewer fits (per run) "
             "| headline (100 = best found) | headline points lost (± s.e.) "
             "| mean best CV score % | score points lost | candidates pruned "
             "| problems meeting the goal |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for backend, pruner in configs:
        mine = [r for r in rows if r["backend"] == backend and r["pruner"] == pruner]
        fits = statistics.fmean(r["fits"] for r in mine)
        median_ratio = statistics.median(full / r["fits"] for r in mine)
        cells = [(p, s) for p in problems for s in seeds]
        head = 100 * (1 - statistics.fmean(scores[(p, backend, pruner, s)] for p, s in cells))
        lost = meeting = ""
        if pruner:  # paired: the same problem and seed without the pruner
            diff = [100 * (scores[(p, backend, pruner, s)] - scores[(p, backend, None, s)])
                    for p, s in cells]
            mean, se = _mean_se(diff)
            lost = f"{mean:+.1f} ± {se:.1f}"
            meeting = f"{sum(_meets(rows, scores, p, seeds, backend, pruner, full) for p in problems)}"
        score = 100 * (1 - statistics.fmean(r["best_loss"] for r in mine))
        plain = [r for r in rows if r["backend"] == backend and not r["pruner"]]
        dropped = score - 100 * (1 - statistics.fmean(r["best_loss"] for r in plain))
        lines.append(f"| {backend} | {pruner or 'none'} | {fits:.1f} | {full / fits:.2f}x | "
                     f"{median_ratio:.2f}x | {head:.1f} | {lost} | {score:.2f} | "
                     f"{f'{-dropped:+.2f}' if pruner else ''} | "
                     f"{statistics.fmean(r['pruned'] for r in mine):.1f} | {meeting} |")
    lines += ["", "Per problem: mean fits per run / headline (points lost)", "",
              "| problem | " + " | ".join(f"{b} {p or 'none'}" for b, p in configs) + " |",
              "|---|" + "---|" * len(configs)]
    for problem in problems:
        cells = []
        for backend, pruner in configs:
            mine = [r["fits"] for r in rows if r["problem"] == problem
                    and r["backend"] == backend and r["pruner"] == pruner]
            head = 100 * (1 - statistics.fmean(scores[(problem, backend, pruner, s)]
                                               for s in seeds))
            lost = ""
            if pruner:
                lost = f" ({_lost(scores, problem, seeds, backend, pruner):+.0f})"
            cells.append(f"{statistics.fmean(mine):.0f} / {head:.0f}{lost}")
        lines.append(f"| {problem} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _lost(scores: dict[tuple, float], problem: str, seeds: list[int], backend: str,
          pruner: str) -> float:
    """Mean headline points lost on ``problem`` (paired over seeds)."""
    return 100 * statistics.fmean(scores[(problem, backend, pruner, s)]
                                  - scores[(problem, backend, None, s)] for s in seeds)


def _meets(rows: list[dict[str, Any]], scores: dict[tuple, float], problem: str,
           seeds: list[int], backend: str, pruner: str, full: int) -> bool:
    """The goal on one problem: >= 2x fewer fits (mean over seeds), <= 1 point lost."""
    fits = statistics.fmean(r["fits"] for r in rows if r["problem"] == problem
                            and r["backend"] == backend and r["pruner"] == pruner)
    return full / fits >= 2 and _lost(scores, problem, seeds, backend, pruner) <= 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--backend", default="optuna:tpe")
    parser.add_argument("--pruners", default="asha")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="settings are tuned on seeds 100 and up, reported on 0-9")
    parser.add_argument("--n-iter", type=int, default=30)
    parser.add_argument("--replay", default="",
                        help="pruners replayed on the unpruned optuna:random runs (see replay)")
    parser.add_argument("--equal-fits", default="",
                        help="'30:75,150': from the unpruned random runs of --n-iter, the "
                             "unpruned search of 30 candidates against each --replay pruner "
                             "over every candidate and over as many as fit in 75, 150 fits")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--cache", default=None)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    t0 = time.perf_counter()
    rows = run_all(args)
    print(report(rows, args))
    print(f"\n{len(rows)} runs in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
