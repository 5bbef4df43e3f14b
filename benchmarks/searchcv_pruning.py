"""Does pruning across folds pay in ``hb.SearchCV``? Fits made and score lost, with and without.

On the suite's scikit-learn problems (``sklearn-<model>-<dataset>``: the model, its space and its
data from :mod:`hpo_bridge.bench.problems`; 5 shuffled stratified folds, accuracy), each seed
runs ``hb.SearchCV`` three ways with the same ``n_iter``: the reference random search
(``optuna:random``, no pruner), ``--backend`` without a pruner, and ``--backend`` with each of
``--pruners`` (the running mean accuracy is reported after each fold). Counted: the fits made in
the search (folds that ran; the refit is not counted). Scored: the suite's normalized score
(:mod:`hpo_bridge.bench.scoring`: 0 = the best value any run found on the problem, 1 = the median
random search), reported as the suite's headline, ``100 * (1 - mean score)``.

Printed: a markdown table per configuration (fits, fits saved, headline, points lost against the
same backend without a pruner), then per problem.

Usage::

    python benchmarks/searchcv_pruning.py                          # 10 seeds, n_iter 30
    python benchmarks/searchcv_pruning.py --seeds 3 --problems sklearn-dt-iris,sklearn-knn-wine
    python benchmarks/searchcv_pruning.py --cache results/searchcv_pruning.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from typing import Any

MODELS = ("dt", "knn", "svm", "linear", "rf")
DATASETS = ("iris", "wine", "breast")
PROBLEMS = tuple(f"sklearn-{m}-{d}" for m in MODELS for d in DATASETS)


def estimator_and_space(problem: str) -> tuple[Any, dict[str, Any]]:
    """The problem's estimator (its builder's, a pipeline for scaled models) and its space,
    keyed by the estimator's own parameter names."""
    from sklearn.pipeline import Pipeline

    import hpo_bridge as hb
    from hpo_bridge.bench.problems.sklearn_spaces import BUILDERS, SPACES

    _, model, _ = problem.split("-")
    space = SPACES[model]
    config = hb.Optimizer(space, "optuna:random", seed=0).ask().params
    estimator = BUILDERS[model](config, "classification")
    if isinstance(estimator, Pipeline):
        step = estimator.steps[-1][0]
        space = {f"{step}__{key}": value for key, value in space.items()}
    if model in ("mlp",):
        raise ValueError("mlp's hidden_layer_sizes is a tuple built from its parameter")
    return estimator, space


def one_run(problem: str, backend: str, pruner: str | None, seed: int,
            n_iter: int) -> dict[str, Any]:
    """One SearchCV fit: what it cost and what it found."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import StratifiedKFold

    import hpo_bridge as hb
    from hpo_bridge.bench.problems.sklearn_models import load_train_split

    estimator, space = estimator_and_space(problem)
    X, y = load_train_split(problem.split("-")[2])
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        search = hb.SearchCV(estimator, space, backend=backend, n_iter=n_iter,
                             cv=StratifiedKFold(5, shuffle=True, random_state=0),
                             scoring="accuracy", random_state=seed, pruner=pruner,
                             refit=False).fit(X, y)
    # a pruned candidate reported one running mean per fold it ran
    records = search.result_.records
    fits = sum(len(r.intermediate) if r.state == "pruned" else search.n_splits_ for r in records)
    return {"problem": problem, "backend": backend, "pruner": pruner, "seed": seed,
            "n_iter": n_iter, "fits": fits, "best_loss": 1.0 - float(search.best_score_),
            "pruned": int(sum(r.state == "pruned" for r in search.result_.records)),
            "seconds": round(time.perf_counter() - t0, 2)}


def run_all(args: argparse.Namespace) -> list[dict[str, Any]]:
    configs = [("optuna:random", None), (args.backend, None)]
    configs += [(args.backend, p) for p in args.pruners.split(",") if p]
    jobs = [(p, b, pr, s, args.n_iter) for p in args.problems.split(",")
            for s in range(args.seeds) for b, pr in configs]
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
    return [r for r in done if key(r) in wanted]


def headline(rows: list[dict[str, Any]]) -> dict[tuple, float]:
    """The suite's normalized score per (problem, backend, pruner), mean over seeds."""
    best = {}
    for r in rows:
        best[r["problem"]] = min(best.get(r["problem"], 1.0), r["best_loss"])
    scores: dict[tuple, list[float]] = {}
    for problem in {r["problem"] for r in rows}:
        median = statistics.median(r["best_loss"] for r in rows if r["problem"] == problem
                                   and r["backend"] == "optuna:random")
        for r in rows:
            if r["problem"] != problem:
                continue
            span = median - best[problem]
            score = (0.0 if r["best_loss"] <= best[problem] else 1.0) if span == 0 else \
                max(-1.0, min(1.0, (r["best_loss"] - best[problem]) / span))
            scores.setdefault((problem, r["backend"], r["pruner"]), []).append(score)
    return {k: statistics.fmean(v) for k, v in scores.items()}


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    scores = headline(rows)
    problems = sorted({r["problem"] for r in rows})
    configs = sorted({(r["backend"], r["pruner"] or "") for r in rows})
    lines = [f"{len(problems)} problems x {args.seeds} seeds, n_iter={args.n_iter}, 5 folds", "",
             "| backend | pruner | fits per run | fewer fits | headline (100 = best found) "
             "| headline points lost | mean best CV accuracy % | accuracy points lost "
             "| candidates pruned |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for backend, pruner in configs:
        mine = [r for r in rows if r["backend"] == backend and (r["pruner"] or "") == pruner]
        fits = statistics.fmean(r["fits"] for r in mine)
        full = args.n_iter * 5
        head = 100 * (1 - statistics.fmean(scores[(p, backend, pruner or None)] for p in problems))
        base = 100 * (1 - statistics.fmean(scores[(p, backend, None)] for p in problems))
        lost = f"{base - head:+.1f}" if pruner else ""
        accuracy = 100 * (1 - statistics.fmean(r["best_loss"] for r in mine))
        plain = [r for r in rows if r["backend"] == backend and not r["pruner"]]
        dropped = accuracy - 100 * (1 - statistics.fmean(r["best_loss"] for r in plain))
        lines.append(f"| {backend} | {pruner or 'none'} | {fits:.1f} | {full / fits:.2f}x | "
                     f"{head:.1f} | {lost} | {accuracy:.2f} | "
                     f"{f'{-dropped:+.2f}' if pruner else ''} | "
                     f"{statistics.fmean(r['pruned'] for r in mine):.1f} |")
    lines += ["", "| problem | " + " | ".join(f"{b} {p or 'none'} fits / headline"
                                           for b, p in configs) + " |",
              "|---|" + "---|" * len(configs)]
    for problem in problems:
        cells = []
        for backend, pruner in configs:
            mine = [r["fits"] for r in rows if r["problem"] == problem
                    and r["backend"] == backend and (r["pruner"] or "") == pruner]
            head = 100 * (1 - scores[(problem, backend, pruner or None)])
            cells.append(f"{statistics.fmean(mine):.0f} / {head:.0f}")
        lines.append(f"| {problem} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--backend", default="optuna:tpe")
    parser.add_argument("--pruners", default="median")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--n-iter", type=int, default=30)
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
