"""hb.compare's table, its determinism (also across worker processes), and the plots."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hpo_bridge as hb
from hpo_bridge.compare import COLUMNS, TIMING_COLUMNS
from hpo_bridge.plots import backend_style, plot_final_distribution, rank_table

SPACE = {"x": hb.uniform(-2.0, 2.0), "kind": hb.choice(["a", "b"])}
BACKENDS = ["optuna:random", "hyperopt:tpe"]


def objective(config: dict) -> float:
    return (config["x"] - 0.5) ** 2 + (config["kind"] == "b")


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return hb.compare(objective, SPACE, BACKENDS, seeds=range(2), max_evals=6)


def test_table_has_one_row_per_trial_and_the_spec_columns(table: pd.DataFrame) -> None:
    assert list(table.columns[: len(COLUMNS)]) == COLUMNS
    assert {"params.x", "params.kind"} <= set(table.columns)
    assert len(table) == len(BACKENDS) * 2 * 6
    sizes = table.groupby(["backend", "seed"], sort=False).size()
    assert sizes.index.tolist() == [(b, s) for b in BACKENDS for s in (0, 1)]
    assert (sizes == 6).all()
    assert set(table["state"]) == {"complete"}


def test_best_value_is_the_running_minimum_and_time_grows(table: pd.DataFrame) -> None:
    for _, run in table.groupby(["backend", "seed"]):
        run = run.sort_values("trial_id")
        assert run["trial_id"].tolist() == list(range(6))
        np.testing.assert_allclose(run["best_value"], run["value"].cummin())
        assert run["best_value"].is_monotonic_decreasing
        assert run["elapsed_s"].is_monotonic_increasing
        assert (run["elapsed_s"] >= 0).all() and (run["duration_s"] >= 0).all()


def test_same_seeds_give_the_same_table(table: pd.DataFrame) -> None:
    again = hb.compare(objective, SPACE, BACKENDS, seeds=range(2), max_evals=6)
    pd.testing.assert_frame_equal(table.drop(columns=list(TIMING_COLUMNS)),
                                  again.drop(columns=list(TIMING_COLUMNS)))


def test_worker_processes_give_the_same_table_and_run_lambdas(table: pd.DataFrame) -> None:
    offset = 0.5  # a closure over a local: needs cloudpickle in the workers
    parallel = hb.compare(lambda c: (c["x"] - offset) ** 2 + (c["kind"] == "b"), SPACE,
                          BACKENDS, seeds=range(2), max_evals=6, n_jobs=2)
    pd.testing.assert_frame_equal(table.drop(columns=list(TIMING_COLUMNS)),
                                  parallel.drop(columns=list(TIMING_COLUMNS)))


def test_maximize_keeps_a_running_maximum() -> None:
    df = hb.compare(objective, SPACE, ["optuna:random"], seeds=[3], max_evals=5,
                    direction="maximize")
    np.testing.assert_allclose(df["best_value"], df["value"].cummax())
    assert df.attrs["direction"] == "maximize"


@pytest.mark.parametrize("kwargs, message", [
    ({"backends": ["optuna:tpe", "nope"]}, "unknown backend.*'nope'.*valid names are.*optuna:tpe"),
    ({"backends": []}, "non-empty list"),
    ({"backends": ["optuna:tpe", "tpe"]}, "more than once"),
    ({"seeds": []}, "seeds"),
    ({"seeds": [0, 0]}, "distinct"),
    ({"seeds": 3}, "iterable"),
    ({"seeds": "01"}, r"seeds must be an iterable of ints \(e.g. range\(5\)\), got '01'"),
    ({"seeds": [0, 1.5]}, "ints >= 0"),
    ({"max_evals": 0}, r"max_evals must be a positive int \(the number of trials, e.g. "
                       r"max_evals=50\), got 0"),
    ({"max_evals": 2.5}, "max_evals must be a positive int"),
    ({"n_jobs": 0}, r"n_jobs must be a positive int \(trials at once, e.g. n_jobs=2"),
    ({"n_jobs": None}, "n_jobs must be a positive int.*got None"),
    ({"seed": 1}, "compare sets 'seed'"),
    ({"storage": "x.db"}, "storage"),
])
def test_arguments_are_checked_before_any_run(kwargs: dict, message: str) -> None:
    calls = []
    args = {"backends": ["optuna:random"], **kwargs}
    with pytest.raises(ValueError, match=message):
        hb.compare(lambda c: calls.append(c) or 0.0, SPACE, **args)
    assert calls == []


def test_numpy_counts_are_taken_as_minimize_takes_them() -> None:
    """``compare(max_evals=np.int64(3))`` was refused as "not a positive int" (minimize took
    it): counts from NumPy, e.g. a grid of budgets, run as Python ints."""
    df = hb.compare(objective, SPACE, ["optuna:random"], seeds=np.arange(2),
                    max_evals=np.int64(3), n_jobs=np.int64(1))
    assert len(df) == 6 and sorted(set(df["seed"])) == [0, 1]
    assert all(type(s) is int for s in df["seed"].tolist())


def test_progress_bar_counts_runs_not_trials(capsys: pytest.CaptureFixture[str]) -> None:
    hb.compare(objective, SPACE, ["optuna:random", "hyperopt:random"], seeds=[0, 1],
               max_evals=3, progress=True)
    err = capsys.readouterr().err
    assert "compare" in err and "4/4" in err and "run" in err
    assert "trial" not in err  # the runs' own bars stay off
    assert "hyperopt:random seed 1" in err


def test_compare_shows_no_optuna_info_line(optuna_log: list) -> None:
    """Its argument check builds each backend before any run: Optuna's "A new study created
    in memory" line was printed there, outside the runs' quieting."""
    hb.compare(objective, SPACE, ["optuna:random"], seeds=[0], max_evals=1, progress=False)
    assert [r.getMessage() for r in optuna_log] == []


