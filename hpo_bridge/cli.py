"""The ``hpo-bridge`` command: ``backends``, ``problems`` and ``bench``.

Examples::

    hpo-bridge backends
    hpo-bridge problems
    hpo-bridge bench --demo
    hpo-bridge bench --quick --out results/quick
    hpo-bridge bench --problems branin,hartmann6 --backends optuna:tpe,skopt:gp --seeds 10 \\
        --max-evals 50 --out results/full --n-jobs 2
    hpo-bridge bench --simulate --workers 4 --max-evals 1000 --backends optuna:tpe
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tqdm import tqdm

    from hpo_bridge.bench.runner import Plan

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
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("backends", help="list every backend, whether it runs here, what it supports")
    sub.add_parser("problems", help="list the benchmark problems")
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
        if args.command == "backends":
            print(backends_table())
        elif args.command == "problems":
            print(problems_table())
        else:
            return _bench(args, argv)
    except ValueError as exc:
        parser.exit(2, f"hpo-bridge: error: {exc}\n")
    return 0


def backends_table() -> str:
    """Every backend as an aligned text table."""
    from dataclasses import asdict

    from hpo_bridge.backends.registry import backends

    rows = [("name", "library", "runs", "available", "capabilities")]
    for b in backends():
        caps = ", ".join(f"{k}={v}" for k, v in asdict(b.capabilities).items())
        available = "yes" if b.available else f"no ({b.install})"
        rows.append((b.name, b.library, b.runs, available, caps))
    return _align(rows)


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
