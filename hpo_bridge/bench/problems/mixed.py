"""``mixed``: integer, object-valued categorical and conditional parameters with a known optimum.

The objective is a sum of independent non-negative terms, each zero only at one point, so the
global minimum is exactly 0 and its minimizer is known::

    loss = (n - 3)**2 / 10                      # integer n in [-5, 5]           -> 0 at n = 3
         + shape(x)                              # shape: one of three functions  -> 0 for bowl(0.25)
         + model_term(model)                     # conditional branch             -> 0 for the tree below
         + (step - 0.5)**2                       # stepped uniform on 0, 0.1, ... -> 0 at 0.5

The ``shape`` options are function objects (``bowl``, ``ramp``, ``wave``) that the objective calls:
``bowl(x) = (x - 0.25)**2`` reaches 0, ``ramp`` never goes below 0.5 and ``wave`` never below 0.2.
``model`` is a choice of a constant (``"none"``, term 1.0), a ``linear`` branch with
``alpha`` (term ``(log10(alpha) + 1)**2 + 0.25``, at best 0.25) and a ``tree`` branch with
``depth`` and a nested ``criterion`` choice (term ``|depth - 4| / 4 + 0.1 * (criterion != "entropy")``).

Minimizer (``MIXED_MINIMIZER``): ``n=3, shape=bowl, x=0.25, step=0.5,
model={"kind": "tree", "depth": 4, "criterion": "entropy"}``; minimum 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from hpo_bridge.bench.problems.base import Problem
from hpo_bridge.space import choice, integer, loguniform, uniform


def bowl(x: float) -> float:
    """``(x - 0.25)**2``: minimum 0 at 0.25."""
    return (x - 0.25) ** 2


def ramp(x: float) -> float:
    """``0.5 + |x|``: minimum 0.5 at 0."""
    return 0.5 + abs(x)


def wave(x: float) -> float:
    """``1.2 + sin(3x)``: minimum 0.2 on [-1, 1]."""
    return 1.2 + math.sin(3 * x)


def _model_term(model: Any) -> float:
    if model == "none":
        return 1.0
    if model["kind"] == "linear":
        return (math.log10(model["alpha"]) + 1) ** 2 + 0.25
    if model["kind"] == "tree":
        depth: int = model["depth"]
        return abs(depth - 4) / 4 + (0.0 if model["criterion"] == "entropy" else 0.1)
    raise ValueError(f"mixed: unknown model option {model!r}")


def mixed(config: Mapping[str, Any]) -> float:
    """The ``mixed`` objective; 0 exactly at ``MIXED_MINIMIZER``.

    Example:
        >>> mixed(MIXED_MINIMIZER)
        0.0
    """
    shape: Callable[[float], float] = config["shape"]
    n: int = config["n"]
    step: float = config["step"]
    return (n - 3) ** 2 / 10 + shape(config["x"]) + _model_term(config["model"]) + (step - 0.5) ** 2


MIXED_SPACE: dict[str, Any] = {
    "n": integer(-5, 5),
    "shape": choice([bowl, ramp, wave]),
    "x": uniform(-1.0, 1.0),
    "step": uniform(0.0, 1.0, step=0.1),
    "model": choice(
        [
            "none",
            {"kind": "linear", "alpha": loguniform(1e-3, 10.0)},
            {"kind": "tree", "depth": integer(1, 10), "criterion": choice(["gini", "entropy"])},
        ]
    ),
}

#: The configuration at which ``mixed`` is exactly 0.
MIXED_MINIMIZER: dict[str, Any] = {
    "n": 3,
    "shape": bowl,
    "x": 0.25,
    "step": 0.5,
    "model": {"kind": "tree", "depth": 4, "criterion": "entropy"},
}

PROBLEMS = (
    Problem(
        name="mixed",
        space=MIXED_SPACE,
        objective=mixed,
        optimum=0.0,
        cost="cheap",
        quick=True,
        description=(
            "Synthetic mixed space: integer n, a choice of function objects (bowl/ramp/wave) applied "
            "to a float x, a stepped uniform, and a conditional model choice ('none' | linear{alpha} | "
            "tree{depth, criterion}). Sum of independent terms; global minimum 0 at n=3, shape=bowl, "
            "x=0.25, step=0.5, model=tree(depth=4, criterion='entropy')."
        ),
    ),
)