def test_a_space_a_backend_cannot_run_fails_before_any_run() -> None:
    calls = []
    with pytest.raises(hb.UnsupportedError, match="'x'"):
        hb.compare(lambda c: calls.append(c) or 0.0, SPACE, ["optuna:random", "optuna:grid"],
                   seeds=[0], max_evals=3)
    assert calls == []


def test_a_failed_run_names_its_backend_and_seed() -> None:
    def broken(config: dict) -> float:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="'optuna:random' with seed 0.*boom"):
        hb.compare(broken, SPACE, ["optuna:random"], seeds=[0], max_evals=2)


# -- plots -------------------------------------------------------------------------------------
def test_plot_convergence_renders_a_figure(table: pd.DataFrame, tmp_path) -> None:
    from matplotlib.figure import Figure

    fig = hb.plot_convergence(table)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    assert len(fig.axes[0].get_lines()) == len(BACKENDS)
    fig = hb.plot_convergence(table, optimum=0.0)
    assert fig.axes[0].get_yscale() == "log"
    fig.savefig(tmp_path / "conv.png")
    assert (tmp_path / "conv.png").stat().st_size > 1000


def test_plot_convergence_takes_a_result(tmp_path) -> None:
    result = hb.minimize(objective, SPACE, backend="optuna:random", max_evals=5, seed=0,
                         progress=False)
    fig = hb.plot_convergence(result)
    assert fig.axes[0].get_lines()
    fig.savefig(tmp_path / "result.png")


def test_one_name_per_figure() -> None:
    """``result.plot_convergence()`` is ``hb.plot_convergence(result)``; the per-trial figure
    (each trial's value and the best so far) is ``result.plot_trials()`` (and ``plot()``)."""
    result = hb.minimize(objective, SPACE, backend="optuna:random", max_evals=5, seed=0,
                         progress=False)

    def drawn(fig):
        ax = fig.axes[0]
        return ([line.get_ydata().tolist() for line in ax.get_lines()], len(ax.collections))

    assert drawn(result.plot_convergence()) == drawn(hb.plot_convergence(result))
    trials = result.plot_trials()
    assert trials.axes[0].collections  # the trial values, scattered
    assert drawn(result.plot()) == drawn(trials)


def test_plot_final_distribution_and_rank_table(table: pd.DataFrame, tmp_path) -> None:
    fig = plot_final_distribution(table, optimum=0.0)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == BACKENDS
    fig.savefig(tmp_path / "final.png")
    ranks = rank_table(table)
    assert set(ranks.index) == set(BACKENDS)
    assert ranks["mean_rank"].sum() == pytest.approx(3.0)  # ranks 1 + 2 per seed


def test_rank_table_by_hand() -> None:
    df = pd.DataFrame({
        "problem": ["p"] * 6 + ["q"] * 6,
        "backend": ["a", "b", "c"] * 4,
        "seed": [0, 0, 0, 1, 1, 1] * 2,
        "trial_id": [0] * 12,
        "best_value": [1.0, 2.0, 3.0, 2.0, 1.0, 3.0, 5.0, 5.0, np.nan, 1.0, 2.0, 3.0],
    })
    ranks = rank_table(df)
    # p: a (1, 2), b (2, 1), c (3, 3); q: a, b tie (1.5), c failed -> last; then a 1, b 2, c 3
    assert ranks.loc["a", "p"] == 1.5 and ranks.loc["c", "p"] == 3.0
    assert ranks.loc["a", "q"] == 1.25 and ranks.loc["b", "q"] == 1.75
    assert ranks["mean_rank"].to_dict() == {"a": 1.375, "b": 1.625, "c": 3.0}


