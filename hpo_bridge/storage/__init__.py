"""Persistence, resume and shared studies for every backend, through Optuna's storages.

``minimize(..., storage="runs.db", study_name="exp")`` keeps every trial in an Optuna study,
whatever the backend, so every run opens in ``optuna-dashboard``, ``optuna.visualization`` and
``optuna.importance``. Storages (see :mod:`hpo_bridge.storage.engines`): a SQLite file, an
Optuna journal file, PostgreSQL or any SQLAlchemy URL, or an Optuna storage object.

What is stored is data only: nothing read back is ever unpickled or evaluated.

- The study holds the user's direction (with ``objectives=``: one direction per objective, and
  the user attribute ``hpo_bridge.objectives``, ``{name: direction}``), the objectives' names
  (``study.set_metric_names``), user attributes ``hpo_bridge.space_signature``,
  ``hpo_bridge.backend`` (of the last run), ``hpo_bridge.backends`` (of every run),
  ``hpo_bridge.seed`` and ``hpo_bridge.version``, and system attributes
  ``hpo_bridge:space_doc`` (the space as JSON, :mod:`hpo_bridge.space.serialize`; a study
  stored before has it as the user attribute ``hpo_bridge.space_doc``) and
  ``hpo_bridge:choices`` (``"labels"``).
- A trial is its point (:mod:`hpo_bridge.backends.optuna.records`): an option's label where
  Optuna could not store the option exactly (its index in a study stored before labels), a
  normal prior's quantile (and its exact value in ``value.<name>`` when the quantile does not
  give it back bit-identical); with ``metrics.<key>``, ``error``, ``duration_s`` (wall time),
  ``objective_s`` and ``backend`` user attributes (and, with ``fidelity=``, ``budget`` and
  ``config_id``; the study then has ``hpo_bridge.fidelity``), and the ``constraints`` system
  attribute.
- A damaged storage is never written to, and its damage is named (the file, the journal line
  or SQLite row, and what still can be read): :mod:`hpo_bridge.storage.engines`.

Sharing (:mod:`hpo_bridge.storage.study`): every process that runs the same call with the same
``storage`` and ``study_name`` joins the study; ``max_evals`` is the study's total; each backend
proposes from every finished trial, whoever ran it; a dead worker's running trial is failed by a
heartbeat. Without ``study_name`` a run makes a new study with a unique name.
"""

from __future__ import annotations

import difflib
import warnings
from typing import TYPE_CHECKING, Any

from hpo_bridge.convert import as_space
from hpo_bridge.errors import SpaceError, StorageError
from hpo_bridge.objectives import Objectives
from hpo_bridge.results import Result
from hpo_bridge.space import Space, SpaceLike
from hpo_bridge.storage.engines import Engine, open_engine, translate_errors
from hpo_bridge.storage.study import (
    GRACE_PERIOD,
    HEARTBEAT_INTERVAL,
    INTERRUPTED,
    StudyHook,
    attach_storage,
    signature,
    space_changes,
)

if TYPE_CHECKING:
    import optuna

__all__ = ["attach_storage", "load", "to_optuna", "open_engine", "space_changes",
           "StudyHook", "INTERRUPTED", "HEARTBEAT_INTERVAL", "GRACE_PERIOD"]

_A = "hpo_bridge."


def _load_study(engine: Engine, name: str | None) -> Any:
    import optuna

    if name is not None:
        try:  # without listing every study (which copies each one's attributes: its space)
            engine.storage.get_study_id_from_name(name)
        except KeyError:
            pass  # no such study: say which there are
        else:
            return optuna.load_study(study_name=name, storage=engine.storage)
    names = optuna.study.get_all_study_names(engine.storage)
    if name is None:
        if len(names) != 1:
            raise ValueError(f"storage {engine.where!r} holds {len(names)} studies {names}; "
                             "pass study_name=")
        name = names[0]
    if name not in names:
        named = [n for n in names if isinstance(n, str)]  # a damaged file may hold others
        close = difflib.get_close_matches(name, named, n=1, cutoff=0.6) or [
            n for n in named if n.lower() == name.lower()]
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"storage {engine.where!r} has no study {name!r}{hint}; it has "
                         f"{names}")
    return optuna.load_study(study_name=name, storage=engine.storage)


