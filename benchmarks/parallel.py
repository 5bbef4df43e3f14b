"""Serial against ``n_jobs=k`` (and ``n_jobs=k, deterministic=True``), for every backend, in one run.

Every run has the same trial budget and seed; pooled trials run in worker processes (the
default executor). The runs are interleaved (backend by backend, the order of the three modes
rotated each repeat), so a change of the machine's load spreads over all of them; the load
average is printed with each row. The objective waits (a stand-in for a remote job or a GPU)
by default; ``--cpu`` burns about as long in pure Python instead, so its speed-up is capped
by the cores.

Columns: the wall time of each mode (median over the repeats), the ratios serial / pooled, and
``proposal``: the driver's time per trial in the serial run (its wall time less the trials'
sleeps, over the trials): the cost of one ask and tell. A pooled run proposes from one process,
so when ``proposal`` is not much smaller than ``seconds / k`` the driver, not the workers,
sets the pace: speed-up at most ``(seconds + proposal) / proposal`` for a backend that fits a
model per proposal (skopt).

``driver``: the time the driver spent inside ``Optimizer.ask`` and ``Optimizer.tell`` (every
proposal and model fit) in the serial and the pooled run, measured in each run, and
``busy``: that time over the pooled run's wall time, and over the part of it from the first
proposal that took over 20 ms (a model fit) to the last one (near 100 %: the driver sets the
pace, so asking ahead while trials run cannot help; only cheaper proposals can). ``bound``: the most
the pooled run could gain with those proposal costs, serial wall / max(pooled driver time,
trials x seconds / k): a pooled run cannot end before its one driver has made its proposals.

``--options`` passes backend options to every mode, e.g. skopt's own parallelism:
``--options '{"acq_optimizer_kwargs": {"n_points": 10000, "n_restarts_optimizer": 5,
"n_jobs": 2}}'`` (``skopt:gp``'s L-BFGS restarts of the acquisition over joblib).

Usage:
    python benchmarks/parallel.py                       # the docs/results.md table: every backend
    python benchmarks/parallel.py --backends skopt:gp,skopt:rf --repeats 3
    python benchmarks/parallel.py --seconds 1.0         # proposal time << trial time
    python benchmarks/parallel.py --backends skopt:gp --options '{"acq_optimizer_kwargs": {"n_jobs": 2}}'
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import hpo_bridge as hb

SPACE = {"x": hb.uniform(-5.0, 10.0), "y": hb.uniform(0.0, 15.0)}
MODES = ("serial", "pooled", "deterministic")


def branin(config: dict) -> float:
    x, y = config["x"], config["y"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (y - b * x**2 + c * x - 6) ** 2 + 10 * (1 - t) * math.cos(x) + 10


def waiting(seconds: float) -> Callable[[dict], float]:
    def objective(config: dict) -> float:
        time.sleep(seconds)
        return branin(config)

    return objective


def _burn(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def cpu(seconds: float) -> Callable[[dict], float]:
    t0 = time.perf_counter()
    _burn(1_000_000)
    n = int(1_000_000 * seconds / (time.perf_counter() - t0))  # calibrated on this machine

    def objective(config: dict) -> float:
        _burn(n)
        return branin(config)

    return objective


def load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


#: (start, end, is an ask) of each ``Optimizer.ask`` / ``Optimizer.tell`` of the current run.
DRIVER: list[tuple[float, float, bool]] = []
#: A proposal slower than this made a model fit.
FIT_S = 0.02


def _timed(method: Callable[..., Any], ask: bool) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            DRIVER.append((t0, time.perf_counter(), ask))
    return wrapper


# Instrumentation: the driver (this process) is the only one that asks and tells.
hb.Optimizer.ask = _timed(hb.Optimizer.ask, True)  # type: ignore[method-assign]
hb.Optimizer.tell = _timed(hb.Optimizer.tell, False)  # type: ignore[method-assign]


def model_phase_busy() -> float:
    """The driver's share of the time from its first model-fitting proposal to its last one."""
    fits = [(s, e) for s, e, ask in DRIVER if ask and e - s > FIT_S]
    if len(fits) < 2:
        return math.nan
    a, b = fits[0][0], fits[-1][1]
    return sum(min(e, b) - max(s, a) for s, e, _ in DRIVER if e > a and s < b) / (b - a)


def run_once(objective: Callable[[dict], float], backend: str, mode: str, jobs: int,
             max_evals: int, seed: int, options: dict[str, Any] | None = None
             ) -> tuple[float, float, float, float]:
    kwargs: dict[str, Any] = {} if mode == "serial" else {"n_jobs": jobs}
    kwargs.update(options or {})
    if mode == "deterministic":
        kwargs["deterministic"] = True
    if backend == "optuna:grid":  # a grid needs discrete parameters
        space = {"x": hb.uniform(-5.0, 10.0, step=0.5), "y": hb.uniform(0.0, 15.0, step=0.5)}
    else:
        space = SPACE
    DRIVER.clear()
    t0 = time.perf_counter()
    try:
        result = hb.minimize(objective, space, backend=backend, max_evals=max_evals,
                             seed=seed, progress=False, **kwargs)
    except Exception as exc:  # a library's own defect: reported in the row, the bench goes on
        print(f"  {backend} {mode}: {type(exc).__name__}: {exc}", flush=True)
        return math.nan, math.nan, math.nan, math.nan
    wall = time.perf_counter() - t0
    return wall, result.best_value, sum(e - s for s, e, _ in DRIVER), model_phase_busy()


