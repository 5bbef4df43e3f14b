"""Reach unbounded priors through a uniform on (0, 1), for backends without them.

``normal(mu, sigma)`` becomes ``u ~ U(EPS, 1 - EPS)`` with value ``mu + sigma * Phi^-1(u)``
(``lognormal``: the ``exp`` of that), so random search under the transform has the same prior
as the native one, truncated at about 7.9 sigma.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from hpo_bridge.space.params import LogNormal, Normal

__all__ = ["EPS", "to_unit", "from_unit"]

#: The unit interval is ``[EPS, 1 - EPS]`` so that the inverse CDF stays finite.
EPS = 1e-15
_STD = NormalDist()


def from_unit(param: Normal, u: float) -> float:
    """The value of ``param`` at quantile ``u``."""
    u = min(max(float(u), EPS), 1.0 - EPS)
    z = param.mu + param.sigma * _STD.inv_cdf(u)
    return math.exp(z) if isinstance(param, LogNormal) else z


def to_unit(param: Normal, value: float) -> float:
    """The quantile of ``value`` under ``param`` (inverse of :func:`from_unit`)."""
    z = math.log(value) if isinstance(param, LogNormal) else float(value)
    u = _STD.cdf((z - param.mu) / param.sigma)
    return min(max(u, EPS), 1.0 - EPS)
