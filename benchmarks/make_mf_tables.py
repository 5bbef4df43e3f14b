"""Generate the multi-fidelity lookup tables shipped in ``hpo_bridge/bench/data/`` (issue 21).

Two tables, each a full grid of a discrete space, every budget step of every configuration:

* ``mlp`` -> ``mlp_digits_curves.npz``: the PyTorch MLP of ``mlp-digits`` (the same model,
  initialisation, data split, batch order and loss as :func:`hpo_bridge.bench.problems.
  torch_mlp._train`; trained in stacked groups, see :func:`mlp`) trained for 27 epochs on
  scikit-learn's digits; after every epoch the validation error and cross-entropy are
  recorded, with the time of an epoch of the one-by-one loop.
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
    """The MLP table, trained in groups: the configurations that share an architecture, a
    batch size and an optimizer (14 each: 7 learning rates x 2 dropouts) train side by side
    as one stacked model (a batched matrix product per layer), each with its own learning
    rate and dropout. Each member is the model of ``mlp-digits`` (``_build_model``: the same
    initial weights from ``torch.manual_seed(0)``, the same batch order from a generator
    seeded 0, the same loss); Adam (betas 0.9/0.999, eps 1e-8) and SGD (momentum 0.9,
    Nesterov) are written out as torch.optim computes them, on the stacked weights. Only the
    dropout masks come from another random stream than a one-by-one run's.

    The time of an epoch is measured on the one-by-one loop of ``mlp-digits``
    (``torch_mlp._train``'s loop: model, optimizer, batches): the median CPU time of 3 epochs
    of the group's first configuration, the same for every epoch of the group's members
    (they differ only in learning rate and dropout, not in computation).
    """
    import torch
    import torch.nn.functional as F

    from hpo_bridge.bench.problems.torch_mlp import _build_model, _build_optimizer, _digits_split

    torch.set_num_threads(1)
    space = mf_tables.MLP_GRID
    steps = mf_tables.MLP_EPOCHS
    x_tr, y_tr, x_va, y_va = _digits_split()
    done: dict[tuple[Any, ...], dict[str, list[float]]] = {}

    def key(config: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(config[n] for n in space)

    def epoch_time(config: dict[str, Any]) -> float:
        full = mf_tables.mlp_config(config)
        torch.manual_seed(0)
        generator = torch.Generator().manual_seed(0)
        model = _build_model(full)
        optimizer = _build_optimizer(model.parameters(), full)
        times = []
        for _ in range(3):
            t0 = time.thread_time()
            model.train()
            order = torch.randperm(len(x_tr), generator=generator)
            for start in range(0, len(order), full["batch_size"]):
                idx = order[start : start + full["batch_size"]]
                optimizer.zero_grad()
                F.cross_entropy(model(x_tr[idx]), y_tr[idx]).backward()
                optimizer.step()
            model.eval()
            with torch.no_grad():
                model(x_va).argmax(dim=1)
            times.append(time.thread_time() - t0)
        return float(np.median(times))

    def train_group(members: list[dict[str, Any]]) -> None:
        first = members[0]
        m = len(members)
        torch.manual_seed(0)
        generator = torch.Generator().manual_seed(0)
        template = _build_model(mf_tables.mlp_config(first))
        linears = [layer for layer in template if isinstance(layer, torch.nn.Linear)]
        weights = [layer.weight.detach().t().unsqueeze(0).repeat(m, 1, 1).requires_grad_()
                   for layer in linears]  # (m, in, out)
        biases = [layer.bias.detach().unsqueeze(0).unsqueeze(1).repeat(m, 1, 1)
                  .requires_grad_() for layer in linears]  # (m, 1, out)
        params = [*weights, *biases]
        lr = torch.tensor([c["lr"] for c in members]).view(m, 1, 1)
        drop = torch.tensor([c["dropout"] for c in members]).view(m, 1, 1)
        state = [torch.zeros_like(p) for p in params]
        state2 = [torch.zeros_like(p) for p in params]
        adam = first["optimizer"] == "adam"

        def forward(x: Any, train: bool) -> Any:
            h = x.unsqueeze(0).expand(m, -1, -1)
            for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
                h = torch.baddbmm(b, h, w)
                if i < len(weights) - 1:
                    h = torch.relu(h)
                    if train:
                        keep = (torch.rand(h.shape) >= drop).to(h.dtype)
                        h = h * keep / (1.0 - drop)
            return h

        out = {k: [[] for _ in members] for k in ("val_error", "val_loss")}
        t = 0
        for _ in range(steps):
            order = torch.randperm(len(x_tr), generator=generator)
            for start in range(0, len(order), first["batch_size"]):
                idx = order[start : start + first["batch_size"]]
                logits = forward(x_tr[idx], True)
                loss = F.cross_entropy(logits.reshape(-1, 10), y_tr[idx].repeat(m),
                                       reduction="none").view(m, -1).mean(dim=1).sum()
                grads = torch.autograd.grad(loss, params)
                t += 1
                with torch.no_grad():
                    for p, g, s1, s2 in zip(params, grads, state, state2, strict=True):
                        if adam:  # torch.optim.Adam, weight_decay 0
                            s1.mul_(0.9).add_(g, alpha=0.1)
                            s2.mul_(0.999).addcmul_(g, g, value=0.001)
                            denom = (s2 / (1 - 0.999 ** t)).sqrt_().add_(1e-8)
                            p.sub_(lr * (s1 / (1 - 0.9 ** t)) / denom)
                        else:  # torch.optim.SGD, momentum 0.9, nesterov
                            if t == 1:
                                s1.copy_(g)
                            else:
                                s1.mul_(0.9).add_(g)
                            p.sub_(lr * (g + 0.9 * s1))
            with torch.no_grad():
                logits = forward(x_va, False)
                errors = (logits.argmax(dim=2) != y_va).float().mean(dim=1)
                losses = F.cross_entropy(logits.reshape(-1, 10), y_va.repeat(m),
                                         reduction="none").view(m, -1).mean(dim=1)
            for j in range(m):
                out["val_error"][j].append(float(errors[j]))
                loss_j = float(losses[j])
                out["val_loss"][j].append(loss_j if np.isfinite(loss_j) else 1e3)
        seconds = epoch_time(first)
        for j, config in enumerate(members):
            done[key(config)] = {"val_error": out["val_error"][j],
                                 "val_loss": out["val_loss"][j], "time": [seconds] * steps}

    configs = _grid(space)

    def evaluate(config: dict[str, Any]) -> dict[str, list[float]]:
        if key(config) not in done:
            same = ("batch_size", "hidden_units", "n_layers", "optimizer")
            train_group([c for c in configs if all(c[n] == config[n] for n in same)])
        return done.pop(key(config))

    meta = {"problem": "mlp-digits-tab", "torch": torch.__version__, "seed": 0,
            "model": "hpo_bridge.bench.problems.torch_mlp (mlp-digits), 27 epochs, trained "
                     "in stacked groups (see benchmarks/make_mf_tables.py)"}
    _run("mlp", configs, steps, evaluate, DATA / mf_tables.MLP_FILE, meta, space,
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
