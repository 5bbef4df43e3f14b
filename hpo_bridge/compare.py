"""``compare``: one objective and space under several backends and seeds, as one long table.

Every (backend, seed) pair is one independent ``hb.minimize`` run. With ``n_jobs > 1`` the runs
go to worker processes; the objective and space travel as one cloudpickle payload, so lambdas and
closures work. Each run's table is a pure function of (objective, space, backend, seed,
max_evals), so the same seeds give the same table whatever ``n_jobs`` is, except the timing
columns (:data:`TIMING_COLUMNS`).
"""

from __future__ import annotations

import logging
import math
import numbers
import os
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hpo_bridge.backends.registry import resolve
from hpo_bridge.errors import SpaceError, check_positive
from hpo_bridge.objectives import run_objectives
from hpo_bridge.optimizer import Optimizer
from hpo_bridge.progress import ProgressBar, quiet_libraries, want_progress
from hpo_bridge.pruning import check_objectives
from hpo_bridge.results import COMPARE_COLUMNS, TIMING_COLUMNS, concat_runs, result_frame
from hpo_bridge.schedulers import check_fidelity_run
from hpo_bridge.space import SpaceLike

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["compare", "result_frame", "run_fingerprints", "repeated_runs", "COLUMNS",
           "TIMING_COLUMNS"]

#: The first columns of a compare table, in order; ``params.*``/``metrics.*`` follow.
COLUMNS = COMPARE_COLUMNS

# compare sets these for every run itself.
_OWNED = {"backend": "backends", "seed": "seeds", "max_evals": "max_evals"}
# Every run would resume the same stored study.
_REFUSED = ("storage", "study_name", "executor")
# minimize's keywords that travel with the objective (cloudpickle) to a worker process.
_CARRIED = ("callbacks", "warm_start")
# minimize's keywords that are not backend options.
_RUN_KEYWORDS = {"timeout", "points_to_evaluate", "pruner", "catch", "direction",
                 "trial_timeout", "objectives", "fidelity", "max_budget", "scheduler",
                 "callbacks", "warm_start", "deterministic"}


@dataclass(frozen=True)
class RunTask:
    """One (backend, seed) run of a pickled ``(objective, space)`` payload.

    ``key`` is whatever the caller uses to find the run again (``compare`` uses
    ``(backend, seed)``, the bench ``(problem, backend, seed)``).
    """

    key: tuple[Any, ...]
    payload: bytes
    backend: str
    seed: int
    max_evals: int
    kwargs: dict[str, Any] = field(default_factory=dict, hash=False)
    quiet: bool = False  # silence the libraries' warnings and log lines (the bench's choice)


@dataclass
class RunOutput:
    """What a worker sends back: the run's table, or the error that stopped it."""

    frame: Any  # pandas.DataFrame | None
    error: str | None
    wall_s: float
    cpu_s: float = math.nan  # CPU time of the run's process (load-independent)


