"""Where one skopt proposal's time goes, and what skopt's own ``n_jobs`` does to it.

A pooled skopt run makes one model fit per proposal, in the driver (``benchmarks/parallel.py``
shows the driver busy nearly all the time once proposals need the model), so the cost of one
``Optimizer.tell`` (fit + acquisition) bounds its speed-up. This script builds the optimizer
as hpo_bridge builds it (``gp_minimize`` / ``forest_minimize``'s settings, one BLAS thread)
and, on Branin:

1. tells it 24 points one by one and splits each fitting ``tell`` (10th to 24th) into the model
   fit (``est.fit``: the GP's kernel hyper-parameters, or the trees), the acquisition at the
   ``n_points`` random candidates, the L-BFGS refinement (GP) and the rest;
2. times one more ``tell`` on copies of the same 20-point optimizer with skopt's ``n_jobs`` 1
   and 2 alternated (GP: ``acq_optimizer_kwargs["n_jobs"]``, the L-BFGS restarts over joblib;
   forests: ``Optimizer(n_jobs=...)``, the trees in threads), after checking that both propose
   the same point.

CPU time for the split (less sensitive to a shared machine's load), wall time for ``n_jobs``.

Usage:
    python benchmarks/skopt_fit.py                 # GP, RF and ET
    python benchmarks/skopt_fit.py --estimators GP --repeats 10
"""

from __future__ import annotations

import argparse
import copy
import math
import statistics
import time
from collections.abc import Callable
from typing import Any

import skopt.optimizer.optimizer as skopt_optimizer

import hpo_bridge as hb
from hpo_bridge.backends.skopt.adapter import _THREADS, _forest_optimizer, _gp_optimizer
from hpo_bridge.backends.skopt.translate import dimensions

SPACE = hb.Space({"x": hb.uniform(-5.0, 10.0), "y": hb.uniform(0.0, 15.0)})
PARTS = ("fit", "acquisition", "lbfgs")


def branin(x: float, y: float) -> float:
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (y - b * x**2 + c * x - 6) ** 2 + 10 * (1 - t) * math.cos(x) + 10


def load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def build(estimator: str, n_jobs: int = 1) -> Any:
    kwargs = {"n_points": 10000, "n_restarts_optimizer": 5, "n_jobs": n_jobs}
    if estimator == "GP":
        return _gp_optimizer(dimensions(SPACE), 0, acq_optimizer_kwargs=kwargs)
    return _forest_optimizer(dimensions(SPACE), 0, estimator, n_jobs=n_jobs,
                             acq_optimizer_kwargs=kwargs)


def _timing(spent: dict[str, float], part: str, func: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.process_time()
        try:
            return func(*args, **kwargs)
        finally:
            spent[part] += time.process_time() - t0
    return timed


def split(estimator: str) -> dict[str, float]:
    """Mean CPU seconds per fitting ``tell`` (the 10th to the 24th), by part."""
    opt = build(estimator)
    spent = dict.fromkeys(PARTS, 0.0)
    est_class = type(opt.base_estimator_)
    saved = (est_class.fit, skopt_optimizer._gaussian_acquisition, skopt_optimizer.fmin_l_bfgs_b)
    est_class.fit = _timing(spent, "fit", saved[0])
    skopt_optimizer._gaussian_acquisition = _timing(spent, "acquisition", saved[1])
    skopt_optimizer.fmin_l_bfgs_b = _timing(spent, "lbfgs", saved[2])
    total, fits = 0.0, 0
    try:
        with _THREADS.limit(limits=1):
            for _ in range(24):
                x = opt.ask()
                before = len(opt.models)
                t0 = time.process_time()
                opt.tell(x, branin(*x))
                if len(opt.models) > before:
                    total += time.process_time() - t0
                    fits += 1
                else:
                    spent.update(dict.fromkeys(PARTS, 0.0))
    finally:
        est_class.fit = saved[0]
        skopt_optimizer._gaussian_acquisition, skopt_optimizer.fmin_l_bfgs_b = saved[1:]
    means = {part: spent[part] / fits for part in PARTS}
    means["tell"] = total / fits
    means["rest"] = means["tell"] - sum(means[p] for p in PARTS)
    return means


def n_jobs_ab(estimator: str, repeats: int) -> dict[int, float]:
    """Median wall seconds of one ``tell`` at 20 points, skopt's ``n_jobs`` 1 against 2."""
    opts = {n: build(estimator, n) for n in (1, 2)}
    with _THREADS.limit(limits=1):
        for opt in opts.values():
            for _ in range(19):
                x = opt.ask()
                opt.tell(x, branin(*x))
        if opts[1].ask() != opts[2].ask():
            raise SystemExit(f"{estimator}: n_jobs=2 proposed another point")
        walls: dict[int, list[float]] = {1: [], 2: []}
        for rep in range(repeats):
            for n in (1, 2) if rep % 2 else (2, 1):
                opt = copy.deepcopy(opts[n])
                t0 = time.perf_counter()
                opt.tell([1.0, 2.0], branin(1.0, 2.0))
                walls[n].append(time.perf_counter() - t0)
    return {n: statistics.median(w) for n, w in walls.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--estimators", default="GP,RF,ET")
    parser.add_argument("--repeats", type=int, default=6)
    args = parser.parse_args()
    start = load()
    rows = []
    for estimator in args.estimators.split(","):
        parts = split(estimator)
        ab = n_jobs_ab(estimator, args.repeats)
        rows.append(f"| {estimator} | {parts['tell'] * 1e3:.0f} ms | " + " | ".join(
            f"{parts[p] * 1e3:.0f} ms ({parts[p] / parts['tell']:.0%})"
            for p in (*PARTS, "rest")) + f" | {ab[1] * 1e3:.0f} ms / {ab[2] * 1e3:.0f} ms |")
        print(rows[-1], flush=True)
    print()
    print("| estimator | one tell (CPU) | model fit | acquisition at the candidates | L-BFGS | "
          "rest | one tell (wall), n_jobs 1 / 2 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    print(f"\nMean of the 15 fitting tells of 24 (Branin, seed 0, one BLAS thread); n_jobs: "
          f"median of {args.repeats} alternated tells at 20 points, same proposal checked. "
          f"Load average {start} at start, {load()} at end.")


if __name__ == "__main__":
    main()
