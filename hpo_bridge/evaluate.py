"""Run the objective on one trial, wherever it runs (inline, a process, a Dask worker).

:func:`evaluate` never raises for an exception in ``catch``: it returns an :class:`Outcome`
the driver tells the optimizer. An exception outside ``catch`` is returned in ``reraise`` so
the driver first records the trial, then stops the run with it; so does any other
``BaseException`` (``SystemExit``) but ``KeyboardInterrupt``, which the driver handles. A
``TypeError`` raised by the call itself (the objective's signature cannot take the
configuration) stops the run with :class:`hpo_bridge.ObjectiveError`.
"""

from __future__ import annotations

import inspect
import math
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hpo_bridge.errors import ObjectiveError, TrialPruned
from hpo_bridge.results import State

__all__ = ["Outcome", "evaluate", "describe", "fresh", "takes_trial"]


@dataclass
class Outcome:
    """What one evaluation gave: ``state`` is ``complete``, ``failed`` or ``pruned``."""

    state: State
    value: Any = None
    error: str | None = None
    duration_s: float = 0.0
    intermediate: dict[int, float] = field(default_factory=dict)
    reraise: BaseException | None = None


def describe(exc: BaseException) -> str:
    """``Type: message`` and the innermost frame, short enough for a table cell."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def fresh(config: Any) -> Any:
    """A copy of the dicts, lists and tuples of ``config``; every other object as itself.

    The objective may change what it gets without changing the trial's record or an option
    of the space (a list option is copied, a class or function option is passed as itself).
    """
    kind = type(config)
    if kind is dict:
        return {k: fresh(v) for k, v in config.items()}
    if kind is list or kind is tuple:
        return kind(fresh(v) for v in config)
    return config


def takes_trial(objective: Callable[..., Any]) -> bool:
    """Whether :func:`evaluate` passes the trial: the objective asks for it.

    It does when its second positional parameter (after the configuration) has no default, or
    is named ``trial``: ``f(config, trial)``, ``f(config, t)``, ``f(config, trial=None)``.
    It does not for ``lambda c, k=k: ...`` (a bound loop variable), ``f(config,
    verbose=False)``, ``f(config, *args)``, keyword-only parameters, or one parameter. The
    signature is the one :func:`inspect.signature` reads: a bound method or a callable
    object's ``__call__`` without ``self``, a ``functools.partial`` without its bound
    arguments, a ``functools.wraps`` decorator's wrapped function. Not introspectable: the
    configuration alone.

    Example:
        >>> takes_trial(lambda config, trial: 0.0), takes_trial(lambda c, k=3: 0.0)
        (True, False)
    """
    try:
        params = list(inspect.signature(objective).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) < 2:
        return False
    second = positional[1]
    return second.default is second.empty or second.name == "trial"


def evaluate(objective: Callable[..., Any], trial: Any, pass_trial: bool,
             catch: tuple[type[BaseException], ...]) -> Outcome:
    """Call ``objective`` on a copy of ``trial.params`` (and ``trial`` when it asks for it)."""
    config = fresh(trial.params)
    t0 = time.perf_counter()
    try:
        value = objective(config, trial) if pass_trial else objective(config)
    except TrialPruned as pruned:  # its value, if the objective gave one (with metrics)
        return Outcome("pruned", pruned.value, None, time.perf_counter() - t0,
                       dict(trial.intermediate))
    except TypeError as exc:
        if exc.__traceback__ is not None and exc.__traceback__.tb_next is None:
            return _cannot_call(objective, exc, time.perf_counter() - t0)
        return _raised(exc, catch, time.perf_counter() - t0, trial)
    except KeyboardInterrupt:
        raise  # the driver stops the run (see ``loop.py``)
    except BaseException as exc:  # SystemExit too: the trial is recorded before it propagates
        return _raised(exc, catch, time.perf_counter() - t0, trial)
    duration = time.perf_counter() - t0
    if isinstance(value, float) and math.isnan(value):
        return Outcome("failed", None, "objective returned NaN", duration, dict(trial.intermediate))
    return Outcome("complete", value, None, duration, dict(trial.intermediate))


def _raised(exc: BaseException, catch: tuple[type[BaseException], ...], duration: float,
            trial: Any) -> Outcome:
    """A failed trial; an exception outside ``catch`` also stops the run."""
    return Outcome("failed", None, describe(exc), duration, dict(trial.intermediate),
                   reraise=None if isinstance(exc, catch) else exc)


def _cannot_call(objective: Callable[..., Any], exc: TypeError, duration: float) -> Outcome:
    """The call itself failed (no frame of the objective ran): a programming error."""
    name = getattr(objective, "__qualname__", None) or repr(objective)
    error = ObjectiveError(
        f"the objective {name} cannot be called with a configuration ({exc}); it must take "
        "the configuration as its one argument, or (config, trial)"
    )
    return Outcome("failed", None, describe(exc), duration, reraise=error)
