"""Run the objective on one trial, wherever it runs (inline, a process, a Dask worker).

:func:`evaluate` never raises for an exception in ``catch``: it returns an :class:`Outcome`
the driver tells the optimizer. An exception outside ``catch`` is returned in ``reraise`` so
the driver first records the trial, then stops the run with it.
"""

from __future__ import annotations

import math
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from hpo_bridge.errors import TrialPruned

__all__ = ["Outcome", "evaluate", "describe"]


@dataclass
class Outcome:
    """What one evaluation gave: ``state`` is ``complete``, ``failed`` or ``pruned``."""

    state: str
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


def evaluate(objective: Callable, trial: Any, pass_trial: bool,
             catch: tuple[type[BaseException], ...]) -> Outcome:
    """Call ``objective`` on ``trial.params`` (and ``trial`` when it takes two arguments)."""
    t0 = time.perf_counter()
    try:
        value = objective(trial.params, trial) if pass_trial else objective(trial.params)
    except TrialPruned:
        return Outcome("pruned", None, None, time.perf_counter() - t0, dict(trial.intermediate))
    except catch as exc:
        return Outcome("failed", None, describe(exc), time.perf_counter() - t0,
                       dict(trial.intermediate))
    except Exception as exc:
        return Outcome("failed", None, describe(exc), time.perf_counter() - t0,
                       dict(trial.intermediate), reraise=exc)
    duration = time.perf_counter() - t0
    if isinstance(value, float) and math.isnan(value):
        return Outcome("failed", None, "objective returned NaN", duration, dict(trial.intermediate))
    return Outcome("complete", value, None, duration, dict(trial.intermediate))
