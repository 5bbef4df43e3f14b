"""A trial's heartbeat from the moment it exists, when Optuna's ``study.ask`` creates it.

An Optuna backend creates its trial inside ``study.ask`` and proposes its point afterwards,
which may take seconds (a GP fit). A worker killed in between left a ``RUNNING`` trial without
a heartbeat, which no other worker could tell from a live one for ``GRACE_PERIOD`` seconds.
:func:`beating` wraps the storage the Optuna adapter's study is loaded on (the record store's
``ref``), so that it writes the heartbeat in the same write that creates the trial (Optuna's
``template_trial``), and before a queued trial (``WAITING``, e.g. a warm start) turns
``RUNNING``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

__all__ = ["beating"]


def beating(storage: BaseStorage, key: str, beat: Callable[[], Any]) -> BaseStorage:
    """``storage``, writing ``{key: beat()}`` as system attribute of every trial started
    through it: a study loaded on it (the Optuna adapter's, built on the stored study) gives
    its trials their heartbeat in the write that creates them. The wrapper forwards everything
    else to ``storage`` itself, so its cache is shared."""
    if isinstance(storage, _Beating):
        return storage
    # Its other methods are forwarded, installed below the class: mypy cannot see them.
    return _Beating(storage, key, beat)  # type: ignore[abstract]


class _Beating(BaseStorage):
    """An Optuna storage that forwards everything to ``inner``, adding the heartbeat to each
    trial started through it."""

    def __init__(self, inner: BaseStorage, key: str, beat: Callable[[], Any]) -> None:
        self._inner, self._key, self._beat = inner, key, beat

    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        if template_trial is None:  # study.ask's new trial: RUNNING, nothing else yet
            template_trial = FrozenTrial(
                number=-1, state=TrialState.RUNNING, value=None, datetime_start=datetime.now(),
                datetime_complete=None, params={}, distributions={}, user_attrs={},
                system_attrs={self._key: self._beat()}, intermediate_values={}, trial_id=-1)
        return self._inner.create_new_trial(study_id, template_trial)

    def set_trial_state_values(self, trial_id: int, state: TrialState,
                               values: Any = None) -> bool:
        if state == TrialState.RUNNING:  # a queued trial taken by study.ask
            self._inner.set_trial_system_attr(trial_id, self._key, self._beat())
        return self._inner.set_trial_state_values(trial_id, state, values)

    def __getattr__(self, name: str) -> Any:  # what Optuna's storages have beyond the base
        if name.startswith("__") or name == "_inner":
            raise AttributeError(name)
        return getattr(self._inner, name)


def _forward(name: str) -> Callable[..., Any]:
    def method(self: _Beating, *args: Any, **kwargs: Any) -> Any:
        return getattr(self._inner, name)(*args, **kwargs)

    method.__name__ = name
    return method


for _name in dir(BaseStorage):
    if not _name.startswith("_") and _name not in vars(_Beating):
        setattr(_Beating, _name, _forward(_name))
_Beating.__abstractmethods__ = frozenset()
