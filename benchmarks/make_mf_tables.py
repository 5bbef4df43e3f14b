"""Generate the multi-fidelity lookup tables shipped in ``hpo_bridge/bench/data/`` (issue 21).

Two tables, each a full grid of a discrete space, every budget step of every configuration:

* ``mlp`` -> ``mlp_digits_curves.npz``: the PyTorch MLP of ``mlp-digits`` (the same model,
  optimizer, data split and training loop: :func:`hpo_bridge.bench.problems.torch_mlp._train`)
  trained for 27 epochs on scikit-learn's digits; after every epoch the validation error,
  the validation cross-entropy and the time of that epoch (training + evaluation) are
  recorded.
* ``gb`` -> ``gb_curves.npz``: scikit-learn's GradientBoostingClassifier on the bundled
  breast-cancer and wine data, 81 trees from one fit per configuration; the validation
  log-loss and error after every tree come from ``staged_predict_proba``, the time of each
  tree from the ``monitor`` callback of ``fit`` (called after every stage) plus its staged
  prediction.

Times are the CPU time of the (single) training thread (``time.thread_time``), not wall time:
on a shared machine the wall time of a step depends on what else runs, its CPU time hardly
does. Deterministic (seed 0 for every configuration, torch single-threaded); only the recorded
times depend on the machine (they are what the simulated clock replays). Data only: the
files hold numeric and fixed-width text arrays and load with ``np.load(allow_pickle=False)``.

Run it at low priority (it takes CPU minutes)::

    nice -n 10 env OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/make_mf_tables.py mlp
    nice -n 10 env OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/make_mf_tables.py gb
    (or ``gb breast_cancer`` / ``gb wine``: one dataset)

A partial ``.progress.npz`` next to the output lets an interrupted run continue where it was.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hpo_bridge.bench.problems import mf_tables  # noqa: E402

DATA = ROOT / "hpo_bridge" / "bench" / "data"


def _grid(space: dict[str, list[Any]]) -> list[dict[str, Any]]:
    names = list(space)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*(space[n] for n in names))]


def _save(path: Path, arrays: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)


def _columns(configs: list[dict[str, Any]], space: dict[str, list[Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, values in space.items():
        column = [c[name] for c in configs]
        out[f"param_{name}"] = np.asarray(column, dtype=np.asarray(values).dtype)
    return out


def _run(kind: str, configs: list[dict[str, Any]], steps: int, evaluate: Any, out: Path,
         meta: dict[str, Any], space: dict[str, list[Any]], metrics: tuple[str, ...]) -> None:
    progress = out.with_name(out.stem + ".progress.npz")
    n = len(configs)
    curves = {m: np.full((n, steps), np.nan) for m in (*metrics, "time")}
    done = 0
    if progress.exists():
        with np.load(progress, allow_pickle=False) as z:
            done = int(z["done"])
            for m in curves:
                curves[m][:done] = z[m][:done]
    start = time.perf_counter()
    for i in range(done, n):
        result = evaluate(configs[i])
        for m in curves:
            curves[m][i] = result[m]
        if (i + 1) % 25 == 0 or i + 1 == n:
            _save(progress, {"done": np.asarray(i + 1), **curves})
            rate = (time.perf_counter() - start) / (i + 1 - done)
            print(f"{kind}: {i + 1}/{n} configurations, {rate:.2f} s each", flush=True)
    meta = {**meta, "generated_seconds": round(time.perf_counter() - start, 1), "steps": steps,
            "time": "CPU seconds of the training thread per step (time.thread_time)",
            "machine": platform.machine(), "python": platform.python_version()}
    arrays: dict[str, Any] = _columns(configs, space)
    for m in metrics:
        arrays[m] = curves[m].astype(np.float32)
    arrays["time"] = curves["time"].astype(np.float32)
    arrays["meta"] = np.asarray(json.dumps(meta, sort_keys=True))
    _save(out, arrays)
    progress.unlink()
    print(f"{kind}: wrote {out} ({out.stat().st_size / 1e6:.2f} MB) in {meta['generated_seconds']} s")


def mlp() -> None:
    import torch
    import torch.nn.functional as F

    from hpo_bridge.bench.problems.torch_mlp import _build_model, _build_optimizer, _digits_split

    torch.set_num_threads(1)
    space = mf_tables.MLP_GRID
    steps = mf_tables.MLP_EPOCHS
    x_tr, y_tr, x_va, y_va = _digits_split()

    def evaluate(config: dict[str, Any]) -> dict[str, list[float]]:
        full = mf_tables.mlp_config(config)
        torch.manual_seed(0)
        generator = torch.Generator().manual_seed(0)
        model = _build_model(full)
        optimizer = _build_optimizer(model.parameters(), full)
        batch_size = int(full["batch_size"])
        out: dict[str, list[float]] = {"val_error": [], "val_loss": [], "time": []}
        for _ in range(steps):  # the loop of torch_mlp._train, timed and with the loss recorded
            t0 = time.thread_time()
            model.train()
            order = torch.randperm(len(x_tr), generator=generator)
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                optimizer.zero_grad()
                F.cross_entropy(model(x_tr[idx]), y_tr[idx]).backward()
                optimizer.step()
            model.eval()
            with torch.no_grad():
                logits = model(x_va)
                error = 1.0 - int((logits.argmax(dim=1) == y_va).sum()) / len(y_va)
                loss = float(F.cross_entropy(logits, y_va))
            out["time"].append(time.thread_time() - t0)
            out["val_error"].append(error)
            out["val_loss"].append(loss if np.isfinite(loss) else 1e3)
        return out

    meta = {"problem": "mlp-digits-tab", "torch": torch.__version__, "seed": 0,
            "model": "hpo_bridge.bench.problems.torch_mlp (mlp-digits), 27 epochs"}
    _run("mlp", _grid(space), steps, evaluate, DATA / mf_tables.MLP_FILE, meta, space,
         ("val_error", "val_loss"))


def gb(datasets: tuple[str, ...] = mf_tables.GB_DATASETS) -> None:
    import sklearn
    from sklearn.ensemble import GradientBoostingClassifier

    space = mf_tables.GB_GRID
    steps = mf_tables.GB_TREES
    for dataset in datasets:
        x_tr, x_va, y_tr, y_va = mf_tables.gb_split(dataset)
        labels = np.unique(y_tr)
        assert list(labels) == list(range(len(labels)))  # classes 0..k-1: column = label

        def evaluate(config: dict[str, Any], x_tr: Any = x_tr, x_va: Any = x_va, y_tr: Any = y_tr,
                     y_va: Any = y_va, labels: Any = labels) -> dict[str, list[float]]:
            stamps = [time.thread_time()]

            def monitor(i: int, est: Any, local: Any) -> bool:
                stamps.append(time.thread_time())
                return False

            model = GradientBoostingClassifier(n_estimators=steps, random_state=0, **config)
            model.fit(x_tr, y_tr, monitor=monitor)
            out: dict[str, list[float]] = {"val_loss": [], "val_error": [], "time": []}
            t0 = time.thread_time()
            for k, proba in enumerate(model.staged_predict_proba(x_va)):
                # log-loss as sklearn.metrics.log_loss computes it (probabilities clipped)
                p = np.clip(proba[np.arange(len(y_va)), y_va], 1e-15, 1.0)
                out["val_loss"].append(float(-np.mean(np.log(p))))
                out["val_error"].append(float(np.mean(proba.argmax(axis=1) != y_va)))
                # the stage's fit time plus its staged prediction and scoring
                t1 = time.thread_time()
                out["time"].append(stamps[k + 1] - stamps[k] + t1 - t0)
                t0 = t1
            return out

        meta = {"problem": f"gb-{dataset}-tab", "sklearn": sklearn.__version__, "seed": 0,
                "model": "sklearn GradientBoostingClassifier, 81 trees, staged_predict_proba"}
        _run(f"gb-{dataset}", _grid(space), steps, evaluate,
             DATA / mf_tables.GB_FILE.format(dataset=dataset), meta, space, ("val_loss", "val_error"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("table", choices=("mlp", "gb"))
    parser.add_argument("dataset", nargs="?", choices=mf_tables.GB_DATASETS,
                        help="gb: one dataset (default: every one)")
    args = parser.parse_args()
    if args.table == "mlp":
        mlp()
    else:
        gb(mf_tables.GB_DATASETS if args.dataset is None else (args.dataset,))
