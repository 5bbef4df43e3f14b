"""Classic synthetic test functions with exactly known minima.

Each objective takes a flat configuration ``{"x1": ..., "x2": ..., ...}`` and returns a float.
All functions are module-level so that they pickle by reference into worker processes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence

from hpo_bridge.bench.problems.base import Problem
from hpo_bridge.space import SpaceLike, uniform

# Hartmann 6-D constants (Dixon & Szegö 1978; as in the SFU virtual library of test functions).
_H6_ALPHA = (1.0, 1.2, 3.0, 3.2)
_H6_A = (
    (10.0, 3.0, 17.0, 3.5, 1.7, 8.0),
    (0.05, 10.0, 17.0, 0.1, 8.0, 14.0),
    (3.0, 3.5, 1.7, 10.0, 17.0, 8.0),
    (17.0, 8.0, 0.05, 10.0, 0.1, 14.0),
)
_H6_P = (
    (0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886),
    (0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991),
    (0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650),
    (0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381),
)

#: Known minimizers, used by tests and notebooks (one per problem; some have several).
MINIMIZERS: dict[str, dict[str, float]] = {
    "branin": {"x1": math.pi, "x2": 2.275},
    "hartmann6": dict(
        zip(
            ("x1", "x2", "x3", "x4", "x5", "x6"),
            (0.20168952, 0.15001069, 0.47687398, 0.27533243, 0.31165162, 0.65730054),
            strict=True,
        )
    ),
    "rosenbrock": {"x1": 1.0, "x2": 1.0},
    "rosenbrock-4d": {f"x{i}": 1.0 for i in range(1, 5)},
    "ackley": {f"x{i}": 0.0 for i in range(1, 6)},
    "six-hump-camel": {"x1": 0.08984201368301331, "x2": -0.7126564032704135},
}


def _vector(config: Mapping[str, float]) -> list[float]:
    """The values ``x1, x2, ..., xd`` of a flat configuration, in order."""
    return [float(config[f"x{i}"]) for i in range(1, len(config) + 1)]


def _box(dim: int, low: float, high: float) -> dict[str, object]:
    """A flat space ``{"x1": uniform(low, high), ...}`` of ``dim`` coordinates."""
    return {f"x{i}": uniform(low, high) for i in range(1, dim + 1)}


def branin(config: Mapping[str, float]) -> float:
    """Branin-Hoo function; minimum 5/(4*pi) = 0.397887 at (-pi, 12.275), (pi, 2.275), (9.42478, 2.475).

    Example:
        >>> round(branin({"x1": math.pi, "x2": 2.275}), 6)
        0.397887
    """
    x1, x2 = float(config["x1"]), float(config["x2"])
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def hartmann6(config: Mapping[str, float]) -> float:
    """Hartmann 6-D function on [0, 1]^6; minimum -3.32237 (see ``MINIMIZERS``).

    Example:
        >>> round(hartmann6(MINIMIZERS["hartmann6"]), 5)
        -3.32237
    """
    return hartmann6_shifted(_vector(config))


def hartmann6_shifted(x: list[float], shift: float = 0.0) -> float:
    """Hartmann 6-D at ``x`` with every ``alpha_i`` lowered by ``shift`` (0: the function
    itself; the multi-fidelity Hartmann of ``hartmann6-mf`` lowers them at low fidelity)."""
    total = 0.0
    for alpha, a_row, p_row in zip(_H6_ALPHA, _H6_A, _H6_P, strict=True):
        terms = zip(a_row, x, p_row, strict=True)
        total -= (alpha - shift) * math.exp(-sum(a * (xi - p) ** 2 for a, xi, p in terms))
    return total


def rosenbrock(config: Mapping[str, float]) -> float:
    """Rosenbrock function in any dimension; minimum 0 at (1, ..., 1).

    Example:
        >>> rosenbrock({"x1": 1.0, "x2": 1.0})
        0.0
    """
    x = _vector(config)
    return float(sum(100 * (b - a**2) ** 2 + (1 - a) ** 2 for a, b in itertools.pairwise(x)))


def ackley(config: Mapping[str, float]) -> float:
    """Ackley function (a=20, b=0.2, c=2*pi) in any dimension; minimum 0 at the origin.

    Example:
        >>> abs(ackley({"x1": 0.0, "x2": 0.0})) < 1e-12
        True
    """
    x = _vector(config)
    n = len(x)
    rms = math.sqrt(sum(v * v for v in x) / n)
    mean_cos = sum(math.cos(2 * math.pi * v) for v in x) / n
    return -20 * math.exp(-0.2 * rms) - math.exp(mean_cos) + 20 + math.e


def six_hump_camel(config: Mapping[str, float]) -> float:
    """Six-hump camel function; minimum -1.031628 at (0.0898, -0.7126) and (-0.0898, 0.7126).

    Example:
        >>> round(six_hump_camel({"x1": 0.0898, "x2": -0.7126}), 4)
        -1.0316
    """
    x1, x2 = float(config["x1"]), float(config["x2"])
    return (4 - 2.1 * x1**2 + x1**4 / 3) * x1**2 + x1 * x2 + (-4 + 4 * x2**2) * x2**2


def _problem(name: str, space: SpaceLike, objective: Callable[[Mapping[str, float]], float],
             optimum: float, quick: bool, text: str) -> Problem:
    return Problem(name, space, objective, optimum, "cheap", quick, text)


PROBLEMS: Sequence[Problem] = (
    _problem(
        "branin",
        {"x1": uniform(-5.0, 10.0), "x2": uniform(0.0, 15.0)},
        branin,
        5 / (4 * math.pi),
        True,
        "Branin-Hoo, 2-D, x1 in [-5, 10], x2 in [0, 15]; three global minima of 0.397887.",
    ),
    _problem(
        "hartmann6",
        _box(6, 0.0, 1.0),
        hartmann6,
        -3.322368011415515,
        True,
        "Hartmann 6-D on [0, 1]^6; global minimum -3.32237 near "
        "(0.2017, 0.1500, 0.4769, 0.2753, 0.3117, 0.6573).",
    ),
    _problem(
        "rosenbrock",
        _box(2, -5.0, 10.0),
        rosenbrock,
        0.0,
        False,
        "Rosenbrock valley, 2-D on [-5, 10]^2; global minimum 0 at (1, 1).",
    ),
    _problem(
        "rosenbrock-4d",
        _box(4, -5.0, 10.0),
        rosenbrock,
        0.0,
        False,
        "Rosenbrock valley, 4-D on [-5, 10]^4; global minimum 0 at (1, 1, 1, 1).",
    ),
    _problem(
        "ackley",
        _box(5, -32.768, 32.768),
        ackley,
        0.0,
        False,
        "Ackley (a=20, b=0.2, c=2*pi), 5-D on [-32.768, 32.768]^5; many local minima, "
        "global minimum 0 at the origin.",
    ),
    _problem(
        "six-hump-camel",
        {"x1": uniform(-3.0, 3.0), "x2": uniform(-2.0, 2.0)},
        six_hump_camel,
        -1.0316284534898774,
        False,
        "Six-hump camel, 2-D, x1 in [-3, 3], x2 in [-2, 2]; two global minima of -1.031628.",
    ),
)
