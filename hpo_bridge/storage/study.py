"""One stored study, shared by every run and worker that names it, under every backend.

:func:`attach_storage` opens (or creates) the study (the :class:`RecordStore`), builds the
optimizer's adapter stack on it (an Optuna backend works on the stored study itself, with its
own sampler; a run joining a study with earlier runs gets a seed from its run index) and adds a
:class:`StudyHook` to the optimizer, whose :class:`StudyBudget` the run loop asks for room. The
hook

- numbers trials by the study: a trial's id is its Optuna trial number, unique across workers;
- writes each trial ``RUNNING`` when it is asked and finished before the backend is told;
- before each ask, reads what finished elsewhere since the last ask and tells the backend
  (an Optuna backend works on the stored study itself and reads it natively);
- beats a heartbeat for its running trials, from the write that creates them, and fails another worker's running trial once that
  worker is dead: at once when it ran on this machine and its process is gone, otherwise after
  ``GRACE_PERIOD`` seconds without a heartbeat (``error`` = ``"interrupted: ..."``);
- holds the engine's lock while the run loop counts the study's trials and starts one, so that
  ``max_evals`` is the study's total across workers;
- in a multi-fidelity run (``fidelity=``), keeps the fidelity and scheduler in the study's user
  attribute ``hpo_bridge.fidelity`` (a run with another one is refused), writes each
  evaluation's ``budget`` and ``config_id`` when it starts, and holds the lock while the run
  loop's scheduler takes in what started and finished elsewhere, chooses and starts its next
  evaluation: the brackets and ``max_budget`` are the study's, across runs and workers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hpo_bridge.errors import SpaceError
from hpo_bridge.hooks import Hook
from hpo_bridge.space.serialize import describe
from hpo_bridge.storage.engines import Engine, is_integrity, open_engine, translate_errors

if TYPE_CHECKING:
    from hpo_bridge.optimizer import Optimizer, Trial
    from hpo_bridge.results import Direction, TrialRecord

__all__ = ["attach_storage", "open_store", "RecordStore", "StudyBudget", "StudyHook", "INTERRUPTED", "HEARTBEAT_INTERVAL", "GRACE_PERIOD",
           "space_changes", "signature"]

log = logging.getLogger("hpo_bridge")

#: The error of a trial whose process died on this machine while it ran.
INTERRUPTED = "interrupted: process died"
#: Seconds between heartbeats of a running trial (``HPO_BRIDGE_HEARTBEAT_INTERVAL``).
HEARTBEAT_INTERVAL = float(os.environ.get("HPO_BRIDGE_HEARTBEAT_INTERVAL", "10"))
#: Seconds without a heartbeat after which another machine's running trial is failed
#: (``HPO_BRIDGE_GRACE_PERIOD``). Workers' clocks must agree to well within it.
GRACE_PERIOD = float(os.environ.get("HPO_BRIDGE_GRACE_PERIOD", "60"))
_A = "hpo_bridge."
_BEAT = "hpo_bridge:heartbeat"  # system attribute: [host, pid, unix time]
_RUNS = "hpo_bridge:runs"  # system attribute: how many runs have attached to the study
_METRIC_NAMES = "study:metric_names"  # where study.set_metric_names keeps the names
_HOST = socket.gethostname()


def signature(space: Any) -> list[list[Any]]:
    """``Space.signature()`` as JSON, without the memory addresses in reprs of functions."""
    import re

    return [[name, re.sub(r" at 0x[0-9a-fA-F]+", "", text), None if cond is None else list(cond)]
            for name, text, cond in space.signature()]


def space_changes(stored: list[list[Any]], current: list[list[Any]]) -> list[str]:
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


def _new_name() -> str:
    return f"hpo_bridge-{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def directions(opt: Optimizer) -> list[Direction]:
    """The study's directions: one per objective, in the user's directions."""
    return list(opt.objectives.directions)


def _open_study(engine: Engine, name: str, opt: Optimizer) -> Any:
    import optuna

    for attempt in range(5):
        try:
            return optuna.create_study(storage=engine.storage, study_name=name,
                                       directions=directions(opt), load_if_exists=True)
        except optuna.exceptions.DuplicatedStudyError:
            pass  # created by another worker between the check and the insert: load it
        except Exception as exc:
            if attempt == 4 or not is_integrity(exc):
                raise
        time.sleep(0.05 * (attempt + 1))
    return optuna.load_study(study_name=name, storage=engine.storage)


def _check_study(study: Any, opt: Optimizer, where: str, attrs: dict[str, Any],
                 current: list[list[Any]]) -> None:
    """Refuse a study made with another space, objectives or direction, before anything is
    written. ``attrs``: the study's user attributes; ``current``: this run's space signature."""
    stored = [d.name.lower() for d in study.directions]
    names = attrs.get(_A + "objectives")  # {name: direction} of a run with objectives=
    mine = opt.objectives.metadata().get("objectives")
    # Ordered: a study's values are stored by position, so another order would swap them.
    ordered = (None if names is None else list(names.items()),
               None if mine is None else list(mine.items()))
    if ordered[0] != ordered[1] and (names is not None or study.get_trials(deepcopy=False)):
        def show(spec: Any, dirs: list[Direction]) -> str:
            return f"objectives={spec}" if spec is not None else f"direction={dirs[0]!r}"

        raise ValueError(f"{where} was stored with {show(names, stored)}; this run has "
                         f"{show(mine, directions(opt))} (use another study_name, or the same "
                         "objectives and directions in the same order)")
    if stored != directions(opt):
        raise ValueError(f"{where} {opt.objectives.changed_directions(stored)} (use another "
                         "study_name)")
    if _A + "space_signature" not in attrs:
        if study.get_trials(deepcopy=False):
            raise ValueError(f"{where} was not made by hpo_bridge (it has no stored space); "
                             "use another study_name")
        return
    changes = space_changes(attrs[_A + "space_signature"], current)
    if changes:
        raise SpaceError(f"{where} was made with another space: " + "; ".join(changes)
                         + " (use another study_name for a new space)")


def fidelity_attr(fidelity: Any, scheduler: str) -> dict[str, Any]:
    """What a multi-fidelity study stores of its run: ``{"name", "low", "high", "eta",
    "scheduler"}`` (the study's user attribute ``hpo_bridge.fidelity``)."""
    return {"name": fidelity.name, "low": fidelity.low, "high": fidelity.high,
            "eta": fidelity.eta, "scheduler": scheduler}


def _shown_fidelity(spec: dict[str, Any]) -> str:
    return (f"fidelity=hb.fidelity({spec.get('name')!r}, {spec.get('low')!r}, "
            f"{spec.get('high')!r}, eta={spec.get('eta')!r}), "
            f"scheduler={spec.get('scheduler')!r}")


def _check_fidelity(study: Any, where: str, attrs: dict[str, Any],
                    fidelity: dict[str, Any] | None) -> None:
    """Refuse, before anything is written, a run whose fidelity and scheduler are not the
    study's: its brackets would not continue the stored ones."""
    stored = attrs.get(_A + "fidelity")
    if stored == fidelity:
        return
    if stored is None:
        if fidelity is not None and study.get_trials(deepcopy=False):
            raise ValueError(f"{where} was stored without fidelity=; this run has "
                             f"{_shown_fidelity(fidelity)}: its trials have no budget to "
                             "continue brackets from (use another study_name)")
        return
    if not isinstance(stored, dict):
        from hpo_bridge.errors import StorageError

        raise StorageError(f"{where}: the study's user attribute {_A + 'fidelity'!r} is "
                           f"damaged (it should be an object, it is {stored!r}); nothing was "
                           "written")
    if fidelity is None:
        raise ValueError(f"{where} was stored by a multi-fidelity run ({_shown_fidelity(stored)}"
                         "); pass the same fidelity= and scheduler= to resume it (or use "
                         "another study_name)")
    raise ValueError(f"{where} was stored with {_shown_fidelity(stored)}; this run has "
                     f"{_shown_fidelity(fidelity)}: its brackets would not continue the stored "
                     "ones (pass the stored fidelity= and scheduler=, or use another "
                     "study_name)")


class RecordStore:
    """The record store: one Optuna study, opened (or made) and checked against the run, with
    the engine's lock. It holds every trial of every run and worker that names it."""

    def __init__(self, engine: Engine, study: Any, run_index: int, named: bool,
                 attrs: dict[str, Any], labelled: bool = True,
                 backend: str | None = None) -> None:
        import optuna

        self.engine, self.study, self.name = engine, study, study.study_name
        # A database behind Optuna's cache, as Optuna's own studies use it: each read fetches
        # only what is new or still running, not every trial.
        self.storage = optuna.storages.get_storage(engine.storage) if isinstance(
            engine.storage, optuna.storages.RDBStorage) else engine.storage
        #: The study's user attributes as read (and checked) when it was opened.
        self.attrs = attrs
        self.study_id = self.storage.get_study_id_from_name(self.name)
        #: How many runs attached to the study before this one.
        self.run_index = run_index
        self.user_named = named  # the user gave study_name=
        #: Whether object choices are stored by label (a study stored before labels keeps
        #: its option indices: Optuna refuses another distribution for a stored parameter).
        self.labelled = labelled
        from hpo_bridge.storage.heartbeat import beating

        #: The storage an Optuna backend's study is loaded on (see :attr:`ref`).
        self.beating = beating(self.storage, _BEAT, _beat,
                               {} if backend is None else {"backend": backend})
        spec = attrs.get(_A + "fidelity")
        #: A multi-fidelity study's fidelity name (its records' params hold the budget).
        self.budget_name: str | None = (spec.get("name") if isinstance(spec, dict)
                                        and isinstance(spec.get("name"), str) else None)

    @property
    def ref(self) -> tuple[Any, str]:
        """``(Optuna storage, study name)``: what an adapter that works on the stored study is
        built on (:mod:`hpo_bridge.backends.stack`). The storage writes a trial's heartbeat in
        the write that creates it (:func:`hpo_bridge.storage.heartbeat.beating`): an Optuna
        backend creates its trial in ``study.ask``, before it proposes."""
        return self.beating, self.name

    def run_seed(self, opt: Optimizer) -> int | None:
        """The seed of this run's backend: another run or worker of the study does not
        re-propose the seeded points of the earlier ones (a finite backend, a grid, keeps its
        order and skips what was visited)."""
        if self.run_index > 0 and opt.seed is not None and not opt.info.capabilities.finite:
            return _resume_seed(opt.seed, self.run_index)
        return opt.seed


def open_store(opt: Optimizer, storage: Any, study_name: str | None,
               fidelity: dict[str, Any] | None = None) -> RecordStore:
    """Open (or make) ``study_name`` in ``storage`` for ``opt``'s run, checked against its
    space, objectives and direction (and ``fidelity``, a multi-fidelity run's
    :func:`fidelity_attr`); see :func:`attach_storage`."""
    if storage is None:
        raise ValueError("study_name needs storage= (a file path or a database URL)")
    if study_name is not None and (not isinstance(study_name, str) or not study_name):
        raise ValueError(f"study_name must be a non-empty string, got {study_name!r}")
    engine = open_engine(storage)
    try:
        return _open_store(engine, opt, study_name, fidelity)
    except BaseException:
        engine.tidy()  # refused: no lock file left beside the storage
        raise


def _open_store(engine: Engine, opt: Optimizer, study_name: str | None,
                fidelity: dict[str, Any] | None) -> RecordStore:
    from hpo_bridge.backends.optuna.records import (
        CHOICES_ATTR,
        SPACE_DOC_ATTR,
        name_metrics,
        read_attrs,
    )

    name = _new_name() if study_name is None else study_name
    where = f"study {name!r} in {engine.where!r}"
    with translate_errors(engine.where), engine.lock(name):
        study = _open_study(engine, name, opt)
        # The attributes hold the space: read them once (``study.user_attrs`` deep-copies).
        study_id = engine.storage.get_study_id_from_name(name)
        attrs, labelled = read_attrs(engine.storage, study_id, where)
        current = signature(opt.space)
        _check_study(study, opt, where, attrs, current)
        _check_fidelity(study, where, attrs, fidelity)
        if fidelity is not None and _A + "fidelity" not in attrs:
            study.set_user_attr(_A + "fidelity", fidelity)
            attrs = {**attrs, _A + "fidelity": fidelity}
        system = engine.storage.get_study_system_attrs(study_id)
        if _A + "space_signature" not in attrs:  # a new study
            labelled = True
            engine.storage.set_study_system_attr(study_id, CHOICES_ATTR, "labels")
            # the description out of the user attributes, which optuna-dashboard lists
            engine.storage.set_study_system_attr(study_id, SPACE_DOC_ATTR, describe(opt.space))
            study.set_user_attr(_A + "space_signature", current)
            for key, value in opt.objectives.metadata().items():
                study.set_user_attr(_A + key, value)
        if _METRIC_NAMES not in system:  # a study stored before names too
            name_metrics(study, list(opt.objectives.names))
        run_index = system.get(_RUNS, 0)
        if type(run_index) is not int or run_index < 0:  # damaged: count this run as a later one
            run_index = 1 + len(attrs.get(_A + "backends") or ())
        engine.storage.set_study_system_attr(study_id, _RUNS, run_index + 1)
    return RecordStore(engine, study, run_index, named=study_name is not None, attrs=attrs,
                       labelled=labelled, backend=opt.backend)


def attach_storage(opt: Optimizer, storage: Any, study_name: str | None,
                   fidelity: dict[str, Any] | None = None) -> StudyHook:
    """Store ``opt``'s trials in ``storage``/``study_name``, sharing what is stored there.

    The three parts: the :class:`RecordStore` (the study), the optimizer's adapter stack built
    on it (:meth:`Optimizer.build`: with the run's seed, and on the stored study itself for
    an Optuna backend), and the :class:`StudyHook`, which mirrors trials and whose
    :attr:`StudyHook.budget` the run loop asks for room. Call before the first ask.

    Without ``study_name`` a new study with a unique name is made (its name is in the log and
    in ``result.study_name``): a re-run never returns an earlier run's result silently.

    Raises:
        ValueError: ``storage`` is missing or not a path/URL, or the stored study has another
            direction or was not made by hpo_bridge.
        SpaceError: the stored study was made with another space (naming each change).
        StorageError: the storage cannot be opened (damaged, locked, unreachable).
    """
    store = open_store(opt, storage, study_name, fidelity)
    try:
        with translate_errors(store.engine.where):
            opt.build(seed=store.run_seed(opt), study=store.ref)
        return StudyHook(opt, store)
    except BaseException:
        store.engine.tidy()
        raise


class _StudyFull(Exception):
    """Raised inside :meth:`StudyBudget.slot` when other workers filled the study meanwhile."""


def _resume_seed(seed: int, run_index: int) -> int:
    import numpy as np

    return int(np.random.SeedSequence([seed, run_index]).generate_state(1)[0])


class StudyBudget:
    """What the run loop asks for room: ``max_evals`` is the study's total across workers,
    counted under the study's lock."""

    def __init__(self, hook: StudyHook) -> None:
        self._hook = hook
        #: The run's ``max_evals`` while the loop asks (a stored trial is created only if the
        #: study still has room), else ``None``.
        self.limit: int | None = None
        #: Whether the study was just read (the ask inside the slot need not read it again).
        self.fresh = False

    @contextlib.contextmanager
    def slot(self, opt: Optimizer, max_evals: int | None) -> Iterator[bool]:
        """Yield whether the study has room for another trial; the run loop asks inside.

        Workers sharing the study start ``max_evals`` trials in all: the study's trials are
        counted and the new one is created under the engine's lock. An Optuna backend creates
        its trial while it proposes, so its whole ask holds the lock; any other backend
        proposes first (and learns what finished elsewhere, which may mean fitting a model)
        without holding it, and holds it only to count and create (a proposal made when the
        study filled up meanwhile is dropped, and the body of the ``with`` ends).
        """
        hook = self._hook
        self.limit = max_evals
        with translate_errors(hook.engine.where), (
                hook.engine.lock(hook.name) if hook.adopted else contextlib.nullcontext()):
            hook.sync(opt)
            self.fresh = True
            try:
                yield max_evals is None or hook.count < max_evals
            except _StudyFull:
                pass
            finally:
                self.fresh, self.limit = False, None

    @contextlib.contextmanager
    def scheduling(self, opt: Optimizer) -> Iterator[None]:
        """A multi-fidelity run chooses and starts its next evaluation under the study's lock,
        after reading what started and finished elsewhere (re-entrant: :meth:`slot` inside)."""
        hook = self._hook
        with translate_errors(hook.engine.where), hook.engine.lock(hook.name):
            hook.sync(opt)
            yield

    def running_elsewhere(self) -> list[tuple[int, int, float]]:
        return list(self._hook.elsewhere)


class StudyHook(Hook):
    """Mirrors one optimizer's trials into the record store shared with other workers (and
    reads back what finished elsewhere); it never touches the optimizer's adapter."""

    def __init__(self, opt: Optimizer, store: RecordStore) -> None:
        import optuna

        from hpo_bridge.backends.optuna.records import StudyAdapter
        from hpo_bridge.version import __version__

        self._optuna = optuna
        self.store = store
        self.engine, self.study, self.name = store.engine, store.study, store.name
        self.storage = store.storage
        self.study_id = store.study_id
        self.space, self.backend = opt.space, opt.backend
        self.labelled = store.labelled
        #: What the run loop asks for room.
        self.budget = StudyBudget(self)
        # An Optuna backend asks and tells through the stored study itself (built on it).
        adapter = opt.adapter
        self._native = adapter if isinstance(adapter, StudyAdapter) and adapter.stored else None
        self.adopted = self._native is not None
        self._known: set[int] = set()  # trial numbers this optimizer holds or has restored
        self._ids: dict[int, int] = {}  # number -> storage trial id, trials running here
        self._lock = threading.Lock()
        self.count = 0  # the study's trials at the last read
        #: ``(trial number, config id, budget)`` of the multi-fidelity evaluations running in
        #: other workers at the last read.
        self.elsewhere: list[tuple[int, int, float]] = []
        engine = self.engine
        with translate_errors(engine.where):
            history = store.attrs.get(_A + "backends")
            history = [b for b in history if isinstance(b, str)] if isinstance(
                history, list) else []  # damaged: checked_attrs warned
            for key, value in {"backend": opt.backend, "backends": [*history, opt.backend],
                               "seed": opt.seed, "version": __version__}.items():
                self.study.set_user_attr(_A + key, value)
            restored, running = self.sync(opt)
        opt.study_ref = (engine.where if engine.kind != "object" else engine.storage, self.name)
        opt.add_hook(self)
        self.resumed = self._describe(restored, running) if restored or running else None
        opt.resumed = self.resumed
        self.message = self.resumed or (
            f"new study {self.name!r} in {engine.where}"
            + ("" if store.user_named else " (pass study_name= to resume or share it)"))
        log.info(self.message)
        self._stop = threading.Event()
        self._beater = threading.Thread(target=self._beat_loop, daemon=True,
                                        name="hpo_bridge-heartbeat")
        self._beater.start()

    def _describe(self, restored: list[TrialRecord], running: int) -> str:
        dead = sum(1 for r in restored if (r.error or "").startswith("interrupted"))
        text = f"resuming study {self.name!r}: {len(restored)} finished trials"
        text += f", {dead} interrupted" if dead else ""
        text += f", {running} running in other workers" if running else ""
        return text

    def close(self, opt: Optimizer) -> None:
        """Stop the heartbeat; take in what other workers finished meanwhile; remove the lock
        file if no other worker holds it."""
        self._stop.set()
        try:
            with translate_errors(self.engine.where):
                self.store.beating.flush()  # type: ignore[attr-defined]
                self.sync(opt)
        finally:
            self.engine.tidy()

    # -- Hook --------------------------------------------------------------------------------
    def before_ask(self, opt: Optimizer) -> None:
        if not self.budget.fresh:
            with translate_errors(self.engine.where):
                self.sync(opt)

    def on_end(self, opt: Optimizer) -> None:
        self.close(opt)

    def trial_id(self, opt: Optimizer, handle: Any, point: dict[str, Any]) -> int | None:
        from hpo_bridge.backends.optuna.records import counted, labels, naive, native

        with translate_errors(self.engine.where):
            if self._native is not None and self.adopted:
                number = self._native.trial_number(handle)
                tid = self.storage.get_trial_id_from_study_id_trial_number(self.study_id, number)
            else:
                params, dists = native(self.space, point, self.labelled)
                template = self._optuna.trial.FrozenTrial(
                    number=-1, state=self._optuna.trial.TrialState.RUNNING, value=None,
                    datetime_start=naive(opt.asking_since), datetime_complete=None,
                    params=params,
                    distributions=dists,
                    user_attrs={**labels(self.space, point, self.labelled),
                                "backend": self.backend},
                    system_attrs={_BEAT: _beat()}, intermediate_values={}, trial_id=-1)
                with self.engine.lock(self.name):
                    limit = self.budget.limit
                    if limit is not None and counted(
                            self.space, self.study.get_trials(deepcopy=False)) >= limit:
                        raise _StudyFull
                    tid = self.storage.create_new_trial(self.study_id, template_trial=template)
                number = self.storage.get_trial_number_from_id(tid)
        with self._lock:
            self._ids[number] = tid
        self._known.add(number)
        return number

    def on_ask(self, opt: Optimizer, trial: Trial, handle: Any) -> None:
        if not self.adopted:
            return
        from hpo_bridge.backends.optuna.records import labels

        tid = self._ids[trial.trial_id]
        with translate_errors(self.engine.where):
            for key, value in labels(self.space, trial.point, self.labelled).items():
                self.storage.set_trial_user_attr(tid, key, value)

    def on_schedule(self, opt: Optimizer, trial: Trial) -> None:
        from hpo_bridge.backends.optuna.records import schedule_attrs

        tid = self._ids[trial.trial_id]
        with translate_errors(self.engine.where):
            for key, value in schedule_attrs(trial.budget, trial.config_id).items():
                self.storage.set_trial_user_attr(tid, key, value)

    def on_tell(self, opt: Optimizer, record: TrialRecord, handle: Any) -> None:
        from hpo_bridge.backends.optuna.records import STATES, constraint_attrs, finish_attrs
        from hpo_bridge.storage.heartbeat import finish

        with self._lock:
            tid = self._ids.pop(record.trial_id)
        storage = self.storage
        with translate_errors(self.engine.where):
            try:
                for step, value in record.intermediate.items():
                    storage.set_trial_intermediate_value(tid, step, value)
                # One write with the state that finishes the trial (the backend's own tell
                # for an Optuna backend); ``backend`` was written with the running trial.
                attrs = finish_attrs(record)
                # before the backend's tell (an Optuna sampler reads them when it is told)
                for key, listed in constraint_attrs(record.constraints).items():
                    storage.set_trial_system_attr(tid, key, listed)
                if self.adopted:
                    self.store.beating.defer(tid, attrs)  # type: ignore[attr-defined]
                else:
                    finish(storage, tid, STATES[record.state], _stored_values(record), attrs)
            except self._optuna.exceptions.UpdateFinishedTrialError:
                log.warning("trial %d of study %r was failed by another worker that took this "
                            "process for dead (no heartbeat for %.0f s); its result is kept "
                            "only in this run's Result", record.trial_id, self.name, GRACE_PERIOD)

    # -- reading what others did -------------------------------------------------------------
    def sync(self, opt: Optimizer) -> tuple[list[TrialRecord], int]:
        """Restore trials finished elsewhere; fail dead workers' trials. Returns what was
        restored and how many trials run elsewhere."""
        from hpo_bridge.backends.optuna.records import counted, scheduled, to_records

        trials = self.study.get_trials(deepcopy=False)
        self.count = counted(self.space, trials)
        running = [t for t in trials if not t.state.is_finished() and t.number not in self._ids]
        if running and self._fail_dead(running, time.time()):
            trials = self.study.get_trials(deepcopy=False)
            running = [t for t in trials if not t.state.is_finished() and t.number not in self._ids]
        new = sorted((t for t in trials if t.state.is_finished() and t.number not in self._known),
                     key=lambda t: t.number)
        records = to_records(self.space, new, f"study {self.name!r} in {self.engine.where!r}",
                             opt.objectives, budget_name=self.store.budget_name)
        self.elsewhere = [(t.number, at[1], at[0]) for t in running
                          if (at := scheduled(t)) is not None]
        self._known.update(t.number for t in new)
        opt.restore(records, tell_backend=not self.adopted)
        return records, len(running)

    def _fail_dead(self, running: list[Any], now: float) -> bool:
        failed = False
        for frozen in running:
            error = _dead(frozen, now)
            if error is None:
                continue
            tid = self.storage.get_trial_id_from_study_id_trial_number(self.study_id,
                                                                       frozen.number)
            try:
                self.storage.set_trial_user_attr(tid, "error", error)
                self.storage.set_trial_state_values(tid, self._optuna.trial.TrialState.FAIL)
                failed = True
            except self._optuna.exceptions.UpdateFinishedTrialError:
                failed = True  # another worker failed it first, or it just finished
        return failed

    # -- heartbeat ---------------------------------------------------------------------------
    def _beat_loop(self) -> None:
        while not self._stop.wait(HEARTBEAT_INTERVAL):
            with self._lock:
                ids = list(self._ids.values())
            for tid in ids:
                try:
                    self.storage.set_trial_system_attr(tid, _BEAT, _beat())
                except Exception:  # finished meanwhile, or the storage hiccupped: next beat
                    pass


def _beat() -> list[Any]:
    """A heartbeat: ``[host, pid, unix time]``."""
    return [_HOST, os.getpid(), time.time()]


def _stored_values(record: TrialRecord) -> list[float] | None:
    """What Optuna stores as the trial's values (none for a failure or a pruned trial that
    reported nothing)."""
    if record.state == "failed":
        return None
    if record.values is not None and len(record.values) > 1:
        return list(record.values)
    final = record.value
    return [final] if final is not None and final == final else None


def _dead(frozen: Any, now: float) -> str | None:
    """Why a running trial's worker is dead, or ``None`` while it may be alive."""
    start = frozen.datetime_start
    at = start.timestamp() if start is not None else now
    beat = frozen.system_attrs.get(_BEAT)
    if (isinstance(beat, list) and len(beat) == 3 and isinstance(beat[0], str)
            and isinstance(beat[1], int) and isinstance(beat[2], (int, float))):
        host, pid, at = beat
        if host == _HOST and pid != os.getpid() and not _alive(pid):
            return INTERRUPTED
    if now - float(at) > GRACE_PERIOD:
        return f"interrupted: no heartbeat for {now - float(at):.0f} s (its worker died)"
    return None


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped by its parent) is dead too
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True
