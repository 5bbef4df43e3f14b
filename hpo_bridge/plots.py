"""Convergence plots and rank tables.

Every plotting function returns a matplotlib ``Figure``; none calls ``show``. The comparison
functions take the long table of :func:`hpo_bridge.compare` (one problem of a bench
``results.csv`` works too).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from matplotlib.figure import Figure

    from hpo_bridge.results import Result

__all__ = [
    "final_values",
    "plot_convergence",
    "plot_final_distribution",
    "plot_pareto_front",
    "plot_trials",
    "rank_table",
]


def _figure(width: float = 6.4, height: float = 4.0) -> tuple[Figure, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def plot_trials(result: Result) -> Figure:
    """Each trial's value and the best value so far of one run (``result.plot_trials()``).

    :func:`plot_convergence` draws the best value so far alone, for one run or many.

    Example:
        >>> import hpo_bridge as hb
        >>> r = hb.minimize(lambda c: c["x"] ** 2, {"x": hb.uniform(-1.0, 1.0)},
        ...                 backend="optuna:random", max_evals=5, seed=0, progress=False)
        >>> len(plot_trials(r).axes)
        1
    """
    table = _as_table(result, "plot_trials")  # its compare table: refused with several
    fig, ax = _figure()
    done = table[table["state"] == "complete"]
    ax.scatter(done["trial_id"].tolist(), done["value"].tolist(), s=12, alpha=0.5,
               label="trial value")
    ax.step(table["trial_id"].tolist(), table["best_value"].tolist(), where="post", color="C1",
            label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel("value")
    ax.set_title(f"{result.backend} (seed={result.seed})")
    ax.legend()
    return fig


def _refuse_several(what: str, names: Any) -> None:
    raise ValueError(f"{what}: the run has several objectives ({', '.join(names)}), so no "
                     "value is best so far; use hb.plot_pareto_front(...) for the front, or "
                     "result.hypervolume_so_far(reference) for a curve")


# -- comparisons -------------------------------------------------------------------------------
def _as_table(df_or_result: Any, what: str = "plot_convergence") -> pd.DataFrame:
    """A compare table from a compare table or a :class:`~hpo_bridge.Result` (refused with
    several objectives, naming ``what``)."""
    from hpo_bridge.results import Result

    if isinstance(df_or_result, Result):  # its compare table, checked as one
        from hpo_bridge.results import result_frame

        table = result_frame(df_or_result)
        table.attrs["direction"] = df_or_result.direction
        df_or_result = table
    missing = {"backend", "seed", "trial_id", "best_value"} - set(getattr(df_or_result,
                                                                          "columns", ()))
    if missing:
        raise ValueError("expected a table from hb.compare (or a Result); missing columns "
                         f"{sorted(missing)}")
    several = [c[len("values."):] for c in df_or_result.columns if c.startswith("values.")]
    if len(several) > 1 and df_or_result["best_value"].isna().all():  # compare(objectives=)
        _refuse_several(what, several)
    if "problem" in df_or_result.columns and df_or_result["problem"].nunique() > 1:
        raise ValueError("the table holds several problems "
                         f"({', '.join(map(str, df_or_result['problem'].unique()))}); "
                         "select one, e.g. df[df.problem == 'branin']")
    checked: pd.DataFrame = df_or_result
    return checked


def best_curves(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per backend, a (seeds x trials) array of best value so far; a shorter run (an
    exhausted grid) keeps its last value."""
    import numpy as np

    curves: dict[str, np.ndarray] = {}
    length = int(df["trial_id"].max()) + 1
    for backend, part in df.groupby("backend", sort=False):
        rows = []
        for _, run in part.groupby("seed", sort=True, dropna=False):
            values = run.sort_values("trial_id")["best_value"].to_numpy(dtype=float)
            rows.append(np.concatenate([values, np.full(length - len(values), values[-1])]))
        curves[str(backend)] = np.vstack(rows)
    return curves


def budget_curves(df: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Multi-fidelity runs (a ``budget`` column): the cumulative budget of the evaluations
    (in trial order) at which any run's best so far may change, and per backend a (seeds x
    points) array of each run's best so far there (NaN before its first)."""
    import numpy as np

    runs = []
    for backend, part in df.groupby("backend", sort=False):
        for _, run in part.groupby("seed", sort=True, dropna=False):
            run = run.sort_values("trial_id")
            runs.append((str(backend), run["budget"].to_numpy(dtype=float).cumsum(),
                         run["best_value"].to_numpy(dtype=float)))
    grid = np.unique(np.concatenate([spent for _, spent, _ in runs]))
    rows: dict[str, list[np.ndarray]] = {}
    for backend, spent, best in runs:
        at = np.searchsorted(spent, grid, side="right") - 1
        rows.setdefault(backend, []).append(np.where(at >= 0, best[np.maximum(at, 0)], np.nan))
    return grid, {b: np.vstack(r) for b, r in rows.items()}


