"""``auto`` and optunahub's AutoSampler rule against every backend, at several budgets, on the
held-out set (issue 27 items 1 and 3) or on the proof suite.

    python benchmarks/auto_heldout.py BLIND [BLIND ...] [--planned B=DIR ...]
        [--budgets 30,60,100] [--problems heldout|heldout2|heldout3|heldout4|heldout5|suite|a,b,c]
        [--out REPORT.md --title TITLE --runs RUNS.sh]

``BLIND`` folders are made by ``hpo-bridge bench --max-evals N`` with backends that are not told
the budget (every backend but nevergrad's, ``capabilities.planned``): a run's first B trials are
its B-trial run with the same seed, so one N-trial run gives every budget B <= N. A planned
backend (nevergrad) is built for its budget: its runs at budget B come from the folder given
as ``--planned B=DIR`` (made with ``--max-evals B``), never from a prefix.

The ``auto``, ``auto (rule before s7)`` (:func:`previous_rule`, the rule session 7 replaced;
with ``--previous s8-candidate``, ``auto (s8 candidate)``: :func:`session8_candidate`, the
change session 8 tried and held-out set 3 rejected) and ``autosampler-rule`` rows are not run: each is, for each problem and budget,
the runs of the backend its rule names with the same seed (``auto``'s first backend takes the
run's seed; ``tests/test_auto.py`` and :func:`check_auto` check that ``auto``'s run equals the
backend's). A rule naming a planned backend (``auto``'s rule 5: ``nevergrad:ngopt``) reads its
runs at that budget from ``--planned``; no switch falls inside the budgets measured (the script
refuses otherwise).

Per budget it prints the mean rank of every backend that ran every problem (ties share the
average rank), per class of space ``auto`` against the other backend with the best mean rank
there (one-sided Mann–Whitney on the normalized scores, a backend's identical runs counted
once), the same for the previous rule in ``auto``'s place, and ``auto`` against
``autosampler-rule`` and against the previous rule alone. Then item 1's verdict by the test
``docs/reports/auto_s11_decision.md`` fixed before held-out set 4 was read (:func:`verdict`:
first in mean rank at every budget, no class loss in the stratified test after Holm's
correction over all of ``auto``'s class tests). With ``--out`` it writes the report
with a header: this command, the date, the load and the commands that made the runs
(``--runs``).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import pandas as pd
from scipy.stats import mannwhitneyu

from hpo_bridge.backends.auto import choose
from hpo_bridge.backends.features import SpaceFeatures, space_features
from hpo_bridge.backends.registry import resolve
from hpo_bridge.bench.baselines import AUTOSAMPLER, autosampler_rule
from hpo_bridge.bench.problems import get_problem
from hpo_bridge.bench.problems.heldout import HELDOUT, SUITE
from hpo_bridge.bench.problems.heldout2 import HELDOUT2
from hpo_bridge.bench.problems.heldout3 import HELDOUT3
from hpo_bridge.bench.problems.heldout4 import HELDOUT4
from hpo_bridge.bench.problems.heldout5 import HELDOUT5
from hpo_bridge.bench.report import markdown_table
from hpo_bridge.bench.scoring import normalized_scores
from hpo_bridge.compare import run_fingerprints
from hpo_bridge.plots import rank_table

AUTO = "auto"
#: ``auto``'s rule as it was before session 7 (:func:`previous_rule`), a row of its own; or,
#: with ``--previous s8`` (:func:`use_previous`), as it was before session 8.
PREVIOUS = "auto (rule before s7)"
DERIVED = (AUTO, PREVIOUS, AUTOSAMPLER)
REFERENCE = "optuna:random"


def _planned(backend: str) -> bool:
    return backend not in DERIVED and resolve(backend).capabilities.planned


def _load(folder: str) -> pd.DataFrame:
    """A bench folder's runs: its ``results.csv``, or, while the bench still runs (or was
    stopped), every finished run's own CSV (``runs/<problem>/<backend>/seed<k>.csv``, written
    with its ``.json`` when the run ends)."""
    path = Path(folder)
    if (path / "results.csv").exists():
        table = pd.read_csv(path / "results.csv", low_memory=False)
    else:
        runs = [pd.read_csv(f, low_memory=False) for f in sorted(path.glob("runs/*/*/seed*.csv"))
                if f.with_suffix(".json").exists()]
        if not runs:
            return pd.DataFrame(columns=["problem", "backend", "seed", "trial_id", "value",
                                         "best_value"])
        table = pd.concat(runs, ignore_index=True)
    return table[table["backend"] != AUTO]


def load_folders(blind: list[str], planned: list[str]
                 ) -> tuple[list[pd.DataFrame], dict[int, pd.DataFrame]]:
    """The runs of the folders given as arguments: those read at every budget (``blind``),
    and per budget those of ``BUDGET=FOLDER`` items (``planned``; a budget may come twice)."""
    by_budget: dict[int, pd.DataFrame] = {}
    for b, d in (item.split("=", 1) for item in planned):
        by_budget[int(b)] = pd.concat([by_budget.get(int(b)), _load(d)], ignore_index=True)
    return [_load(f) for f in blind], by_budget


def previous_rule(features: SpaceFeatures, budget: int) -> list[tuple[str, int]]:
    """``choose`` as it was before session 7 (commit 4f2c7d5), for one objective, ``n_jobs=1``
    and no fidelity (what the benchmark runs): kept here so that the report can rank the rule
    it replaced."""
    f = features
    if f.grid_size is not None and f.grid_size <= budget:
        return [("optuna:grid", 0)]
    if f.conditional or f.dims > 10 or f.max_options > 1000:
        return [("optuna:tpe", 0)]
    if f.dims <= 3 and budget <= 30 and f.max_options <= 100:
        return [("skopt:gp", 0)]
    return [("optuna:gp", 0)] + ([("optuna:tpe", 200)] if budget > 200 else [])


def session8_candidate(features: SpaceFeatures, budget: int) -> list[tuple[str, int]]:
    """The change session 8 tried (commit 746120d) and held-out set 3 rejected, for one
    objective, ``n_jobs=1`` and no fidelity: rule 5 from 2 floats instead of 4, so 2 or 3
    floats at a budget of at most 100 ran ``nevergrad:ngopt``; otherwise ``choose``."""
    f = features
    if 2 <= f.dims <= 3 and f.dims == f.continuous and budget <= 100:
        return [("nevergrad:ngopt", 0)]
    return choose(features, budget)[0]


_PREVIOUS_RULES = {"s7": ("auto (rule before s7)", previous_rule),
                   "s8-candidate": ("auto (s8 candidate)", session8_candidate)}
_previous = previous_rule


def use_previous(which: str) -> None:
    """Rank another rule as the previous rule's row: the one session 7 replaced (``"s7"``) or
    the change session 8 tried (``"s8-candidate"``)."""
    global PREVIOUS, DERIVED, _previous
    PREVIOUS, _previous = _PREVIOUS_RULES[which]
    DERIVED = (AUTO, PREVIOUS, AUTOSAMPLER)


def _plan(problem: str, budget: int, rule: str) -> str:
    features = space_features(get_problem(problem).space)
    plan = (choose(features, budget)[0] if rule == AUTO else _previous(features, budget)
            if rule == PREVIOUS else autosampler_rule(features))
    if any(0 < at < budget for _, at in plan):
        raise SystemExit(f"{rule} switches backend before trial {budget} on {problem}: its run "
                         "is no single backend's prefix; run it")
    return plan[0][0]


def at_budget(blind: list[pd.DataFrame], planned: dict[int, pd.DataFrame], budget: int,
              problems: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Every backend's runs at ``budget`` on ``problems``, with the derived ``auto`` and
    ``autosampler-rule`` rows; and notes on what is missing."""
    pieces, notes = [], []
    for table in blind:
        part = table[table["problem"].isin(problems) & ~table["backend"].map(_planned)]
        top = part.groupby(["problem", "backend"])["trial_id"].transform("max") + 1
        pieces.append(part[(top >= budget) & (part["trial_id"] < budget)])  # long enough
    if budget in planned:
        part = planned[budget]
        pieces.append(part[part["problem"].isin(problems) & part["backend"].map(_planned)])
    table = pd.concat(pieces, ignore_index=True).drop_duplicates(
        ["problem", "backend", "seed", "trial_id"])
    derived = []
    for problem in problems:
        here = table[table["problem"] == problem]
        for rule in DERIVED:
            name = _plan(problem, budget, rule)
            runs = here[here["backend"] == name]
            if runs.empty:
                notes.append(f"{rule} on {problem} runs {name}, which has no runs here")
                continue
            derived.append(runs.assign(backend=rule))
    return pd.concat([table, *derived], ignore_index=True), notes


