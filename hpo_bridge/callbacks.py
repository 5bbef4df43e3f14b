"""Callbacks: code of the user's called in the driver after each finished trial.

A callback is any callable ``callback(result, record)``: ``result`` is the
:class:`~hpo_bridge.Result` so far (every trial told, this one included; ``result.stopped`` is
set once a callback stopped the run) and ``record`` the :class:`~hpo_bridge.TrialRecord` of the
trial that just finished, whatever its state (``complete``, ``failed`` or ``pruned``). It is
called in the process that drives the run (with ``n_jobs > 1`` too; in ``hb.compare(n_jobs=k)``
each run's process calls its own copy), after the trial is recorded, stored and told to the
backend, in the order the callbacks were given.

A callback may also have, both optional (see :class:`Callback`):

- ``on_start(optimizer)``: once, when the optimizer is made, before any trial (a stopping rule
  checks the run there and forgets an earlier run);
- ``on_run_end(result)``: once, when the run ends, whatever ended it (a tracker closes its run).

Ending a run: a callback raises :class:`StopRun` with a reason a person can read
(``hb.stop.no_improvement`` and ``hb.stop.target`` do). No new trial starts; trials already in
flight (``n_jobs > 1``) run to their end and are recorded (and passed to the callbacks); the run
returns its :class:`~hpo_bridge.Result` with ``result.stopped`` set to the reason.

Any other exception of a callback stops the run with :class:`~hpo_bridge.errors.CallbackError`
naming the callback and the trial, the original exception chained: the trial it was called for
is already recorded (and stored, with ``storage=``), and the error's ``.result`` holds every
finished trial.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from hpo_bridge.errors import SpaceError

if TYPE_CHECKING:
    from hpo_bridge.optimizer import Optimizer
    from hpo_bridge.results import Result, TrialRecord

__all__ = ["Callback", "CallbackLike", "StopRun", "check_callbacks", "callback_name",
           "run_ending"]

#: What ``callbacks=`` takes: callables ``callback(result, record)``.
CallbackLike: TypeAlias = Callable[["Result", "TrialRecord"], Any]


class StopRun(Exception):  # a request, not an error
    """Raised by a callback to end the run cleanly; ``str(exc)`` becomes ``result.stopped``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Callback:
    """A base class for callbacks with state (every method optional to override)."""

    def on_start(self, optimizer: Optimizer) -> None:
        """Once, when the optimizer is made (before any trial)."""

    def __call__(self, result: Result, record: TrialRecord) -> None:
        """After each finished trial."""

    def on_run_end(self, result: Result) -> None:
        """Once, when the run ends, whatever ended it."""


def callback_name(callback: Any) -> str:
    """A callback as an error message names it."""
    name: str = getattr(callback, "__qualname__", None) or type(callback).__qualname__
    return name


def check_callbacks(callbacks: Any) -> list[CallbackLike]:
    """``callbacks=`` checked: ``None`` or a list of callables (``SpaceError`` otherwise)."""
    if callbacks is None:
        return []
    if callable(callbacks) or not isinstance(callbacks, Sequence) or isinstance(callbacks, str):
        raise SpaceError(f"callbacks must be a list of callables callback(result, record), got "
                         f"{callbacks!r} (wrap one callback in a list)")
    bad = [c for c in callbacks if not callable(c)]
    if bad:
        raise SpaceError(f"callbacks must be callables callback(result, record); not callable: "
                         f"{', '.join(map(repr, bad))}")
    for callback in callbacks:
        try:
            signature = inspect.signature(callback)
        except (TypeError, ValueError):  # a builtin without a signature: called as it is
            continue
        try:
            signature.bind(None, None)
        except TypeError:
            raise SpaceError(f"callbacks: {callback_name(callback)}{signature} cannot be called "
                             f"as callback(result, record), which every callback is after each "
                             f"trial; give it those two parameters") from None
    return list(callbacks)


def run_ending(result: Any) -> tuple[str, Any]:
    """What a tracker records when a run ends: how it ended (``"failed"``: an error stopped it,
    ``"killed"``: Ctrl-C, ``"finished"``: anything else), and its best trial (``None`` with
    several objectives or no complete feasible trial)."""
    stopped = result.stopped or ""
    ending = ("failed" if stopped.startswith(("error", "callback error", "backend error"))
              else "killed" if stopped == "interrupted" else "finished")
    if len(result.objectives.names) != 1:
        return ending, None
    try:
        return ending, result.best_trial
    except ValueError:  # no complete feasible trial
        return ending, None
