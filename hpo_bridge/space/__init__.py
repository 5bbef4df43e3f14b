"""The search-space DSL. It knows nothing of any backend."""

from hpo_bridge.space.params import (
    Choice,
    Grid,
    Integer,
    LogNormal,
    LogUniform,
    Normal,
    Param,
    Uniform,
    choice,
    integer,
    lognormal,
    loguniform,
    normal,
    uniform,
)
from hpo_bridge.space.tree import Dim, Space, as_space, looks_like_distribution

__all__ = [
    "Choice",
    "Dim",
    "Grid",
    "Integer",
    "LogNormal",
    "LogUniform",
    "Normal",
    "Param",
    "Space",
    "Uniform",
    "as_space",
    "choice",
    "integer",
    "lognormal",
    "loguniform",
    "looks_like_distribution",
    "normal",
    "uniform",
]
