"""The ``hpo-bridge`` command: ``backends``, ``problems``, ``bench`` and stored studies.

Examples::

    hpo-bridge --version
    hpo-bridge backends
    hpo-bridge backends --json
    hpo-bridge studies runs.db
    hpo-bridge trials runs.db --study exp --csv > trials.csv
    hpo-bridge best runs.db --study exp
    hpo-bridge problems
    hpo-bridge bench --demo
    hpo-bridge bench --quick --out results/quick
    hpo-bridge bench --problems branin,hartmann6 --backends optuna:tpe,skopt:gp --seeds 10 \\
        --max-evals 50 --out results/full --n-jobs 2
    hpo-bridge bench --simulate --workers 4 --max-evals 1000 --backends optuna:tpe
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tqdm import tqdm

    from hpo_bridge.bench.runner import Plan
    from hpo_bridge.results import Result

__all__ = ["main"]


def _csv(text: str) -> list[str]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list of names")
    return items


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hpo-bridge",
        description="One search space under hyperopt, Optuna and scikit-optimize.")
    from hpo_bridge.version import __version__

    parser.add_argument("--version", action="version", version=f"hpo-bridge {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    backends = sub.add_parser(
        "backends", help="list every backend, whether it runs here, what it supports")
    backends.add_argument("--json", action="store_true", help="every backend with all its "
                          "capabilities, as JSON")
    backends.add_argument("--long", action="store_true", help="every capability, and what "
                          "each backend runs in its library (wide lines)")
    sub.add_parser("problems", help="list the benchmark problems")
    studies = sub.add_parser(
        "studies", help="list the studies in a storage (SQLite file, journal file or URL)",
        description="The studies of a storage made by minimize(storage=...): name, trials by "
                    "state, objectives, backends and best value. Nothing is evaluated.")
    studies.add_argument("storage", help="a SQLite or journal file path, or a database URL")
    studies.add_argument("--json", action="store_true", help="as JSON")
    for name, text in (("trials", "every finished trial of a stored study, as result.trials"),
                       ("best", "the best trial (or the Pareto front) of a stored study")):
        cmd = sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + "; the "
                             "space is rebuilt from its stored description (nothing unpickled).")
        cmd.add_argument("storage", help="a SQLite or journal file path, or a database URL")
        cmd.add_argument("--study", help="the study name (may be left out when the storage "
                         "holds one study; `hpo-bridge studies STORAGE` lists them)")
        fmt = cmd.add_mutually_exclusive_group()
        fmt.add_argument("--json", action="store_true", help="as JSON")
        if name == "trials":
            fmt.add_argument("--csv", action="store_true", help="as CSV")
    bench = sub.add_parser(
        "bench", help="run benchmark problems under several backends and write a report",
        description="Run problems x backends x seeds; write results.csv, report.md and PNG "
                    "plots into --out. Finished runs found in --out are not run again, and the "
                    "report covers every finished run there (earlier problems and backends too); "
                    "a --max-evals different from the runs already in --out is refused.")
    bench.add_argument("--problems", type=_csv, help="comma-separated problem names "
                       "(see `hpo-bridge problems`; default with --quick: the quick ones)")
    bench.add_argument("--backends", type=_csv, help="comma-separated backend names (default: "
                       "hyperopt:tpe,optuna:tpe,skopt:gp,optuna:random; with --quick: every "
                       "available backend); a random search is added as the scoring reference")
    bench.add_argument("--seeds", type=_positive, help="seeds 0..N-1 per problem and backend "
                       "(default 5)")
    bench.add_argument("--max-evals", type=_positive, help="trials per run (default 50; 30 "
                       "with --quick)")
    bench.add_argument("--out", help="output folder (default results/bench, results/quick "
                       "with --quick)")
    bench.add_argument("--n-jobs", type=_positive, help="runs at once in worker processes "
                       "(default 1; with --quick or --demo min(2, CPUs))")
    bench.add_argument("--quick", action="store_true", help="every quick problem and every "
                       "available backend, few seeds, small budget (minutes on 2 cores)")
    bench.add_argument("--demo", action="store_true", help="a taste in a few minutes: one "
                       "problem per class of space, the cheap backends of each family (the "
                       "slowest only where it matters), 5 seeds, 30 trials")
    bench.add_argument("--simulate", action="store_true", help="simulated time: the "
                       "multi-fidelity problems with a recorded cost (default: all of them: "
                       "mlp-digits-tab, gb-*-tab, hartmann6-mf) run asynchronously (ASHA) on "
                       "--workers virtual workers, replaying each evaluation's recorded time "
                       "on a virtual clock; the report shows regret against simulated time "
                       "(default --out results/simulate)")
    bench.add_argument("--workers", type=_positive, help="with --simulate: virtual workers "
                       "(default 4)")
    bench.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``hpo-bridge``; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return _run(parser, args, argv)
    except BrokenPipeError:  # `hpo-bridge trials runs.db | head`: not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace,
         argv: Sequence[str] | None) -> int:
    from hpo_bridge.errors import StorageError

    try:
        if args.command == "backends":
            print(backends_json() if args.json else backends_table(long=args.long))
        elif args.command == "problems":
            print(problems_table())
        elif args.command == "studies":
            print(studies_text(args.storage, as_json=args.json))
        elif args.command == "trials":
            print(trials_text(args.storage, args.study,
                              "json" if args.json else "csv" if args.csv else "text"), end="")
        elif args.command == "best":
            print(best_text(args.storage, args.study, as_json=args.json))
        else:
            return _bench(args, argv)
    except (ValueError, StorageError) as exc:
        parser.exit(2, f"hpo-bridge: error: {exc}\n")
    return 0


def backends_rows(here: bool = True) -> list[tuple[str, ...]]:
    """The short table of every backend, header first: what users choose a backend by.

    ``here``: whether each one runs on this machine (``hpo-bridge backends``); else the pip
    extra that installs what it needs, the same on every machine (the docs site's table,
    docs/hooks.py).
    """
    from hpo_bridge.backends.registry import backends

    rows: list[tuple[str, ...]] = [("name", "available" if here else "extra", "parallel",
                                     "conditional", "objectives", "constraints")]
    for b in backends():
        c = b.capabilities
        rows.append((b.name, ("yes" if b.available else f"no: {b.install}") if here else b.extra,
                     "yes" if c.batch else "no",
                     "grid only" if c.discrete_only else c.conditional,
                     c.objectives, c.constraints))
    return rows


def backends_table(long: bool = False) -> str:
    """Every backend as an aligned text table: what users choose by (``long``: everything)."""
    from dataclasses import asdict

    from hpo_bridge.backends.registry import backends

    rows: list[tuple[str, ...]]
    if long:
        rows = [("name", "library", "runs", "available", "capabilities")]
        for b in backends():
            caps = ", ".join(f"{k}={v}" for k, v in asdict(b.capabilities).items())
            available = "yes" if b.available else f"no ({b.install})"
            rows.append((b.name, b.library, b.runs, available, caps))
        return _align(rows)
    return _align(backends_rows()) + ("\n\n`hpo-bridge backends --long` or --json: every "
                                      "capability and what each backend runs in its library")


def markdown_table(rows: Sequence[tuple[str, ...]]) -> str:
    """``rows`` (header first) as a Markdown table, the first column in code font."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(cell(c) for c in rows[0]) + " |",
             "|" + "|".join("---" for _ in rows[0]) + "|"]
    lines += ["| `" + r[0] + "` | " + " | ".join(cell(c) for c in r[1:]) + " |" for r in rows[1:]]
    return "\n".join(lines)


