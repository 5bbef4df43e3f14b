"""The errors hpo_bridge raises.

::

    Exception
     ├── ValueError
     │    └── SpaceError ............ a space, configuration or argument breaks a rule
     │         └── UnsupportedError . a backend cannot run this space or feature (it says why)
     ├── ImportError
     │    └── MissingBackendError ... the backend's library is not installed (names the extra)
     ├── TypeError
     │    └── ObjectiveError ........ the objective cannot take a configuration or returned
     │                                something that is not a number (stops the run)
     ├── RuntimeError
     │    ├── NoSuccessfulTrialError  every trial failed (carries the first failure)
     │    └── StorageError .......... a storage cannot be opened, read or written (says why)
     └── TrialPruned ................ raised by ``trial.report`` when the pruner stops a trial

Every error is raised before the first trial when it can be known then. An error that stops
a run once trials have run (``ObjectiveError``, an exception outside ``catch``, an error of the
backend's library) carries the :class:`~hpo_bridge.Result` of every finished trial as
``.result``.
"""

from __future__ import annotations

__all__ = [
    "SpaceError",
    "UnsupportedError",
    "MissingBackendError",
    "NoSuccessfulTrialError",
    "ObjectiveError",
    "StorageError",
    "TrialPruned",
]


class SpaceError(ValueError):
    """A space, a configuration or an argument breaks a rule; the message names it."""


class UnsupportedError(SpaceError):
    """A backend cannot run this space or feature; raised before the first trial."""


class MissingBackendError(ImportError):
    """The library behind a backend is not installed; the message names the pip extra."""


class ObjectiveError(TypeError):
    """The objective is not usable as written: its signature cannot take the configuration, or
    it returned something that is not a number (a string, ``None``, a mapping without
    ``"value"``/``"loss"``). Raised after the first such trial, with ``.result`` (the finished
    trials; ``None`` when found before the first trial)."""

    result = None


class NoSuccessfulTrialError(RuntimeError):
    """No trial of a run succeeded. ``first_error`` holds the first failure's message."""

    def __init__(self, message: str, first_error: str | None = None) -> None:
        super().__init__(message)
        self.first_error = first_error


class StorageError(RuntimeError):
    """A storage cannot be opened, read or written: names the file or URL and what to do.

    The storage library's own error is chained as ``__cause__``.
    """


class TrialPruned(Exception):
    """Raised by ``trial.report`` when the pruner stops the trial; let it propagate."""
