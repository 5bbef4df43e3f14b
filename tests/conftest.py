"""Shared fixtures: the backends available here, and spaces every backend must run."""

from __future__ import annotations

import math

import pytest

import hpo_bridge as hb

AVAILABLE = [b.name for b in hb.backends() if b.available]
#: Backends that take continuous parameters (grid needs discrete ones).
CONTINUOUS = [b.name for b in hb.backends() if b.available and not b.capabilities.discrete_only]


def flat_space() -> dict:
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
    return {"n": hb.integer(1, 3), "s": hb.uniform(0.0, 1.0, step=0.5),
            "act": hb.choice(["relu", "tanh"])}


def space_for(backend: str, kind: str) -> dict:
    """A space of ``kind`` (flat/conditional) that ``backend`` can run."""
    if "grid" in backend:
        return grid_space() if kind == "flat" else {
            "opt": hb.choice([{"name": "a", "k": hb.integer(1, 3)}, {"name": "b"}]),
            "act": hb.choice([math.sin, math.cos]),
        }
    return flat_space() if kind == "flat" else conditional_space()


def quadratic(config: dict) -> float:
    return (config["x"] - 0.5) ** 2 + math.log10(config["lr"]) ** 2 / 10 + config["n"] / 10


def cond_objective(config: dict) -> float:
    opt = config["optimizer"]
    return abs(math.log10(opt["lr"]) + 2) + config["layers"][0] / 10 + (opt["name"] == "sgd")


@pytest.fixture(params=AVAILABLE)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param
