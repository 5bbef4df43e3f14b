"""Parameters: frozen values whose repr reads like the call that made them.

Every parameter checks its arguments where it is made and raises ``hb.SpaceError`` (a
``ValueError``) stating the rule and the values it got. Parameters know nothing of any backend.

Both ends of every range are included. Discrete parameters (``integer``, stepped ``uniform``)
are grids of ``size`` equally likely values ``low + k * step``: exact integers for ``integer``
(whatever their size); for ``uniform``, ``low + k * step`` computed exactly from the two floats,
then snapped to the shortest decimal within the floats' own rounding (one ulp of the value plus
half an ulp of ``low`` and of each step): ``0.1 * 3`` is ``0.3``, not ``0.30000000000000004``,
and ``-0.3 + 3 * 0.1`` is ``0.0``, not ``5.55e-17``.
"""

from __future__ import annotations

import math
from fractions import Fraction
from dataclasses import dataclass, field
from typing import Any, Sequence

from hpo_bridge.errors import SpaceError

__all__ = [
    "Param",
    "Uniform",
    "LogUniform",
    "Integer",
    "Choice",
    "Normal",
    "LogNormal",
    "uniform",
    "loguniform",
    "integer",
    "choice",
    "normal",
    "lognormal",
]

_GRID_TOL = 1e-9


def _check_finite(func: str, **values: float) -> None:
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SpaceError(f"{func}: {key} must be a real number, got {value!r}")
        if not math.isfinite(value):
            raise SpaceError(f"{func}: {key} must be finite, got {value!r}")


def _check_bounds(func: str, low: float, high: float) -> None:
    _check_finite(func, low=low, high=high)
    if not low < high:
        raise SpaceError(f"{func}: low must be < high, got low={low!r}, high={high!r}")


def _grid_size(func: str, low: float, high: float, step: float) -> int:
    _check_finite(func, step=step)
    if step <= 0:
        raise SpaceError(f"{func}: step must be > 0, got step={step!r}")
    if all(isinstance(v, int) for v in (low, high, step)):  # exact, whatever the size
        n, rest = divmod(high - low, step)
        fits = rest == 0
    else:
        span = (high - low) / step
        n = round(span)
        fits = abs(span - n) <= _GRID_TOL * max(1.0, abs(span))
    if not fits:
        raise SpaceError(
            f"{func}: step must divide high - low, got low={low!r}, high={high!r}, step={step!r}"
        )
    if n < 1:
        raise SpaceError(f"{func}: step must be <= high - low, got step={step!r}")
    return int(n) + 1


def _snap(exact: Fraction, tol: float) -> float:
    """The shortest decimal within ``tol`` of ``exact``, else the float nearest to it.

    Zero is the shortest decimal of all: a grid through zero (``-0.3 + 3 * 0.1``) gives
    ``0.0``, not the ``5.55e-17`` that the floats' rounding leaves there (issue 26, D5).
    """
    value = float(exact)
    if abs(value) <= tol:
        return 0.0
    for digits in range(1, 17):
        short = float(f"{value:.{digits}g}")
        if abs(short - value) <= tol:
            return short
    return value


class Param:
    """Base of all parameters. Subclasses are frozen dataclasses."""

    #: Whether the parameter takes finitely many values.
    discrete: bool = False

    @property
    def indexed(self) -> bool:
        """Whether backends reach it through a grid index (see ``Grid.indexed``)."""
        return False

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a value this parameter can take."""
        raise NotImplementedError

    def canonical(self, value: Any) -> Any:
        """The exact Python value this parameter gives for a (native, maybe NumPy) ``value``."""
        raise NotImplementedError


@dataclass(frozen=True, repr=False)
class Grid(Param):
    """A bounded range, continuous or on the grid ``low + k * step``."""

    low: float
    high: float
    step: float | None = None

    @property
    def size(self) -> int | None:
        """Number of grid values, or ``None`` when continuous."""
        size: int | None = self.__dict__["_size"]  # set by the subclass's checks
        return size

    def _grid(self, what: str = "it has no grid") -> tuple[float, int]:
        """``(step, size)``; ``SpaceError`` when continuous."""
        if self.step is None or self.size is None:
            raise SpaceError(f"{self!r} is continuous: {what}")
        return self.step, self.size

    def grid_value(self, k: int) -> float:
        """The ``k``-th grid value (``0 <= k < size``): exact for ints, snapped for floats."""
        step, size = self._grid()
        if k == size - 1:
            return self.high
        if isinstance(self.low, int) and isinstance(step, int):
            return self.low + k * step
        exact = Fraction(self.low) + k * Fraction(step)
        # low and step stand for decimals to half an ulp each: k steps drift by k half-ulps.
        drift = (math.ulp(self.low) + k * math.ulp(step)) / 2 + math.ulp(float(exact))
        return _snap(exact, min(drift, _GRID_TOL * step))

    def grid_index(self, value: float) -> int:
        """Index of the grid value nearest to ``value``, clipped to the grid."""
        step, size = self._grid()
        exact = isinstance(value, int) or hasattr(value, "__index__")
        if exact and isinstance(self.low, int) and isinstance(step, int):
            k = round(Fraction(int(value) - self.low, step))
        else:
            k = round((float(value) - self.low) / step)
        return min(max(k, 0), size - 1)

    @property
    def indexed(self) -> bool:
        """Whether backends reach this parameter through its grid index ``0 .. size - 1``
        (every grid but the plain integers, which libraries take as they are)."""
        return self.step is not None and not (isinstance(self, Integer) and self.step == 1)

    def value_at(self, k: float) -> Any:
        """The parameter's value at grid index ``k`` (rounded and clipped to the grid)."""
        size = self._grid()[1]
        return self.canonical(self.grid_value(min(max(round(k), 0), size - 1)))

    def values(self) -> list:
        """Every value of a discrete parameter, in order."""
        size = self._grid("it has no finite list of values")[1]
        return [self.canonical(self.grid_value(k)) for k in range(size)]


