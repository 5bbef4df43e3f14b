"""How long a simulated run takes (issue 21, item 6: a 1,000-trial, 4-worker run on a
tabulated problem in <= 60 s of wall time on the 2-core dev machine).

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/simulate_speed.py \\
        [--problem mlp-digits-tab] [--backends optuna:tpe,optuna:random] [--trials 1000]

Prints, per backend: the wall and CPU time of the whole simulated run (building the
optimizer, every ask/tell and lookup), the simulated time it covers, the machine's load average before
and after, and the best full-budget regret reached.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hpo_bridge.bench.problems import get_problem
from hpo_bridge.bench.simulate import simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--problem", default="mlp-digits-tab")
    parser.add_argument("--backends", default="optuna:tpe,optuna:random,hyperopt:tpe")
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    problem = get_problem(args.problem)
    print(f"{args.problem}: {args.trials} evaluations, {args.workers} virtual workers, ASHA")
    print("| backend | wall (s) | CPU (s) | simulated (s) | regret | load before | load after |")
    print("|---|---|---|---|---|---|---|")
    for backend in args.backends.split(","):
        load0 = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        sim = simulate(problem, backend, workers=args.workers, max_evals=args.trials,
                       seed=args.seed)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        assert len(sim.timeline) == args.trials
        regret = sim.result.best_value - (problem.optimum or 0.0)
        print(f"| {backend} | {wall:.1f} | {cpu:.1f} | {sim.clock_s:.0f} | {regret:.4g} | {load0:.2f} | "
              f"{os.getloadavg()[0]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