def plot_convergence(df_or_result: Any, optimum: float | None = None,
                     log: bool | None = None, title: str | None = None,
                     highlight: int | Sequence[str] | None = None) -> Figure:
    """Best value so far against trials: the median across seeds, one curve per backend,
    with the interquartile range shaded. A multi-fidelity run (``fidelity=``) is drawn
    against the cumulative budget of its evaluations, its best so far being the best at the
    highest budget reached (:meth:`~hpo_bridge.Result.best_so_far`).

    Each backend keeps one color and line style in every figure (:func:`backend_style`). With
    many backends, a few are drawn in full and the rest faded (thin, no IQR band), so that the
    figure stays readable at twenty.

    Args:
        df_or_result: A table from :func:`hpo_bridge.compare` (or one problem of a bench
            ``results.csv``), or a :class:`~hpo_bridge.Result`.
        optimum: The known optimum; the plot then shows the regret ``|best - optimum|``.
        log: Log-scaled y axis (default: on when ``optimum`` is given). A regret of exactly
            zero is drawn at a floor below the smallest positive regret.
        title: The axes title.
        highlight: The backends drawn in full: names, or a number ``k`` for the ``k`` with
            the best final median (a random search is always drawn in full, as the baseline).
            Default: all of them up to 8 backends, else the best 5.

    Returns:
        A matplotlib ``Figure`` (nothing is shown; ``fig.savefig(path)`` writes it).

    Example:
        >>> import hpo_bridge as hb
        >>> df = hb.compare(lambda c: c["x"] ** 2, {"x": hb.uniform(-1.0, 1.0)},
        ...                 ["optuna:random"], seeds=range(2), max_evals=5)
        >>> fig = hb.plot_convergence(df, optimum=0.0)
        >>> len(fig.axes)
        1
    """
    import numpy as np

    table = _as_table(df_or_result)
    by_budget = "budget" in table.columns and bool(table["budget"].notna().all())
    grid, curves = budget_curves(table) if by_budget else (None, best_curves(table))
    log = optimum is not None if log is None else log
    if optimum is not None:
        curves = {b: np.abs(c - optimum) for b, c in curves.items()}
    floor = _log_floor(curves) if log else None
    maximize = table.attrs.get("direction") == "maximize" and optimum is None
    shown = _highlighted(curves, highlight, maximize)
    many = len(curves) > 5
    fig, ax = _figure(8.5 if many else 6.4, 4.5 if many else 4.0)
    one_run = all(curve.shape[0] == 1 for curve in curves.values())
    for backend in sorted(curves, key=lambda b: b in shown):  # the highlighted ones on top
        curve = curves[backend]
        if floor is not None:
            curve = np.where(curve > 0, curve, floor)
        x = grid if grid is not None else np.arange(1, curve.shape[1] + 1)
        with np.errstate(all="ignore"):
            q1, med, q3 = np.nanpercentile(curve, [25, 50, 75], axis=0)
        color, dash = backend_style(backend)
        full = backend in shown
        label = backend if one_run else f"{backend} (n={curve.shape[0]})"
        ax.plot(x, med, color=color, linestyle=dash, label=label,
                linewidth=1.6 if full else 0.8, alpha=1.0 if full else 0.35)
        if curve.shape[0] > 1 and full:
            ax.fill_between(x, q1, q3, color=color, alpha=0.12 if many else 0.2, linewidth=0)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("cumulative budget" if by_budget else "trial")
    ylabel = "regret |best - optimum|" if optimum is not None else "best value so far"
    ax.set_ylabel(ylabel + (" (log)" if log else ""))
    faded = len(curves) - len(shown)
    default = "best so far (one run)" if one_run else "median best so far, IQR across seeds"
    ax.set_title((title or default) + (f"; {faded} faded" if faded else ""),
                 fontsize="medium")
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: labels[i].split(" (n=")[0] not in shown)
    handles, labels = [handles[i] for i in order], [labels[i] for i in order]
    if many:
        ax.legend(handles, labels, fontsize="small", loc="upper left",
                  bbox_to_anchor=(1.01, 1.0))
    else:
        ax.legend(handles, labels, fontsize="small")
    return fig