def backends_json() -> str:
    """Every backend with its capabilities, options and install command, as JSON."""
    from dataclasses import asdict

    from hpo_bridge.backends.registry import backends

    return json.dumps([{"name": b.name, "library": b.library, "runs": b.runs,
                        "available": b.available, "install": b.install,
                        "capabilities": asdict(b.capabilities)} for b in backends()], indent=2)


def studies_text(storage: str, as_json: bool = False) -> str:
    """The studies of ``storage``: one row each (name, trials by state, objectives, best)."""
    import optuna

    from hpo_bridge.storage import open_engine
    from hpo_bridge.storage.engines import translate_errors

    engine = open_engine(storage, must_exist=True)
    with translate_errors(engine.where):
        rows: list[dict[str, Any]] = []
        for study in optuna.study.get_all_study_summaries(engine.storage,
                                                          include_best_trial=False):
            sid = engine.storage.get_study_id_from_name(study.study_name)
            attrs = engine.storage.get_study_user_attrs(sid)
            trials = engine.storage.get_all_trials(sid, deepcopy=False)
            states: dict[str, int] = {}
            for t in trials:
                states[t.state.name.lower()] = states.get(t.state.name.lower(), 0) + 1
            names = attrs.get("hpo_bridge.objectives")
            directions = [d.name.lower() for d in study.directions]
            objectives = ({str(k): str(v) for k, v in names.items()}
                          if isinstance(names, dict) else {"value": directions[0]}
                          if len(directions) == 1 else
                          {f"values_{i}": d for i, d in enumerate(directions)})
            best = None
            if len(directions) == 1:
                done = [t.value for t in trials if t.state.name == "COMPLETE"
                        and t.value is not None and not math.isnan(t.value)]
                if done:
                    best = min(done) if directions[0] == "minimize" else max(done)
            backends = attrs.get("hpo_bridge.backends")
            rows.append({"study": study.study_name, "trials": len(trials), "states": states,
                         "objectives": objectives, "best_value": best,
                         "backends": backends if isinstance(backends, list) else [],
                         "hpo_bridge": "hpo_bridge.space_signature" in attrs})
    if as_json:
        return json.dumps(rows, indent=2)
    if not rows:
        return f"{engine.where}: no studies"
    table: list[tuple[str, ...]] = [
        ("study", "trials", "states", "objectives", "best_value", "backends")]
    for r in rows:
        table.append((r["study"], str(r["trials"]),
                      " ".join(f"{k}={v}" for k, v in sorted(r["states"].items())),
                      ", ".join(f"{k} ({v})" for k, v in r["objectives"].items()),
                      "-" if r["best_value"] is None else f"{r['best_value']:.6g}",
                      ", ".join(r["backends"]) if r["hpo_bridge"] else "(not hpo_bridge)"))
    return _align(table)


