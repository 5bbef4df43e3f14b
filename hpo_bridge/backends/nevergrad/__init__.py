"""Nevergrad backends, declared to the registry through the entry point in ``pyproject.toml``.

This module imports no nevergrad: ``hb.backends()`` lists these backends whether or not
nevergrad is installed (``pip install 'hpo_bridge[nevergrad]'``).
"""

from __future__ import annotations

from dataclasses import replace

from hpo_bridge.backends.base import Capabilities
from hpo_bridge.backends.registry import BackendInfo

__all__ = ["BACKENDS"]

# Every branch's parameters are proposed (encoded conditionals); a failure is told 5e20, what
# nevergrad's tell makes of inf and NaN; NGOpt chooses its algorithm from budget and workers.
# fcmaes: nevergrad's CMA (in NGOpt's portfolio too) runs it on one-dimensional spaces.
_CAPS = Capabilities(conditional="encoded", objects="indices", failures="penalty",
                     unbounded="transform", planned=True)


# Several objectives and constraints: nevergrad's own (a list of losses, constraint_violation;
# see adapter.py); random search ignores values.
def _info(algorithm: str, optimizer: str, replicates: bool = True) -> BackendInfo:
    caps = replace(_CAPS, replicates=replicates, objectives="native", constraints="native")
    if algorithm == "random":
        caps = replace(caps, objectives="unused", constraints="unused")
    return BackendInfo(
        name=f"nevergrad:{algorithm}", library="nevergrad", algorithm=algorithm,
        runs=f"nevergrad.optimizers.{optimizer}, through its ask/tell",
        target="hpo_bridge.backends.nevergrad.adapter:NevergradAdapter",
        requires=("nevergrad", "fcmaes"), package="hpo_bridge", extra="nevergrad",
        options={"optimizer": optimizer},
        capabilities=caps,
    )


BACKENDS = [
    # NGOpt chooses COBYLA, deterministic, for bounded continuous spaces: seeds are not replicates.
    _info("ngopt", "NGOpt", replicates=False),
    _info("de", "TwoPointsDE"),
    _info("cma", "CMA"),
    _info("random", "RandomSearch"),
]