@dataclass(frozen=True, repr=False)
class Uniform(Grid):
    """A float uniform on ``[low, high]``; with ``step``, uniform on the grid."""

    def __post_init__(self) -> None:
        _check_bounds("uniform", self.low, self.high)
        size = None if self.step is None else _grid_size("uniform", self.low, self.high, self.step)
        object.__setattr__(self, "_size", size)
        object.__setattr__(self, "discrete", self.step is not None)

    def __repr__(self) -> str:
        step = "" if self.step is None else f", step={self.step!r}"
        return f"uniform({self.low!r}, {self.high!r}{step})"

    def contains(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.step is None:
            return self.low <= value <= self.high
        # a grid value as a float computes it (-0.1 + 3 * 0.1 is 0.20000000000000004, past
        # high=0.2): the nearest grid value, within the tolerance, whatever side of the end
        if not math.isfinite(value):
            return False
        return abs(self.grid_value(self.grid_index(value)) - value) <= _GRID_TOL * self.step

    def canonical(self, value: Any) -> float:
        value = float(value)
        if self.step is not None:
            return float(self.grid_value(self.grid_index(value)))
        return min(max(value, float(self.low)), float(self.high))


@dataclass(frozen=True, repr=False)
class LogUniform(Param):
    """A float whose log is uniform on ``[log(low), log(high)]``; bounds in real units."""

    low: float
    high: float

    def __post_init__(self) -> None:
        _check_bounds("loguniform", self.low, self.high)
        if self.low <= 0:
            raise SpaceError(f"loguniform: low must be > 0, got low={self.low!r}")

    def __repr__(self) -> str:
        return f"loguniform({self.low!r}, {self.high!r})"

    def contains(self, value: Any) -> bool:
        return (
            not isinstance(value, bool)
            and isinstance(value, (int, float))
            and self.low <= value <= self.high
        )

    def canonical(self, value: Any) -> float:
        return min(max(float(value), float(self.low)), float(self.high))


@dataclass(frozen=True, repr=False)
class Integer(Grid):
    """An int on ``low, low + step, ..., high`` (both ends included), optionally log-scaled."""

    step: int = 1
    log: bool = False

    def __post_init__(self) -> None:
        for key in ("low", "high", "step"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int):
                raise SpaceError(f"integer: {key} must be an int, got {value!r}")
        _check_bounds("integer", self.low, self.high)
        object.__setattr__(self, "_size", _grid_size("integer", self.low, self.high, self.step))
        if self.log and self.low <= 0:
            raise SpaceError(f"integer: log=True needs low > 0, got low={self.low!r}")
        if self.log and self.step != 1:
            raise SpaceError(f"integer: log=True needs step == 1, got step={self.step!r}")
        object.__setattr__(self, "discrete", True)

    def __repr__(self) -> str:
        extra = "" if self.step == 1 else f", step={self.step!r}"
        extra += ", log=True" if self.log else ""
        return f"integer({self.low!r}, {self.high!r}{extra})"

    def contains(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int):
            return False
        return self.low <= value <= self.high and (value - self.low) % self.step == 0

    def canonical(self, value: Any) -> int:
        return int(self.grid_value(self.grid_index(value)))


@dataclass(frozen=True, repr=False, eq=False)
class Choice(Param):
    """One of ``options``; any Python objects. Options holding parameters are branches."""

    options: Sequence[Any] = field(default=())  # stored as a tuple

    def __post_init__(self) -> None:
        if isinstance(self.options, (str, bytes, dict)) or not isinstance(
            self.options, Sequence
        ):
            raise SpaceError(
                f"choice: options must be a list or tuple, got {type(self.options).__name__}"
            )
        if len(self.options) == 0:
            raise SpaceError("choice: options must not be empty")
        object.__setattr__(self, "options", tuple(self.options))
        object.__setattr__(self, "discrete", True)
        _check_distinct(self.options)

    def __repr__(self) -> str:
        return f"choice({list(self.options)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Choice) or len(other.options) != len(self.options):
            return False
        return all(same_option(a, b) for a, b in zip(self.options, other.options))

    def __hash__(self) -> int:
        return hash(("choice", len(self.options)))

    def contains(self, value: Any) -> bool:
        return isinstance(value, int) and 0 <= value < len(self.options)

    def canonical(self, value: Any) -> int:
        return int(value)


def _check_distinct(options: Sequence[Any]) -> None:
    """Options must differ: a repeated option could not be told apart on encode or resume."""
    seen: dict[Any, int] = {}
    unhashable: list[tuple[int, Any]] = []
    for i, option in enumerate(options):
        try:
            key = (type(option), option)
            j = seen.setdefault(key, i)
        except TypeError:
            j = next((k for k, other in unhashable if same_option(other, option)), i)
            unhashable.append((i, option))
        if j != i:
            raise SpaceError(
                f"choice: options must be distinct, option {i} repeats option {j} ({option!r})"
            )


def same_option(a: Any, b: Any) -> bool:
    """Whether two options are the same: the same object, or equal values of one type."""
    if a is b:
        return True
    try:
        return bool(type(a) is type(b) and a == b)
    except Exception:  # e.g. NumPy arrays compare elementwise
        return False


@dataclass(frozen=True, repr=False)
class Normal(Param):
    """An unbounded float with a normal prior ``N(mu, sigma**2)``."""

    mu: float
    sigma: float

    def __post_init__(self) -> None:
        _check_finite(self._func, mu=self.mu, sigma=self.sigma)
        if self.sigma <= 0:
            raise SpaceError(f"{self._func}: sigma must be > 0, got sigma={self.sigma!r}")

    _func = "normal"

    def __repr__(self) -> str:
        return f"{self._func}({self.mu!r}, {self.sigma!r})"

    def contains(self, value: Any) -> bool:
        return (
            not isinstance(value, bool)
            and isinstance(value, (int, float))
            and math.isfinite(value)
        )

    def canonical(self, value: Any) -> float:
        return float(value)


@dataclass(frozen=True, repr=False)
class LogNormal(Normal):
    """A positive float whose log has a normal prior ``N(mu, sigma**2)``."""

    _func = "lognormal"

    def contains(self, value: Any) -> bool:
        return super().contains(value) and value > 0


def uniform(low: float, high: float, step: float | None = None) -> Uniform:
    """A float uniform on ``[low, high]``, or on the grid ``low + k*step`` when ``step`` is given.

    Example:
        >>> uniform(0.0, 1.0, step=0.25)
        uniform(0.0, 1.0, step=0.25)
    """
    return Uniform(low, high, step)


def loguniform(low: float, high: float) -> LogUniform:
    """A float log-uniform on ``[low, high]`` (bounds in real units, ``0 < low < high``).

    Example:
        >>> loguniform(1e-5, 1e-1)
        loguniform(1e-05, 0.1)
    """
    return LogUniform(low, high)


def integer(low: int, high: int, step: int = 1, log: bool = False) -> Integer:
    """An int in ``[low, high]``, both ends included, every value equally likely.

    Example:
        >>> integer(16, 256, log=True)
        integer(16, 256, log=True)
    """
    return Integer(low, high, step, log)


def choice(options: Sequence[Any]) -> Choice:
    """One of ``options``: any Python objects; the objective gets the object itself.

    Options that hold parameters (a dict, list or tuple with parameters inside) make those
    parameters conditional on the option being chosen.

    Example:
        >>> choice(["relu", "tanh"])
        choice(['relu', 'tanh'])
    """
    return Choice(options)


def normal(mu: float, sigma: float) -> Normal:
    """An unbounded float with prior ``N(mu, sigma**2)``.

    Example:
        >>> normal(0.0, 1.0)
        normal(0.0, 1.0)
    """
    return Normal(mu, sigma)


def lognormal(mu: float, sigma: float) -> LogNormal:
    """A positive float ``exp(N(mu, sigma**2))``.

    Example:
        >>> lognormal(0.0, 1.0)
        lognormal(0.0, 1.0)
    """
    return LogNormal(mu, sigma)