def _load(storage: str, study: str | None) -> Result:
    import warnings

    import optuna

    from hpo_bridge.storage import load, open_engine

    if study is None:
        engine = open_engine(storage, must_exist=True)
        names = optuna.study.get_all_study_names(engine.storage)
        if len(names) != 1:
            raise ValueError(f"{engine.where} holds {len(names)} studies ({', '.join(names)}); "
                             "name one with --study NAME")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = load(storage, study)
    for w in caught:  # e.g. objects that come back as their labels: one line, no source
        print(f"note: {w.message}", file=sys.stderr)
    return result


def trials_text(storage: str, study: str | None, fmt: str = "text") -> str:
    """``result.trials`` of a stored study as text, CSV or JSON (records). A study without a
    finished trial is one line of text saying so, an empty JSON list, or the CSV header."""
    result = _load(storage, study)
    frame = result.trials
    if fmt == "csv":
        text: str = frame.to_csv(index=False)
        return text
    if fmt == "json":
        if frame.empty:
            return "[]\n"
        return frame.to_json(orient="records", date_format="iso", indent=2,
                             double_precision=15) + "\n"
    if frame.empty:
        return f"study {result.study_name!r} has no finished trials\n"
    return frame.to_string(index=False) + "\n"


def _no_best(result: Result, what: str) -> str | None:
    """Why a stored study has no ``what`` (its best trial, its Pareto front), or ``None`` when
    it has one."""
    done = result.completed
    if any(r.feasible for r in done):
        return None
    states: dict[str, int] = {}
    for r in result.records:
        states[r.state] = states.get(r.state, 0) + 1
    held = ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "no finished trials"
    why = ("no complete trial is feasible (every one has a constraint > 0)" if done else
           "no trial has completed")
    return f"study {result.study_name!r} has no {what}: {why} ({held})"