def compare(objective: Callable[..., Any], space: SpaceLike, backends: Sequence[str] | str,
            seeds: Iterable[int] = range(5), max_evals: int = 50, n_jobs: int = 1,
            progress: bool | None = None, **minimize_kwargs: Any) -> pd.DataFrame:
    """Run ``objective`` under every backend and seed; one row per trial.

    Args:
        objective: As for :func:`hpo_bridge.minimize` (lambdas and closures work with
            ``n_jobs > 1``).
        space: The search space.
        backends: Backend names (``hb.backends()``), e.g. ``["optuna:tpe", "skopt:gp"]``.
        seeds: One run per seed and backend.
        max_evals: Trials per run.
        n_jobs: Runs at once, each in its own worker process (``1``: one after the other,
            in this process).
        progress: One progress bar over the runs (default: on in a terminal or notebook);
            each run's own trials show none.
        **minimize_kwargs: Passed to every :func:`hpo_bridge.minimize` call (``timeout``,
            ``pruner``, ``catch``, ``direction``, ``callbacks``, ``warm_start``, backend
            options, ...). ``callbacks`` and ``warm_start`` travel with the objective
            (cloudpickle): each run calls its own copy of the callbacks, in its worker
            process with ``n_jobs > 1``. ``backend``, ``seed``,
            ``max_evals``, ``storage``, ``study_name`` and ``executor`` are set
            by ``compare`` or refused.

    Returns:
        A pandas DataFrame with the columns :data:`COLUMNS` (``best_value``: best value so far
        in that run; ``elapsed_s``: wall time since that run started, when the trial finished),
        then ``params.<name>`` and ``metrics.<key>``; rows ordered by backend (as given), seed,
        trial_id. ``df.attrs["direction"]`` is the run direction. With ``objectives=``: the
        columns ``values.<name>``, ``constraints`` and ``feasible`` (as in ``Result.trials``),
        ``best_value`` is NaN (no single best), and ``df.attrs["objectives"]`` is
        ``{name: direction}``. With ``fidelity=`` (and ``max_budget=``; ``max_evals`` still
        bounds each run's evaluations): ``budget`` and ``config_id`` (one row per evaluation),
        and ``best_value`` is the best at the highest budget reached; ``hb.plot_convergence``
        draws it against the cumulative budget.

    Raises:
        ValueError: An argument is wrong (unknown backends are listed with the valid names),
            before any run starts.
        RuntimeError: A run failed (e.g. no trial succeeded); names the backend and seed.

    Example:
        >>> import hpo_bridge as hb
        >>> df = hb.compare(lambda c: c["x"] ** 2, {"x": hb.uniform(-1.0, 1.0)},
        ...                 ["optuna:random", "hyperopt:tpe"], seeds=range(2), max_evals=5)
        >>> df.groupby(["backend", "seed"]).size().tolist()
        [5, 5, 5, 5]
    """
    with quiet_libraries():  # the check builds each backend: Optuna's study line, as in a run
        backends, seeds = check_compare_args(objective, space, backends, seeds, max_evals,
                                             n_jobs, minimize_kwargs)
    max_evals, n_jobs = int(max_evals), int(n_jobs)  # checked: NumPy's counts too
    # what a worker process needs beside the objective goes by cloudpickle too (a callback
    # may be a closure); plain keywords stay in the task
    carried = {k: minimize_kwargs.pop(k) for k in _CARRIED if k in minimize_kwargs}
    payload = dumps((objective, space, carried) if carried else (objective, space))
    tasks = [RunTask((b, s), payload, b, s, max_evals, minimize_kwargs)
             for b in backends for s in seeds]
    frames: dict[tuple[Any, ...], Any] = {}
    try:
        with ProgressBar(len(tasks), want_progress(progress), desc="compare", unit="run") as bar:
            for task, out in iter_runs(tasks, n_jobs):
                if out.error is not None:
                    raise RuntimeError(f"compare: backend {task.backend!r} with seed "
                                       f"{task.seed} failed: {out.error}")
                frames[task.key] = out.frame
                bar.update(None, note=f"{task.backend} seed {task.seed}")
    except KeyboardInterrupt:
        if not frames:
            raise
        warnings.warn(f"compare interrupted: returning the {len(frames)} of {len(tasks)} runs "
                      "that finished", stacklevel=2)
    table = concat_runs([frames[t.key] for t in tasks if t.key in frames])
    if len(table):
        for note in repeated_runs(table):  # e.g. a deterministic method: seeds are not samples
            warnings.warn(f"compare: {note}", stacklevel=2)
    objectives = run_objectives(minimize_kwargs.get("objectives"),
                                minimize_kwargs.get("direction"))
    table.attrs["direction"] = objectives.direction  # a named objective has its own
    table.attrs.update(objectives.metadata())  # a named objective's: {"objectives": {...}}
    return table