#: Up to this many backends, every curve is drawn in full.
FULL_CURVES = 8
#: Beyond :data:`FULL_CURVES`, the best this many (and a random search) are drawn in full.
HIGHLIGHT = 5


def _highlighted(curves: dict[str, np.ndarray], highlight: int | Sequence[str] | None,
                 maximize: bool) -> set[str]:
    import numpy as np

    if highlight is None:
        highlight = len(curves) if len(curves) <= FULL_CURVES else HIGHLIGHT
    if isinstance(highlight, str) or not isinstance(highlight, (int, Sequence)) \
            or isinstance(highlight, bool):
        raise ValueError(f"highlight must be a number of backends or a list of backend "
                         f"names, got {highlight!r}")
    if not isinstance(highlight, int):
        unknown = sorted(set(highlight) - set(curves))
        if unknown:
            raise ValueError(f"highlight names {unknown}, not backends of this table "
                             f"({', '.join(curves)})")
        return set(highlight)
    with np.errstate(all="ignore"):
        final = {b: float(np.nanmedian(c[:, -1])) for b, c in curves.items()}
    ranked = sorted(curves, key=lambda b: (-final[b] if maximize else final[b]))
    return set(ranked[:highlight]) | {b for b in curves if b.endswith(":random")}


#: Line styles by library, and the registry's order of backends, for :func:`backend_style`.
_DASHES = {"hyperopt": "--", "optuna": "-", "skopt": ":", "auto": "-", "nevergrad": "-."}


