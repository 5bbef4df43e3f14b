"""Optuna samplers behind ask/tell, through ``study.ask`` and ``study.tell``.

``study.optimize`` is ``ask``, the objective's ``suggest_*`` calls and ``tell``; this adapter
makes the same calls, so a seeded run proposes what ``study.optimize`` proposes. Running trials
are pending to Optuna (TPE's constant liar sees them); failures are told as ``FAIL`` and pruned
trials as ``PRUNED`` (with their reported intermediate values), natively.

Several objectives: the study is made with ``directions=[...]`` and told every value;
multi-objective TPE, GP (log EHVI), NSGA-II/III and random search model them natively.
Constraints: each is set on the trial with ``trial.set_constraint`` before it is told (stored
as the system attribute ``constraints:<i>``), which is where Optuna 5's TPE, GP and NSGA-II/III
read them (``constraints_func`` is deprecated there); a run without constraints sets none, so
its proposals are unchanged. On a stored study the storage writes them instead, before the
tell, as the list ``constraints`` that ``constraints_func`` writes (optuna-dashboard reads only
that; Optuna reads it as the same ``{"0": c0, ...}``).

Object choices are ``CategoricalDistribution`` s of their labels (``translate.py``); a study
stored before labels keeps its option indices (the study's ``hpo_bridge:choices`` system
attribute says which). The sampler draws the same index either way. CMA-ES models one objective and ignores constraints: refused
(its capabilities).
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Mapping
from typing import Any, cast

import optuna
from optuna.trial import TrialState

from hpo_bridge.backends.base import Adapter, RunSetup, Told, keyword_names
from hpo_bridge.backends.optuna.grid import GridPlan
from hpo_bridge.backends.optuna.records import is_labelled
from hpo_bridge.backends.optuna.translate import from_params, suggest, to_params
from hpo_bridge.backends.quiet import quiet_libraries
from hpo_bridge.space import Space

_tell_with_warning: Any
try:  # what study.tell and study.optimize call to finish a trial; private, but the public
    # study.tell deep-copies the finished trial it returns: 200 us a trial against 40 us
    # (measured, 8 parameters), which would break the overhead goal of optuna:tpe
    from optuna.study._tell import _tell_with_warning
except ImportError:  # pragma: no cover - a later Optuna moved it; study.tell still works
    _tell_with_warning = None

_SAMPLERS = {
    "tpe": optuna.samplers.TPESampler,
    "gp": optuna.samplers.GPSampler,
    "random": optuna.samplers.RandomSampler,
    "cmaes": optuna.samplers.CmaEsSampler,
    "qmc": optuna.samplers.QMCSampler,
    "nsga2": optuna.samplers.NSGAIISampler,
    "nsga3": optuna.samplers.NSGAIIISampler,
}
# Our spaces routinely hold categorical and conditional parameters, which CMA-ES, GP and QMC sample
# with their independent sampler by design; their per-parameter warning would flood the log.
# This changes no proposal.
# QMC: scrambled by the seed, so that seeds are replicates (QMCSampler's default,
# scramble=False, gives every seed the same sequence after the first trial).
#: What the adapter passes over each sampler's own defaults (the bench's settings table reads it).
SAMPLER_DEFAULTS = {"cmaes": {"warn_independent_sampling": False},
                    "gp": {"warn_independent_sampling": False},
                    "qmc": {"warn_independent_sampling": False, "scramble": True}}


def _make_sampler(name: str, seed: int | None,
                  kwargs: dict[str, Any]) -> optuna.samplers.BaseSampler:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler: optuna.samplers.BaseSampler = _SAMPLERS[name](
            seed=seed, **{**SAMPLER_DEFAULTS.get(name, {}), **kwargs})
    return sampler


class OptunaAdapter(Adapter):
    """An Optuna sampler behind ask/tell. Options: ``sampler`` and the sampler's kwargs."""

    def __init__(self, space: Space, seed: int | None, sampler: str = "tpe", *,
                 stored_study: tuple[Any, str] | None = None, **sampler_kwargs: Any):
        super().__init__(space, seed)  # Optuna's INFO line per trial: backends.quiet
        self._grid: GridPlan | None = None
        self._sampler = _sampler(space, seed, sampler, sampler_kwargs)
        self._startup = _startup(sampler, sampler_kwargs)
        self._stored = stored_study is not None
        #: Whether object choices are their labels (else indices: a study stored before).
        self.labelled = True
        if stored_study is None:
            with quiet_libraries():  # its "A new study created" line, by hand too (as a run)
                self.study = optuna.create_study(sampler=self._sampler, direction="minimize")
        else:  # the stored study, loaded with this adapter's sampler (see on_study)
            storage, name = stored_study
            self.study = optuna.load_study(study_name=name, storage=storage,
                                           sampler=self._sampler)
            self.labelled = is_labelled(storage.get_study_system_attrs(
                storage.get_study_id_from_name(name)))
        if sampler == "grid":  # see grid.py: the adapter enqueues each grid point once
            self._grid = GridPlan(space, seed, self.labelled)
        maximize = optuna.study.StudyDirection.MAXIMIZE
        self._signs = [-1.0 if d == maximize else 1.0 for d in self.study.directions]

    @classmethod
    def on_study(cls, space: Space, seed: int | None, storage: Any, study_name: str,
                 **options: Any) -> OptunaAdapter:
        """The adapter built on the stored study ``study_name`` from the start, with its own
        sampler (see :class:`hpo_bridge.backends.optuna.records.StudyAdapter`): it asks and
        tells through the record store itself, whose study keeps its sampler.

        Losses are minimized; a study stored in the user's direction ``maximize`` is told
        ``-loss`` (the user's value), so its sampler and every Optuna tool see what the user
        sees.
        """
        return cls(space, seed, stored_study=(storage, study_name), **options)

    to_native = staticmethod(to_params)

    @classmethod
    def from_native(cls, space: Space, native: Mapping[str, Any]) -> dict[str, Any]:
        return from_params(space, native)

    @classmethod
    def option_names(cls, sampler: str = "tpe", **_: Any) -> set[str]:
        if sampler == "grid":  # hb gives the search space and the seed: nothing left
            return set()
        return keyword_names(_SAMPLERS[sampler], skip=("seed",))

    def configure(self, setup: RunSetup) -> None:
        """Several objectives: a study with one direction each (all minimized: losses), with
        the same sampler, made before the first ask (a stored study has its directions)."""
        if setup.n_objectives > 1 and not self._stored:
            with quiet_libraries():
                self.study = optuna.create_study(sampler=self._sampler,
                                                 directions=["minimize"] * setup.n_objectives)
            self._signs = [1.0] * setup.n_objectives

    @property
    def stored(self) -> bool:
        """Whether it works on a stored study (:meth:`on_study`)."""
        return self._stored

    def trial_number(self, handle: optuna.Trial) -> int:
        """The study's number of a pending trial (stored trials are numbered by the study)."""
        return handle.number

    @property
    def remaining(self) -> int | None:
        return None if self._grid is None else self._grid.remaining(self.study)

    def ask(self) -> tuple[Any, dict[str, Any]]:
        if self._grid is not None:
            self.study.enqueue_trial(self._grid.next_params(self.study), skip_if_exists=False)
        trial = self.study.ask()
        return trial, suggest(trial, self.space, self.labelled)

    def ask_fixed(self, point: Mapping[str, Any]) -> Any:
        self.study.enqueue_trial(to_params(self.space, point, self.labelled),
                                 skip_if_exists=False)
        trial = self.study.ask()
        suggest(trial, self.space, self.labelled)
        return trial

    @property
    def startup(self) -> int:
        """The sampler's ``n_startup_trials`` (TPE, GP, CMA-ES; 0 for one without)."""
        return self._startup

    def withdraw(self, handle: Any) -> None:
        """Told failed: a running trial weighs on the GP sampler's next proposals (and on
        TPE's with ``constant_liar``); a failed one on none. A stored study's trials are the
        user's record: left as they are."""
        if not self._stored:
            _study_tell(self.study, handle, state=TrialState.FAIL)

    def report(self, handle: Any, value: float, step: int) -> None:
        if len(self._signs) == 1:  # Optuna refuses reports in a multi-objective study
            handle.report(self._signs[0] * value, step)

    def tell(self, handle: Any, told: Told) -> None:
        """Every loss (in the user's directions if the study is stored in them) and the
        constraints, set on the trial where Optuna's samplers read them."""
        if told.state == "complete":
            if told.constraints is not None and not self._stored:
                for i, c in enumerate(told.constraints):
                    handle.set_constraint(str(i), float(c))
            losses = cast("tuple[float, ...]", told.losses)
            if len(self._signs) == 1:
                _study_tell(self.study, handle, self._signs[0] * losses[0])
            else:
                _study_tell(self.study, handle, [s * v for s, v in zip(self._signs, losses, strict=True)])
        elif told.state == "pruned":
            _study_tell(self.study, handle, state=TrialState.PRUNED)
        else:
            _study_tell(self.study, handle, state=TrialState.FAIL)


def _sampler(space: Space, seed: int | None, sampler: str,
             kwargs: dict[str, Any]) -> optuna.samplers.BaseSampler:
    if sampler == "grid":  # grid.py's plan is enqueued; the sampler only fills the trial
        return optuna.samplers.RandomSampler(seed=seed)
    return _make_sampler(sampler, seed, kwargs)


def _startup(sampler: str, kwargs: dict[str, Any]) -> int:
    """The sampler's random start-up: its ``n_startup_trials`` as given, else its default."""
    if sampler not in _SAMPLERS:
        return 0
    param = inspect.signature(_SAMPLERS[sampler]).parameters.get("n_startup_trials")
    if param is None:
        return 0
    value = kwargs.get("n_startup_trials", param.default)
    return int(value) if isinstance(value, int) else 0


def _study_tell(study: optuna.Study, trial: Any, value: float | list[float] | None = None,
                state: TrialState | None = None) -> None:
    """``study.tell`` without the deep copy of the finished trial it returns, which we never
    read and which cost more per trial than all of hb's own books (``study.optimize`` skips
    it too)."""
    if _tell_with_warning is None:
        study.tell(trial, value, state=state)
    else:
        _tell_with_warning(study, trial, value, state)

