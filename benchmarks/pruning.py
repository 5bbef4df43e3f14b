"""Does pruning pay? Epochs trained and best validation error, with and without a pruner.

For each backend and seed, the same trial budget is spent on the ``mlp-digits`` problem (a
PyTorch MLP on scikit-learn's digits, :func:`hpo_bridge.bench.problems.train_mlp_digits`),
every trial training for a fixed number of epochs and reporting its validation error after each
one: once without a pruner, and once with each ``--pruners``. Printed: a markdown table of the
epochs trained and the best validation error (mean ± standard deviation over seeds), then the
per-seed numbers.

Every run is serial (``n_jobs=1``) with torch on one thread; the runs themselves are spread
over ``--workers`` processes.

Usage::

    python benchmarks/pruning.py                      # hyperopt:tpe, optuna:tpe, skopt:gp; 3 seeds
    python benchmarks/pruning.py --seeds 5 --pruners median,asha,hyperband --max-evals 40
    python benchmarks/pruning.py --cache results/pruning.jsonl   # skips the runs it holds
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
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
        "max_evals": max_evals, "max_epochs": epochs,
        "epochs": sum(len(c) for c in curves),
        "best": result.best_value,
        "pruned": sum(r.state == "pruned" for r in result.records),
        "seconds": time.perf_counter() - t0,
    }


def _mean_sd(values: list[float], fmt: str) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{format(statistics.mean(values), fmt)} ± {format(sd, fmt)}"


def table(rows: list[dict[str, Any]]) -> str:
    """The markdown summary: per backend, no pruner then each pruner."""
    lines = ["| backend | pruner | epochs trained | fewer epochs | best val. error | "
             "trials pruned |", "|---|---|---:|---:|---:|---:|"]
    for backend in dict.fromkeys(r["backend"] for r in rows):
        mine = [r for r in rows if r["backend"] == backend]
        base = sum(r["epochs"] for r in mine if r["pruner"] == "none")
        for pruner in dict.fromkeys(r["pruner"] for r in mine):
            cell = [r for r in mine if r["pruner"] == pruner]
            ratio = base / max(sum(r["epochs"] for r in cell), 1)
            lines.append(
                f"| {backend} | {pruner} | {_mean_sd([r['epochs'] for r in cell], '.0f')} "
                f"| {ratio:.1f}× | {_mean_sd([r['best'] for r in cell], '.4f')} "
                f"| {statistics.mean(r['pruned'] for r in cell):.1f} |"
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


def _key(backend: str, seed: int, pruner: str | None, max_evals: int, epochs: int) -> tuple:
    return backend, seed, pruner or "none", max_evals, epochs


def _load(path: str | None) -> dict[tuple, dict[str, Any]]:
    """Runs already made (a run is deterministic: serial, seeded, torch on one thread)."""
    if not path or not os.path.exists(path):
        return {}
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return {_key(r["backend"], r["seed"], r["pruner"], r["max_evals"], r["max_epochs"]): r
            for r in rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max-evals", type=int, default=24)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--pruners", default="median",
                        help="comma-separated: median, asha, hyperband (each against no pruner)")
    parser.add_argument("--workers", type=int, default=2, help="runs at once (processes)")
    parser.add_argument("--cache", help="JSON-lines file of finished runs: reused, appended to")
    args = parser.parse_args(argv)

    jobs = [(b, s, p, args.max_evals, args.epochs)
            for p in (None, *args.pruners.split(","))  # the longer runs first
            for b in args.backends.split(",") for s in range(args.seeds)]
    done = _load(args.cache)
    rows = [done[_key(*job)] for job in jobs if _key(*job) in done]
    todo = [job for job in jobs if _key(*job) not in done]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) as pool:
        for future in as_completed([pool.submit(one_run, *job) for job in todo]):
            rows.append(future.result())
            if args.cache:
                with open(args.cache, "a") as f:
                    f.write(json.dumps(rows[-1]) + "\n")
    order = {_key(*job): i for i, job in enumerate(jobs)}
    rows.sort(key=lambda r: order[_key(r["backend"], r["seed"], r["pruner"], r["max_evals"],
                                      r["max_epochs"])])
    print(f"mlp-digits, {args.max_evals} trials of up to {args.epochs} epochs, "
          f"seeds 0..{args.seeds - 1}; {len(todo)} runs in "
          f"{time.perf_counter() - t0:.0f} s ({len(rows) - len(todo)} from --cache)\n")
    print(table(rows))
    print()
    print(details(rows))


if __name__ == "__main__":
    main()