def backend_style(backend: str) -> tuple[Any, str]:
    """The color and line style of ``backend`` in every figure: fixed by its name, so a
    backend looks the same in each plot of a report whatever else is drawn beside it.

    The registered backends take the twenty colors of ``tab20`` in the registry's order
    (strong tones first); a line style per library. Other names get a color from their name.

    Example:
        >>> backend_style("optuna:tpe") == backend_style("optuna:tpe")
        True
    """
    import zlib

    from matplotlib import colormaps

    from hpo_bridge.backends.registry import backends

    names = [b.name for b in backends()]
    cmap = colormaps["tab20"]
    if backend in names:
        i = names.index(backend)
        index = (2 * i) % 20 + (i // 10) % 2  # tab20 pairs a strong and a pale tone
    else:
        index = zlib.crc32(backend.encode()) % 20
    library = backend.split(":")[0]
    dash = _DASHES.get(library, ["-", "--", ":", "-."][zlib.crc32(library.encode()) % 4])
    return cmap(index), dash


def _log_floor(curves: dict[str, np.ndarray]) -> float | None:
    import numpy as np

    positive = [c[c > 0] for c in curves.values()]
    smallest = min((p.min() for p in positive if p.size), default=None)
    if smallest is None:
        return 1e-12
    return float(smallest) / 10 if np.isfinite(smallest) else 1e-12


def final_values(df: pd.DataFrame) -> pd.DataFrame:
    """The final best value of each run: columns (``problem``,) ``backend``, ``seed``,
    ``final``."""
    keys = [c for c in ("problem", "backend", "seed") if c in df.columns]
    last = df.sort_values("trial_id").groupby(keys, sort=False, dropna=False)["best_value"].last()
    final: pd.DataFrame = last.rename("final").reset_index()
    return final


def plot_final_distribution(df: pd.DataFrame, optimum: float | None = None,
                            title: str | None = None) -> Figure:
    """A box per backend of the final best value of each seed's run (points overlaid).

    Args:
        df: A compare table (or one problem of a bench ``results.csv``).
        optimum: If known, plot the final regret on a log axis instead.
        title: The axes title.

    Returns:
        A matplotlib ``Figure``.
    """
    import numpy as np

    table = _as_table(df, "plot_final_distribution")
    finals = final_values(table)
    order = list(dict.fromkeys(table["backend"]))
    data = [finals.loc[finals["backend"] == b, "final"].to_numpy(dtype=float) for b in order]
    if optimum is not None:
        data = [np.abs(d - optimum) for d in data]
        floor = _log_floor({str(i): d for i, d in enumerate(data)})
        data = [np.where(d > 0, d, floor) for d in data]
    fig, ax = _figure(max(6.4, 0.8 * len(order) + 2), 4.0)
    ax.boxplot([d[~np.isnan(d)] for d in data], showfliers=False)
    ax.set_xticks(range(1, len(order) + 1), order)
    rng = np.random.default_rng(0)  # jitter only
    for i, (backend, d) in enumerate(zip(order, data, strict=True), start=1):
        ax.scatter(i + rng.uniform(-0.12, 0.12, len(d)), d, s=10, alpha=0.7,
                   color=backend_style(backend)[0])
    if optimum is not None:
        ax.set_yscale("log")
    ax.set_ylabel("final regret (log)" if optimum is not None else "final best value")
    ax.set_title(title or "final best value per run")
    ax.tick_params(axis="x", labelrotation=45)
    return fig


def rank_table(df: pd.DataFrame) -> pd.DataFrame:
    """Mean rank of each backend (1 = best), ranking the final best values within each
    (problem, seed), ties sharing the average rank.

    A run without a successful trial ranks last. With a ``problem`` column, the rank is first
    averaged over seeds per problem (one column per problem), then over problems
    (``mean_rank``); rows are sorted by ``mean_rank``.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"backend": ["a", "b", "a", "b"], "seed": [0, 0, 1, 1],
        ...                    "trial_id": [0, 0, 0, 0], "best_value": [1.0, 2.0, 3.0, 2.0]})
        >>> rank_table(df)["mean_rank"].tolist()
        [1.5, 1.5]
    """
    table = df if "problem" in df.columns else df.assign(problem="")
    finals = final_values(table)
    maximize = getattr(df, "attrs", {}).get("direction") == "maximize"
    finals["rank"] = finals.groupby(["problem", "seed"])["final"].rank(
        method="average", ascending=not maximize, na_option="bottom")
    per_problem = finals.pivot_table(index="backend", columns="problem", values="rank",
                                     aggfunc="mean", sort=False)
    per_problem = per_problem[list(dict.fromkeys(table["problem"]))]
    out = per_problem.copy() if "problem" in df.columns else per_problem.iloc[:, :0].copy()
    out["mean_rank"] = per_problem.mean(axis=1)
    out.columns.name = None
    ranked: pd.DataFrame = out.sort_values("mean_rank", kind="stable")
    return ranked


# -- several objectives ------------------------------------------------------------------------
def _objective_table(result_or_df: Any) -> tuple[pd.DataFrame, dict[str, str]]:
    """The trials (or compare) table and ``{name: direction}`` of its objectives."""
    from hpo_bridge.results import Result

    if isinstance(result_or_df, (list, tuple, dict)):
        return _overlay(result_or_df)
    if isinstance(result_or_df, Result):
        objectives = result_or_df.objectives
        if not objectives.multi:
            raise ValueError(f"plot_pareto_front: a front needs two or more objectives; this "
                             f"run has {objectives!r} (pass objectives=['a', 'b'] to minimize)")
        return result_or_df.trials, objectives.as_dict()
    df = result_or_df
    names = [c[len("values."):] for c in df.columns if c.startswith("values.")]
    directions = dict(df.attrs.get("objectives") or {n: "minimize" for n in names})
    if len(names) < 2 or set(directions) != set(names):
        raise ValueError("plot_pareto_front: expected a Result or a table with two or more "
                         "objectives ('values.<name>' columns of a run with objectives=), got "
                         f"{list(df.columns)}")
    return df, {n: directions[n] for n in names}


def _overlay(runs: Any) -> tuple[pd.DataFrame, dict[str, str]]:
    """Several Results as one table with a ``backend`` column naming each run: the dict's
    keys, else the backend (with its seed where two runs share a backend)."""
    import pandas as pd

    from hpo_bridge.results import Result

    items = list(runs.items()) if isinstance(runs, dict) else [(None, r) for r in runs]
    if not items or not all(isinstance(r, Result) for _, r in items):
        raise ValueError("plot_pareto_front: a list (or dict) of runs must hold Results of "
                         "runs with objectives=, got "
                         f"{[type(r).__name__ for _, r in items] or 'nothing'}")
    backends = [r.backend for _, r in items]
    frames: list[pd.DataFrame] = []
    shared: dict[str, str] = {}
    for key, result in items:
        table, mine = _objective_table(result)
        if shared and mine != shared:
            raise ValueError(f"plot_pareto_front: runs to overlay must share their objectives; "
                             f"got {shared} and {mine}")
        shared = mine
        label = key if key is not None else result.backend if backends.count(
            result.backend) == 1 else f"{result.backend} (seed={result.seed})"
        frames.append(table.assign(backend=str(label)))
    return pd.concat(frames, ignore_index=True), shared


def _front_steps(points: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """The attainment staircase of non-dominated ``points`` (2 objectives, user's directions)."""
    import itertools

    import numpy as np

    loss = points * signs
    loss = loss[np.argsort(loss[:, 0])]
    steps = [loss[0]]
    for a, b in itertools.pairwise(loss):
        steps += [np.array([b[0], a[1]]), b]
    staircase: np.ndarray = np.array(steps) * signs
    return staircase


def plot_pareto_front(result_or_df: Any, log: bool | Sequence[str] = False) -> Figure:
    """Every trial's objectives, with the Pareto front.

    Two objectives: one scatter, the front as a staircase line. Three or more: one panel per
    pair of objectives (the front drawn as its points). Infeasible trials are grey crosses;
    with a compare table (a ``backend`` column) or several runs, one color per backend (or
    run), its front pooled over seeds.

    Args:
        result_or_df: A :class:`~hpo_bridge.Result` of a run with ``objectives=``, its
            ``trials``, a :func:`~hpo_bridge.compare` table of such runs, or several Results
            to overlay: a list (labelled by backend) or a dict ``{label: result}``.
        log: Log-scaled axes: ``True`` for every objective, or the names of those to log
            (values must then be positive).

    Example:
        >>> import hpo_bridge as hb
        >>> r = hb.minimize(lambda c: {"a": c["x"], "b": (1 - c["x"]) ** 2},
        ...                 {"x": hb.uniform(0.0, 1.0)}, objectives=["a", "b"],
        ...                 backend="optuna:random", max_evals=8, seed=0, progress=False)
        >>> len(plot_pareto_front(r).axes)
        1
    """
    import itertools

    import numpy as np

    from hpo_bridge.pareto import non_dominated

    df, objectives = _objective_table(result_or_df)
    names = list(objectives)
    logged = set(names) if log is True else set() if log is False else set(log)
    if isinstance(log, str) or not logged <= set(names):
        raise ValueError(f"log must be True, False or a list of objective names "
                         f"({', '.join(names)}), got {log!r}")
    signs = np.array([-1.0 if objectives[n] == "maximize" else 1.0 for n in names])
    pairs = list(itertools.combinations(range(len(names)), 2))
    fig, _ = _figure(6.4 if len(pairs) == 1 else 4.2 * min(len(pairs), 3),
                     4.0 * ((len(pairs) + 2) // 3))
    fig.clear()
    axes = [fig.add_subplot((len(pairs) + 2) // 3, min(len(pairs), 3), k + 1)
            for k in range(len(pairs))]
    complete = df[df["state"] == "complete"]
    feasible = (complete["feasible"] if "feasible" in complete
                else complete["state"] == "complete").astype(bool)
    groups = (list(complete.groupby("backend", sort=False)) if "backend" in complete
              else [(None, complete)])
    labelled = False  # the grey crosses' legend entry, once
    from hpo_bridge.backends.registry import backends as registered

    known = {b.name for b in registered()}
    for k, (label, group) in enumerate(groups):
        color = backend_style(str(label))[0] if str(label) in known else f"C{k}"
        ok = group[feasible.loc[group.index]]
        bad = group[~feasible.loc[group.index]]
        points = ok[[f"values.{n}" for n in names]].to_numpy(float)
        front = points[non_dominated(points * signs)] if len(points) else points
        for ax, (i, j) in zip(axes, pairs, strict=True):
            ax.scatter(points[:, i], points[:, j], s=10, alpha=0.35, color=color,
                       label=None if label is None else str(label))
            if len(bad):
                ax.scatter(bad[f"values.{names[i]}"], bad[f"values.{names[j]}"], s=12,
                           marker="x", color="0.6",
                           label=None if labelled else "infeasible")
                labelled = True
            if len(front) and len(names) == 2:
                steps = _front_steps(front, signs)
                ax.plot(steps[:, 0], steps[:, 1], color=color,
                        label="Pareto front" if label is None else None)
            elif len(front):
                ax.scatter(front[:, i], front[:, j], s=22, color=color,
                           edgecolors="black", linewidths=0.5)
            ax.set_xlabel(f"{names[i]} ({objectives[names[i]]})")
            ax.set_ylabel(f"{names[j]} ({objectives[names[j]]})")
            if names[i] in logged:
                ax.set_xscale("log")
            if names[j] in logged:
                ax.set_yscale("log")
    if axes[0].get_legend_handles_labels()[0]:
        axes[0].legend(fontsize="small")
    if hasattr(result_or_df, "records"):  # a Result
        fig.suptitle(f"{result_or_df.backend} (seed={result_or_df.seed})")
    return fig
