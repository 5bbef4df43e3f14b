"""The cost of storage: ``hb.minimize(storage=...)`` against Optuna's native ``study.optimize``.

Part 1, cost per trial. For each engine (a SQLite file, an Optuna journal file), the native
call (``study.optimize`` with ``TPESampler(seed=0)`` on a fresh study of that engine) and the
bridge (``hb.minimize(..., backend="optuna:tpe", seed=0, storage=..., study_name=...)``) run
the same cheap objective for ``--trials`` trials, interleaved in one process (native first on
even repeats), each on a fresh file in the same folder. The table shows the median wall
milliseconds per trial of each side, their ratio (goal: at most 1.1) and whether both proposed
the same configurations. Wall time, because a storage's cost is mostly its file system calls.

Part 2, several workers on one study. ``--workers`` processes run the same ``hb.minimize`` call
against one study (``--shared-trials`` trials in all) with a waiting objective (0.2 s of
``time.sleep``), for each of ``--backends``: the wall time from a common start signal (each
worker has imported its backend's library and Optuna, which stores the study) until the last
worker's ``hb.minimize`` returns (the study is complete; the interpreters' exit is not
counted), against one worker; ideal is ``trials × 0.2 s / k``.

Usage::

    python benchmarks/storage.py                    # both tables (~3 min)
    python benchmarks/storage.py --trials 100 --repeats 3 --dir /tmp

The files go to ``--dir`` (default: a temporary folder on the disk of the working directory).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import optuna  # noqa: E402

import hpo_bridge as hb  # noqa: E402

SPACE = {"x": hb.uniform(-5.0, 10.0), "y": hb.uniform(0.0, 15.0),
         "lr": hb.loguniform(1e-4, 1.0), "kind": hb.choice(["a", "b", "c"])}


def _value(x: float, y: float, lr: float, kind: str) -> float:
    return (y - 0.13 * x * x + 1.6 * x - 6) ** 2 + 10 * math.cos(x) + math.log10(lr) ** 2 + \
        "abc".index(kind)


def _native_storage(engine: str, path: Path) -> Any:
    if engine == "sqlite":
        return f"sqlite:///{path}.db"
    from optuna.storages.journal import JournalFileBackend

    return optuna.storages.JournalStorage(JournalFileBackend(f"{path}.log"))


def native(engine: str, path: Path, trials: int) -> list[tuple]:
    seen: list[tuple] = []

    def objective(trial: optuna.Trial) -> float:
        c = (trial.suggest_float("x", -5.0, 10.0), trial.suggest_float("y", 0.0, 15.0),
             trial.suggest_float("lr", 1e-4, 1.0, log=True),
             trial.suggest_categorical("kind", ["a", "b", "c"]))
        seen.append(c)
        return _value(*c)

    study = optuna.create_study(storage=_native_storage(engine, path), study_name="native",
                                sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=trials)
    return seen


def bridge(engine: str, path: Path, trials: int) -> list[tuple]:
    seen: list[tuple] = []

    def objective(c: dict) -> float:
        seen.append((c["x"], c["y"], c["lr"], c["kind"]))
        return _value(c["x"], c["y"], c["lr"], c["kind"])

    storage = f"{path}.db" if engine == "sqlite" else f"{path}.log"
    hb.minimize(objective, SPACE, backend="optuna:tpe", max_evals=trials, seed=0,
                storage=storage, study_name="bridge", progress=False)
    return seen


def _timed(run: Callable[..., list[tuple]], *args: Any) -> tuple[float, list[tuple]]:
    t0 = time.perf_counter()
    seen = run(*args)
    return time.perf_counter() - t0, seen


def per_trial_table(folder: Path, trials: int, repeats: int) -> list[str]:
    rows = ["| engine | trials | native ms/trial | bridge ms/trial | bridge/native | goal | "
            "same configs |", "|---|---:|---:|---:|---:|---:|---|"]
    for engine in ("sqlite", "journal"):
        times: dict[str, list[float]] = {"native": [], "bridge": []}
        same = True
        for r in range(repeats):
            order = [("native", native), ("bridge", bridge)]
            if r % 2:
                order.reverse()
            seen = {}
            for side, run in order:
                path = folder / f"{engine}-{side}-{r}"
                wall, seen[side] = _timed(run, engine, path, trials)
                times[side].append(wall)
            same &= seen["native"] == seen["bridge"]
        nat, bri = (statistics.median(times[s]) * 1000 / trials for s in ("native", "bridge"))
        rows.append(f"| {engine} | {trials} | {nat:.1f} | {bri:.1f} | {bri / nat:.2f} | ≤ 1.1 | "
                    f"{'yes' if same else 'NO'} |")
        print(rows[-1], flush=True)
    return rows


_WORKER = textwrap.dedent('''
    import os, sys, time
    import hpo_bridge as hb
    from hpo_bridge.backends.registry import resolve
    SPACE = {"x": hb.uniform(-5.0, 10.0), "y": hb.uniform(0.0, 15.0)}
    def objective(c):
        time.sleep(0.2)
        return (c["x"] - 1) ** 2 + (c["y"] - 2) ** 2
    storage, backend, trials, seed, go = sys.argv[1:]
    resolve(backend).load()  # the libraries imported before the start signal
    import optuna  # noqa: F401  (the study's storage)
    open(f"{go}.ready-{seed}", "w").close()
    while not os.path.exists(go):
        time.sleep(0.005)
    hb.minimize(objective, SPACE, backend=backend, max_evals=int(trials), seed=int(seed),
                storage=storage, study_name="shared", progress=False)
    with open(f"{go}.done-{seed}", "w") as f:
        f.write(repr(time.time()))
''')


def shared_table(folder: Path, trials: int, workers: list[int], backends: list[str],
                 engines: list[str]) -> list[str]:
    script = folder / "worker.py"
    script.write_text(_WORKER)
    rows = ["| engine | backend | workers | wall s | ideal s | speed-up | trials in study |",
            "|---|---|---:|---:|---:|---:|---:|"]
    for engine, suffix in (("sqlite", ".db"), ("journal", ".log")):
        if engine not in engines:
            continue
        for backend in backends:
            base = None
            for k in workers:
                storage = str(folder / f"shared-{engine}-{backend.replace(':', '-')}-{k}{suffix}")
                go = storage + ".go"
                procs = [subprocess.Popen([sys.executable, str(script), storage, backend,
                                           str(trials), str(i), go]) for i in range(k)]
                while not all(os.path.exists(f"{go}.ready-{i}") for i in range(k)):
                    time.sleep(0.005)  # every worker has imported its libraries
                t0 = time.time()  # one machine: the workers' clocks are this one
                Path(go).touch()
                codes = [p.wait() for p in procs]
                wall = max(float(Path(f"{go}.done-{i}").read_text()) for i in range(k)) - t0
                assert codes == [0] * k, codes
                count = len(hb.load(storage, "shared").records)
                base = base or wall
                rows.append(f"| {engine} | {backend} | {k} | {wall:.1f} | {trials * 0.2 / k:.1f} "
                            f"| {base / wall:.2f}× | {count} |")
                print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--shared-trials", type=int, default=40)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--backends", default="optuna:tpe,hyperopt:tpe,optuna:random,"
                        "hyperopt:random")
    parser.add_argument("--engines", default="sqlite,journal",
                        help="the engines of part 2 (part 1 always runs both)")
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    folder = Path(tempfile.mkdtemp(prefix="hb-storage-bench-", dir=args.dir or os.getcwd()))
    try:
        print(f"files in {folder}; load average {os.getloadavg()}", flush=True)
        rows = per_trial_table(folder, args.trials, args.repeats)
        rows += [""] + shared_table(folder, args.shared_trials,
                                    [int(k) for k in args.workers.split(",")],
                                    args.backends.split(","), args.engines.split(","))
        print(f"load average {os.getloadavg()}")
        print("\n".join(rows))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
