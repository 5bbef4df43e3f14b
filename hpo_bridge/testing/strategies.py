"""Hypothesis strategies for random spaces: nesting, conditionals, object options, steps, logs.

Example:
    >>> from hypothesis import given
    >>> from hpo_bridge.testing.strategies import SPACES
    >>> @given(raw=SPACES)
    ... def test_my_translator(raw): ...
"""

from __future__ import annotations

import math
from decimal import Decimal

from hypothesis import strategies as st

import hpo_bridge as hb


class Marker:
    """A class used as a choice option."""


def _f(x: float) -> float:
    return x


CONSTANTS = st.sampled_from([None, 0, 1, "a", "b", 2.5, True, (1, 2), Marker, _f, math.sin])


@st.composite
def uniforms(draw: st.DrawFn) -> hb.space.Uniform:
    low = draw(st.integers(-20, 20)) / 4
    if draw(st.booleans()):
        step = draw(st.sampled_from([0.25, 0.5, 1.0, 2.0]))
        return hb.uniform(low, low + draw(st.integers(1, 8)) * step, step=step)
    if draw(st.integers(0, 3)) == 0:  # a decimal grid through zero: 0.0 exactly on it
        step = draw(st.sampled_from([0.1, 0.3, 0.05]))
        below, above = draw(st.integers(1, 6)), draw(st.integers(1, 6))
        return hb.uniform(float(-below * Decimal(repr(step))),
                          float(above * Decimal(repr(step))), step=step)
    return hb.uniform(low, low + draw(st.floats(0.01, 100.0)))


@st.composite
def integers(draw: st.DrawFn) -> hb.space.Integer:
    if draw(st.booleans()):
        low = draw(st.integers(1, 50))
        return hb.integer(low, low + draw(st.integers(1, 500)), log=True)
    low, step = draw(st.integers(-10, 10)), draw(st.integers(1, 3))
    return hb.integer(low, low + draw(st.integers(1, 8)) * step, step=step)


@st.composite
def logs(draw: st.DrawFn) -> hb.space.LogUniform:
    low = 10 ** draw(st.floats(-6, 1))
    return hb.loguniform(low, low * 10 ** draw(st.floats(0.1, 5)))


NUMERIC = st.one_of(
    uniforms(), integers(), logs(),
    st.builds(hb.normal, st.floats(-5, 5), st.floats(0.1, 3)),
    st.builds(hb.lognormal, st.floats(-2, 2), st.floats(0.1, 1)),
)


def _choices(children: st.SearchStrategy) -> st.SearchStrategy:
    option = st.one_of(CONSTANTS, st.dictionaries(st.sampled_from("pqr"), children,
                                                  min_size=1, max_size=2))
    return st.lists(option, min_size=1, max_size=4, unique_by=repr).map(hb.choice)


LEAVES = st.one_of(NUMERIC, NUMERIC, CONSTANTS)
NODES = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        _choices(children),
        st.dictionaries(st.sampled_from("uvw"), children, min_size=1, max_size=3),
        st.lists(children, min_size=1, max_size=2),
        st.lists(children, min_size=1, max_size=2).map(tuple),
    ),
    max_leaves=6,
)


def _has_param(obj: object) -> bool:
    if isinstance(obj, hb.space.Param):
        return True
    if isinstance(obj, dict):
        return any(_has_param(v) for v in obj.values())
    return isinstance(obj, (list, tuple)) and any(_has_param(v) for v in obj)


#: Whole spaces: a dict of named nodes with at least one parameter.
SPACES = st.dictionaries(st.sampled_from(list("abcdefgh")), NODES, min_size=1,
                         max_size=4).filter(_has_param)
