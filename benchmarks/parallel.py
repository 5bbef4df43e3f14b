"""Wall time and best value at n_jobs = 1, 2, 4, per backend, for a waiting and a CPU objective.

Every run has the same trial budget and seed; trials run in worker processes (the default
executor). The waiting objective sleeps (a stand-in for a remote job or a GPU); the CPU
objective burns about as long in pure Python, so its speed-up is capped by the cores.

Usage:
    python benchmarks/parallel.py                       # the README table
    python benchmarks/parallel.py --backends optuna:tpe --max-evals 16 --seconds 0.1
"""

from __future__ import annotations

import argparse
import math
import os
import time

import hpo_bridge as hb

SPACE = {"x": hb.uniform(-5.0, 10.0), "y": hb.uniform(0.0, 15.0)}


def branin(config: dict) -> float:
    x, y = config["x"], config["y"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (y - b * x**2 + c * x - 6) ** 2 + 10 * (1 - t) * math.cos(x) + 10


def waiting(seconds: float):
    def objective(config: dict) -> float:
        time.sleep(seconds)
        return branin(config)

    return objective


def _burn(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def cpu(seconds: float):
    t0 = time.perf_counter()
    _burn(1_000_000)
    n = int(1_000_000 * seconds / (time.perf_counter() - t0))  # calibrated on this machine

    def objective(config: dict) -> float:
        _burn(n)
        return branin(config)

    return objective


def bench(backends: list[str], jobs: list[int], max_evals: int, seconds: float,
          seed: int) -> list[dict]:
    rows = []
    for backend in backends:  # warm up: import each library before timing it
        hb.minimize(branin, SPACE, backend=backend, max_evals=2, seed=seed, progress=False)
    for kind, make, evals in (("wait", waiting, max_evals), ("cpu", cpu, max_evals // 2)):
        objective = make(seconds)
        for backend in backends:
            base = None
            for n_jobs in jobs:
                t0 = time.perf_counter()
                result = hb.minimize(objective, SPACE, backend=backend, max_evals=evals,
                                     seed=seed, n_jobs=n_jobs, progress=False)
                wall = time.perf_counter() - t0
                base = wall if base is None else base
                rows.append({"objective": kind, "backend": backend, "n_jobs": n_jobs,
                             "wall_s": wall, "speedup": base / wall,
                             "best": result.best_value})
                print(f"  {kind:4} {backend:13} n_jobs={n_jobs}: {wall:6.2f} s, "
                      f"best {result.best_value:.3f}", flush=True)
    return rows


def table(rows: list[dict], ideal_note: str) -> str:
    lines = ["| objective | backend | n_jobs | wall time (s) | speed-up | best value |",
             "|---|---|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['objective']} | {r['backend']} | {r['n_jobs']} | "
                     f"{r['wall_s']:.2f} | {r['speedup']:.2f}x | {r['best']:.3f} |")
    return "\n".join(lines) + "\n\n" + ideal_note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="hyperopt:tpe,optuna:tpe,skopt:gp")
    parser.add_argument("--jobs", default="1,2,4")
    parser.add_argument("--max-evals", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=0.2, help="length of one trial")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    jobs = [int(j) for j in args.jobs.split(",")]
    t0 = time.perf_counter()
    rows = bench(args.backends.split(","), jobs, args.max_evals, args.seconds, args.seed)
    note = (f"wait: {args.max_evals} trials, cpu: {args.max_evals // 2} trials, of "
            f"~{args.seconds} s each; seed {args.seed}; worker processes; "
            f"{os.cpu_count()} CPU cores; Branin (minimum 0.398). Total "
            f"{time.perf_counter() - t0:.0f} s.")
    print()
    print(table(rows, note))


if __name__ == "__main__":
    main()
