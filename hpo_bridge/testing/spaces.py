"""Spaces and objectives every backend must run, chosen by the backend's capabilities.

No pytest here: ``tests/`` and other packages' tests import these too.

Example:
    >>> from hpo_bridge.testing.spaces import space_for
    >>> sorted(space_for("optuna:tpe", "flat"))
    ['act', 'lr', 'n', 's', 'x']
"""

from __future__ import annotations

import math
from typing import Any

import hpo_bridge as hb
from hpo_bridge.backends.registry import BackendInfo, resolve

__all__ = [
    "Adam",
    "cond_objective",
    "conditional_space",
    "discrete_conditional_space",
    "flat_space",
    "grid_space",
    "quadratic",
    "space_for",
]


def flat_space() -> dict:
    """Float, log, choice, integer and a float grid."""
    return {
        "x": hb.uniform(-2.0, 2.0),
        "lr": hb.loguniform(1e-4, 1.0),
        "act": hb.choice(["relu", "tanh", "gelu"]),
        "n": hb.integer(1, 8),
        "s": hb.uniform(0.0, 1.0, step=0.25),
    }


class Adam:
    """An option that is a class."""


def conditional_space() -> dict:
    """Branches holding parameters, objects as options, a list, a tuple and a constant."""
    return {
        "optimizer": hb.choice([
            {"name": "adam", "lr": hb.loguniform(1e-4, 1e-1), "cls": Adam},
            {"name": "sgd", "lr": hb.loguniform(1e-3, 1.0), "momentum": hb.uniform(0.0, 0.9),
             "nesterov": hb.choice([True, False])},
        ]),
        "layers": [hb.integer(1, 3), 64],
        "activation": hb.choice([math.sin, math.cos, None]),
        "shape": hb.choice([(1, 2), (3, 4)]),
        "constant": "kept",
    }


def grid_space() -> dict:
    """A flat discrete space (18 configurations), for backends that take only those."""
    return {"n": hb.integer(1, 3), "s": hb.uniform(0.0, 1.0, step=0.5),
            "act": hb.choice(["relu", "tanh"])}


def discrete_conditional_space() -> dict:
    """A conditional discrete space (8 configurations)."""
    return {"opt": hb.choice([{"name": "a", "k": hb.integer(1, 3)}, {"name": "b"}]),
            "act": hb.choice([math.sin, math.cos])}


def space_for(backend: str | BackendInfo, kind: str) -> dict:
    """A space of ``kind`` (``"flat"`` or ``"conditional"``) that ``backend`` can run: a
    discrete one when its capabilities say ``discrete_only``."""
    if resolve(backend).capabilities.discrete_only:
        return grid_space() if kind == "flat" else discrete_conditional_space()
    return flat_space() if kind == "flat" else conditional_space()


def quadratic(config: dict[str, Any]) -> float:
    """An objective for :func:`flat_space` (or the discrete one, on ``n`` and ``s``)."""
    if "x" not in config:
        return config["n"] + config["s"]
    return (config["x"] - 0.5) ** 2 + math.log10(config["lr"]) ** 2 / 10 + config["n"] / 10


def cond_objective(config: dict[str, Any]) -> float:
    """An objective for :func:`conditional_space`."""
    opt = config["optimizer"]
    return abs(math.log10(opt["lr"]) + 2) + config["layers"][0] / 10 + (opt["name"] == "sgd")
