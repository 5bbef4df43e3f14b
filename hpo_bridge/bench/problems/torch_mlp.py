"""``mlp-digits``: tune a PyTorch MLP on scikit-learn's bundled digits data (fully offline).

torch is imported inside the functions, so importing this module (and the registry) needs no torch.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from hpo_bridge.bench.problems.base import Problem
from hpo_bridge.space import choice, integer, loguniform, uniform

MLP_DIGITS_SPACE: dict[str, Any] = {
    "lr": loguniform(1e-4, 1e-1),
    "batch_size": choice([16, 32, 64, 128]),
    "epochs": integer(3, 15),
    "hidden_units": integer(16, 256, log=True),
    "n_layers": integer(1, 3),
    "dropout": uniform(0.0, 0.5),
    "optimizer": choice(
        [
            {"name": "adam", "beta1": uniform(0.8, 0.99), "weight_decay": loguniform(1e-6, 1e-2)},
            {"name": "sgd", "momentum": uniform(0.0, 0.99), "nesterov": choice([True, False])},
        ]
    ),
}

#: A reasonable configuration (about 4 % validation error), handy in examples and tests.
MLP_DIGITS_DEFAULT: dict[str, Any] = {
    "lr": 1e-2,
    "batch_size": 64,
    "epochs": 5,
    "hidden_units": 64,
    "n_layers": 1,
    "dropout": 0.1,
    "optimizer": {"name": "adam", "beta1": 0.9, "weight_decay": 1e-5},
}


@functools.lru_cache(maxsize=1)
def _digits_split() -> tuple[Any, Any, Any, Any]:
    """Digits scaled to [0, 1]; a fixed stratified 75 % / 25 % train/validation split, as tensors."""
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_tr, x_va, y_tr, y_va = train_test_split(x / 16.0, y, test_size=0.25, random_state=0, stratify=y)
    as_x = functools.partial(torch.as_tensor, dtype=torch.float32)
    as_y = functools.partial(torch.as_tensor, dtype=torch.long)
    return as_x(x_tr), as_y(y_tr), as_x(x_va), as_y(y_va)


def _build_model(config: Mapping[str, Any]) -> Any:
    import torch.nn as nn

    layers: list[nn.Module] = []
    width_in, width = 64, int(config["hidden_units"])
    for _ in range(int(config["n_layers"])):
        layers += [nn.Linear(width_in, width), nn.ReLU(), nn.Dropout(float(config["dropout"]))]
        width_in = width
    layers.append(nn.Linear(width_in, 10))
    return nn.Sequential(*layers)


def _build_optimizer(params: Any, config: Mapping[str, Any]) -> Any:
    import torch

    opt, lr = config["optimizer"], float(config["lr"])
    if opt["name"] == "adam":
        betas = (float(opt["beta1"]), 0.999)
        return torch.optim.Adam(params, lr=lr, betas=betas, weight_decay=float(opt.get("weight_decay", 0.0)))
    if opt["name"] == "sgd":
        momentum = float(opt["momentum"])
        nesterov = bool(opt["nesterov"]) and momentum > 0  # torch refuses nesterov without momentum
        return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=nesterov)
    raise ValueError(f"mlp-digits: optimizer name must be 'adam' or 'sgd', got {opt['name']!r}")


def train_mlp_digits(config: Mapping[str, Any], trial: Any = None, seed: int = 0) -> float:
    """Train an MLP on digits and return its validation error (1 - accuracy).

    Deterministic for a given ``seed``; runs torch single-threaded (restoring the thread count
    afterwards) so that many evaluations run well side by side. When ``trial`` is given,
    ``trial.report(validation_error, epoch)`` is called after every epoch (epochs count from 0);
    an exception it raises (e.g. a pruning signal) propagates.

    Args:
        config: A configuration of ``MLP_DIGITS_SPACE``.
        trial: Optional object with ``report(value, step)``.
        seed: Seed for weight initialization, dropout and batch order.

    Returns:
        Validation error after the last epoch, in [0, 1].

    Example:
        >>> error = train_mlp_digits(MLP_DIGITS_DEFAULT)
        >>> 0.0 <= error < 0.1
        True
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(config, trial, seed)
    finally:
        torch.set_num_threads(threads)


def _train(config: Mapping[str, Any], trial: Any, seed: int) -> float:
    import torch
    import torch.nn.functional as F

    x_tr, y_tr, x_va, y_va = _digits_split()
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = _build_model(config)
    optimizer = _build_optimizer(model.parameters(), config)
    batch_size = int(config["batch_size"])
    error = 1.0
    for epoch in range(int(config["epochs"])):
        model.train()
        order = torch.randperm(len(x_tr), generator=generator)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            optimizer.zero_grad()
            F.cross_entropy(model(x_tr[idx]), y_tr[idx]).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            accuracy = int((model(x_va).argmax(dim=1) == y_va).sum()) / len(y_va)
        error = 1.0 - accuracy
        if trial is not None:
            trial.report(error, epoch)
    return error


def mlp_digits(config: Mapping[str, Any], trial: Any = None) -> float:
    """The ``mlp-digits`` objective: :func:`train_mlp_digits` with seed 0."""
    return train_mlp_digits(config, trial=trial, seed=0)


PROBLEMS = (
    Problem(
        name="mlp-digits",
        space=MLP_DIGITS_SPACE,
        objective=mlp_digits,
        optimum=None,
        cost="medium",
        quick=False,
        description=(
            "PyTorch MLP on sklearn's load_digits (8x8 images, 10 classes), fixed stratified 75/25 split "
            "(random_state=0). Tunes lr, batch size, epochs (3-15), hidden units, layers, dropout and the "
            "optimizer (adam{beta1, weight_decay} | sgd{momentum, nesterov}). Loss: validation error "
            "(1 - accuracy), seeded and single-threaded; reports the error after each epoch (multi-fidelity)."
        ),
        requires=("torch",),
    ),
)