def bench(backends: list[str], jobs: int, max_evals: int, seconds: float, seed: int,
          repeats: int, kind: str, options: dict[str, Any] | None = None) -> list[dict]:
    objective = (cpu if kind == "cpu" else waiting)(seconds)
    for backend in backends:  # warm up: import each library before timing it
        run_once(branin, backend, "serial", 1, 2, seed, options)
    walls: dict[tuple[str, str], list[float]] = {}
    drivers: dict[tuple[str, str], list[float]] = {}
    phases: dict[tuple[str, str], list[float]] = {}
    best: dict[tuple[str, str], float] = {}
    for rep in range(repeats):
        for backend in backends:
            modes = MODES[rep % 3:] + MODES[:rep % 3]  # rotated: no mode always first
            for mode in modes:
                wall, value, driver, phase = run_once(objective, backend, mode, jobs,
                                                      max_evals, seed, options)
                walls.setdefault((backend, mode), []).append(wall)
                drivers.setdefault((backend, mode), []).append(driver)
                phases.setdefault((backend, mode), []).append(phase)
                best[(backend, mode)] = value
                print(f"  {backend:16} {mode:13} {wall:6.2f} s  driver {driver:6.2f} s "
                      f"(busy {_percent(phase):>4} after the first fit)  "
                      f"best {value:8.3f}  load {load()}", flush=True)
    rows = []
    for backend in backends:
        wall = {m: statistics.median(walls[(backend, m)]) for m in MODES}  # NaN: it failed
        driver = {m: statistics.median(drivers[(backend, m)]) for m in MODES}
        rows.append({
            "backend": backend, **{f"{m}_s": wall[m] for m in MODES},
            "speedup": wall["serial"] / wall["pooled"],
            "det_speedup": wall["serial"] / wall["deterministic"],
            "proposal_s": max(0.0, wall["serial"] / max_evals - seconds),
            "driver_serial_s": driver["serial"], "driver_pooled_s": driver["pooled"],
            "busy": driver["pooled"] / wall["pooled"],
            "phase_busy": statistics.median(phases[(backend, "pooled")]),
            "bound": wall["serial"] / max(driver["pooled"], max_evals * seconds / jobs),
            **{f"best_{m}": best[(backend, m)] for m in MODES},
        })
    return rows


def _percent(share: float) -> str:
    return "–" if math.isnan(share) else f"{share:.0%}"


def table(rows: list[dict], jobs: int, note: str) -> str:
    lines = [f"| backend | serial | n_jobs={jobs} | deterministic | proposal (s/trial) | "
             "driver: serial / pooled | busy: run / after 1st fit | bound | best: serial / pooled / det. |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['backend']} | {r['serial_s']:.2f} s | {r['pooled_s']:.2f} s "
            f"({r['speedup']:.2f}×) | {r['deterministic_s']:.2f} s ({r['det_speedup']:.2f}×) | "
            f"{r['proposal_s']:.3f} | {r['driver_serial_s']:.2f} s / {r['driver_pooled_s']:.2f} s"
            f" | {r['busy']:.0%} / {_percent(r['phase_busy'])} | {r['bound']:.2f}× | {r['best_serial']:.2f} / "
            f"{r['best_pooled']:.2f} / {r['best_deterministic']:.2f} |")
    return "\n".join(lines) + "\n\n" + note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="all",
                        help="comma-separated names, or 'all' (every available backend)")
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--max-evals", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=0.2, help="length of one trial")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--cpu", action="store_true", help="a CPU objective, not a waiting one")
    parser.add_argument("--options", type=json.loads, default=None,
                        help="backend options for every mode, as JSON")
    args = parser.parse_args()
    backends = ([b.name for b in hb.backends() if b.available] if args.backends == "all"
                else args.backends.split(","))
    t0 = time.perf_counter()
    start = load()
    print(f"load average at start: {start}", flush=True)
    rows = bench(backends, args.jobs, args.max_evals, args.seconds, args.seed, args.repeats,
                 "cpu" if args.cpu else "wait", args.options)
    note = (f"{args.max_evals} trials of a ~{args.seconds} s "
            f"{'CPU' if args.cpu else 'waiting'} objective (Branin, minimum 0.398), seed "
            f"{args.seed}, median of {args.repeats} interleaved repeat(s); worker processes; "
            f"{'options ' + json.dumps(args.options) + '; ' if args.options else ''}"
            f"{os.cpu_count()} CPU cores; load average {start} at start, {load()} at end; "
            f"total {time.perf_counter() - t0:.0f} s.")
    print()
    print(table(rows, args.jobs, note))


if __name__ == "__main__":
    main()
