"""What a choice of N options costs a GP (issue 26, D7): the measurement behind ``auto``'s
``GP_MAX_OPTIONS`` and ``SKOPT_MAX_OPTIONS``.

30 trials of ``{"c": choice(range(N)), "x": uniform(0, 1)}``, seed 0, asked and told by hand::

    OMP_NUM_THREADS=1 python benchmarks/choice_cost.py optuna:gp 10 1000 3000 10000 30000
    OMP_NUM_THREADS=1 python benchmarks/choice_cost.py skopt:gp 2 30 100 300 1000
"""

from __future__ import annotations

import sys
import time
import warnings

import hpo_bridge as hb


def run(backend: str, n: int, trials: int = 30) -> tuple[float, float]:
    """``(total seconds, mean seconds of the last five asks)``."""
    opt = hb.Optimizer({"c": hb.choice(list(range(n))), "x": hb.uniform(0.0, 1.0)},
                       backend=backend, seed=0)
    start, asks = time.perf_counter(), []
    for _ in range(trials):
        t = time.perf_counter()
        trial = opt.ask()
        asks.append(time.perf_counter() - t)
        opt.tell(trial, ((trial.params["c"] % 97) / 97 - 0.3) ** 2 + trial.params["x"])
    return time.perf_counter() - start, sum(asks[-5:]) / 5


if __name__ == "__main__":
    warnings.filterwarnings("ignore")
    for size in sys.argv[2:]:
        total, last = run(sys.argv[1], int(size))
        print(f"{sys.argv[1]} N={size}: {total:.2f} s for 30 trials, last asks {last:.3f} s",
              flush=True)
