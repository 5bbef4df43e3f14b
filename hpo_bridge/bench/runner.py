"""Run the problem suite: plan (problem, backend, seed) runs, skip the finished ones, run the
rest (in worker processes with ``n_jobs > 1``), and keep each run's table as it finishes.

Layout of ``out``::

    runs/<problem>/<backend>/seed<k>.csv    one run's trials (as hb.compare's rows)
    runs/<problem>/<backend>/seed<k>.json   how it was made: budget, versions, settings, wall time
    results.csv                             every planned run's rows, with a ``problem`` column
                                            (several objectives: ``values.<name>`` columns and
                                            ``hypervolume``, the run's so far)
    report.md, convergence_<problem>.png, final_<problem>.png
    front_<problem>.png, hv_<problem>.png   several objectives: fronts, hypervolume gap

A run counts as finished when its ``.json`` says it ran the same budget without error; a re-run
into the same ``out`` skips it.

Nothing earlier is lost: ``results.csv`` and ``report.md`` are rebuilt from every finished run in
``out`` (earlier calls' problems, backends and seeds too), and a call whose budget differs from
the runs already there is refused before anything runs, since its runs would replace theirs and
one ranking would mix budgets.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpo_bridge.backends.features import space_features
from hpo_bridge.backends.registry import backends as all_backends
from hpo_bridge.backends.registry import resolve
from hpo_bridge.bench.meta import library_versions, sampler_settings
from hpo_bridge.bench.problems import QUICK_PROBLEMS, Problem, get_problem, list_problems
from hpo_bridge.bench.scoring import REFERENCES, reference_backend
from hpo_bridge.compare import RunTask, check_seeds, dumps, iter_runs
from hpo_bridge.errors import check_positive
from hpo_bridge.results import concat_runs

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Plan", "plan_bench", "run_bench", "check_folder", "merge_plan", "QUICK_SEEDS",
           "QUICK_MAX_EVALS", "DEFAULT_BACKENDS", "DEMO_PROBLEMS", "DEMO_BACKENDS", "backend_options"]

#: ``--quick``: seeds and trials per run (every quick problem, every available backend).
QUICK_SEEDS = 5
QUICK_MAX_EVALS = 30
#: Backends when none are named and the run is not ``--quick``.
DEFAULT_BACKENDS = ("hyperopt:tpe", "optuna:tpe", "skopt:gp", "optuna:random")
#: ``--demo`` (``make demo``, a few minutes): one problem per class of space (numeric 2-D and
#: 6-D, conditional, all-categorical), the cheap backends of each family, 5 seeds, 30 trials.
DEMO_PROBLEMS = ("branin", "hartmann6", "mixed", "nasbench201-cifar10")
DEMO_BACKENDS = ("auto", "optuna:gp", "optuna:tpe", "hyperopt:tpe", "optuna:cmaes", "skopt:gp",
                 "optuna:random")
#: In the demo, the slowest backend (about 7x optuna:gp's time per trial) runs only on the
#: space class where it ranked first in the quick benchmark.
DEMO_SLOW = {"skopt:gp": "numeric, 1–3-D"}


@dataclass
class Plan:
    """What a bench run will do, and what it left out and why."""

    problems: list[Problem]
    backends: list[str]
    seeds: list[int]
    max_evals: int
    runs: list[tuple[str, str, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reference: str | None = None
    #: ``--simulate --workers W``: W virtual workers in simulated time (``None``: real runs).
    simulate: int | None = None


def _check_int(name: str, value: Any) -> int:
    return int(check_positive(name, value, optional=False))


def plan_bench(problems: Iterable[str] | None, backends: Iterable[str] | None,
               seeds: int | Iterable[int] | None, max_evals: int | None,
               quick: bool = False, demo: bool = False, simulate: int | None = None) -> Plan:
    """Resolve names and defaults into the list of runs; every name is checked first.

    ``quick`` defaults the problems to :data:`QUICK_PROBLEMS` (those available here), the
    backends to every available one, ``seeds`` to :data:`QUICK_SEEDS` and ``max_evals`` to
    :data:`QUICK_MAX_EVALS`. A random-search reference (:data:`REFERENCES`) is added if none
    is given. A grid backend is skipped on problems with continuous parameters. ``demo``
    defaults the problems to :data:`DEMO_PROBLEMS` and the backends to :data:`DEMO_BACKENDS`
    (the slow ones only where :data:`DEMO_SLOW` says), else as ``quick``. ``simulate`` (a
    number of virtual workers) runs multi-fidelity problems with a recorded cost in
    simulated time (:mod:`hpo_bridge.bench.simulate`); the problems default to those.
    """
    notes: list[str] = []
    if simulate is not None:
        simulate = _check_int("workers", simulate)
        if problems is None:
            problems = [n for n in list_problems(available_only=True)
                        if get_problem(n).simulatable]
    if demo:
        quick = True
        problems = DEMO_PROBLEMS if problems is None else problems
        backends = DEMO_BACKENDS if backends is None else backends
    if problems is None:
        if not quick:
            raise ValueError("name the problems (e.g. problems=['branin']) or use quick=True; "
                             f"valid names: {', '.join(list_problems())}")
        problems = [p for p in QUICK_PROBLEMS if get_problem(p).available]
        left = [p for p in QUICK_PROBLEMS if p not in problems]
        if left:
            notes.append(f"quick problems not available here (missing packages): {left}")
    chosen = [get_problem(p) for p in problems]  # unknown names list the valid ones
    if not chosen:
        raise ValueError("no problems to run")
    for p in chosen:
        if not p.available:
            raise ValueError(f"problem {p.name!r} needs {', '.join(p.requires)} "
                             "(pip install 'hpo_bridge[all]')")
        if simulate is not None and not p.simulatable:
            valid = [n for n in list_problems() if get_problem(n).simulatable]
            raise ValueError(f"--simulate: problem {p.name!r} has no fidelity with a recorded "
                             f"cost to replay; simulated time runs {', '.join(valid)}")
    names = _plan_backends(backends, quick, notes)
    reference = reference_backend(names)
    if reference is None:
        reference = next((b for b in REFERENCES if resolve(b).available), None)
        if reference is None:
            raise ValueError(f"scoring needs a random search; none of {REFERENCES} can run")
        names.append(reference)
        notes.append(f"added {reference} as the random-search reference for scoring")
    seeds = QUICK_SEEDS if seeds is None and quick else seeds if seeds is not None else 5
    if isinstance(seeds, Iterable):
        seed_list = sorted(check_seeds(seeds))
    else:  # a count (NumPy's too)
        seed_list = list(range(_check_int("seeds", seeds)))
    max_evals = _check_int("max_evals", max_evals if max_evals is not None else
                           QUICK_MAX_EVALS if quick else 50)
    plan = Plan(chosen, names, seed_list, max_evals, notes=notes, reference=reference,
                simulate=simulate)
    for p in chosen:
        for b in names:
            if not _fits(p, b):
                notes.append(f"{b} skipped on {p.name}: a grid needs every parameter discrete")
                continue
            why = _refuses_fidelity(p, b)
            if why:
                notes.append(f"{b} skipped on {p.name}: {why}")
                continue
            if p.multi_objective and resolve(b).capabilities.objectives == "refused":
                notes.append(f"{b} skipped on {p.name}: it refuses several objectives")
                continue
            if demo and b in DEMO_SLOW and space_features(p.space).kind != DEMO_SLOW[b]:
                notes.append(f"{b} skipped on {p.name} (demo: the slowest backend runs on "
                             f"{DEMO_SLOW[b]} spaces only)")
                continue
            plan.runs += [(p.name, b, s) for s in seed_list]
    if not any(b != reference for _, b, _ in plan.runs) and names != [reference]:
        skipped = "; ".join(n for n in notes if "skipped" in n)
        raise ValueError(f"nothing to run: every requested backend was skipped ({skipped}); "
                         "choose other problems or backends")
    return plan


def _plan_backends(backends: Iterable[str] | None, quick: bool, notes: list[str]) -> list[str]:
    if backends is None:
        if quick:
            names = [b.name for b in all_backends() if b.available]
            missing = [b.name for b in all_backends() if not b.available]
            if missing:
                notes.append(f"backends not available here (missing libraries): {missing}")
            return names
        backends = DEFAULT_BACKENDS
    names = []
    for b in backends:
        info = resolve(b)  # unknown names list the valid ones
        if not info.available:
            raise ValueError(f"backend {info.name!r} needs {', '.join(info.missing())}: "
                             f"{info.install}")
        if info.name in names:
            raise ValueError(f"backend {info.name!r} given twice")
        names.append(info.name)
    return names


def _refuses_fidelity(problem: Problem, backend: str) -> str | None:
    """Why ``backend`` cannot run multi-fidelity ``problem`` (``None``: it can)."""
    if problem.fidelity is None:
        return None
    caps = resolve(backend).capabilities
    if caps.finite or caps.conditional == "enumerated":
        return "a grid enumerates each configuration once; multi-fidelity needs proposals"
    if not caps.batch:
        return "multi-fidelity keeps asks pending, and it takes one at a time"
    return None


def _fits(problem: Problem, backend: str) -> bool:
    if not resolve(backend).capabilities.discrete_only:
        return True
    from hpo_bridge.convert import as_space

    return all(d.param.discrete for d in as_space(problem.space).dims)


# -- running -----------------------------------------------------------------------------------
def _run_dir(out: Path, problem: str, backend: str) -> Path:
    return out / "runs" / problem / backend.replace(":", "-")


def _is_done(out: Path, key: tuple[str, str, int], max_evals: int,
             simulate: int | None = None) -> bool:
    meta_path = _run_dir(out, key[0], key[1]) / f"seed{key[2]}.json"
    csv_path = meta_path.with_suffix(".csv")
    if not (meta_path.exists() and csv_path.exists()):
        return False
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return False
    return (meta.get("max_evals") == max_evals and meta.get("error") is None
            and meta.get("simulate") == simulate)


def run_order(runs: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """``(problem, backend, seed)`` runs seed by seed, so the slow backends (GPs) are spread
    over the whole benchmark and its ETA is honest; plan order within a seed."""
    return [k for _, _, k in sorted((k[2], i, k) for i, k in enumerate(runs))]


def run_bench(problems: Iterable[str] | None = None, backends: Iterable[str] | None = None,
              seeds: int | Iterable[int] | None = None, max_evals: int | None = None,
              out: str | os.PathLike[str] = "results/bench", n_jobs: int = 1, quick: bool = False,
              demo: bool = False, simulate: int | None = None,
              progress: Callable[[int, int, tuple[Any, ...], float], None] | None = None,
              on_plan: Callable[[Plan, int], None] | None = None,
              command: str | None = None) -> dict[str, Any]:
    """Run the suite into ``out`` and write ``results.csv``, ``report.md`` and PNG plots.

    Args:
        problems: Problem names (default with ``quick``: the quick problems).
        backends: Backend names (default: every available backend with ``quick``, else
            :data:`DEFAULT_BACKENDS`); a random-search reference is added if missing.
        seeds: Number of seeds (``0 .. seeds-1``) or the seeds themselves.
        max_evals: Trials per run.
        out: Output folder; finished runs found there are not run again.
        n_jobs: Runs at once, in worker processes.
        quick: The quick benchmark's defaults (see :func:`plan_bench`).
        demo: The demo's defaults (see :func:`plan_bench`).
        simulate: Virtual workers: run the multi-fidelity problems with a recorded cost in
            simulated time, ASHA on that many workers (:mod:`hpo_bridge.bench.simulate`);
            each run's rows get ``sim_time_s`` and the report regret against it.
        progress: Called after every run as ``progress(done, total, key, wall_s)``.
        on_plan: Called once before running as ``on_plan(plan, n_to_run)``.
        command: The command line, quoted in the report.

    Returns:
        ``{"plan", "executed", "skipped", "failed", "wall_s", "out", "report"}``.

    Example:
        >>> from hpo_bridge.bench import run_bench
        >>> info = run_bench(["branin"], ["optuna:tpe"], seeds=2, max_evals=5,
        ...                  out=tmp_dir)  # doctest: +SKIP
    """
    n_jobs = _check_int("n_jobs", n_jobs)
    plan = plan_bench(problems, backends, seeds, max_evals, quick, demo, simulate)
    out = Path(out)
    check_folder(out, plan.max_evals)
    out.mkdir(parents=True, exist_ok=True)
    todo = run_order([k for k in plan.runs
                      if not _is_done(out, k, plan.max_evals, plan.simulate)])
    if on_plan is not None:
        on_plan(plan, len(todo))
    versions = library_versions()
    settings = {b: sampler_settings(b, **backend_options(b, plan.simulate))
                for b in plan.backends}
    payloads = {p.name: dumps((p.objective, p.space)) for p in plan.problems}
    kwargs = {p.name: _run_kwargs(p, plan.simulate) for p in plan.problems}
    tasks = [RunTask(k, payloads[k[0]], k[1], k[2], plan.max_evals,
                     {**kwargs[k[0]], **backend_options(k[1], plan.simulate)}, quiet=True)
             for k in todo]
    from hpo_bridge.bench.simulate import run_sim_task
    from hpo_bridge.compare import run_task

    t0, failed = time.time(), []
    runner = run_task if plan.simulate is None else run_sim_task
    for done, (task, output) in enumerate(iter_runs(tasks, n_jobs, runner), start=1):
        _save_run(out, task, output, plan.max_evals, versions, settings[task.backend], n_jobs,
                  plan.simulate)
        if output.error is not None:
            failed.append((task.key, output.error))
        if progress is not None:
            progress(done, len(tasks), task.key, output.wall_s)
    wall = time.time() - t0
    merged = merge_plan(out, plan)
    table = load_results(out, merged)
    table.to_csv(out / "results.csv", index=False)
    from hpo_bridge.bench.report import write_report

    settings.update({b: sampler_settings(b, **backend_options(b, plan.simulate))
                     for b in merged.backends if b not in settings})
    report = write_report(out, table, merged, versions, settings,
                          runs=load_run_meta(out, merged),
                          failed=failed,
                          executed=len(tasks), wall_s=wall, n_jobs=n_jobs,
                          command=command)
    return {"plan": plan, "executed": len(tasks), "skipped": len(plan.runs) - len(tasks),
            "failed": failed, "wall_s": wall, "out": out, "report": report}


def _finished(out: Path) -> list[dict[str, Any]]:
    """The ``.json`` of every run in ``out`` that finished without error (any budget)."""
    metas = []
    for path in sorted((out / "runs").glob("*/*/seed*.json")):
        try:
            meta = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(meta, dict) and meta.get("error") is None \
                and path.with_suffix(".csv").exists():
            metas.append(meta)
    return metas


def check_folder(out: Path, max_evals: int) -> None:
    """Refuse an ``out`` whose results a run with ``max_evals`` trials would replace or mix.

    Raises:
        ValueError: ``out`` holds finished runs of another budget, or a ``results.csv`` that
            no bench run made; the message says which and what to do.
    """
    if not out.exists():
        return
    if not out.is_dir():
        raise ValueError(f"out: {out} is a file, not a folder; --out names the folder the "
                         "report is written into (e.g. --out results/bench)")
    if not (out / "runs").is_dir() and any((out / f).exists()
                                           for f in ("results.csv", "report.md")):
        raise ValueError(f"out: {out} holds a results.csv or report.md but no runs/ folder "
                         "(not made by hpo-bridge bench); choose another --out")
    budgets = sorted({m.get("max_evals") for m in _finished(out)} - {max_evals}, key=str)
    if budgets:
        raise ValueError(
            f"out: {out} holds runs made with max_evals={', '.join(map(str, budgets))}; a run "
            f"with max_evals={max_evals} would replace them and mix budgets in one ranking. "
            f"Use another --out (e.g. {out}-{max_evals}) or --max-evals "
            f"{budgets[0]}")


def merge_plan(out: Path, plan: Plan) -> Plan:
    """``plan`` widened to every finished run in ``out`` with its budget: the earlier calls'
    problems, backends and seeds join it (in the order first seen), and notes say what was
    merged and where backends ran on different problems or seeds."""
    metas = [m for m in _finished(out) if m.get("max_evals") == plan.max_evals
             and m.get("simulate") == plan.simulate]
    known = {p.name for p in plan.problems}
    problems, notes = list(plan.problems), list(plan.notes)
    for name in dict.fromkeys(m["problem"] for m in metas):
        if name not in known and name in list_problems():
            problems.append(get_problem(name))
            known.add(name)
    backends = list(dict.fromkeys([*plan.backends, *(m["backend"] for m in metas)]))
    found = {(m["problem"], m["backend"], m["seed"]) for m in metas if m["problem"] in known}
    runs = [(p.name, b, s) for p in problems for b in backends
            for s in sorted({k[2] for k in found}) if (p.name, b, s) in found]
    earlier = [k for k in runs if k not in set(plan.runs)]
    if earlier:
        notes.append(f"{len(earlier)} earlier runs with the same budget found in {out} and "
                     "merged into this report")
    cover = {b: sorted({(p, s) for p, bb, s in runs if bb == b}) for b in backends}
    if len({tuple(c) for c in cover.values()}) > 1:
        full = set().union(*map(set, cover.values()))
        for b, c in cover.items():
            if set(c) != full:
                where = sorted({p for p, _ in c})
                notes.append(f"{b} ran {len(c)} of the {len(full)} (problem, seed) pairs "
                             f"(problems: {', '.join(where)}): its ranks and scores are over "
                             "those only, so compare it with care")
    versions = {json.dumps(m.get("versions"), sort_keys=True) for m in metas}
    if len(versions) > 1:
        notes.append(f"the runs were made with {len(versions)} different sets of library "
                     "versions (each run's .json keeps its own)")
    jobs = sorted({int(m["n_jobs"]) for m in metas if m.get("n_jobs")})
    if len(jobs) > 1:
        notes.append(f"runs were made with n_jobs={', '.join(map(str, jobs))} runs at once: "
                     "that changes wall times only (each run is sequential), not scores or ranks")
    seeds = sorted({s for _, _, s in runs}) or plan.seeds
    return Plan(problems, backends, seeds, plan.max_evals, runs=runs, notes=notes,
                reference=plan.reference, simulate=plan.simulate)


def backend_options(backend: str, simulate: int | None = None) -> dict[str, Any]:
    """``auto`` without its cost monitor (``cost="ignore"``): the suite scores regret per
    trial, as if every trial cost the same, and its objectives stand in for expensive ones;
    measured, their microseconds would hand every GP over to TPE at trial 15
    (:mod:`hpo_bridge.backends.cost`), which is a wall-time decision, not a per-trial one."""
    return {"cost": "ignore"} if backend == "auto" and simulate is None else {}


def _run_kwargs(problem: Problem, simulate: int | None) -> dict[str, Any]:
    """``minimize``'s (or the simulator's) keywords for a run of ``problem``."""
    if simulate is not None:
        return {"problem": problem.name, "workers": simulate}
    kwargs: dict[str, Any] = {}
    if problem.objectives:
        kwargs["objectives"] = dict(problem.objectives)
    if problem.fidelity is not None:  # Hyperband over the problem's budget, max_evals trials
        kwargs["fidelity"] = problem.fidelity
    return kwargs


def _save_run(out: Path, task: RunTask, output: Any, max_evals: int, versions: dict[str, str],
              settings: dict[str, Any], n_jobs: int, simulate: int | None = None) -> None:
    problem, backend, seed = task.key
    folder = _run_dir(out, problem, backend)
    folder.mkdir(parents=True, exist_ok=True)
    detail = None
    if output.frame is not None:
        frame = output.frame.copy()
        if len(frame) and frame["backend"].iloc[0] != backend:  # auto(...): what it chose
            detail = str(frame["backend"].iloc[0])
            frame["backend"] = backend
        frame.insert(0, "problem", problem)
        frame.to_csv(folder / f"seed{seed}.csv", index=False)
    meta = {"problem": problem, "backend": backend, "seed": seed, "max_evals": max_evals,
            "trials": 0 if output.frame is None else len(output.frame),
            "wall_s": output.wall_s, "cpu_s": output.cpu_s, "n_jobs": n_jobs,
            "error": output.error, "chosen": detail, "simulate": simulate,
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "versions": versions, "settings": settings}
    (folder / f"seed{seed}.json").write_text(json.dumps(meta, indent=1, default=str))


def load_run_meta(out: Path, plan: Plan) -> pd.DataFrame:
    """One row per finished planned run: ``problem``, ``backend``, ``seed``, ``wall_s``,
    ``cpu_s`` (NaN if not recorded), ``trials``, ``n_jobs`` (runs at once when it ran)."""
    import pandas as pd

    rows = []
    for problem, backend, seed in plan.runs:
        if _is_done(out, (problem, backend, seed), plan.max_evals, plan.simulate):
            path = _run_dir(out, problem, backend) / f"seed{seed}.json"
            meta = json.loads(path.read_text())
            rows.append({"problem": problem, "backend": backend, "seed": seed,
                         "wall_s": meta.get("wall_s"), "cpu_s": meta.get("cpu_s"),
                         "trials": meta.get("trials"), "n_jobs": meta.get("n_jobs")})
    columns = ["problem", "backend", "seed", "wall_s", "cpu_s", "trials", "n_jobs"]
    walls: pd.DataFrame = pd.DataFrame(rows, columns=columns).astype({"wall_s": float,
                                                                      "cpu_s": float})
    return walls


def load_results(out: Path, plan: Plan) -> pd.DataFrame:
    """Every planned run's rows found in ``out`` (in plan order); where a problem has several
    objectives, ``hypervolume`` holds its run's hypervolume so far."""
    import pandas as pd

    from hpo_bridge.bench.mo_scoring import add_hypervolume

    frames = []
    for problem, backend, seed in plan.runs:
        path = _run_dir(out, problem, backend) / f"seed{seed}.csv"
        if _is_done(out, (problem, backend, seed), plan.max_evals, plan.simulate):
            frames.append(pd.read_csv(path))
    table = concat_runs(frames)
    if any(p.multi_objective for p in plan.problems) and len(table):
        table = add_hypervolume(table, plan.problems)
    return table
