"""Multi-fidelity against full fidelity and plain Hyperband (issue 21, item 7).

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/multifidelity.py \\
        [--problems mlp-digits-tab,gb-breast-cancer-tab,gb-wine-tab,hartmann6-mf] \\
        [--backends optuna:tpe,hyperopt:tpe,skopt:gp,auto] [--seeds 10] \\
        [--slow skopt:gp=2,auto=2] [--slow-problems mlp-digits-tab,hartmann6-mf] [--full-evals 40] [--jobs 2] \\
        [--mf-same auto=optuna:tpe] \\
        [--csv results/multifidelity.csv] [--out docs/reports/multifidelity.md] [--report-only]

For each problem and seed ``k`` (independent replicates: seed ``k`` of every arm) it runs, with a
total budget ``B = full_evals * high`` counted in budget units (epochs, trees, ...):

* ``mf:<backend>``: ``hb.minimize(..., backend, fidelity=problem.fidelity,
  scheduler="hyperband", max_budget=B)``, new configurations from the backend (BOHB's rule);
* ``full:<backend>``: the same backend with every evaluation at ``high`` (``full_evals``
  evaluations, the same ``B``);
* ``hyperband:random``: plain Hyperband, ``backend="optuna:random"``.

``--mf-same auto=optuna:tpe``: the multi-fidelity arm of ``auto`` is not run but taken from
``optuna:tpe``'s (under ``fidelity=``, ``auto`` names ``optuna:tpe`` for every rung, with the
same seeds: the runs are identical, :func:`same_runs` checks it on one seed per problem);
its full-fidelity arm still runs (there ``auto`` chooses by the space and budget).

Every run is serial. The regret of a run after some cumulative budget is that of the
configuration it would return then (the multi-fidelity run's ``best_*``: the best at the highest
budget reached so far), **evaluated at the full budget** (a lookup, not charged) minus the
problem's full-budget optimum, so a low-budget value is never compared with a full-budget one.

Scored (``score``): the budget at which the median regret over seeds first reaches the
full-fidelity run's final median regret, for the full run and for the multi-fidelity run, their
ratio (goal >= 3), and at 25 % of ``B`` a one-sided Mann-Whitney U test (scipy) that the
multi-fidelity run's regrets are lower than plain Hyperband's (goal p < 0.05). A family (MLP
table, GB tables, MF-Hartmann) meets a goal when every problem of it does; a backend meets the
issue's goal on at least 2 of the 3 families. Raw curves go to the CSV (one row per evaluation).
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FAMILIES = {"mlp-digits-tab": "MLP table", "gb-breast-cancer-tab": "GB tables",
            "gb-wine-tab": "GB tables", "hartmann6-mf": "MF-Hartmann"}
BASELINE = "hyperband:random"
SPEEDUP_GOAL = 3.0
ALPHA = 0.05
EARLY = 0.25


# -- running -------------------------------------------------------------------------------
def run_one(problem_name: str, arm: str, seed: int, full_evals: int,
            random_fraction: float | None = None) -> pd.DataFrame:
    """One run: a row per evaluation with the cumulative budget and the regret at full budget
    of the configuration the run would return after it. ``random_fraction``: BOHB's ``rho``
    for the multi-fidelity arms (``None``: the library's default)."""
    import warnings

    import hpo_bridge as hb
    from hpo_bridge.backends import rungs

    if random_fraction is not None:
        rungs.RANDOM_FRACTION = random_fraction
    from hpo_bridge.bench.problems import get_problem

    warnings.filterwarnings("ignore")
    problem = get_problem(problem_name)
    fid = problem.fidelity
    high, total = fid.high, full_evals * fid.high
    kind, backend = arm.split(":", 1)
    backend = "optuna:random" if arm == BASELINE else backend
    t0 = time.process_time()
    if kind == "full":
        result = hb.minimize(lambda c: problem.objective({**c, fid.name: high}), problem.space,
                             backend=backend, max_evals=full_evals, seed=seed, progress=False)
        trials = result.trials.assign(budget=high)
    else:
        result = hb.minimize(problem.objective, problem.space, backend=backend, fidelity=fid,
                             scheduler="hyperband", max_budget=total, seed=seed, progress=False)
        trials = result.trials
    cpu = time.process_time() - t0
    params = [c for c in trials.columns if c.startswith("params.")]
    cumulative, regrets = [], []
    spent, top, best, best_cfg = 0.0, -math.inf, math.inf, None
    memo: dict[tuple[Any, ...], float] = {}
    for row_d in trials.to_dict("records"):
        spent += float(row_d["budget"])
        if row_d["state"] == "complete" and np.isfinite(row_d["value"]):
            b = float(row_d["budget"])
            if b > top or (b == top and row_d["value"] < best):
                top, best = b, float(row_d["value"])
                best_cfg = {c[len("params."):]: _plain(row_d[c]) for c in params}
        if best_cfg is None:
            regret = math.inf
        else:
            key = tuple(sorted(best_cfg.items()))
            if key not in memo:
                memo[key] = float(problem.objective({**best_cfg, fid.name: high})) \
                    - float(problem.optimum)  # type: ignore[arg-type]
            regret = memo[key]
        cumulative.append(spent)
        regrets.append(regret)
    return pd.DataFrame({"problem": problem_name, "family": FAMILIES.get(problem_name, "?"),
                         "arm": arm, "seed": seed, "B": total, "cum_budget": cumulative,
                         "regret": regrets, "cpu_s": cpu})


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _run_task(task: tuple[str, str, int, int, float | None]) -> pd.DataFrame:
    return run_one(*task)


def with_same(curves: pd.DataFrame, same: dict[str, str]) -> pd.DataFrame:
    """``curves`` with ``mf:<a>`` rows copied from ``mf:<b>``'s for each ``a=b`` of ``same``
    (where ``mf:<a>`` is not there)."""
    parts = [curves]
    for a, b in same.items():
        if not (curves["arm"] == f"mf:{a}").any():
            parts.append(curves[curves["arm"] == f"mf:{b}"].assign(arm=f"mf:{a}"))
    return pd.concat(parts, ignore_index=True)


def same_runs(problem_name: str, a: str, b: str, seed: int, full_evals: int) -> bool:
    """Whether the multi-fidelity runs of backends ``a`` and ``b`` evaluate the same
    configurations at the same budgets with the same values."""
    import warnings

    import hpo_bridge as hb
    from hpo_bridge.bench.problems import get_problem

    warnings.filterwarnings("ignore")
    problem = get_problem(problem_name)
    runs = [hb.minimize(problem.objective, problem.space, backend=backend,
                        fidelity=problem.fidelity, scheduler="hyperband",
                        max_budget=full_evals * problem.fidelity.high, seed=seed,
                        progress=False) for backend in (a, b)]
    key = [[(t.config_id, t.budget, t.params, t.value) for t in r.records] for r in runs]
    return key[0] == key[1]


# -- scoring -------------------------------------------------------------------------------
def regret_at(run: pd.DataFrame, budget: float) -> float:
    """A run's regret once ``budget`` units are spent: that after its last evaluation with a
    cumulative budget <= ``budget`` (``inf`` before the first)."""
    done = run[run["cum_budget"] <= budget + 1e-9]
    return float(done["regret"].iloc[-1]) if len(done) else math.inf


def median_regret_at(runs: pd.DataFrame, budget: float) -> float:
    return float(np.median([regret_at(r, budget) for _, r in runs.groupby("seed")]))


def budget_to_reach(runs: pd.DataFrame, target: float) -> float:
    """The smallest cumulative budget at which the median regret over seeds is <= ``target``
    (``inf`` if never). The median can only change where some run spends budget, so those
    points are the ones checked."""
    for b in np.unique(runs["cum_budget"].to_numpy(dtype=float)):
        if median_regret_at(runs, b) <= target + 1e-12:
            return float(b)
    return math.inf


def score(curves: pd.DataFrame, backends: Sequence[str], early: float = EARLY) -> pd.DataFrame:
    """One row per (problem, backend): budget-to-target of the full and the multi-fidelity
    run, their ratio, and the one-sided Mann-Whitney test at ``early * B`` against plain
    Hyperband."""
    rows = []
    for problem, runs in curves.groupby("problem", sort=False):
        total = float(runs["B"].iloc[0])
        base = runs[runs["arm"] == BASELINE]
        for backend in backends:
            mf, full = runs[runs["arm"] == f"mf:{backend}"], runs[runs["arm"] == f"full:{backend}"]
            if mf.empty or full.empty:
                continue
            target = median_regret_at(full, total)
            b_full, b_mf = budget_to_reach(full, target), budget_to_reach(mf, target)
            ratio = b_full / b_mf if b_mf > 0 else math.inf
            at = early * total
            r_mf = [regret_at(r, at) for _, r in mf.groupby("seed")]
            r_hb = [regret_at(r, at) for _, r in base.groupby("seed")]
            p = (float(mannwhitneyu(r_mf, r_hb, alternative="less").pvalue)
                 if r_mf and r_hb else math.nan)
            rows.append({
                "problem": problem, "family": runs["family"].iloc[0], "backend": backend,
                "seeds": f"{mf['seed'].nunique()}/{full['seed'].nunique()}/"
                         f"{base['seed'].nunique()}",
                "B": int(total), "target": target, "full_reach": b_full, "mf_reach": b_mf,
                "ratio": ratio, "speedup_ok": ratio >= SPEEDUP_GOAL,
                "mf_median_early": float(np.median(r_mf)), "hb_median_early": float(np.median(r_hb))
                if r_hb else math.nan, "mw_p": p, "beats_hb": bool(p < ALPHA),
                "enough_seeds": min(mf["seed"].nunique(), full["seed"].nunique()) >= 10})
    return pd.DataFrame(rows)


def goals(scored: pd.DataFrame) -> pd.DataFrame:
    """Per backend: the families meeting each goal (every problem of the family meets it; the
    speedup goal also needs >= 10 seeds) and whether at least 2 of the 3 do."""
    rows = []
    for backend, s in scored.groupby("backend", sort=False):
        fam = s.groupby("family", sort=False)
        speed = [f for f, g in fam if bool((g["speedup_ok"] & g["enough_seeds"]).all())]
        beats = [f for f, g in fam if bool(g["beats_hb"].all())]
        rows.append({"backend": backend, "families": s["family"].nunique(),
                     "speedup_families": ", ".join(speed) or "none",
                     "speedup_goal": "met" if len(speed) >= 2 else "MISSED",
                     "beats_hb_families": ", ".join(beats) or "none",
                     "beats_hb_goal": "met" if len(beats) >= 2 else "MISSED"})
    return pd.DataFrame(rows)


def markdown(scored: pd.DataFrame, summary: pd.DataFrame, header: Iterable[str]) -> str:
    def fmt(x: float) -> str:
        return "never" if not math.isfinite(x) else f"{x:.0f}"

    lines = list(header) + [
        "", "| problem | backend | seeds mf/full/HB | B | target regret | full reaches at |"
        " MF reaches at | ratio (goal ≥ 3) | median regret at 25 % B: MF / HB | MW p (goal < 0.05) |",
        "|---|---|---|---|---|---|---|---|---|---|"]
    for r in scored.itertuples():
        ratio = ("—" if not math.isfinite(r.mf_reach) else "∞" if math.isinf(r.ratio)
                 else f"{r.ratio:.1f}×")
        mark = "" if r.speedup_ok and r.enough_seeds else (" (missed)" if not r.speedup_ok
                                                              else " (< 10 seeds)")
        lines.append(
            f"| {r.problem} | {r.backend} | {r.seeds} | {r.B} | {r.target:.4g} | "
            f"{fmt(r.full_reach)} | {fmt(r.mf_reach)} | {ratio}{mark} | "
            f"{r.mf_median_early:.4g} / {r.hb_median_early:.4g} | {r.mw_p:.3g}"
            f"{'' if r.beats_hb else ' (missed)'} |")
    lines += ["", "| backend | ≥ 3× less budget on | goal (2 of 3 families) | beats plain HB at "
              "25 % on | goal (2 of 3) |", "|---|---|---|---|---|"]
    for r in summary.itertuples():
        lines.append(f"| {r.backend} | {r.speedup_families} | {r.speedup_goal} | "
                     f"{r.beats_hb_families} | {r.beats_hb_goal} |")
    return "\n".join(lines) + "\n"


# -- main ----------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--problems", default=",".join(FAMILIES))
    parser.add_argument("--backends", default="optuna:tpe,hyperopt:tpe,skopt:gp,auto")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--slow", default="skopt:gp=2,auto=2",
                        help="fewer seeds for slow backends: backend=n,...")
    parser.add_argument("--slow-problems", default="",
                        help="run the slow backends only on these problems (default: all)")
    parser.add_argument("--full-evals", type=int, default=40)
    parser.add_argument("--mf-only", action="store_true",
                        help="run only the multi-fidelity arms (e.g. another --random-fraction "
                             "against the baseline and full runs of an earlier CSV)")
    parser.add_argument("--random-fraction", type=float, default=None,
                        help="BOHB's rho for the multi-fidelity runs (default: the library's)")
    parser.add_argument("--mf-same", default="",
                        help="a=b,...: take backend a's multi-fidelity runs from backend b's "
                             "(checked identical on seed 0 of each problem), e.g. "
                             "auto=optuna:tpe")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--csv", default="results/multifidelity.csv")
    parser.add_argument("--out", default="docs/reports/multifidelity.md")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    problems, backends = args.problems.split(","), args.backends.split(",")
    slow = dict(s.split("=") for s in args.slow.split(",") if s)
    slow_problems = set(args.slow_problems.split(",")) if args.slow_problems else set(problems)
    same = dict(s.split("=") for s in args.mf_same.split(",") if s)
    csv = Path(args.csv)
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    if not args.report_only:
        tasks: list[tuple[str, str, int, int, float | None]] = []  # the slow ones last
        slow_tasks: list[tuple[str, str, int, int, float | None]] = []
        for seed in range(args.seeds):
            for problem in problems:
                if not args.mf_only:
                    tasks.append((problem, BASELINE, seed, args.full_evals, None))
                for backend in backends:
                    n = int(slow.get(backend, args.seeds))
                    if seed < n and (backend not in slow or problem in slow_problems):
                        (slow_tasks if backend in slow else tasks).extend(
                            [*([] if backend in same else
                               [(problem, f"mf:{backend}", seed, args.full_evals,
                                 args.random_fraction)]),
                             *([] if args.mf_only else
                               [(problem, f"full:{backend}", seed, args.full_evals, None)])])
        tasks += sorted(slow_tasks, key=lambda t: (t[2], t[0]))
        for a, b in same.items():
            for problem in problems:
                if not same_runs(problem, a, b, 0, args.full_evals):
                    raise SystemExit(f"--mf-same {a}={b}: the runs differ on {problem}, seed "
                                     "0; run both")
                print(f"{problem}: mf:{a} is mf:{b} (seed 0 checked)", flush=True)
        csv.parent.mkdir(parents=True, exist_ok=True)
        parts = []
        with ProcessPoolExecutor(args.jobs) as pool:
            futures = [pool.submit(_run_task, task) for task in tasks]
            for i, future in enumerate(as_completed(futures), 1):
                part = future.result()
                parts.append(part)
                pd.concat(parts).to_csv(csv, index=False)  # partial results survive
                print(f"[{i}/{len(tasks)}] {part['problem'].iloc[0]} {part['arm'].iloc[0]} "
                      f"seed {part['seed'].iloc[0]}: {part['cpu_s'].iloc[0]:.1f} s CPU, "
                      f"{time.perf_counter() - t0:.0f} s wall", flush=True)
    raw = pd.read_csv(csv)
    curves = with_same(raw, same)
    scored = score(curves, backends)
    summary = goals(scored)
    wall = time.perf_counter() - t0
    cpu = raw.groupby(["problem", "arm", "seed"])["cpu_s"].first().sum()
    header = [
        f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC with "
        "`" + " ".join(["OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/multifidelity.py",
                        *sys.argv[1:]]) + "`",
        (f"(scored from `{csv}`; {cpu:.0f} s CPU in its runs). " if args.report_only else
         f"(wall {wall:.0f} s, {cpu:.0f} s CPU in the runs, {args.jobs} processes; load average "
         f"{load0[0]:.1f} before, {os.getloadavg()[0]:.1f} after, 2-core machine). ") +
        f"B = {args.full_evals} full evaluations' worth of budget; regret at full budget of "
        f"the configuration each run would return; HB = Hyperband with optuna:random." +
        "".join(f" The multi-fidelity runs of {a} are {b}'s (identical: checked on seed 0 of "
                f"each problem)." for a, b in same.items()),
    ]
    text = markdown(scored, summary, header)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
