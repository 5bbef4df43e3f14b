"""Persistence and resume for every backend, through Optuna's storage layer.

``minimize(..., storage="runs.db", study_name="exp")`` keeps every trial in an Optuna RDB
study (a path is a SQLite file, anything with ``://`` a SQLAlchemy URL such as
``postgresql://user@host/db``), whatever the backend; so every run opens in
``optuna-dashboard sqlite:///runs.db``, ``optuna.visualization`` and ``optuna.importance``.

What is stored:

- The study has the user's direction: values are stored as the objective returned them. Its
  user attributes hold ``hpo_bridge.space`` (the space, cloudpickled, base64: ``hb.load``
  needs no space object), ``hpo_bridge.space_signature``, ``hpo_bridge.backend`` (of the last
  run), ``hpo_bridge.backends`` (of every run, in order), ``hpo_bridge.seed`` and
  ``hpo_bridge.version``.
- A trial is written ``RUNNING`` when it starts, with its parameters under the Optuna
  distributions of ``backends/optuna/translate.py`` (an object choice is its option index, with
  its label in the user attribute ``label.<name>``; a normal prior its quantile), and finished
  (``COMPLETE``/``FAIL``/``PRUNED``) with its value, intermediate values and the user
  attributes ``metrics.<key>``, ``error``, ``duration_s`` and ``backend``.
- Under an Optuna backend the sampler's study *is* the stored study: Optuna asks and tells
  through the storage itself; this module adds the user attributes.

Resume (the same call, same ``storage`` and ``study_name``): trials left ``RUNNING`` by a dead
process become ``FAIL`` with ``error == "interrupted: process died"``; every finished trial is
loaded into the records with its id (its Optuna number) and told to the new backend, which may
be another library (a warm start). ``max_evals`` counts every stored trial, failed ones
included: a trial whose process died cost one trial, as a dead worker does. The backend
(unless it is a grid, which skips visited points itself) is reseeded from ``(seed, number of
stored trials)`` so that it does not re-propose the first run's random points, and a resume is
as reproducible as a run. A different space, or the other
direction, is refused before any trial. One process writes a study at a time.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from hpo_bridge.errors import SpaceError
from hpo_bridge.results import Result, TrialRecord
from hpo_bridge.space import Choice, Space, as_space

if TYPE_CHECKING:
    import optuna

    from hpo_bridge.optimizer import Optimizer, Trial

__all__ = ["attach_storage", "load", "to_optuna", "storage_url", "space_changes",
           "DEFAULT_STUDY_NAME", "INTERRUPTED"]

#: The study name when ``storage=`` is given without ``study_name=``.
DEFAULT_STUDY_NAME = "hpo_bridge"
#: The error of a trial that was running when its process died.
INTERRUPTED = "interrupted: process died"
_A = "hpo_bridge."
_STATES = {"complete": "COMPLETE", "failed": "FAIL", "pruned": "PRUNED"}


def _optuna() -> Any:
    import optuna

    # Optuna logs a line per study and trial; our progress bar replaces them. A user who
    # changed the verbosity keeps theirs.
    if optuna.logging.get_verbosity() == optuna.logging.INFO:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def storage_url(storage: Any, *, must_exist: bool = False) -> str:
    """The SQLAlchemy URL of ``storage``: a URL as it is, a path as an absolute SQLite URL."""
    if isinstance(storage, os.PathLike):
        storage = os.fspath(storage)
    if not isinstance(storage, str) or not storage:
        raise ValueError("storage must be a file path or a database URL (e.g. 'runs.db', "
                         f"'postgresql://user@host/db'), got {storage!r}")
    if "://" in storage:
        return storage
    path = os.path.abspath(storage)
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise ValueError(f"storage {storage!r}: the folder {folder!r} does not exist")
    if must_exist and not os.path.exists(path):
        raise ValueError(f"storage {storage!r}: no such file")
    return f"sqlite:///{path}"


# -- the space --------------------------------------------------------------------------------

def _signature(space: Space) -> list[list[Any]]:
    """``Space.signature()`` as JSON, without the memory addresses in reprs of functions."""
    return [[name, re.sub(r" at 0x[0-9a-fA-F]+", "", text), None if cond is None else list(cond)]
            for name, text, cond in space.signature()]


def space_changes(stored: list, current: list) -> list[str]:
    """What differs between two space signatures, one readable line per parameter."""
    old = {name: (text, cond) for name, text, cond in stored}
    new = {name: (text, cond) for name, text, cond in current}
    changes = [f"parameter {n!r} added: {new[n][0]}" for n in new if n not in old]
    changes += [f"parameter {n!r} removed (was {old[n][0]})" for n in old if n not in new]
    for name in (n for n in new if n in old):
        (was, was_cond), (now, now_cond) = old[name], new[name]
        if was != now:
            changes.append(f"parameter {name!r} changed from {was} to {now}")
        elif was_cond != now_cond:
            changes.append(f"parameter {name!r}: its condition changed from {was_cond} to "
                           f"{now_cond}")
    return changes


def _pickle_space(space: Space) -> str | None:
    import cloudpickle

    try:
        return base64.b64encode(cloudpickle.dumps(space.structure)).decode("ascii")
    except Exception:  # an unpicklable option: hb.load then needs space=
        return None


def _unpickle_space(text: str | None) -> Space | None:
    import pickle

    if not text:
        return None
    try:
        return as_space(pickle.loads(base64.b64decode(text)))
    except Exception:  # e.g. a class that cannot be imported here
        return None


# -- trials both ways -------------------------------------------------------------------------

def _jsonable(value: Any) -> Any:
    if hasattr(value, "item") and getattr(value, "size", 2) == 1:
        value = value.item()
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)


def _naive(moment: datetime | None) -> datetime:
    """Optuna's datetimes are naive local time."""
    moment = moment or datetime.now(timezone.utc)
    return moment.astimezone().replace(tzinfo=None)


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(timezone.utc)


