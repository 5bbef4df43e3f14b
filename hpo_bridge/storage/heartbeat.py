"""A trial's heartbeat from the moment it exists, when Optuna's ``study.ask`` creates it.

An Optuna backend creates its trial inside ``study.ask`` and proposes its point afterwards,
which may take seconds (a GP fit). A worker killed in between left a ``RUNNING`` trial without
a heartbeat, which no other worker could tell from a live one for ``GRACE_PERIOD`` seconds.
:func:`beating` wraps the storage the Optuna adapter's study is loaded on (the record store's
``ref``), so that it writes the heartbeat in the same write that creates the trial (Optuna's
``template_trial``), and before a queued trial (``WAITING``, e.g. a warm start) turns
``RUNNING``.

It also saves writes (each is a file lock and an ``fsync`` on a journal file or SQLite): a
trial's ``backend`` user attribute goes into the write that creates it, and the user
attributes written when a trial finishes (``duration_s``, metrics, error: :meth:`_Beating.defer`)
go into the write that finishes it (one append of the journal, one SQLite/SQL transaction),
so a stored trial costs as many writes as Optuna's own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.trial import FrozenTrial, TrialState

__all__ = ["beating", "finish"]


def beating(storage: BaseStorage, key: str, beat: Callable[[], Any],
            attrs: dict[str, Any] | None = None) -> BaseStorage:
    """``storage``, writing ``{key: beat()}`` as system attribute and ``attrs`` as user
    attributes of every trial started through it: a study loaded on it (the Optuna adapter's,
    built on the stored study) gives its trials their heartbeat in the write that creates them.
    The wrapper forwards everything else to ``storage`` itself, so its cache is shared."""
    if isinstance(storage, _Beating):
        return storage
    # Its other methods are forwarded, installed below the class: mypy cannot see them.
    return _Beating(storage, key, beat, attrs or {})  # type: ignore[abstract]


class _Beating(BaseStorage):
    """An Optuna storage that forwards everything to ``inner``, adding the heartbeat to each
    trial started through it."""

    def __init__(self, inner: BaseStorage, key: str, beat: Callable[[], Any],
                 attrs: dict[str, Any]) -> None:
        self._inner, self._key, self._beat, self._attrs = inner, key, beat, attrs
        self._pending: dict[int, dict[str, Any]] = {}  # trial id -> user attrs to finish with
        self._guard = threading.Lock()

    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        if template_trial is None:  # study.ask's new trial: RUNNING, nothing else yet
            template_trial = FrozenTrial(
                number=-1, state=TrialState.RUNNING, value=None, datetime_start=datetime.now(),
                datetime_complete=None, params={}, distributions={},
                user_attrs=dict(self._attrs), system_attrs={self._key: self._beat()},
                intermediate_values={}, trial_id=-1)
        return self._inner.create_new_trial(study_id, template_trial)

    def defer(self, trial_id: int, attrs: dict[str, Any]) -> None:
        """Write the user attributes ``attrs`` with the state that finishes the trial (the
        backend's own tell), in one write where the engine allows it."""
        with self._guard:
            self._pending.setdefault(trial_id, {}).update(attrs)

    def flush(self) -> None:
        """Write what is deferred for trials that were not finished through this storage."""
        with self._guard:
            pending, self._pending = self._pending, {}
        for trial_id, attrs in pending.items():
            try:
                for key, value in attrs.items():
                    self._inner.set_trial_user_attr(trial_id, key, value)
            except UpdateFinishedTrialError:  # another worker failed it: its attrs are moot
                pass

    def set_trial_state_values(self, trial_id: int, state: TrialState,
                               values: Any = None) -> bool:
        if state == TrialState.RUNNING:  # a queued trial taken by study.ask
            self._inner.set_trial_system_attr(trial_id, self._key, self._beat())
            for key, value in self._attrs.items():
                self._inner.set_trial_user_attr(trial_id, key, value)
        with self._guard:
            attrs = self._pending.pop(trial_id, None) if state.is_finished() else None
        if attrs:
            return finish(self._inner, trial_id, state, values, attrs)
        return self._inner.set_trial_state_values(trial_id, state, values)

    def __getattr__(self, name: str) -> Any:  # what Optuna's storages have beyond the base
        if name.startswith("__") or name == "_inner":
            raise AttributeError(name)
        return getattr(self._inner, name)


def finish(storage: BaseStorage, trial_id: int, state: TrialState, values: Any,
            attrs: dict[str, Any]) -> bool:
    """Write the user attributes ``attrs`` and the finished ``state`` of a trial in one write:
    one append of a journal (one lock, one ``fsync``), one transaction of a database; on any
    other storage (or another Optuna), one write each, the attributes first."""
    inner = getattr(storage, "_backend", storage)  # Optuna's cache in front of an RDBStorage
    if isinstance(storage, JournalStorage) and _journal_ok(storage):
        return _finish_journal(storage, trial_id, state, values, attrs)
    if isinstance(inner, RDBStorage) and _rdb_ok(inner):
        return _finish_rdb(storage, inner, trial_id, state, values, attrs)
    for key, value in attrs.items():
        storage.set_trial_user_attr(trial_id, key, value)
    return storage.set_trial_state_values(trial_id, state, values)


def _journal_ok(storage: JournalStorage) -> bool:
    return all(hasattr(storage, a) for a in ("_thread_lock", "_backend", "_replay_result",
                                             "_sync_with_backend"))


def _finish_journal(storage: Any, trial_id: int, state: TrialState, values: Any,
                    attrs: dict[str, Any]) -> bool:
    """The logs ``set_trial_user_attr`` and ``set_trial_state_values`` write (one attribute
    a log, as Optuna replays them), appended together."""
    from optuna.storages.journal._storage import JournalOperation

    with storage._thread_lock:
        worker = storage._replay_result.worker_id
        logs = [{"op_code": JournalOperation.SET_TRIAL_USER_ATTR, "worker_id": worker,
                 "trial_id": trial_id, "user_attr": {key: value}}
                for key, value in attrs.items()]
        logs.append({"op_code": JournalOperation.SET_TRIAL_STATE_VALUES, "worker_id": worker,
                     "trial_id": trial_id, "state": state, "values": values,
                     "datetime_complete": datetime.now(tz=timezone.utc).isoformat(
                         timespec="microseconds")})
        storage._backend.append_logs(logs)
        # Replaying our own logs raises (at the first) if another worker finished the trial
        # first: read them all, so that no later call meets the rest, then raise once.
        error: Exception | None = None
        for _ in range(len(logs) + 1):
            try:
                storage._sync_with_backend()
                break
            except Exception as exc:  # UpdateFinishedTrialError, KeyError
                error = error or exc
        if error is not None:
            raise error
    return True


def _rdb_ok(storage: RDBStorage) -> bool:
    return hasattr(storage, "scoped_session") and hasattr(storage,
                                                          "_set_trial_attr_without_commit")


def _finish_rdb(storage: BaseStorage, rdb: Any, trial_id: int, state: TrialState, values: Any,
                attrs: dict[str, Any]) -> bool:
    """The attributes added to the thread's session, committed by ``set_trial_state_values``
    in the same transaction (Optuna's sessions are per thread)."""
    from optuna.storages._rdb import models

    session = rdb.scoped_session()
    try:
        for key, value in attrs.items():
            rdb._set_trial_attr_without_commit(session, models.TrialUserAttributeModel,
                                               trial_id, key, value)
    except Exception:
        session.rollback()
        session.close()
        raise
    return storage.set_trial_state_values(trial_id, state, values)


def _forward(name: str) -> Callable[..., Any]:
    def method(self: _Beating, *args: Any, **kwargs: Any) -> Any:
        return getattr(self._inner, name)(*args, **kwargs)

    method.__name__ = name
    return method


for _name in dir(BaseStorage):
    if not _name.startswith("_") and _name not in vars(_Beating):
        setattr(_Beating, _name, _forward(_name))
_Beating.__abstractmethods__ = frozenset()
