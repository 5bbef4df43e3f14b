"""The bridge's overhead: ``hb.minimize`` against the native call, same problem and seed.

For each backend and budget, the native call and ``hb.minimize(..., progress=False)`` run
interleaved in one process (native first on even repeats, bridge first on odd ones), so noise
from a shared machine hits both sides; the table shows the median seconds of each side and
their ratio. Times are CPU seconds of this process (``time.process_time``): on a shared machine
they move far less than wall time, which waits for other processes; the wall-time ratio is
shown next to it. Every run also records the configurations the objective received: the bridge must
propose exactly what the native call proposes (SPEC §2, fidelity), and the table says so.

Usage::

    python benchmarks/overhead.py                 # the full table (~30 min; skopt:gp dominates)
    python benchmarks/overhead.py --quick         # smaller budgets, a smoke run
    python benchmarks/overhead.py --repeats 5 --backends optuna:tpe,hyperopt:tpe

Goals: bridge/native at most 1.05 for TPE and GP, at most 1.5 for random search.
"""

from __future__ import annotations

import argparse
import gc
import logging
import math
import os
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# One thread per BLAS / torch pool, set before NumPy loads: the overhead measured is
# single-threaded Python, and idle pool threads spinning on a shared machine only add noise to
# both sides. Set these variables yourself to measure otherwise.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import hpo_bridge as hb  # noqa: E402

SEED = 0
KINDS = ("a", "b", "c")
KIND_OFFSET = {"a": 0.0, "b": 0.5, "c": 1.0}

SPACE = {
    "x1": hb.uniform(-5.0, 10.0),
    "x2": hb.uniform(0.0, 15.0),
    "lr": hb.loguniform(1e-4, 1.0),
    "kind": hb.choice(list(KINDS)),
}


