"""``auto`` aware of cost (issue 27 item 2): wall time to a target regret, today's rule
(``cost="ignore"``) against the cost-aware one (``cost="measured"``, the default of a run
without a seed), on a cheap and an expensive version of the same problem: Hartmann-6 (6-D,
the rule gives ``optuna:gp``), as it is and with ``time.sleep(SLEEP)`` in each evaluation.

Each run stops when its best value is within ``TARGET`` of the optimum (``hb.stop.target``), or
after ``MAX_EVALS`` trials (not reached: counted as the run's whole wall time, and shown).
The two rules run one after the other for each seed, so the machine's load weighs on both::

    OMP_NUM_THREADS=1 python benchmarks/auto_cost.py [seeds] [sleeps] [max_evals] [target]

Defaults: 10 seeds, sleeps ``0,0.3`` (seconds, one version each; 0 is the cheap one), 150
trials, regret 0.2. Prints a markdown table.
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import hpo_bridge as hb
from hpo_bridge.bench.problems.registry import get_problem

RULES = {"today (cost='ignore')": "ignore", "cost-aware (cost='measured')": "measured"}


def run(objective: Callable[[Any], Any], space: Any, seed: int, cost: str, target: float,
        max_evals: int) -> tuple[float, int, bool, str]:
    """``(wall seconds, trials, reached, result.backend)``."""
    start = time.perf_counter()
    result = hb.minimize(objective, space, backend="auto", max_evals=max_evals, seed=seed,
                         progress=False, cost=cost, callbacks=[hb.stop.target(target)])
    wall = time.perf_counter() - start
    return wall, len(result.records), result.best_value <= target, result.backend


def main(seeds: int = 10, sleeps: tuple[float, ...] = (0.0, 0.3), max_evals: int = 150,
         regret: float = 0.2) -> None:
    warnings.filterwarnings("ignore")
    problem = get_problem("hartmann6")
    target = float(problem.optimum) + regret  # type: ignore[arg-type]

    def slowed(sleep: float) -> Callable[[Any], Any]:
        def slow(config: Any) -> Any:
            time.sleep(sleep)
            return problem.objective(config)
        return slow

    versions = {("cheap" if not sleep else f"+{sleep * 1e3:.0f} ms sleep"):
                (problem.objective if not sleep else slowed(sleep)) for sleep in sleeps}
    hb.minimize(problem.objective, problem.space, backend="auto", max_evals=16, seed=99,
                progress=False, cost="ignore")  # imports and first fits, outside the timing
    print(f"load before: {open('/proc/loadavg').read().strip()}", flush=True)
    rows = []
    for version, objective in versions.items():
        walls: dict[str, list[float]] = {r: [] for r in RULES}
        trials: dict[str, list[int]] = {r: [] for r in RULES}
        reached: dict[str, int] = dict.fromkeys(RULES, 0)
        for seed in range(seeds):
            for rule, cost in RULES.items():
                wall, n, ok, shown = run(objective, problem.space, seed, cost, target,
                                         max_evals)
                walls[rule].append(wall)
                trials[rule].append(n)
                reached[rule] += ok
                print(f"{version} seed {seed} {rule}: {wall:.2f} s, {n} trials, "
                      f"{'reached' if ok else 'not reached'}; {shown}", flush=True)
        today, aware = (statistics.median(walls[r]) for r in RULES)
        for rule in RULES:
            rows.append(f"| {version} | {rule} | {statistics.median(walls[rule]):.2f} | "
                        f"{statistics.mean(walls[rule]):.2f} | "
                        f"{statistics.median(trials[rule]):.0f} | {reached[rule]}/{seeds} |")
        rows.append(f"| {version} | **today / cost-aware, median wall** | "
                    f"**{today / aware:.2f}×** | | | |")
    print(f"load after: {open('/proc/loadavg').read().strip()}")
    print(f"\nhartmann6, regret target {regret}, at most {max_evals} trials, {seeds} seeds\n")
    print("| version | rule | median wall to target (s) | mean (s) | median trials | "
          "reached |")
    print("|---|---|---:|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[0]) if args else 10,
         tuple(map(float, args[1].split(","))) if len(args) > 1 else (0.0, 0.3),
         int(args[2]) if len(args) > 2 else 150, float(args[3]) if len(args) > 3 else 0.2)