def _labels(space: Space, point: dict[str, Any]) -> dict[str, Any]:
    """``label.<name>`` of each object choice (stored as an index)."""
    from hpo_bridge.backends.optuna.translate import native_options

    return {f"label.{name}": str(space.display_value(name, v)) for name, v in point.items()
            if isinstance(space[name].param, Choice) and native_options(space[name].param) is None}


def _native(space: Space, point: dict[str, Any]) -> tuple[dict, dict]:
    from hpo_bridge.backends.optuna.translate import distribution, to_params

    return (to_params(space, point),
            {name: distribution(space[name].param) for name in point})


def _finish_attrs(record: TrialRecord) -> dict[str, Any]:
    attrs: dict[str, Any] = {f"metrics.{k}": _jsonable(v) for k, v in record.metrics.items()}
    attrs["duration_s"] = float(record.duration_s)
    if record.error is not None:
        attrs["error"] = record.error
    return attrs


def _record(space: Space, frozen: Any) -> TrialRecord:
    """The :class:`TrialRecord` of a finished stored trial."""
    from hpo_bridge.backends.optuna.translate import from_params

    state = {"COMPLETE": "complete", "FAIL": "failed", "PRUNED": "pruned"}[frozen.state.name]
    attrs = frozen.user_attrs
    point = from_params(space, frozen.params)
    started, finished = _aware(frozen.datetime_start), _aware(frozen.datetime_complete)
    duration = attrs.get("duration_s")
    if duration is None:
        duration = (finished - started).total_seconds() if started and finished else 0.0
    value = None if state == "failed" or frozen.value is None else float(frozen.value)
    return TrialRecord(
        trial_id=frozen.number, state=state, value=value, params=space.decode(point),
        point=point, error=attrs.get("error"), duration_s=float(duration),
        metrics={k[len("metrics."):]: v for k, v in attrs.items() if k.startswith("metrics.")},
        started=started, finished=finished,
        intermediate={int(k): float(v) for k, v in frozen.intermediate_values.items()},
    )


def _frozen(space: Space, record: TrialRecord, backend: str) -> Any:
    """An Optuna ``FrozenTrial`` of a finished record (for an in-memory study)."""
    optuna = _optuna()
    params, dists = _native(space, record.point)
    value = None if record.state == "failed" else record.value
    trial = optuna.trial.create_trial(
        state=getattr(optuna.trial.TrialState, _STATES[record.state]),
        value=value, params=params, distributions=dists,
        user_attrs={**_labels(space, record.point), "backend": backend, **_finish_attrs(record)},
        intermediate_values=dict(record.intermediate),
    )
    if record.started is not None and record.finished is not None:
        trial.datetime_start, trial.datetime_complete = (_naive(record.started),
                                                         _naive(record.finished))
    return trial


# -- writing a run ----------------------------------------------------------------------------