def best_text(storage: str, study: str | None, as_json: bool = False) -> str:
    """The best trial of a stored study (the Pareto front with several objectives). A study
    without one (no complete feasible trial) is one line of text saying why, or JSON ``null``
    (``[]`` with several objectives), as ``trials`` does for a study without trials."""
    result = _load(storage, study)
    several = result.objectives.multi  # several objectives: no single best
    why = _no_best(result, "Pareto front" if several else "best trial")
    if why is not None:
        return ("[]" if several else "null") if as_json else why
    if several:
        front = result.pareto_front()
        if as_json:
            text: str = front.to_json(orient="records", date_format="iso", indent=2,
                                      double_precision=15)
            return text
        return f"Pareto front ({len(front)} trials):\n" + front.to_string(index=False)
    best = result.best_trial
    doc = {"trial_id": best.trial_id, "value": best.value, "params": best.params}
    if as_json:  # objects that are not JSON (a class as an option) as their str
        return json.dumps(doc, indent=2, default=str)
    lines = [f"best trial {best.trial_id}: value {best.value:.10g} ({result.direction})"]
    params = best.params if isinstance(best.params, dict) else {"params": best.params}
    lines += [f"  {k} = {v!r}" for k, v in params.items()]
    return "\n".join(lines)


def problems_table() -> str:
    from hpo_bridge.bench.problems import get_problem, list_problems

    rows = [("name", "objectives", "optimum", "cost", "quick", "available")]
    for name in list_problems():
        p = get_problem(name)
        objectives = ", ".join(p.objectives) + (" (front known)" if p.true_front else "") \
            if p.objectives else "1"
        rows.append((name, objectives, "-" if p.optimum is None else f"{p.optimum:.6g}", p.cost,
                     "yes" if p.quick else "", "yes" if p.available else
                     f"no (needs {', '.join(p.requires)})"))
    return _align(rows)


def _align(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _bench(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    from hpo_bridge.bench import run_bench

    preset = args.quick or args.demo
    n_jobs = args.n_jobs or (min(2, os.cpu_count() or 1) if preset else 1)
    out = args.out or ("results/demo" if args.demo else "results/quick" if args.quick else
                       "results/simulate" if args.simulate else "results/bench")
    if args.workers is not None and not args.simulate:
        raise ValueError("--workers goes with --simulate (virtual workers); runs at once in "
                         "processes are --n-jobs")
    if args.simulate and preset:
        raise ValueError("--simulate runs the multi-fidelity problems with a recorded cost; "
                         "it does not combine with --quick or --demo")
    simulate = (args.workers or 4) if args.simulate else None
    if not preset and not args.problems and simulate is None:
        raise ValueError("name --problems (see `hpo-bridge problems`) or use --quick, --demo "
                         "or --simulate")
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"--out {out} is a file, not a folder; --out names the folder the "
                         "report is written into (e.g. --out results/bench)")
    bar: tqdm[Any] | None = None

    def on_plan(plan: Plan, todo: int) -> None:
        nonlocal bar
        for note in plan.notes:
            print(f"note: {note}", file=sys.stderr)
        print(f"{len(plan.runs)} runs ({len(plan.problems)} problems x {len(plan.backends)} "
              f"backends x {len(plan.seeds)} seeds, {plan.max_evals} trials each); "
              f"{len(plan.runs) - todo} already in {out}, {todo} to run with n_jobs={n_jobs}",
              file=sys.stderr)
        if not args.no_progress and todo:
            from tqdm import tqdm

            bar = tqdm(total=todo, desc="bench", unit="run", dynamic_ncols=True)

    def progress(done: int, total: int, key: tuple[Any, ...], wall: float) -> None:
        if bar is not None:
            bar.set_postfix_str(f"{key[1]} on {key[0]} seed {key[2]}", refresh=False)
            bar.update(1)

    command = "hpo-bridge " + shlex.join(sys.argv[1:] if argv is None else list(argv))
    t0 = time.time()
    try:
        info = run_bench(args.problems, args.backends, args.seeds, args.max_evals, out=out,
                         n_jobs=n_jobs, quick=args.quick, demo=args.demo, simulate=simulate,
                         progress=progress,
                         on_plan=on_plan,
                         command=command)
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished runs are kept in {out}; the same command continues "
              "from them", file=sys.stderr)
        return 130
    finally:
        if bar is not None:
            bar.close()
    print(f"{info['executed']} runs done, {info['skipped']} reused, {len(info['failed'])} "
          f"failed in {time.time() - t0:.0f} s; report: {info['report']}")
    return 1 if info["failed"] else 0