def _stored_space(attrs: dict[str, Any], where: str) -> Any:
    from hpo_bridge.space.serialize import rebuild

    doc = attrs.get(_A + "space_doc")
    if doc is None:
        raise ValueError(f"{where} holds no space description (it was written by an older "
                         "hpo_bridge); pass the space: hb.load(storage, study_name, space=...)")
    try:
        space, labels = rebuild(doc)
    except SpaceError as exc:
        raise ValueError(f"{where}: {exc}; pass the space: "
                         "hb.load(storage, study_name, space=...)") from exc
    if labels:
        warnings.warn(f"{where}: options that are Python objects come back as their labels "
                      f"({', '.join(labels)}); pass space= to get the objects themselves",
                      stacklevel=3)
    return space


def load(storage: Any, study_name: str | None = None, *,
         space: SpaceLike | None = None) -> Result:
    """The :class:`~hpo_bridge.Result` of a stored study; no space object needed.

    Nothing is unpickled or evaluated: the space is rebuilt from its stored description. An
    option that is a Python object (a class, a function) comes back as its label
    (a ``StoredLabel`` string) with a warning; pass ``space=`` to get the objects.

    Args:
        storage: The path, URL or Optuna storage given to ``minimize(storage=...)``.
        study_name: The study (may be left out when the storage holds one study).
        space: The space of the run; it must match the stored one.

    Example:
        >>> import hpo_bridge as hb
        >>> result = hb.load("runs.db", "exp")            # doctest: +SKIP
        >>> result.trials; result.to_optuna()             # doctest: +SKIP
    """
    from hpo_bridge.backends.optuna.records import read_attrs, to_records

    engine = open_engine(storage, must_exist=True)
    engine.tidy()  # opening a SQLite file takes the lock: leave no file (nothing below takes it)
    with translate_errors(engine.where):
        study = _load_study(engine, study_name)
        where = f"study {study.study_name!r} in {engine.where!r}"
        # Read once, without ``study.user_attrs``'s deep copy (they hold the whole space).
        attrs, _ = read_attrs(engine.storage,
                              engine.storage.get_study_id_from_name(study.study_name), where)
        objectives = attrs.get(_A + "objectives")
        if _A + "space_signature" not in attrs:
            raise ValueError(f"{where} was not made by hpo_bridge (it has no stored space)")
        directions = study.directions
        spec = Objectives.from_stored(objectives, [d.name.lower() for d in directions])
        if not directions or len(spec) != len(directions):
            raise StorageError(f"{where} is damaged: it has {len(directions)} directions for "
                               f"objectives {objectives}; its trials can still be read with "
                               "Optuna (optuna.load_study(study_name=..., storage=...))")
        compiled: Space
        if space is not None:
            compiled = as_space(space)
            changes = space_changes(attrs[_A + "space_signature"], signature(compiled))
            if changes:
                raise SpaceError(f"{where}: space= differs from the stored one: "
                                 + "; ".join(changes))
        else:
            compiled = _stored_space(attrs, where)
        finished = sorted((t for t in study.get_trials(deepcopy=False)
                           if t.state.is_finished()), key=lambda t: t.number)
        fidelity = attrs.get(_A + "fidelity")
        budget_name = fidelity.get("name") if isinstance(fidelity, dict) else None
        records = to_records(compiled, finished, where, spec,
                             budget_name=budget_name if isinstance(budget_name, str) else None)
    backend = attrs.get(_A + "backend", "unknown")
    result = Result(records, space=compiled, backend=backend, seed=attrs.get(_A + "seed"),
                    direction=directions[0].name.lower(),
                    objectives=spec)
    result.study_ref = (engine.where if engine.kind != "object" else engine.storage,
                        study.study_name)
    return result


def to_optuna(result: Result) -> optuna.Study:
    """An Optuna study of ``result``: its stored study, or an in-memory one of its trials."""
    import optuna

    from hpo_bridge.backends.optuna.records import to_frozen

    if result.study_ref is not None:
        where, name = result.study_ref
        engine = open_engine(where, must_exist=True) if isinstance(where, str) else \
            open_engine(where)
        engine.tidy()  # opening a SQLite file takes the lock: leave no file
        return optuna.load_study(study_name=name, storage=engine.storage)
    study = optuna.create_study(directions=list(result.objectives.directions))
    for record in sorted(result.records, key=lambda r: r.trial_id):
        study.add_trial(to_frozen(result.space, record, result.backend))
    return study
