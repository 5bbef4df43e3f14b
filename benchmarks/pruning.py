"""Does pruning pay? Epochs trained and best validation error, with and without a pruner.

For each backend and seed, the same trial budget is spent twice on the ``mlp-digits`` problem
(a PyTorch MLP on scikit-learn's digits, :func:`hpo_bridge.bench.problems.train_mlp_digits`),
every trial training for a fixed number of epochs and reporting its validation error after
each one: once without a pruner, once with ``pruner=``. Printed: a markdown table of the
epochs trained and the best validation error (mean and standard deviation over seeds), and
the per-seed numbers.

Every run is serial (``n_jobs=1``) with torch on one thread; the runs themselves are spread
over ``--workers`` processes.

Usage::

    python benchmarks/pruning.py                      # hyperopt:tpe, optuna:tpe, skopt:gp; 3 seeds
    python benchmarks/pruning.py --seeds 5 --pruner asha --max-evals 40 --epochs 20
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

BACKENDS = ("hyperopt:tpe", "optuna:tpe", "skopt:gp")


def make_space(epochs: int) -> dict[str, Any]:
    """``mlp-digits``'s space with a fixed number of epochs and batches of 32 or more.

    Batches of 16 are dropped only to keep the benchmark under ten minutes on two cores.
    """
    from hpo_bridge.bench.problems.torch_mlp import MLP_DIGITS_SPACE
    from hpo_bridge.space import choice

    return {**MLP_DIGITS_SPACE, "epochs": epochs, "batch_size": choice([32, 64, 128])}


def objective(config: dict[str, Any], trial: Any) -> float:
    from hpo_bridge.bench.problems.torch_mlp import train_mlp_digits

    return train_mlp_digits(config, trial, seed=0)


def one_run(backend: str, seed: int, pruner: str | None, max_evals: int,
            epochs: int) -> dict[str, Any]:
    """One minimize call; what it cost and what it found."""
    import torch

    import hpo_bridge as hb

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    result = hb.minimize(objective, make_space(epochs), backend=backend, seed=seed,
                         max_evals=max_evals, pruner=pruner, progress=False)
    curves = [r.intermediate for r in result.records]
    return {
        "backend": backend, "seed": seed, "pruner": pruner or "none",
        "epochs": sum(len(c) for c in curves),
        "best": result.best_value,
        "pruned": sum(r.state == "pruned" for r in result.records),
        "seconds": time.perf_counter() - t0,
    }


def _mean_sd(values: list[float], fmt: str) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{format(statistics.mean(values), fmt)} ± {format(sd, fmt)}"


def table(rows: list[dict[str, Any]], pruner: str) -> str:
    """The markdown summary: one line per backend."""
    lines = [
        f"| backend | epochs, no pruner | epochs, {pruner} | fewer epochs | "
        f"best val. error, no pruner | best val. error, {pruner} | trials pruned |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for backend in dict.fromkeys(r["backend"] for r in rows):
        base = [r for r in rows if r["backend"] == backend and r["pruner"] == "none"]
        pru = [r for r in rows if r["backend"] == backend and r["pruner"] != "none"]
        ratio = sum(r["epochs"] for r in base) / max(sum(r["epochs"] for r in pru), 1)
        lines.append(
            f"| {backend} | {_mean_sd([r['epochs'] for r in base], '.0f')} "
            f"| {_mean_sd([r['epochs'] for r in pru], '.0f')} | {ratio:.1f}× "
            f"| {_mean_sd([r['best'] for r in base], '.4f')} "
            f"| {_mean_sd([r['best'] for r in pru], '.4f')} "
            f"| {statistics.mean(r['pruned'] for r in pru):.1f} |"
        )
    return "\n".join(lines)


def details(rows: list[dict[str, Any]]) -> str:
    """Per-seed numbers."""
    lines = ["| backend | seed | pruner | epochs | best val. error | pruned | seconds |",
             "|---|---:|---|---:|---:|---:|---:|"]
    for r in sorted(rows, key=lambda r: (r["backend"], r["seed"], r["pruner"])):
        lines.append(f"| {r['backend']} | {r['seed']} | {r['pruner']} | {r['epochs']} "
                     f"| {r['best']:.4f} | {r['pruned']} | {r['seconds']:.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max-evals", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--pruner", default="median", help="median, asha or hyperband")
    parser.add_argument("--workers", type=int, default=2, help="runs at once (processes)")
    args = parser.parse_args(argv)

    jobs = [(b, s, p, args.max_evals, args.epochs)
            for p in (None, args.pruner)  # the longer runs first
            for b in args.backends.split(",") for s in range(args.seeds)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) as pool:
        rows = list(pool.map(one_run, *zip(*jobs)))
    print(f"mlp-digits, {args.max_evals} trials of up to {args.epochs} epochs, "
          f"seeds 0..{args.seeds - 1}, pruner={args.pruner!r}; "
          f"{time.perf_counter() - t0:.0f} s in all\n")
    print(table(rows, args.pruner))
    print()
    print(details(rows))


if __name__ == "__main__":
    main()
