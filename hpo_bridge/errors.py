"""The errors hpo_bridge raises, and where each comes from.

::

    Exception
     ├── ValueError
     │    └── SpaceError ............ a space, configuration or argument breaks a rule
     │         │                      (space/, foreign/, the importers, Optimizer, minimize,
     │         │                      compare, the registry; a backend option whose value the
     │         │                      library refuses when the optimizer is built)
     │         └── UnsupportedError . a backend cannot run this space or feature (it says why)
     ├── ImportError
     │    └── MissingBackendError ... the backend's library is not installed (names the extra)
     ├── TypeError
     │    └── ObjectiveError ........ the objective cannot take a configuration or returned
     │                                something that is not a number (stops the run)
     ├── RuntimeError
     │    ├── BackendError .......... a backend's adapter proposed a configuration outside
     │    │                           the space (names the backend; checked on every ask)
     │    ├── NoSuccessfulTrialError  every trial failed (carries the first failure)
     │    ├── StorageError .......... a storage cannot be opened, read or written (says why)
     │    └── CallbackError ......... a callback raised (names it and the trial; stops the run)
     └── TrialPruned ................ raised by ``trial.report`` when the pruner stops a trial

Every error is raised before the first trial when it can be known then. An error that stops
a run once trials have run (``ObjectiveError``, an exception outside ``catch``, an error of the
backend's library) carries the :class:`~hpo_bridge.Result` of every finished trial as
``.result``.

A library's own error becomes one of these where the bridge can add meaning, with the original
chained as ``__cause__`` (:func:`map_errors`): a storage library's error is a ``StorageError``
naming the file and the fix, and an option value the backend's library refuses when the
optimizer is built is a ``SpaceError`` naming the backend and the options given. An error of
the backend's library while it proposes or is told a trial is raised as it is (the bridge
cannot say more than the library), with a note naming the backend and the trial.
"""

from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Callable, Iterator
from typing import Any

__all__ = [
    "SpaceError",
    "UnsupportedError",
    "MissingBackendError",
    "BackendError",
    "NoSuccessfulTrialError",
    "ObjectiveError",
    "StorageError",
    "TrialPruned",
    "CallbackError",
    "map_errors",
]


class SpaceError(ValueError):
    """A space, a configuration or an argument breaks a rule; the message names it."""


class BackendError(RuntimeError):
    """A backend's adapter broke the protocol (a proposal outside the space); the message
    names the backend. A defect of the adapter, not of the user's space or objective."""


class UnsupportedError(SpaceError):
    """A backend cannot run this space or feature; raised before the first trial."""


class MissingBackendError(ImportError):
    """The library behind a backend is not installed; the message names the pip extra."""


class ObjectiveError(TypeError):
    """The objective is not usable as written: its signature cannot take the configuration, or
    it returned something that is not a number (a string, ``None``, a mapping without
    ``"value"``/``"loss"``). Raised after the first such trial, with ``.result`` (the finished
    trials; ``None`` when found before the first trial)."""

    result: Any = None


class NoSuccessfulTrialError(RuntimeError):
    """No trial of a run succeeded. ``first_error`` holds the first failure's message."""

    result: Any = None  #: the :class:`~hpo_bridge.Result` of the run

    def __init__(self, message: str, first_error: str | None = None) -> None:
        super().__init__(message)
        self.first_error = first_error


class StorageError(RuntimeError):
    """A storage cannot be opened, read or written: names the file or URL and what to do.

    The storage library's own error is chained as ``__cause__``.
    """


class CallbackError(RuntimeError):
    """A callback raised: names the callback and the trial; the callback's exception is the
    ``__cause__``, and ``.result`` holds every finished trial (the run stopped)."""

    result: Any = None


class TrialPruned(Exception):
    """Raised by ``trial.report`` when the pruner stops the trial; let it propagate.

    An objective may raise it again with what the trial got before it stopped, a number or
    a mapping with ``"value"`` and metrics, as it would return it: ``raise
    hb.TrialPruned(value={"value": partial_mean, "folds": 2}) from None``. The pruned
    trial's record then keeps that value (instead of its last reported one) and its metrics,
    also from a worker process.
    """

    def __init__(self, *args: object, value: Any = None) -> None:
        super().__init__(*args)
        self.value = value


@contextlib.contextmanager
def map_errors(kinds: tuple[type[Exception], ...],
               wrap: Callable[[Exception], Exception]) -> Iterator[None]:
    """Turn a library's error of one of ``kinds`` into the bridge's error ``wrap(exc)``, which
    says what the bridge knows (which backend, which option, the fix); the original is chained
    as ``__cause__``. Errors raised by hpo_bridge itself pass through unchanged (httpx's
    ``map_exceptions`` does this).

    Example:
        >>> try:
        ...     with map_errors((KeyError,), lambda e: SpaceError(f"no option {e}")):
        ...         {}["x"]
        ... except SpaceError as exc:
        ...     print(exc, "| from", repr(exc.__cause__))
        no option 'x' | from KeyError('x')
    """
    try:
        yield
    except kinds as exc:
        if type(exc).__module__.split(".")[0] == "hpo_bridge":
            raise
        raise wrap(exc) from exc


#: How to write each count or time the run functions take, said when one is refused.
_POSITIVE_HINTS = {
    "max_evals": "the number of trials, e.g. max_evals=50",
    "timeout": "seconds for the whole run, e.g. timeout=600; None for no limit",
    "trial_timeout": "seconds for one trial, e.g. trial_timeout=60; None for no limit",
    "n_jobs": "trials at once, e.g. n_jobs=2; 1 runs them one at a time in this process",
    "seeds": "how many seeds, e.g. 5 for seeds 0-4; or a list of seeds",
}


def check_positive(name: str, value: Any, kind: type = int, optional: bool = True) -> Any:
    """``value`` as a positive Python ``kind`` (NumPy's numbers too; ``None`` kept if
    ``optional``), or a :class:`SpaceError` naming the argument, the rule and how to write it.

    Example:
        >>> check_positive("timeout", None), check_positive("max_evals", 3)
        (None, 3)
        >>> check_positive("max_evals", 0)
        Traceback (most recent call last):
        ...
        hpo_bridge.errors.SpaceError: max_evals must be a positive int (the number of trials, e.g. max_evals=50), got 0
    """
    if value is None and optional:
        return None
    ok = isinstance(value, numbers.Integral if kind is int else numbers.Real)
    if (isinstance(value, bool) or not ok or value <= 0
            or (kind is float and not math.isfinite(value))):
        hint = _POSITIVE_HINTS.get(name)
        raise SpaceError(f"{name} must be a positive {kind.__name__}"
                         + (f" ({hint})" if hint else "") + f", got {value!r}")
    return int(value) if kind is int else float(value)