class _StorageCallback:
    """Writes each trial of one run: ``RUNNING`` at its start, finished before the backend is
    told (an Optuna trial cannot be changed once finished). Registered by ``attach_storage``."""

    def __init__(self, opt: Optimizer, study: Any, storage: Any, adopted: bool) -> None:
        self.space = opt.space
        self.backend = opt.backend
        self.study = study
        self.storage = storage  # the RDBStorage under ``study``
        self.study_id = storage.get_study_id_from_name(study.study_name)
        self.adopted = adopted  # the backend asks and tells through ``study`` itself
        self._ids: dict[int, int] = {}  # hb trial id -> Optuna storage trial id

    def on_trial_start(self, opt: Optimizer, trial: Trial) -> None:
        if not self.adopted:
            self._ids[trial.trial_id] = self._create(trial.point, trial.started)
            return
        # The backend's study has stored the running trial; add what hpo_bridge knows.
        handle = opt._pending[trial.trial_id][1]
        trial_id = self.storage.get_trial_id_from_study_id_trial_number(self.study_id,
                                                                        handle.number)
        self._ids[trial.trial_id] = trial_id
        for key, value in self._start_attrs(trial.point).items():
            self.storage.set_trial_user_attr(trial_id, key, value)

    def _start_attrs(self, point: dict[str, Any]) -> dict[str, Any]:
        return {**_labels(self.space, point), "backend": self.backend}

    def on_trial_end(self, opt: Optimizer, record: TrialRecord) -> None:
        """Nothing: the trial was written by :meth:`before_tell`."""

    def _create(self, point: dict[str, Any], started: datetime | None) -> int:
        optuna = _optuna()
        params, dists = _native(self.space, point)
        template = optuna.trial.FrozenTrial(
            number=-1, state=optuna.trial.TrialState.RUNNING, value=None,
            datetime_start=_naive(started), datetime_complete=None, params=params,
            distributions=dists, user_attrs=self._start_attrs(point),
            system_attrs={}, intermediate_values={}, trial_id=-1,
        )
        return self.storage.create_new_trial(self.study_id, template_trial=template)

    def before_tell(self, record: TrialRecord, handle: Any) -> None:
        storage = self.storage
        trial_id = self._ids.pop(record.trial_id, None)
        attrs: dict[str, Any] = {}
        if trial_id is None:  # told without having started through the run loop
            if self.adopted:  # the handle is the stored Optuna trial
                trial_id = storage.get_trial_id_from_study_id_trial_number(self.study_id,
                                                                           handle.number)
                attrs = self._start_attrs(record.point)
            else:
                trial_id = self._create(record.point, record.started)
        for step, value in record.intermediate.items():
            storage.set_trial_intermediate_value(trial_id, step, value)
        for key, value in {**attrs, **_finish_attrs(record)}.items():
            storage.set_trial_user_attr(trial_id, key, value)
        if not self.adopted:  # else the backend's own tell finishes the stored trial
            state = getattr(_optuna().trial.TrialState, _STATES[record.state])
            value = None if record.state == "failed" else record.value
            keep = value is not None and not math.isnan(value)
            storage.set_trial_state_values(trial_id, state, [value] if keep else None)


def _resume_seed(seed: int | None, n_stored: int) -> int | None:
    if seed is None:
        return None
    import numpy as np

    return int(np.random.SeedSequence([seed, n_stored]).generate_state(1)[0])


def _open(url: str, name: str, direction: str, create: bool) -> tuple[Any, Any]:
    optuna = _optuna()
    storage = optuna.storages.RDBStorage(url)
    if create:
        study = optuna.create_study(storage=storage, study_name=name, load_if_exists=True,
                                    direction=direction)
    else:
        names = optuna.study.get_all_study_names(storage)
        if name is None:
            if len(names) != 1:
                raise ValueError(f"storage {url!r} holds {len(names)} studies {names}; "
                                 "pass study_name=")
            name = names[0]
        if name not in names:
            raise ValueError(f"storage {url!r} has no study {name!r}; it has {names}")
        study = optuna.load_study(study_name=name, storage=storage)
    return study, storage


def _check_study(study: Any, opt: Optimizer, where: str) -> None:
    """Refuse a study made with another space or direction, before anything is written."""
    direction = study.direction.name.lower()
    if direction != opt.direction:
        raise ValueError(f"{where} was stored with direction {direction!r}; this run would "
                         f"{opt.direction} (use another study_name)")
    attrs = study.user_attrs
    if _A + "space_signature" not in attrs:
        if study.get_trials(deepcopy=False):
            raise ValueError(f"{where} was not made by hpo_bridge (it has no stored space); "
                             "use another study_name")
        return
    changes = space_changes(attrs[_A + "space_signature"], _signature(opt.space))
    if changes:
        raise SpaceError(f"{where} was made with another space: " + "; ".join(changes)
                         + " (use another study_name for a new space)")


def _fail_running(study: Any, storage: Any, study_id: int) -> None:
    """Trials left ``RUNNING`` by a process that died become ``FAIL`` (``INTERRUPTED``)."""
    running = study.get_trials(deepcopy=False,
                               states=(_optuna().trial.TrialState.RUNNING,))
    for frozen in running:
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, frozen.number)
        storage.set_trial_user_attr(trial_id, "error", INTERRUPTED)
        storage.set_trial_state_values(trial_id, _optuna().trial.TrialState.FAIL)