def complete(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The backends that ran every problem with as many seeds as the most; the others named."""
    seeds = table.groupby(["backend", "problem"])["seed"].nunique().unstack()
    full = int(seeds.max().max())
    ok = seeds.notna().all(axis=1) & (seeds.fillna(0) >= full).all(axis=1)
    return table[table["backend"].isin(ok[ok].index)], sorted(ok[~ok].index)


def _independent_scores(table: pd.DataFrame) -> pd.DataFrame:
    scores = normalized_scores(table, known={p: get_problem(p).optimum
                                             for p in table["problem"].unique()},
                               reference=REFERENCE)
    prints = run_fingerprints(table)
    scores = scores.merge(prints, on=["problem", "backend", "seed"], how="left")
    return scores.drop_duplicates(["problem", "backend", "fingerprint"])


def stratified_p(scores: pd.DataFrame, problems: list[str], a: str, b: str) -> tuple[float, float]:
    """van Elteren's stratified rank-sum test (one-sided, normal approximation with ties):
    ``a``'s normalized scores against ``b``'s within each problem, the problems' Mann–Whitney
    U statistics combined with weights ``1 / (n + m + 1)``; ``(p a worse, p a better)``.

    Unlike the pooled test it never compares scores across problems, whose scales differ: a
    backend whose identical runs count once on some problems (one score there, ten elsewhere)
    is not judged by its ten scores on one problem against the other's scores on the others.
    A problem's weight still grows with its number of scores (one score says little)."""
    from scipy.stats import norm

    shift = spread = 0.0
    for problem in problems:
        here = scores[scores["problem"] == problem]
        x, y = (here.loc[here["backend"] == name, "score"].to_numpy() for name in (a, b))
        n, m = len(x), len(y)
        if not n or not m:
            continue
        u = mannwhitneyu(x, y).statistic  # pairs where a's score is higher (worse), ties 1/2
        total = n + m
        counts = pd.Series([*x, *y]).value_counts()
        ties = float(((counts**3) - counts).sum()) / (total * (total - 1)) if total > 1 else 0.0
        weight = 1.0 / (total + 1)
        shift += weight * (u - n * m / 2)
        spread += weight**2 * n * m / 12 * ((total + 1) - ties)
    if spread <= 0:
        return math.nan, math.nan
    z = shift / math.sqrt(spread)
    return float(norm.sf(z)), float(norm.cdf(z))


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjustment: each p-value made comparable with the family-wise level
    (``p_(i)`` times the number of hypotheses not yet rejected, made monotone, capped at 1).
    NaN (no test) stays NaN and does not count in the family."""
    order = sorted((p, i) for i, p in enumerate(p_values) if not math.isnan(p))
    adjusted = [math.nan] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p))
        adjusted[i] = running
    return adjusted


def verdict(ranks: dict[str, pd.Series], classes: dict[str, pd.DataFrame],
            alpha: float = 0.05) -> str:
    """Item 1's verdict as ``docs/reports/auto_s11_decision.md`` fixed it before set 4 was
    read: ``auto`` first in mean rank at every budget, and no class loss in the stratified
    test after Holm's correction over every class test of the report (uncorrected p-values
    and the pooled test beside it)."""
    rows = [{"budget": label, "class": kind, "other": row["other"],
             "stratified p (auto worse)": row["stratified p (auto worse)"],
             "p (auto worse)": row["p (auto worse)"]}
            for label, table in classes.items() for kind, row in table.iterrows()]
    frame = pd.DataFrame(rows)
    frame.insert(4, "Holm-adjusted", holm(frame["stratified p (auto worse)"].tolist()))
    frame = frame.rename(columns={"p (auto worse)": "pooled p (auto worse)"})
    losses = frame[frame["Holm-adjusted"] < alpha]
    raw = frame[frame["stratified p (auto worse)"] < alpha]
    first, lines = {}, []
    for label, column in ranks.items():
        rivals = column.drop([AUTO, *(k for k in column.index if "in auto's place" in k)],
                             errors="ignore").dropna()
        first[label] = bool(column[AUTO] < rivals.min())  # a tie for first is not first
        lines.append(f"- mean rank at {label}: `auto` {column[AUTO]:.2f}, the best other "
                     f"`{rivals.idxmin()}` {rivals.min():.2f}: "
                     f"{'first' if first[label] else 'not first'}")
    lines.append("- class losses (stratified, Holm over the "
                 f"{int(frame['Holm-adjusted'].notna().sum())} tests, family-wise α = {alpha}): "
                 + ("none" if losses.empty else "; ".join(
                     f"{r['class']} at {r['budget']} against `{r['other']}`"
                     for _, r in losses.iterrows())))
    lines.append(f"- uncorrected stratified p < {alpha} (not deciding): "
                 + ("none" if raw.empty else "; ".join(
                     f"{r['class']} at {r['budget']} against `{r['other']}` "
                     f"(p = {_fmt(r['stratified p (auto worse)'])})"
                     for _, r in raw.iterrows())))
    met = all(first.values()) and losses.empty
    lines.append(f"- **item 1 on this set: {'met' if met else 'not met'}**")
    return "\n".join(lines) + "\n\n" + markdown_table(frame.set_index("budget"), fmt=_fmt)


def class_tests(table: pd.DataFrame, against: str | None = None) -> pd.DataFrame:
    """Per class of space: ``auto`` against the other backend with the best mean rank there
    (or ``against``), one-sided Mann–Whitney on the normalized scores of every run (a
    backend's identical runs on a problem counted once)."""
    scores = _independent_scores(table)
    groups: dict[str, list[str]] = {}
    for problem in dict.fromkeys(table["problem"]):
        groups.setdefault(space_features(get_problem(problem).space).kind, []).append(problem)
    groups["all problems"] = list(dict.fromkeys(table["problem"]))
    rows = []
    for kind, names in groups.items():
        part = table[table["problem"].isin(names)]
        if against:
            part = part[part["backend"].isin([AUTO, against])]
        ranks = rank_table(part)["mean_rank"]
        best = against or str(ranks.drop(list(DERIVED), errors="ignore").idxmin())
        s = scores[scores["problem"].isin(names)]
        x, y = (s.loc[s["backend"] == b, "score"].to_numpy() for b in (AUTO, best))
        worse = mannwhitneyu(x, y, alternative="greater").pvalue if len(y) else math.nan
        better = mannwhitneyu(x, y, alternative="less").pvalue if len(y) else math.nan
        strat_worse, strat_better = stratified_p(s, names, AUTO, best)
        rows.append({"class": kind, "problems": ", ".join(names), "auto rank": ranks[AUTO],
                     "other": best, "its rank": ranks[best], "p (auto worse)": worse,
                     "p (auto better)": better, "stratified p (auto worse)": strat_worse,
                     "stratified p (auto better)": strat_better})
    return pd.DataFrame(rows).set_index("class")


def _duel(table: pd.DataFrame, problems: list[str], budget: int, other: str
          ) -> tuple[pd.Series, list[str], list[str]]:
    """``auto`` against the rule ``other`` alone: their mean rank over the problems where both
    ran (a problem where both rules name the same backend is a tie, 1.5 each); the problems
    where they differ and ran, and those where they agree."""
    two = table[table["backend"].isin([AUTO, other])]
    same = [p for p in problems if _plan(p, budget, AUTO) == _plan(p, budget, other)]
    has = two.groupby("problem")["backend"].nunique()
    both = [p for p in has[has == 2].index if p not in same]
    two = two[two["problem"].isin(both)]
    apart = len(both)
    column = (rank_table(two)["mean_rank"] * apart if apart else
              pd.Series(0.0, index=[AUTO, other]))
    column = (column + 1.5 * len(same)) / (apart + len(same))
    column["problems where the rules differ"] = apart
    column["problems where they agree (a tie)"] = len(same)
    return column, both, same


def check_auto(problems: list[str], budget: int, seeds: int = 2) -> list[str]:
    """Run ``auto`` and the backend its rule names (same seed) and compare their trials: the
    derived rows are honest only if they are equal."""
    import hpo_bridge as hb

    out = []
    for problem in problems:
        p = get_problem(problem)
        name = _plan(problem, budget, AUTO)
        for seed in range(seeds):
            runs = [hb.minimize(p.objective, p.space, backend=b, max_evals=budget, seed=seed,
                                progress=False) for b in (AUTO, name)]
            same = [r.value for r in runs[0].records] == [r.value for r in runs[1].records]
            out.append(f"{problem} seed {seed}: {runs[0].backend} "
                       f"{'equals' if same else 'DIFFERS FROM'} {name}")
    return out


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return "–" if math.isnan(v) else f"{v:.2g}" if v < 0.1 else f"{v:.2f}"
    return str(v)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("blind", nargs="+")
    parser.add_argument("--planned", nargs="*", default=[], help="B=DIR (a budget may be "
                        "given several folders)")
    parser.add_argument("--budgets", default="30,60,100")
    parser.add_argument("--problems", default="heldout")
    parser.add_argument("--seeds", type=int, default=None, help="only seeds 0..N-1")
    parser.add_argument("--duel-only", action="store_true",
                        help="only auto against the AutoSampler rule (folders with the "
                        "backends either rule names, not every backend)")
    parser.add_argument("--out", default="", help="write the report here, with a header "
                        "(this command, the date, the load, --runs)")
    parser.add_argument("--title", default="`auto` on a held-out set")
    parser.add_argument("--runs", default="", help="a file with the commands that made the "
                        "folders (quoted in the header)")
    parser.add_argument("--previous", default="s7", choices=sorted(_PREVIOUS_RULES),
                        help="the other rule ranked in auto's place: the rule before session 7 "
                        "(s7, the default) or session 8's rejected change (s8-candidate)")
    parser.add_argument("--check", default="", help="problems (comma-separated) on which to "
                        "run auto for real at the first budget, 2 seeds, against its backend")
    args = parser.parse_args(argv)
    use_previous(args.previous)
    problems = {"heldout": list(HELDOUT), "heldout2": list(HELDOUT2),
                "heldout3": list(HELDOUT3), "heldout4": list(HELDOUT4),
                "heldout5": list(HELDOUT5),
                "suite": list(SUITE)}.get(
        args.problems, args.problems.split(","))
    blind, planned = load_folders(args.blind, args.planned)
    if args.seeds is not None:
        blind = [t[t["seed"] < args.seeds] for t in blind]
        planned = {b: t[t["seed"] < args.seeds] for b, t in planned.items()}
    budgets = [int(b) for b in args.budgets.split(",")]
    present = sorted(set().union(*(set(t["problem"]) for t in blind)) & set(problems),
                     key=problems.index)
    out, ranks, duel = [], {}, {}
    classes: dict[str, pd.DataFrame] = {}
    for budget in budgets:
        table, notes = at_budget(blind, planned, budget, present)
        label = f"{budget} trials"
        if table.empty:
            out.append(f"\n**{label}**: no runs this long")
            continue
        full, partial = complete(table)
        ranks[label] = rank_table(full[~full["backend"].isin([PREVIOUS, AUTOSAMPLER])])[
            "mean_rank"]
        for other in (PREVIOUS, AUTOSAMPLER):  # its rank in auto's place, among the same rows
            if other in set(full["backend"]):
                ranks[label][f"{other} (in auto's place)"] = rank_table(
                    full[~full["backend"].isin([AUTO] + [d for d in DERIVED if d != other])]
                )["mean_rank"][other]
        autosampler_both: list[str] = []
        for other in (AUTOSAMPLER, PREVIOUS):
            column, both, _ = _duel(table, problems, budget, other)
            duel.setdefault(other, {})[label] = column
            if other == AUTOSAMPLER:
                autosampler_both = both
        if args.duel_only:
            same = [p for p in problems
                    if _plan(p, budget, AUTO) == _plan(p, budget, AUTOSAMPLER)]
            gone = [n for n in notes if n.split(" on ", 1)[1].split(" runs ")[0] not in same]
            if gone:
                out.append(f"\n**{label}**, left out of the duel (no runs): {'; '.join(gone)}")
        elif AUTO in set(full["backend"]):
            seeds = full.groupby(["problem", "backend"])["seed"].nunique()
            head = (f"\n**{label}** ({full['problem'].nunique()} problems, "
                    f"{int(seeds.min())}–{int(seeds.max())} seeds, "
                    f"{full['backend'].nunique()} rows"
                    + (f"; left out, not run on every problem: {', '.join(partial)}" if partial
                       else "") + (f"; {'; '.join(notes)}" if notes else "") + ")")
            classes[label] = class_tests(full[full["backend"] != PREVIOUS])
            out.append(head + ": per class of space, `auto` against the other backend with the "
                       "best mean rank there (one-sided Mann–Whitney on normalized scores, "
                       "identical runs counted once, pooled over the class's problems; and "
                       "stratified by problem, van Elteren)\n\n"
                       + markdown_table(classes[label], index="class", fmt=_fmt))
            if PREVIOUS in set(full["backend"]):
                before = full[full["backend"] != AUTO].replace({"backend": {PREVIOUS: AUTO}})
                out.append(f"\nThe same for `{PREVIOUS}` in `auto`'s place ({label}):\n\n"
                           + markdown_table(class_tests(before), index="class", fmt=_fmt))
        else:
            out.append(f"\n**{label}**: no full rank table (`auto` lacks runs: "
                       f"{'; '.join(notes)})")
        both = autosampler_both
        if both:
            out.append(f"\n`auto` against `{AUTOSAMPLER}` ({label}, on the {len(both)} problems "
                       "where their rules differ; same tests):\n\n"
                       + markdown_table(class_tests(table[table["problem"].isin(both)],
                                                    against=AUTOSAMPLER), index="class",
                                        fmt=_fmt))
    frame = pd.DataFrame(ranks)
    frame["mean over budgets"] = frame.mean(axis=1, skipna=True)
    frame = frame.sort_values("mean over budgets", na_position="last")
    text = f"Problems: {', '.join(present)}."
    if not args.duel_only:
        text += ("\n\nMean rank over problems (1 = best; ties share the average rank; `auto`, "
                 f"`{PREVIOUS}` and `{AUTOSAMPLER}` are the runs of the backend their rule "
                 "names, with the same seed; the previous rule and the AutoSampler rule are "
                 "each ranked in a table where they replace `auto`, so that no rule's runs "
                 "count twice).\n\n")
        text += markdown_table(frame, fmt=lambda v: "–" if pd.isna(v) else f"{v:.2f}",
                               index="backend")
    for other, columns in duel.items():
        text += (f"\n\n`auto` against `{other}` alone (mean rank of the two over the problems "
                 "where both ran or both rules name the same backend, which is a tie):\n\n")
        text += markdown_table(pd.DataFrame(columns),
                               fmt=lambda v: f"{v:.2f}" if v % 1 else f"{v:.0f}", index="rule")
    if classes:
        text += ("\n\nVerdict on item 1, by the test fixed before set 4 was read "
                 "(docs/reports/auto_s11_decision.md):\n\n"
                 + verdict({k: v for k, v in ranks.items() if k in classes}, classes))
    if args.check:
        text += "\n\nDerived rows checked: " + "; ".join(
            check_auto(args.check.split(","), budgets[0]))
    text += "\n" + "\n".join(out)
    if args.out:
        Path(args.out).write_text(_header(args, argv) + text + "\n", encoding="utf-8")
    return text


def _header(args: argparse.Namespace, argv: list[str] | None) -> str:
    import datetime
    import os
    import shlex

    words = ["python", "benchmarks/auto_heldout.py", *(sys.argv[1:] if argv is None else argv)]
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    runs = Path(args.runs).read_text(encoding="utf-8").strip() if args.runs else ""
    return (f"# {args.title}\n\nWritten {when} (load average {load}, 2 shared cores) by:\n\n"
            f"```\n{shlex.join(words)}\n```\n\n"
            + (f"The runs it reads were made by:\n\n```\n{runs}\n```\n\n" if runs else ""))


if __name__ == "__main__":
    sys.exit(print(main()))
