"""Which configuration runs next, at which budget: Hyperband, successive halving and ASHA.

A scheduler is part of the run loop's books (:class:`hpo_bridge.loop.RunBooks`): before each
evaluation the books ask it for a :class:`Job` (:meth:`Scheduler.next_job`: a new
configuration, or a promotion of one already evaluated, and its budget), start it, and tell it
each finished evaluation (:meth:`Scheduler.finish`). New configurations come from the
optimizer's adapter stack (with ``fidelity=``, one proposer per rung budget:
:mod:`hpo_bridge.backends.rungs`); a promotion is the same configuration again
(``Optimizer.enqueue_point``), at the next rung's budget.

- ``"hyperband"`` (Li et al., JMLR 2018, Algorithm 1): the brackets of
  :func:`hpo_bridge.fidelity.hyperband_brackets`, ``s = s_max .. 0``, repeated while the budget
  lasts. Each bracket is successive halving: a rung's evaluations all finish, then the best
  ``floor(n_i / eta)`` (the bracket's next ``n``) go on to the next rung.
- ``"sha"`` (synchronous successive halving, Jamieson and Talwalkar, AISTATS 2016): Hyperband's
  most exploratory bracket (``s = s_max``: ``eta ** s_max`` configurations at the lowest
  budget) repeated.
- ``"asha"`` (asynchronous successive halving, Li et al., MLSys 2020, Algorithm 2): never
  waits. When a worker is free, the highest rung ``k`` (below the top) that has a
  configuration among the best ``floor(|rung k| / eta)`` of its finished evaluations not yet
  promoted promotes it (the best first) to rung ``k + 1``; otherwise a new configuration starts
  at the lowest budget. For ``n_jobs > 1`` and Dask.

Hyperband and SHA are synchronous: with ``n_jobs > 1`` a rung waits for its last evaluation.
Ranking: complete (and feasible) evaluations by loss, ties by configuration id; failed ones
are never promoted.

A stored study (``storage=``) keeps each evaluation's budget and configuration id; a run that
resumes it, or another worker sharing it, tells its scheduler the evaluations it did not start
(:meth:`Scheduler.observe`): they are replayed in the order they started (their trial numbers),
so the scheduler reaches the state of the run that started them and continues its brackets.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from hpo_bridge.errors import SpaceError, UnsupportedError
from hpo_bridge.fidelity import Bracket, Fidelity, hyperband_brackets

if TYPE_CHECKING:
    from hpo_bridge.optimizer import Optimizer

__all__ = ["Job", "Observed", "SCHEDULERS", "Scheduler", "check_fidelity_run", "make_scheduler"]

log = logging.getLogger("hpo_bridge")

SchedulerName = Literal["hyperband", "sha", "asha"]
SCHEDULERS: tuple[str, ...] = ("hyperband", "sha", "asha")


@dataclass
class Job:
    """One evaluation to start: configuration ``config_id`` (``None``: a new one, asked of the
    backend) at ``fidelity.rungs[rung]``."""

    config_id: int | None
    rung: int
    budget: float
    point: dict[str, Any] | None = None
    reached: float | None = None  # the budget it last reached


@dataclass
class Observed:
    """An evaluation this scheduler did not start (an earlier run's, another worker's):
    trial ``trial_id`` of configuration ``config_id`` at ``budget``; ``finished`` with
    ``loss`` (``None``: failed or infeasible) or still running; ``point`` its configuration
    (``None`` while unknown)."""

    trial_id: int
    config_id: int
    budget: float
    finished: bool
    loss: float | None = None
    point: dict[str, Any] | None = None


@dataclass
class _Config:
    point: dict[str, Any] | None
    reached: float | None = None
    losses: dict[int, float | None] = field(default_factory=dict)  # rung -> loss


class Scheduler:
    """The configurations of one run and their evaluations (see the module's docstring)."""

    #: The scheduler's name (one of :data:`SCHEDULERS`).
    name: str = "hyperband"

    def __init__(self, fidelity: Fidelity) -> None:
        self.fidelity = fidelity
        self.configs: dict[int, _Config] = {}
        self.running: dict[int, Job] = {}  # trial id -> job
        #: The total budget of the evaluations started, by this run and (observed) others.
        self.spent: float = 0
        self.started: set[int] = set()  # trial ids of every evaluation started or observed
        self.local: set[int] = set()  # trial ids of the evaluations this run started
        self.finished_ids: set[int] = set()

    def next_job(self) -> Job | None:
        """The next evaluation to start, or ``None`` when none can start now (a synchronous
        rung waiting for its evaluations in flight). It is not started until :meth:`start`."""
        raise NotImplementedError

    def start(self, job: Job, trial_id: int, point: dict[str, Any]) -> int:
        """``job`` started as trial ``trial_id`` on ``point``; returns its configuration id."""
        config_id = job.config_id
        if config_id is None:
            config_id = max(self.configs, default=-1) + 1
            self.configs[config_id] = _Config(dict(point))
        job.config_id = config_id
        self.running[trial_id] = job
        self.started.add(trial_id)
        self.local.add(trial_id)
        self.spent += job.budget
        self._started(job)
        return config_id

    def finish(self, trial_id: int, loss: float | None) -> None:
        """Trial ``trial_id`` finished with ``loss`` (``None``: failed, or infeasible)."""
        job = self.running.pop(trial_id)
        self.finished_ids.add(trial_id)
        config = self.configs[job.config_id]  # type: ignore[index]
        config.losses[job.rung] = loss
        # What a checkpoint of this run holds: an evaluation run elsewhere left none here.
        config.reached = job.budget if trial_id in self.local else None

    # -- evaluations started elsewhere (a stored study) -----------------------------------
    def observe(self, evaluations: list[Observed]) -> None:
        """Take in evaluations this scheduler did not start: each one's start, in the order
        of their trial ids (the order they started in), then its finish if it finished.
        A synchronous scheduler replays its brackets through them, so it continues where the
        run that started them was; a finish is applied when the replay needs it (a rung ends
        only once its evaluations finished) or at the end."""
        fresh = sorted((e for e in evaluations if e.trial_id not in self.started),
                       key=lambda e: e.trial_id)
        done = {e.trial_id: e for e in evaluations
                if e.finished and e.trial_id not in self.finished_ids}
        for e in evaluations:  # a configuration's point, once known
            config = self.configs.get(e.config_id)
            if config is not None and config.point is None and e.point is not None:
                config.point = dict(e.point)
        for e in fresh:
            self._replay(e, done)
        for trial_id in sorted(done):
            if trial_id in self.running:
                self.finish(trial_id, done[trial_id].loss)

    def _replay(self, e: Observed, done: dict[int, Observed]) -> None:
        """Start ``e`` as if this scheduler had started it."""
        rung = self._rung(e.budget)
        if rung is None:
            log.warning("multi-fidelity: stored trial %d has budget %r, not a rung of %r; "
                        "the scheduler leaves it out", e.trial_id, e.budget, self.fidelity)
            return
        job = self._expected(e, done)
        if job is None or job.rung != rung or (
                job.config_id is None) != (e.config_id not in self.configs) or (
                job.config_id is not None and job.config_id != e.config_id):
            log.warning("multi-fidelity: stored trial %d (configuration %d at %r) is not the "
                        "evaluation the scheduler would start next (workers sharing a storage "
                        "without a lock?); it is counted as an extra one", e.trial_id,
                        e.config_id, e.budget)
            job = None
        if e.config_id not in self.configs:
            self.configs[e.config_id] = _Config(None if e.point is None else dict(e.point))
        config = self.configs[e.config_id]
        started = Job(e.config_id, rung, self.fidelity.rungs[rung], config.point, config.reached)
        self.running[e.trial_id] = started
        self.started.add(e.trial_id)
        self.spent += started.budget
        if job is None:
            self._extra(started)
        else:
            self._started(started)

    def _expected(self, e: Observed, done: dict[int, Observed]) -> Job | None:
        """The job this scheduler would start next, finishing (in the order they started)
        the evaluations that finished while it waits for them."""
        job = self.next_job()
        while job is None:
            ready = sorted(t for t in self.running if t in done and t < e.trial_id)
            if not ready:
                return None
            self.finish(ready[0], done.pop(ready[0]).loss)
            job = self.next_job()
        return job

    def _extra(self, job: Job) -> None:
        """An observed evaluation outside the scheduler's plan: it only runs and finishes."""

    def _rung(self, budget: float) -> int | None:
        rungs = self.fidelity.rungs
        return next((i for i, b in enumerate(rungs) if b == budget), None)

    def _started(self, job: Job) -> None:
        pass

    def _job(self, config_id: int | None, rung: int) -> Job:
        budget = self.fidelity.rungs[rung]
        if config_id is None:
            return Job(None, rung, budget)
        config = self.configs[config_id]
        return Job(config_id, rung, budget, config.point, config.reached)

    def _best(self, ids: list[int], rung: int, k: int) -> list[int]:
        ranked = [i for i in ids if self.configs[i].losses.get(rung) is not None]
        ranked.sort(key=lambda i: (self.configs[i].losses[rung], i))
        return ranked[:k]


class SyncScheduler(Scheduler):
    """Hyperband's brackets (or SHA's one bracket), each rung finished before the next."""

    def __init__(self, fidelity: Fidelity, brackets: list[Bracket]) -> None:
        super().__init__(fidelity)
        self.brackets = brackets
        self.bracket = 0  # index in brackets, cycling
        self.step = 0  # rung of the bracket
        self.todo: list[int | None] = self._fresh()  # config ids (None: new) to start
        self.members: list[int] = []  # configurations started in this rung
        self.in_flight = 0

    def _fresh(self) -> list[int | None]:
        n, _ = self.brackets[self.bracket].rungs[0]
        return [None] * n

    def next_job(self) -> Job | None:
        while not self.todo:
            if self.in_flight:
                return None  # the rung waits for its last evaluations
            self._advance()
        rungs = self.brackets[self.bracket].rungs
        return self._job(self.todo[0], rungs[self.step][1])

    def _started(self, job: Job) -> None:
        self.todo.pop(0)
        self.members.append(job.config_id)  # type: ignore[arg-type]
        self.in_flight += 1

    def _extra(self, job: Job) -> None:
        self.in_flight += 1

    def finish(self, trial_id: int, loss: float | None) -> None:
        super().finish(trial_id, loss)
        self.in_flight -= 1

    def _advance(self) -> None:
        """The rung is done: the best go on, or the next bracket starts."""
        rungs = self.brackets[self.bracket].rungs
        if self.step + 1 < len(rungs):
            n_next = rungs[self.step + 1][0]
            keep = self._best(self.members, rungs[self.step][1], n_next)
            if keep:
                self.step += 1
                self.todo, self.members = list(keep), []
                return
        self.bracket = (self.bracket + 1) % len(self.brackets)
        self.step, self.members = 0, []
        self.todo = self._fresh()


class AshaScheduler(Scheduler):
    """Asynchronous successive halving: promote when a rung's top ``1/eta`` allows it."""

    def __init__(self, fidelity: Fidelity) -> None:
        super().__init__(fidelity)
        top = len(fidelity.rungs) - 1
        self.finished: list[list[int]] = [[] for _ in range(top + 1)]  # per rung, config ids
        self.promoted: list[set[int]] = [set() for _ in range(top + 1)]

    def next_job(self) -> Job | None:
        eta = self.fidelity.eta
        for k in range(len(self.finished) - 2, -1, -1):
            done = self.finished[k]
            for config_id in self._best(done, k, len(done) // eta):
                if config_id not in self.promoted[k]:
                    return self._job(config_id, k + 1)
        return self._job(None, 0)

    def _expected(self, e: Observed, done: dict[int, Observed]) -> Job | None:
        # Asynchronous: which evaluation starts depends on what had finished when it started;
        # any start of a rung's budget is one ASHA could have made.
        rung = self._rung(e.budget)
        known = e.config_id in self.configs
        return None if rung is None else self._job(e.config_id if known else None, rung)

    def _started(self, job: Job) -> None:
        if job.rung > 0:
            self.promoted[job.rung - 1].add(job.config_id)  # type: ignore[arg-type]

    def finish(self, trial_id: int, loss: float | None) -> None:
        job = self.running[trial_id]
        super().finish(trial_id, loss)
        self.finished[job.rung].append(job.config_id)  # type: ignore[arg-type]


def make_scheduler(name: str, fidelity: Fidelity) -> Scheduler:
    """The scheduler ``name`` (one of :data:`SCHEDULERS`) for ``fidelity``."""
    brackets = hyperband_brackets(fidelity)
    made: Scheduler
    if name == "hyperband":
        made = SyncScheduler(fidelity, brackets)
    elif name == "sha":
        made = SyncScheduler(fidelity, brackets[:1])
    elif name == "asha":
        made = AshaScheduler(fidelity)
    else:
        raise ValueError(f"scheduler must be one of {SCHEDULERS}, got {name!r}")
    made.name = name
    return made


def check_fidelity_run(opt: Optimizer, fidelity: Any, max_budget: Any, scheduler: Any, *,
                       max_evals: int | None, timeout: float | None, pruner: Any,
                       storage: Any = None, study_name: Any = None) -> Scheduler:
    """``minimize``'s multi-fidelity arguments checked before the first evaluation (each
    refusal names the argument, the rule and the fix); the run's scheduler. ``storage`` and
    ``study_name`` are accepted and not checked here: a stored study keeps the brackets
    (:mod:`hpo_bridge.storage.study` checks its fidelity and scheduler)."""
    if fidelity is None:
        given = "max_budget" if max_budget is not None else "scheduler"
        raise SpaceError(f"{given}= goes with fidelity=: pass fidelity=hb.fidelity('epochs', 1, "
                         "81) for a multi-fidelity run, or max_evals=/timeout= for a plain one")
    if not isinstance(fidelity, Fidelity):
        raise SpaceError(f"fidelity must be made by hb.fidelity(name, low, high, eta=3), got "
                         f"{fidelity!r}")
    name = "hyperband" if scheduler is None else scheduler
    if name not in SCHEDULERS:
        raise SpaceError(f"scheduler must be one of {SCHEDULERS}, got {scheduler!r}")
    if max_budget is not None:
        if (isinstance(max_budget, bool) or not isinstance(max_budget, (int, float))
                or not math.isfinite(max_budget)):
            raise SpaceError(f"max_budget must be a number, got {max_budget!r}")
        if max_budget < fidelity.high:
            raise SpaceError(
                f"max_budget={max_budget!r} is below one full evaluation ({fidelity.name}="
                f"{fidelity.high!r}, the fidelity's high): no configuration could reach it; "
                f"give max_budget >= {fidelity.high!r} (e.g. {fidelity.high!r} * 40)")
    elif max_evals is None and timeout is None:
        raise SpaceError("fidelity= needs a budget: max_budget= (the total of the "
                         "evaluations' budgets, e.g. 40 full evaluations: max_budget="
                         f"{fidelity.high!r} * 40), max_evals= or timeout=")
    if len(opt.objectives) > 1:
        raise UnsupportedError(
            f"fidelity= with several objectives ({', '.join(opt.objectives.names)}) is not "
            "supported: successive halving ranks configurations by one loss; optimize one "
            "objective (or a weighted sum of them)")
    if pruner is not None:
        raise SpaceError("fidelity= and pruner= both stop poor configurations early; pass "
                         "one: fidelity= (with scheduler=) schedules budgets itself")
    caps = opt.info.capabilities
    if caps.finite or caps.conditional == "enumerated":
        raise UnsupportedError(
            f"{opt.backend} enumerates a grid, each configuration once; multi-fidelity "
            "needs a backend that proposes new configurations (any other single-objective "
            "backend of hb.backends(), e.g. optuna:tpe; optuna:random is plain Hyperband)")
    if not caps.batch:
        raise UnsupportedError(
            f"{opt.backend} takes one pending trial at a time (capabilities.batch is False), "
            "but multi-fidelity keeps an ask pending in a budget's proposer while the "
            "configuration it proposed runs at a lower budget first; use a backend with "
            "batch support")
    structure = opt.space.compiled_from
    if not isinstance(structure, dict):
        raise SpaceError(
            f"fidelity {fidelity.name!r}: the space must be a dict, so that the budget can "
            f"be given as config[{fidelity.name!r}]; got a {type(structure).__name__}")
    if fidelity.name in structure:
        raise SpaceError(
            f"fidelity {fidelity.name!r} is also a parameter of the space: the budget is "
            f"given as config[{fidelity.name!r}] and would overwrite it; rename one of them")
    return make_scheduler(name, fidelity)