def attach_storage(opt: Optimizer, storage: Any, study_name: str | None) -> _StorageCallback:
    """Store ``opt``'s trials in ``storage``/``study_name``, resuming what is stored there.

    Called by :func:`hpo_bridge.minimize` before the first trial. Returns the callback the run
    loop calls (``on_trial_start``, ``on_trial_end``).

    Raises:
        ValueError: if ``storage`` is missing or not a path/URL, or the stored study has
            another direction or was not made by hpo_bridge.
        SpaceError: if the stored study was made with another space (naming each change).
    """
    if storage is None:
        raise ValueError("study_name needs storage= (a file path or a database URL)")
    if study_name is not None and (not isinstance(study_name, str) or not study_name):
        raise ValueError(f"study_name must be a non-empty string, got {study_name!r}")
    url = storage_url(storage)
    name = DEFAULT_STUDY_NAME if study_name is None else study_name
    study, rdb = _open(url, name, opt.direction, create=True)
    where = f"study {name!r} in {url!r}"
    _check_study(study, opt, where)
    from hpo_bridge import __version__

    if _A + "space_signature" not in study.user_attrs:
        study.set_user_attr(_A + "space_signature", _signature(opt.space))
        study.set_user_attr(_A + "space", _pickle_space(opt.space))
    study_id = rdb.get_study_id_from_name(name)
    _fail_running(study, rdb, study_id)
    finished = sorted(study.get_trials(deepcopy=False, states=tuple(
        getattr(_optuna().trial.TrialState, s) for s in _STATES.values())),
        key=lambda t: t.number)
    records = [_record(opt.space, t) for t in finished]
    if records and opt.seed is not None and opt.remaining is None:
        # Not a grid: its order is fixed by the seed, and it skips what was visited.
        opt._reseed(_resume_seed(opt.seed, len(records)))
    adopted = opt._use_store(study)
    for record in records:
        opt._restore(record, tell_backend=not adopted)
    history = list(study.user_attrs.get(_A + "backends", []))
    for key, value in {"backend": opt.backend, "backends": [*history, opt.backend],
                       "seed": opt.seed, "version": __version__}.items():
        study.set_user_attr(_A + key, value)
    opt.study_ref = (url, name)
    callback = _StorageCallback(opt, study, rdb, adopted=adopted)
    opt._tell_hooks.append(callback.before_tell)
    return callback


# -- reading ----------------------------------------------------------------------------------

def load(storage: Any, study_name: str | None = None, *, space: Any = None) -> Result:
    """The :class:`~hpo_bridge.Result` of a stored study, without the original space object.

    Args:
        storage: The path or database URL given to ``minimize(storage=...)``.
        study_name: The study (may be left out when the storage holds one study).
        space: Only needed when the stored space cannot be unpickled here (e.g. an option's
            class is not importable); it must match the stored one.

    Example:
        >>> import hpo_bridge as hb
        >>> result = hb.load("runs.db", "exp")            # doctest: +SKIP
        >>> result.trials; result.to_optuna()             # doctest: +SKIP
    """
    url = storage_url(storage, must_exist=True)
    study, _ = _open(url, study_name, "minimize", create=False)
    attrs = study.user_attrs
    where = f"study {study.study_name!r} in {url!r}"
    if _A + "space_signature" not in attrs:
        raise ValueError(f"{where} was not made by hpo_bridge (it has no stored space)")
    if space is not None:
        space = as_space(space)
        changes = space_changes(attrs[_A + "space_signature"], _signature(space))
        if changes:
            raise SpaceError(f"{where}: space= differs from the stored one: " + "; ".join(changes))
    else:
        space = _unpickle_space(attrs.get(_A + "space"))
        if space is None:
            raise ValueError(f"{where}: the stored space cannot be rebuilt here; pass the "
                             "space: hb.load(storage, study_name, space=...)")
    finished = sorted((t for t in study.get_trials(deepcopy=False) if t.state.is_finished()),
                      key=lambda t: t.number)
    result = Result([_record(space, t) for t in finished], space=space,
                    backend=attrs.get(_A + "backend", "unknown"), seed=attrs.get(_A + "seed"),
                    direction=study.direction.name.lower())
    result.study_ref = (url, study.study_name)
    return result


def to_optuna(result: Result) -> optuna.Study:
    """An Optuna study of ``result``: its stored study, or an in-memory one of its trials."""
    optuna = _optuna()
    if result.study_ref is not None:
        url, name = result.study_ref
        return optuna.load_study(study_name=name, storage=url)
    study = optuna.create_study(direction=result.direction)
    for record in sorted(result.records, key=lambda r: r.trial_id):
        study.add_trial(_frozen(result.space, record, result.backend))
    return study