# -- arguments ---------------------------------------------------------------------------------
def check_compare_args(objective: Any, space: Any, backends: Any, seeds: Any, max_evals: Any,
                       n_jobs: Any, kwargs: dict[str, Any]) -> tuple[list[str], list[int]]:
    """Check everything before any run; return the full backend names and the seeds."""
    if not callable(objective):
        raise SpaceError(f"objective must be callable, got {objective!r}")
    names = _check_backends(backends)
    seeds = check_seeds(seeds)
    for name, value in (("max_evals", max_evals), ("n_jobs", n_jobs)):
        check_positive(name, value, optional=False)
    for key in kwargs:
        if key in _OWNED:
            raise SpaceError(f"compare sets {key!r} for every run; pass {_OWNED[key]} to "
                             "compare instead")
        if key in _REFUSED:
            raise SpaceError(f"compare does not take {key!r}: its runs would share one stored "
                             "study; run hb.minimize per backend and seed instead")
        if key == "n_jobs":
            raise SpaceError("compare's n_jobs is the number of runs at once; trials within "
                             "a run are sequential")
    options = {k: v for k, v in kwargs.items() if k not in _RUN_KEYWORDS}
    for name in names:  # the space, its fit to each backend, objectives and backend options
        opt = Optimizer(space, name, seeds[0], direction=kwargs.get("direction"),
                        objectives=kwargs.get("objectives"), **options)
        check_objectives(opt.objectives, kwargs.get("pruner"))
        if {"fidelity", "max_budget", "scheduler"} & set(kwargs):  # multi-fidelity runs
            check_fidelity_run(opt, kwargs.get("fidelity"), kwargs.get("max_budget"),
                               kwargs.get("scheduler"), max_evals=max_evals,
                               timeout=kwargs.get("timeout"), pruner=kwargs.get("pruner"))
    return names, seeds


def _check_backends(backends: Any) -> list[str]:
    if isinstance(backends, str):
        backends = [backends]
    if not isinstance(backends, (list, tuple)) or not backends:
        raise SpaceError(f"backends must be a non-empty list of backend names, got {backends!r}")
    unknown = []
    names: list[str] = []
    for b in backends:
        try:
            names.append(resolve(b).name)
        except ValueError:
            unknown.append(b)
    if unknown:
        from hpo_bridge.backends.registry import SHORT_NAMES
        from hpo_bridge.backends.registry import backends as all_backends

        valid = ", ".join([b.name for b in all_backends()] + list(SHORT_NAMES))
        raise SpaceError(f"unknown backend(s) {', '.join(map(repr, unknown))}; valid names "
                         f"are {valid}")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SpaceError(f"backends: {', '.join(dupes)} given more than once")
    for name in names:
        resolve(name).load()  # a missing library fails here, naming the extra to install
    return names


