"""The search-space DSL. It knows nothing of any backend: it imports only
:mod:`hpo_bridge.errors` (spaces of other libraries are read by :func:`hpo_bridge.as_space`,
and a space's native forms are written by :mod:`hpo_bridge.convert`)."""

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
from hpo_bridge.space.tree import Dim, Space, compile_space, looks_like_distribution

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
    "choice",
    "compile_space",
    "integer",
    "lognormal",
    "loguniform",
    "looks_like_distribution",
    "normal",
    "uniform",
]
