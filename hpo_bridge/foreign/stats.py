"""Read ``scipy.stats`` frozen distributions (scikit-learn's ``param_distributions``).

==========================================  ===================================================
``uniform(loc, scale)``                     ``uniform(loc, loc + scale)``
``loguniform(a, b, scale=s)``,              ``loguniform(a * s, b * s)`` (``loc`` must be 0)
``reciprocal``
``norm(loc, scale)``                        ``normal(loc, scale)``
``lognorm(s, scale=c)``                     ``lognormal(log(c), s)`` (``loc`` must be 0)
``randint(low, high, loc)``                 ``integer(low + loc, high - 1 + loc)``
any other with finite support ``[a, b]``    ``uniform(a, b)`` / ``loguniform(a, b)`` when its CDF
                                            is that of a uniform / log-uniform on the support
                                            (``beta(1, 1)``); ``integer(a, b)`` when discrete
                                            with equal weights (``bernoulli(0.5)``)
anything else                               refused by name
==========================================  ===================================================
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping, Sequence
from typing import Any

from hpo_bridge.errors import SpaceError
from hpo_bridge.space import Param, choice, integer, lognormal, loguniform, normal, uniform

__all__ = ["param", "structure"]

SUPPORTED = ("uniform, loguniform/reciprocal, norm, lognorm (loc=0), randint, and any "
             "distribution with finite support that is uniform, log-uniform or (discrete) "
             "equally weighted on it")
_MAX_PMF = 100_000


def _bound(frozen: Any) -> dict[str, float]:
    """The frozen distribution's shape, ``loc`` and ``scale`` arguments by name."""
    gen = frozen.dist
    shapes = [s.strip() for s in (gen.shapes or "").split(",") if s.strip()]
    params = [inspect.Parameter(s, inspect.Parameter.POSITIONAL_OR_KEYWORD) for s in shapes]
    params.append(inspect.Parameter("loc", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=0))
    if hasattr(gen, "pdf"):
        params.append(inspect.Parameter("scale", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                        default=1))
    bound = inspect.Signature(params).bind(*frozen.args, **frozen.kwds)
    bound.apply_defaults()
    return {k: float(v) for k, v in bound.arguments.items()}


def _refuse(name: str, frozen: Any, why: str) -> SpaceError:
    label = getattr(getattr(frozen, "dist", None), "name", type(frozen).__name__)
    return SpaceError(f"scipy.stats: parameter {name!r}: {label} {why}; supported are "
                      f"{SUPPORTED}")


def param(frozen: Any, name: str) -> Param:
    """The DSL parameter of a frozen ``scipy.stats`` distribution; ``SpaceError`` if none."""
    if not hasattr(frozen, "dist") or not hasattr(frozen.dist, "shapes"):
        raise _refuse(name, frozen, "is not a frozen univariate distribution")
    try:
        return _known(frozen, name) or _finite(frozen, name)
    except SpaceError:
        raise
    except ValueError as exc:
        raise SpaceError(f"scipy.stats: parameter {name!r}: {exc}") from None


def _known(frozen: Any, name: str) -> Param | None:
    kind, p = frozen.dist.name, _bound(frozen)
    if kind in ("loguniform", "reciprocal", "lognorm") and p["loc"] != 0:
        raise _refuse(name, frozen, f"with loc={p['loc']} is not log-scaled")
    if kind == "uniform":
        return uniform(p["loc"], p["loc"] + p["scale"])
    if kind in ("loguniform", "reciprocal"):
        return loguniform(p["a"] * p["scale"], p["b"] * p["scale"])
    if kind == "norm":
        return normal(p["loc"], p["scale"])
    if kind == "lognorm":
        return lognormal(math.log(p["scale"]), p["s"])
    if kind == "randint":
        return integer(int(p["low"] + p["loc"]), int(p["high"] - 1 + p["loc"]))
    return None


def _finite(frozen: Any, name: str) -> Param:
    low, high = (float(x) for x in frozen.support())
    if not (math.isfinite(low) and math.isfinite(high)):
        raise _refuse(name, frozen, f"has unbounded support [{low}, {high}]")
    if not hasattr(frozen.dist, "pdf"):  # discrete
        if high - low + 1 > _MAX_PMF:
            raise _refuse(name, frozen, "has too many values to check")
        pmf = frozen.pmf(range(int(low), int(high) + 1))
        if pmf.min() <= 0 or pmf.max() - pmf.min() > 1e-12 * pmf.max():
            raise _refuse(name, frozen, "gives its values unequal weights (a DSL integer "
                          "weighs every value equally)")
        return integer(int(low), int(high))
    qs = [i / 10 for i in range(1, 10)]
    pairs = list(zip(qs, frozen.ppf(qs), strict=True))
    if all(abs(x - (low + q * (high - low))) <= 1e-9 * (high - low) for q, x in pairs):
        return uniform(low, high)
    if low > 0 and all(abs(math.log(x) - (math.log(low) + q * math.log(high / low)))
                       <= 1e-9 * math.log(high / low) for q, x in pairs):
        return loguniform(low, high)
    raise _refuse(name, frozen, "is neither uniform nor log-uniform on its support")


def _is_values(obj: Any) -> bool:
    return isinstance(obj, (list, tuple)) or (hasattr(obj, "tolist") and getattr(obj, "ndim",
                                                                                 0) == 1)


def structure(param_distributions: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> Any:
    """The DSL structure of ``param_distributions`` read as ``RandomizedSearchCV`` reads it."""
    if isinstance(param_distributions, (list, tuple)) and all(
            isinstance(d, Mapping) for d in param_distributions) and param_distributions:
        return choice([structure(d) for d in param_distributions])
    if not isinstance(param_distributions, Mapping):
        raise SpaceError("from_scipy: expected a dict {name: distribution or list} or a list "
                         f"of such dicts, got {param_distributions!r}")
    out: dict[str, Any] = {}
    for key, value in param_distributions.items():
        if hasattr(value, "rvs"):
            out[key] = param(value, str(key))
        elif _is_values(value):
            values = value.tolist() if hasattr(value, "tolist") else list(value)
            try:
                out[key] = choice(values)
            except ValueError as exc:
                raise SpaceError(f"from_scipy: parameter {key!r}: {exc}") from None
        else:
            raise SpaceError(f"from_scipy: parameter {key!r}: expected a scipy.stats "
                             f"distribution or a list of values, got {value!r}")
    return out