def check_seeds(given: Any) -> list[int]:
    """``given`` as a list of distinct seeds (ints >= 0, NumPy's too), or a :class:`SpaceError`
    saying how to write them; a string is not a list of seeds."""
    if isinstance(given, str | bytes) or not isinstance(given, Iterable):
        raise SpaceError(f"seeds must be an iterable of ints (e.g. range(5)), got {given!r}")
    seeds: list[Any] = list(given)
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, numbers.Integral)
           or s < 0]
    if not seeds or bad:
        raise SpaceError(f"seeds must be a non-empty iterable of ints >= 0, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise SpaceError(f"seeds must be distinct, got {seeds!r}")
    return [int(s) for s in seeds]


# -- running -----------------------------------------------------------------------------------
def dumps(obj: Any) -> bytes:
    import cloudpickle

    data: bytes = cloudpickle.dumps(obj)
    return data


def run_task(task: RunTask) -> RunOutput:
    """Run one task here: import the backend first so its import is not timed."""
    import pickle

    from hpo_bridge.run import minimize

    objective, space, *carried = pickle.loads(task.payload)
    kwargs = {**task.kwargs, **(carried[0] if carried else {})}
    resolve(task.backend).load()
    t0, c0 = time.time(), time.process_time()
    try:
        with quiet_run(task.quiet):
            result = minimize(objective, space, backend=task.backend, seed=task.seed,
                              max_evals=task.max_evals, progress=False, **kwargs)
    except Exception as exc:  # reported with the run's name by the caller
        return RunOutput(None, f"{type(exc).__name__}: {exc}", time.time() - t0,
                         time.process_time() - c0)
    wall, cpu = time.time() - t0, time.process_time() - c0
    if result.stopped == "interrupted":  # Ctrl-C: not a finished run; stop the caller too
        raise KeyboardInterrupt
    return RunOutput(result_frame(result, t0), None, wall, cpu)


@contextmanager
def quiet_run(quiet: bool) -> Iterator[None]:
    """A run with Optuna's log lines and the libraries' warnings silenced (the bench's runs)."""
    if not quiet:
        yield
        return
    logger = logging.getLogger("optuna")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def iter_runs(tasks: Sequence[RunTask], n_jobs: int,
              run: Callable[[RunTask], RunOutput] = run_task
              ) -> Iterator[tuple[RunTask, RunOutput]]:
    """Yield ``(task, output)`` as runs finish: in order here, or from ``n_jobs`` processes.
    ``run`` runs one task (a picklable module-level function; ``bench --simulate`` passes
    :func:`hpo_bridge.bench.simulate.run_sim_task`)."""
    if n_jobs == 1 or len(tasks) <= 1:
        for task in tasks:
            yield task, run(task)
        return
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    workers = min(n_jobs, len(tasks))
    pool = ProcessPoolExecutor(workers, initializer=_limit_threads,
                               initargs=(max(1, (os.cpu_count() or 1) // workers),))
    try:
        futures = {pool.submit(run, t): t for t in tasks}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in sorted(done, key=lambda f: tasks.index(futures[f])):
                yield futures[fut], fut.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _limit_threads(n: int) -> None:
    """Worker initializer: ``n`` threads per worker, so workers do not oversubscribe cores."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(n))
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:  # pragma: no cover - comes with scikit-learn
        pass
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


# -- honest replicates -------------------------------------------------------------------------
def run_fingerprints(df: pd.DataFrame) -> pd.DataFrame:
    """One row per run of a compare (or bench) table: its keys and ``fingerprint``, a digest
    of its whole trial sequence (every value and parameter, in trial order). Two runs with the
    same fingerprint proposed and scored the same trials: they are one run, not two samples.
    """
    import hashlib

    import pandas as pd

    keys = [c for c in ("problem", "backend", "seed") if c in df.columns]
    cols = [c for c in df.columns if c == "value" or c.startswith(("params.", "values."))]
    rows: list[tuple[Any, ...]] = []
    for key, run in df.sort_values("trial_id", kind="stable").groupby(keys, sort=False):
        digest = hashlib.blake2b(digest_size=12)
        digest.update(pd.util.hash_pandas_object(run[cols].astype(str), index=False)
                      .to_numpy().tobytes())
        rows.append((*(key if isinstance(key, tuple) else (key,)), digest.hexdigest()))
    prints: pd.DataFrame = pd.DataFrame(rows, columns=[*keys, "fingerprint"])
    return prints


def repeated_runs(df: pd.DataFrame) -> list[str]:
    """What a reader must know before counting runs as replicates: each backend whose seeds
    gave identical runs, and each backend whose runs were identical to another's for every
    seed (one sentence each, per problem where the table has problems)."""
    prints = run_fingerprints(df)
    where = ["problem"] if "problem" in prints.columns else []
    notes: list[str] = []
    for key, part in prints.groupby(where or (lambda _: ""), sort=False):
        on = f" on {key[0] if isinstance(key, tuple) else key!s}" if where else ""
        runs = {str(b): [str(f) for f in g["fingerprint"]]
                for b, g in part.groupby("backend", sort=False)}
        for backend, fps in runs.items():
            if len(fps) > 1 and len(set(fps)) < len(fps):
                notes.append(f"{backend}{on}: its {len(fps)} seeds gave {len(set(fps))} "
                             "distinct run(s); identical runs are not independent replicates")
        seen: dict[tuple[str, ...], str] = {}
        for backend, fps in runs.items():
            signature = tuple(sorted(fps))
            if signature in seen:
                notes.append(f"{backend}{on} ran exactly the trials of {seen[signature]} "
                             "for every seed")
            else:
                seen[signature] = backend
    return notes