def test_plots_refuse_a_table_of_several_problems(table: pd.DataFrame) -> None:
    two = pd.concat([table.assign(problem="p"), table.assign(problem="q")])
    with pytest.raises(ValueError, match="several problems"):
        hb.plot_convergence(two)


# -- plots a person can read (issue 23 items 6, 7) ---------------------------------------------
def _fake(backends: list[str], seeds: int = 2, trials: int = 4) -> pd.DataFrame:
    rows = []
    for k, backend in enumerate(backends):
        for seed in range(seeds):
            for t in range(trials):
                best = (k + 1.0) / (t + 1) + seed * 0.01
                rows.append({"backend": backend, "seed": seed, "trial_id": t,
                             "value": best, "best_value": best})
    return pd.DataFrame(rows)


def _colors(fig) -> dict[str, tuple]:
    ax = fig.axes[0]
    return {line.get_label().split(" (n=")[0]: line.get_color() for line in ax.get_lines()}


def test_a_backend_keeps_its_color_and_style_in_every_figure() -> None:
    from matplotlib.colors import to_rgba

    one = _colors(hb.plot_convergence(_fake(["optuna:tpe", "skopt:gp"])))
    other = _colors(hb.plot_convergence(_fake(["hyperopt:tpe", "skopt:gp", "optuna:random",
                                                "optuna:tpe"])))
    assert one["skopt:gp"] == other["skopt:gp"] and one["optuna:tpe"] == other["optuna:tpe"]
    every = [b.name for b in hb.backends()]
    colors = {to_rgba(backend_style(b)[0]) for b in every}
    assert len(colors) == len(every)  # twenty backends, twenty colors
    assert backend_style("skopt:gp")[1] != backend_style("optuna:gp")[1]


def test_twenty_backends_fade_all_but_the_best_and_random() -> None:
    every = [b.name for b in hb.backends()]
    fig = hb.plot_convergence(_fake(every))
    lines = {line.get_label().split(" (n=")[0]: line for line in fig.axes[0].get_lines()}
    full = {name for name, line in lines.items() if line.get_alpha() == 1.0}
    assert full == set(every[:5]) | {b for b in every if b.endswith(":random")}
    assert len(fig.axes[0].collections) == len(full)  # IQR bands only for those drawn in full
    assert f"{len(every) - len(full)} faded" in fig.axes[0].get_title()
    legend = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert {label.split(" (n=")[0] for label in legend[:len(full)]} == full  # listed first
    chosen = hb.plot_convergence(_fake(every), highlight=["skopt:gp"])
    assert "19 faded" in chosen.axes[0].get_title()
    with pytest.raises(ValueError, match="highlight names.*nope"):
        hb.plot_convergence(_fake(every), highlight=["nope"])
    few = hb.plot_convergence(_fake(every[:4]))
    assert "faded" not in few.axes[0].get_title()


def test_one_run_is_titled_as_one_run() -> None:
    result = hb.minimize(objective, SPACE, backend="optuna:random", max_evals=4, seed=0,
                         progress=False)
    title = hb.plot_convergence(result).axes[0].get_title()
    assert title == "best so far (one run)"
    assert "IQR" in hb.plot_convergence(_fake(["optuna:tpe"])).axes[0].get_title()


def test_pareto_front_overlays_runs_with_log_axes() -> None:
    space = {"x": hb.uniform(0.01, 1.0)}

    def two(c: dict) -> dict:
        return {"a": c["x"], "b": 1.0 / c["x"]}

    runs = [hb.minimize(two, space, backend=b, max_evals=5, seed=0, objectives=["a", "b"],
                        progress=False) for b in ("optuna:random", "hyperopt:random")]
    fig = hb.plot_pareto_front(runs, log=True)
    ax = fig.axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert {"optuna:random", "hyperopt:random"} <= set(ax.get_legend_handles_labels()[1])
    fig = hb.plot_pareto_front({"first": runs[0], "second": runs[1]}, log=["b"])
    assert (fig.axes[0].get_xscale(), fig.axes[0].get_yscale()) == ("linear", "log")
    assert {"first", "second"} <= set(fig.axes[0].get_legend_handles_labels()[1])
    with pytest.raises(ValueError, match="log must be"):
        hb.plot_pareto_front(runs, log=["c"])
    with pytest.raises(ValueError, match="Results"):
        hb.plot_pareto_front([runs[0], "nope"])
