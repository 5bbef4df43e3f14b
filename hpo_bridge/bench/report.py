"""``report.md`` and the PNG plots of a bench run."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpo_bridge.bench import scoring
from hpo_bridge.bench.meta import format_settings

if TYPE_CHECKING:
    import pandas as pd

    from hpo_bridge.bench.runner import Plan

__all__ = ["write_report", "markdown_table"]

ALPHA = 0.05


def markdown_table(df: pd.DataFrame, fmt: Callable[[Any], str] | None = None,
                   index: str | None = None,
                   formats: dict[str, Callable[[Any], str]] | None = None) -> str:
    """A GitHub markdown table of ``df`` (its index as the first column); ``formats`` per
    column, else ``fmt``."""
    fmt = fmt or _fmt
    formats = formats or {}
    head = [str(index or df.index.name or "")] + [str(c) for c in df.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, *values in df.itertuples(index=True, name=None):
        cells = [f"`{label}`" if ":" in str(label) else str(label)]
        cells += [formats.get(c, fmt)(v) for c, v in zip(df.columns, values, strict=True)]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:.3g}" if abs(value) < 1e-3 and value != 0 else f"{value:.3f}"
    return str(value)


def _one_decimal(value: Any) -> str:
    return f"{value:.1f}" if isinstance(value, float) and not math.isnan(value) else _fmt(value)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def write_plots(out: Path, table: pd.DataFrame, optima: dict[str, tuple[float, str]]
                ) -> dict[str, tuple[str, str]]:
    """Per problem, a convergence plot (regret, log, where the optimum is known) and a
    final-value distribution; returns ``{problem: (convergence file, final file)}``."""
    from hpo_bridge.plots import plot_convergence, plot_final_distribution

    files: dict[str, tuple[str, str]] = {}
    for key, part in table.groupby("problem", sort=False):
        problem = str(key)
        optimum, source = optima[problem]
        known = optimum if source == "known" else None
        conv, final = f"convergence_{_slug(problem)}.png", f"final_{_slug(problem)}.png"
        fig = plot_convergence(part, optimum=known, title=f"{problem}: median best so far, IQR")
        fig.savefig(out / conv, dpi=110)
        fig = plot_final_distribution(part, optimum=known, title=f"{problem}: final values")
        fig.savefig(out / final, dpi=110)
        files[problem] = (conv, final)
    return files


def write_report(out: Path, table: pd.DataFrame, plan: Plan, versions: dict[str, str],
                 settings: dict[str, dict[str, Any]], *, runs: pd.DataFrame | None = None,
                 failed: list[tuple[tuple[Any, ...], str]], executed: int, wall_s: float,
                 n_jobs: int, command: str | None = None) -> Path:
    """Score ``table``, draw the plots and write ``out/report.md``; returns its path."""
    from hpo_bridge.bench.report_mo import multi_objective_sections, split

    known = {p.name: p.optimum for p in plan.problems}
    full = table
    table, multi = split(table, plan.problems) if len(table) else (table, table)
    lines = ["# hpo_bridge benchmark report\n",
             f"Written {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
             + (f" by `{command}`" if command else "") + ".\n"]
    if not table.empty:
        lines += _recommendation(table, plan)
    lines += _setup(plan, executed, failed, wall_s, n_jobs)
    if runs is not None and len(runs):
        cpu = runs["cpu_s"]
        lines.append(f"- all {len(runs)} runs: {runs['wall_s'].sum():.0f} s of run wall time"
                     + (f", {cpu.sum():.0f} s of CPU" if cpu.notna().all() else "")
                     + " (summed over runs)")
    if full.empty:
        lines.append("\nNo finished runs.\n")
        return _write(out, lines)
    if not table.empty:
        lines += _single_objective(out, table, plan, known)
        from hpo_bridge.bench.simulate import report_section

        lines += report_section(out, table, known, _slug, markdown_table)
    lines += multi_objective_sections(out, multi, plan, _slug, markdown_table)
    lines += _times(full, runs, n_jobs)
    lines += _provenance(plan, versions, settings)
    return _write(out, lines)


def _single_objective(out: Path, table: pd.DataFrame, plan: Plan,
                      known: dict[str, float | None]) -> list[str]:
    import pandas as pd

    single = [p for p in plan.problems if not p.multi_objective]
    optima = scoring.problem_optima(table, known)
    lines = ["\n## Problems\n", markdown_table(pd.DataFrame(
        {"optimum": [optima[p.name][0] if p.name in optima else math.nan for p in single],
         "from": [optima.get(p.name, (0, "no runs"))[1] for p in single],
         "cost": [p.cost for p in single],
         "what": [p.description.split(". ")[0] for p in single]},
        index=[p.name for p in single]), index="problem")]
    scores = scoring.normalized_scores(table, known, plan.reference)
    lines += ["\n## Normalized score\n",
              "Bayesmark's score per problem: (best after the budget − optimum) / (median final "
              f"value of the random-search reference `{plan.reference}` − optimum), clipped to "
              "[−1, 1], mean over seeds. 0 = optimum found, 1 = no better than the median random "
              "search. `score` = 100 × (1 − mean over problems): higher is better, 0 is random-"
              "search level. The optimum is the known one where there is one, else the best "
              "value any run found.\n",
              markdown_table(scoring.score_table(scores), index="backend",
                             formats={"score": _one_decimal}),
              "\n### Headline score by budget\n",
              markdown_table(scoring.headline_by_budget(table, known, plan.reference),
                             fmt=_one_decimal, index="backend")]
    from hpo_bridge.plots import rank_table

    lines += ["\n## Mean rank\n",
              "Final best values ranked within each (problem, seed), 1 = best, ties share the "
              "average rank; mean over seeds per problem, then over problems.\n",
              markdown_table(rank_table(table), index="backend")]
    lines += _repeated(table)
    lines += _significance(table, plan, scores)
    if "auto" in plan.backends:
        lines += _auto(table)
    files = write_plots(out, table, optima)
    lines.append("\n## Plots\n")
    for problem, (conv, final) in files.items():
        lines.append(f"- {problem}: [convergence]({conv}), [final values]({final})")
    first = next(iter(files.values()))[0]
    lines.append(f"\n![convergence]({first})\n")
    return lines


def _times(table: pd.DataFrame, runs: pd.DataFrame | None, n_jobs: int) -> list[str]:
    import pandas as pd

    times = scoring.time_table(table)
    times = pd.DataFrame({
        "median trial (ms)": times["median trial (s)"] * 1000,
        "overhead/trial median (ms)": times["overhead/trial median (s)"] * 1000,
        "overhead/trial max (ms)": times["overhead/trial max (s)"] * 1000,
        "median run wall (s)": times["median run wall (s)"]})
    if runs is not None and runs["cpu_s"].notna().any():
        per_trial = runs.assign(cpu=runs["cpu_s"] / runs["trials"].clip(lower=1))
        cpu = per_trial.groupby("backend")["cpu"].median() * 1000
        times["CPU/trial median (ms)"] = cpu.reindex(times.index)
    ms = lambda v: f"{v:.1f}" if v >= 1 else f"{v:.2g}"  # noqa: E731
    return ["\n## Time per trial\n",
            "`median trial`: the objective's own time; `overhead/trial`: the run's wall time "
            "minus its trials' durations, per trial (proposing, bookkeeping), median and max "
            f"over runs; {_concurrency(runs, n_jobs)}, so wall times share the machine with "
            "whatever else runs on it. `CPU/trial`: the CPU time of a run's process (objective "
            "and optimizer) per trial, which does not depend on the machine's load.\n",
            markdown_table(times, index="backend", fmt=ms)]


def _recommendation(table: pd.DataFrame, plan: Plan) -> list[str]:
    from hpo_bridge.bench.recommend import recommend

    return ["## Recommendation\n",
            f"Read off this report's own mean ranks (below) at {plan.max_evals} trials and "
            f"{len(plan.seeds)} seeds: per class of space, the backend with the best mean rank "
            "on that class's problems. A small gap in rank can be chance; the Mann–Whitney "
            "tests further down say how sure it is against random search.\n",
            *recommend(table, [p for p in plan.problems if not p.multi_objective])]


def _concurrency(runs: pd.DataFrame | None, n_jobs: int) -> str:
    known = runs is not None and "n_jobs" in runs.columns
    values = {int(v) for v in runs["n_jobs"].dropna()} if runs is not None and known else set()
    values = values or {n_jobs}
    return f"runs made with n_jobs={', '.join(map(str, sorted(values)))}"


def _setup(plan: Plan, executed: int, failed: list[tuple[tuple[Any, ...], str]], wall_s: float,
           n_jobs: int) -> list[str]:
    lines = ["\n## Setup\n",
             f"- problems: {', '.join(p.name for p in plan.problems)}",
             f"- backends: {', '.join(f'`{b}`' for b in plan.backends)}",
             f"- seeds: {len(plan.seeds)} ({plan.seeds[0]}–{plan.seeds[-1]}), "
             f"budget: {plan.max_evals} trials per run",
             f"- random-search reference: `{plan.reference}`",
             f"- runs: {len(plan.runs)} ({executed} run now in {wall_s:.0f} s with n_jobs="
             f"{n_jobs}, {len(plan.runs) - executed} reused from earlier), "
             f"{len(failed)} failed"]
    lines += [f"- note: {n}" for n in plan.notes]
    lines += [f"- failed: {k[1]} on {k[0]} seed {k[2]}: {e}" for k, e in failed]
    return lines


def _repeated(table: pd.DataFrame) -> list[str]:
    from hpo_bridge.compare import repeated_runs

    notes = repeated_runs(table)
    if not notes:
        return []
    return ["\n## Identical runs\n",
            "Runs that proposed and scored exactly the same trials (every value and parameter, "
            "in order). Seeds of a backend that gave one run are one sample: the tests below "
            "count identical runs of a backend once. A backend that ran another's trials is "
            "that backend under another name here (e.g. `auto` choosing it).\n",
            *[f"- {n}" for n in notes]]


def _significance(table: pd.DataFrame, plan: Plan, scores: pd.DataFrame) -> list[str]:
    from math import comb

    sig = scoring.significance(table, plan.reference, scores, alpha=ALPHA)
    n = len(plan.seeds)
    fmt = lambda v: (f"{v:.2g}" + (" ✓" if v < ALPHA else "")) if isinstance(v, float) \
        and not math.isnan(v) else _fmt(v)  # noqa: E731
    n_problems = len(plan.problems)
    sig["wins"] = sig["wins"].astype(int)
    return ["\n## Better than random search?\n",
            f"Per problem: one-sided Mann–Whitney U test (`scipy.stats.mannwhitneyu`, "
            f"alternative='less') of the backend's final best values against `{plan.reference}`"
            f"'s, across seeds (unpaired: seed k means nothing across libraries). ✓: p < "
            f"{ALPHA}. `wins`: problems with ✓. `across problems`: one-sided Wilcoxon "
            "signed-rank test (`scipy.stats.wilcoxon`) of per-problem mean scores against the "
            f"reference's, paired by problem. Identical runs of a backend count once. No "
            f"multiple-test correction. With {n} seeds per "
            f"backend the smallest possible p is 1/C({2 * n},{n}) = {1 / comb(2 * n, n):.2g}; "
            f"across {n_problems} problems it is 1/2^{n_problems} = {0.5 ** n_problems:.2g}.\n",
            markdown_table(sig, fmt=fmt, index="backend")]


def _auto(table: pd.DataFrame) -> list[str]:
    vs = scoring.against_best(table, "auto")
    losses = [p for p in vs.index if vs.loc[p, "p (worse)"] < ALPHA]
    fmt = lambda v: (f"{v:.2g}" + (" ✗" if v < ALPHA else "")) if isinstance(v, float) \
        and not math.isnan(v) else _fmt(v)  # noqa: E731
    return ["\n## `auto` against the best single backend\n",
            "Per problem, the other backend with the best mean rank there, and a one-sided "
            "Mann–Whitney U test that `auto`'s final best values are worse than its (✗: p < "
            f"{ALPHA}). `auto` loses significantly on "
            + (f"{len(losses)} problem(s): {', '.join(losses)}." if losses else "no problem.")
            + "\n", markdown_table(vs, fmt=fmt, index="problem")]


def _provenance(plan: Plan, versions: dict[str, str],
                settings: dict[str, dict[str, Any]]) -> list[str]:
    import pandas as pd

    lines = ["\n## Versions\n",
             "| " + " | ".join(versions) + " |", "|" + "---|" * len(versions),
             "| " + " | ".join(versions.values()) + " |",
             "\n## Sampler settings\n",
             "Defaults read from the libraries at run time (hpo_bridge passes none of its "
             "own); every run's `runs/<problem>/<backend>/seed<k>.json` keeps them too.\n"]
    frame = pd.DataFrame({"settings": [format_settings(settings[b]) for b in plan.backends]},
                         index=plan.backends)
    lines.append(markdown_table(frame, index="backend"))
    return lines


def _write(out: Path, lines: list[str]) -> Path:
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