def branin_like(x1: float, x2: float, lr: float, kind: str) -> float:
    """Branin plus a small log-lr bowl and an offset per kind: cheap, so overhead shows."""
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    branin = (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10
    return branin + 0.1 * (math.log10(lr) + 2) ** 2 + KIND_OFFSET[kind]


Config = tuple  # (x1, x2, lr, kind), plain Python values


# -- one runner per side: each returns the configurations the objective received -------------


def native_hyperopt(algo_name: str, n: int, seed: int) -> list[Config]:
    import numpy as np
    from hyperopt import fmin, hp, rand, tpe

    algo = {"tpe": tpe.suggest, "random": rand.suggest}[algo_name]
    space = {"x1": hp.uniform("x1", -5.0, 10.0), "x2": hp.uniform("x2", 0.0, 15.0),
             "lr": hp.loguniform("lr", math.log(1e-4), math.log(1.0)),
             "kind": hp.choice("kind", list(KINDS))}
    seen: list[Config] = []

    def fn(c: dict) -> float:
        seen.append((c["x1"], c["x2"], c["lr"], c["kind"]))
        return branin_like(c["x1"], c["x2"], c["lr"], c["kind"])

    fmin(fn, space, algo=algo, max_evals=n, rstate=np.random.default_rng(seed),
         show_progressbar=False)
    return seen


def native_optuna(sampler_name: str, n: int, seed: int) -> list[Config]:
    import optuna
    from optuna.samplers import GPSampler, RandomSampler, TPESampler

    samplers = {"tpe": TPESampler, "random": RandomSampler, "gp": GPSampler}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        kwargs = {"warn_independent_sampling": False} if sampler_name == "gp" else {}
        sampler = samplers[sampler_name](seed=seed, **kwargs)
    seen: list[Config] = []

    def objective(trial: Any) -> float:
        c = (trial.suggest_float("x1", -5.0, 10.0), trial.suggest_float("x2", 0.0, 15.0),
             trial.suggest_float("lr", 1e-4, 1.0, log=True),
             trial.suggest_categorical("kind", list(KINDS)))
        seen.append(c)
        return branin_like(*c)

    optuna.create_study(sampler=sampler).optimize(objective, n_trials=n)
    return seen


def native_skopt(n: int, seed: int) -> list[Config]:
    from skopt import gp_minimize
    from skopt.space import Categorical, Real

    dims = [Real(-5.0, 10.0), Real(0.0, 15.0), Real(1e-4, 1.0, prior="log-uniform"),
            Categorical(list(KINDS))]
    seen: list[Config] = []

    def fn(x: list) -> float:
        c = tuple(v.item() if hasattr(v, "item") else v for v in x)
        seen.append(c)
        return branin_like(*c)

    gp_minimize(fn, dims, n_calls=n, random_state=seed)
    return seen


def bridge(backend: str, n: int, seed: int) -> list[Config]:
    seen: list[Config] = []

    def fn(c: dict) -> float:
        seen.append((c["x1"], c["x2"], c["lr"], c["kind"]))
        return branin_like(c["x1"], c["x2"], c["lr"], c["kind"])

    hb.minimize(fn, SPACE, backend=backend, max_evals=n, seed=seed, progress=False)
    return seen


NATIVE: dict[str, Callable[[int, int], list[Config]]] = {
    "hyperopt:tpe": lambda n, s: native_hyperopt("tpe", n, s),
    "hyperopt:random": lambda n, s: native_hyperopt("random", n, s),
    "optuna:tpe": lambda n, s: native_optuna("tpe", n, s),
    "optuna:random": lambda n, s: native_optuna("random", n, s),
    "optuna:gp": lambda n, s: native_optuna("gp", n, s),
    "skopt:gp": native_skopt,
}

GOALS = {"tpe": 1.05, "gp": 1.05, "random": 1.5}
FULL = {"hyperopt:tpe": (300, 1000), "optuna:tpe": (300, 1000), "hyperopt:random": (300, 1000),
        "optuna:random": (300, 1000), "skopt:gp": (100,), "optuna:gp": (100,)}
QUICK = {"hyperopt:tpe": (100,), "optuna:tpe": (100,), "hyperopt:random": (100,),
         "optuna:random": (100,), "skopt:gp": (20,), "optuna:gp": (20,)}


# -- measuring --------------------------------------------------------------------------------


def _timed(run: Callable[[], list[Config]]) -> tuple[float, float, list[Config]]:
    """``(cpu seconds, wall seconds, configurations)`` of one run."""
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    seen = run()
    return time.process_time() - cpu0, time.perf_counter() - wall0, seen


@dataclass
class Row:
    backend: str
    n: int
    native_s: float  # median CPU seconds
    bridge_s: float
    wall_ratio: float  # median wall seconds, bridge / native
    same: bool
    note: str

    @property
    def ratio(self) -> float:
        return self.bridge_s / self.native_s

    @property
    def goal(self) -> float:
        return GOALS[self.backend.split(":")[1]]


def _compare(native: list[Config], bridged: list[Config]) -> str:
    """``""`` if the two sequences are identical, else where they first differ."""
    if len(native) != len(bridged):
        return f"{len(native)} native vs {len(bridged)} bridge trials"
    for i, (a, b) in enumerate(zip(native, bridged, strict=True)):
        if a != b:
            return f"trial {i}: native {a} vs bridge {b}"
    return ""


def measure(backend: str, n: int, repeats: int, seed: int) -> Row:
    cpu: dict[str, list[float]] = {"native": [], "bridge": []}
    wall: dict[str, list[float]] = {"native": [], "bridge": []}
    note = ""
    for r in range(repeats):
        sides = [("native", lambda: NATIVE[backend](n, seed)),
                 ("bridge", lambda: bridge(backend, n, seed))]
        if r % 2:
            sides.reverse()
        seen = {}
        for side, run in sides:
            c, w, seen[side] = _timed(run)
            cpu[side].append(c)
            wall[side].append(w)
        note = note or _compare(seen["native"], seen["bridge"])
    med = statistics.median
    return Row(backend, n, med(cpu["native"]), med(cpu["bridge"]),
               med(wall["bridge"]) / med(wall["native"]), not note, note)


def warm_up(backends: list[str], seed: int) -> None:
    """Import every library and fill caches once, outside the timings."""
    for backend in backends:
        n = 12  # past skopt's 10 initial points, so its model code runs too
        NATIVE[backend](n, seed)
        bridge(backend, n, seed)


def table(rows: list[Row]) -> str:
    lines = ["| backend | trials | native CPU s | bridge CPU s | bridge/native | goal "
             "| wall ratio | same configs |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        mark = "" if r.ratio <= r.goal else " ✗"
        lines.append(f"| {r.backend} | {r.n} | {r.native_s:.2f} | {r.bridge_s:.2f} | "
                     f"{r.ratio:.3f}{mark} | ≤ {r.goal} | {r.wall_ratio:.3f} | "
                     f"{'yes' if r.same else 'NO'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small budgets (a smoke run)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per side (median taken)")
    parser.add_argument("--backends", default=",".join(FULL), help="comma-separated subset")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    sizes = QUICK if args.quick else FULL
    chosen = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = [b for b in chosen if b not in sizes]
    if unknown:
        parser.error(f"unknown backends {unknown}; choose from {list(sizes)}")

    logging.getLogger("hyperopt").setLevel(logging.WARNING)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warm_up(chosen, args.seed)
    rows = []
    for backend in chosen:
        for n in sizes[backend]:
            rows.append(measure(backend, n, args.repeats, args.seed))
            r = rows[-1]
            print(f"  {backend} n={n}: CPU native {r.native_s:.2f}s bridge {r.bridge_s:.2f}s "
                  f"ratio {r.ratio:.3f} (wall {r.wall_ratio:.3f}) same={r.same}", flush=True)
    print()
    print(table(rows))
    for r in rows:
        if not r.same:
            print(f"\nfidelity FAILED for {r.backend} n={r.n}: {r.note}")
    print("\nfidelity: " + ("every backend proposed the native configurations"
                            if all(r.same for r in rows) else "see failures above"))
    return 0 if all(r.same for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
