"""The multi-objective benchmark: known fronts, hypervolume scoring, runs and the report."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hpo_bridge.bench.mo_scoring import add_hypervolume, gap_table, median_hypervolumes
from hpo_bridge.bench.pareto import (
    hypervolume,
    hypervolume_curve,
    non_dominated,
    run_losses,
)
from hpo_bridge.bench.problems import Problem, get_problem
from hpo_bridge.bench.problems.multiobjective import mlp_param_count
from hpo_bridge.bench.scoring import normalized_scores

KNOWN = ["zdt1", "zdt2", "zdt3", "dtlz2"]


def _x(first: float, rest: float, dim: int = 6, second: float | None = None) -> dict[str, float]:
    xs = [first] + ([] if second is None else [second])
    xs += [rest] * (dim - len(xs))
    return {f"x{i}": v for i, v in enumerate(xs, start=1)}


# --- the problems' known fronts ------------------------------------------------------------
@pytest.mark.parametrize("name", KNOWN)
def test_true_front_sample_is_non_dominated_and_has_the_reference_hv(name: str) -> None:
    problem = get_problem(name)
    front = problem.true_front()
    assert len(front) > 1000
    every = front[::3] if front.shape[1] == 3 else front  # the 3-D check is O(n^2)
    assert len(non_dominated(every)) == len(every)
    assert problem.reference_hypervolume() == pytest.approx(
        hypervolume(front, problem.reference_point), rel=1e-12)


def test_reference_hypervolumes_match_the_closed_forms() -> None:
    # ZDT1: 11*11 - integral of (1 - sqrt(f1)) = 121 - 1/3; ZDT2: 121 - 2/3; DTLZ2: the
    # reference box minus an eighth of the unit ball. A sample's staircase lies under the front.
    exact = {"zdt1": 121 - 1 / 3, "zdt2": 121 - 2 / 3, "dtlz2": 1.1**3 - math.pi / 6}
    for name, value in exact.items():
        hv = get_problem(name).reference_hypervolume()
        assert hv is not None and hv <= value
    assert get_problem("zdt1").reference_hypervolume() == pytest.approx(exact["zdt1"], abs=1e-3)
    assert get_problem("zdt2").reference_hypervolume() == pytest.approx(exact["zdt2"], abs=1e-3)
    assert get_problem("dtlz2").reference_hypervolume() == pytest.approx(exact["dtlz2"], rel=0.02)


@pytest.mark.parametrize("x1", [0.0, 0.09, 0.5, 1.0])
def test_a_zdt1_point_with_g_1_lies_on_the_front(x1: float) -> None:
    f = get_problem("zdt1").objective(_x(x1, 0.0))
    assert f["f1"] == x1 and f["f2"] == pytest.approx(1 - math.sqrt(x1), abs=1e-15)
    front = get_problem("zdt1").true_front()
    point = np.array([[f["f1"], f["f2"]]])
    assert len(non_dominated(np.vstack([front, point]))) >= len(front)  # nothing dominates it
    worse = get_problem("zdt1").objective(_x(x1, 0.1))  # g > 1: above the front
    assert worse["f2"] > f["f2"]


def test_zdt2_zdt3_dtlz2_points_on_their_fronts() -> None:
    f = get_problem("zdt2").objective(_x(0.5, 0.0))
    assert f["f2"] == pytest.approx(0.75)
    front3 = get_problem("zdt3").true_front()
    on = get_problem("zdt3").objective(_x(0.0, 0.0))
    assert [on["f1"], on["f2"]] == pytest.approx(front3[0].tolist())
    assert front3[:, 1].min() < -0.7  # the last piece dips below zero
    for x1, x2 in [(0.0, 0.0), (0.3, 0.7), (1.0, 0.5)]:
        f = get_problem("dtlz2").objective(_x(x1, 0.5, second=x2))
        assert math.fsum(v * v for v in f.values()) == pytest.approx(1.0)


def test_mlp_parameter_count() -> None:
    assert mlp_param_count(16, 1) == 64 * 16 + 16 + 16 * 10 + 10
    assert mlp_param_count(8, 2) == 64 * 8 + 8 + 8 * 8 + 8 + 8 * 10 + 10


def test_a_problem_with_several_objectives_checks_them() -> None:
    with pytest.raises(ValueError, match="two or more names"):
        Problem("p", {}, abs, None, "cheap", False, "", objectives={"a": "up", "b": "minimize"},
                reference_point=(1.0, 1.0))
    with pytest.raises(ValueError, match="reference_point needs one value per objective"):
        Problem("p", {}, abs, None, "cheap", False, "",
                objectives={"a": "minimize", "b": "minimize"}, reference_point=(1.0,))
    with pytest.raises(ValueError, match="no single optimum"):
        Problem("p", {}, abs, 0.0, "cheap", False, "",
                objectives={"a": "minimize", "b": "minimize"}, reference_point=(1.0, 1.0))


# --- hypervolume of a run ------------------------------------------------------------------
def test_hypervolume_curve_grows_with_the_front_and_skips_failed_and_infeasible() -> None:
    run = pd.DataFrame({"trial_id": [0, 1, 2, 3, 4], "state": ["complete", "failed", "complete",
                                                                "complete", "complete"],
                        "values.a": [1.0, 0.0, 2.0, 0.5, 3.0], "values.b": [1.0, 0.0, 0.5, 0.5,
                                                                            5.0],
                        "feasible": [True, False, True, False, True]})
    losses = run_losses(run, {"a": "minimize", "b": "minimize"})
    curve = hypervolume_curve(losses, (2.0, 2.0))
    # 1x1 box; the failed trial and the trial beyond the reference add nothing; the
    # infeasible (0.5, 0.5) would add 1.0 but does not count.
    assert curve.tolist() == [1.0, 1.0, 1.0, 1.0, 1.0]
    maximized = run_losses(run.assign(**{"values.b": -run["values.b"]}),
                           {"a": "minimize", "b": "maximize"})
    assert np.array_equal(maximized, losses, equal_nan=True)


def _problem(front: list[list[float]]) -> Problem:
    return Problem("toy", {}, abs, None, "cheap", False, "a toy problem with a known front",
                   objectives={"a": "minimize", "b": "minimize"}, reference_point=(4.0, 4.0),
                   true_front=lambda: np.array(front, dtype=float))


def _run(backend: str, seed: int, points: list[tuple[float, float]]) -> pd.DataFrame:
    return pd.DataFrame({"problem": "toy", "backend": backend, "seed": seed,
                         "trial_id": range(len(points)), "state": "complete",
                         "value": math.nan, "best_value": math.nan,
                         "values.a": [p[0] for p in points], "values.b": [p[1] for p in points]})


def test_scores_random_is_1_and_the_true_front_is_0() -> None:
    front = [[0.0, 2.0], [1.0, 1.0], [2.0, 0.0]]
    problem = _problem(front)
    randoms = [[(3.0, 3.0), (2.0, 3.0)], [(1.0, 3.0), (3.0, 2.0)], [(3.0, 1.0), (3.5, 3.5)]]
    runs = [_run("optuna:random", s, pts) for s, pts in enumerate(randoms)]
    runs += [_run("same", s, pts) for s, pts in enumerate(randoms)]
    runs += [_run("front", s, [(3.0, 3.0), *map(tuple, front)]) for s in range(3)]  # type: ignore[misc]
    table = add_hypervolume(pd.concat(runs, ignore_index=True), [problem])
    gaps = gap_table(table, [problem])
    hv_star = 16 - 3  # the staircase of the three front points inside the 4x4 box
    assert gaps.loc[gaps["backend"] == "front", "best_value"].iloc[-1] == 0.0
    assert problem.reference_hypervolume() == hv_star
    scores = normalized_scores(gaps, {"toy": 0.0}, "optuna:random")
    mean = scores.groupby("backend")["score"].mean()
    assert mean["front"] == 0.0
    # Equal to random search: each run's score is its gap over the median random gap.
    assert mean["same"] == pytest.approx(mean["optuna:random"])
    median = scores[scores["backend"] == "same"]["score"].median()
    assert median == pytest.approx(1.0)
    medians = median_hypervolumes(table, "optuna:random")
    assert medians.loc["front", "toy"] == hv_star and medians.loc["front", "above random"] == 1
    assert medians.loc["same", "above random"] == 0


def test_without_a_known_front_the_reference_is_every_run_together() -> None:
    problem = Problem("toy", {}, abs, None, "cheap", False, "a toy problem, front unknown",
                      objectives={"a": "minimize", "b": "minimize"}, reference_point=(4.0, 4.0))
    table = pd.concat([_run("optuna:random", 0, [(1.0, 3.0)]), _run("b", 0, [(3.0, 1.0)])],
                      ignore_index=True)
    gaps = gap_table(add_hypervolume(table, [problem]), [problem])
    # Together: (1, 3) and (3, 1) dominate 3 + 3 - 1 = 5; each run alone 3.
    assert gaps["best_value"].tolist() == [2.0, 2.0]


# --- the runner and the report -------------------------------------------------------------
def test_bench_runs_single_and_multi_objective_problems_together(tmp_path, capsys) -> None:
    from hpo_bridge.cli import main

    out = tmp_path / "bench"
    argv = ["bench", "--problems", "zdt1,branin", "--backends", "optuna:tpe,optuna:cmaes",
            "--seeds", "2", "--max-evals", "6", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "optuna:cmaes skipped on zdt1: it refuses several objectives" in captured.err
    assert "10 runs done, 0 reused" in captured.out  # cmaes runs branin only
    results = pd.read_csv(out / "results.csv")
    zdt1, branin = results[results["problem"] == "zdt1"], results[results["problem"] == "branin"]
    assert set(zdt1["backend"]) == {"optuna:tpe", "optuna:random"}
    assert zdt1[["values.f1", "values.f2", "hypervolume"]].notna().all().all()
    assert branin["hypervolume"].isna().all() and branin["best_value"].notna().all()
    # The hypervolume so far never falls, and is that of the run's trials at (11, 11).
    for _, run in zdt1.groupby(["backend", "seed"]):
        assert (np.diff(run["hypervolume"].to_numpy()) >= 0).all()
        points = run[["values.f1", "values.f2"]].to_numpy()
        assert run["hypervolume"].iloc[-1] == pytest.approx(hypervolume(points, (11.0, 11.0)))
    report = (out / "report.md").read_text()
    for heading in ("# Several objectives", "## Median final hypervolume",
                    "## Normalized hypervolume gap", "## Mean rank (hypervolume)",
                    "## Normalized score", "## Mean rank\n"):
        assert heading in report
    assert "| zdt1 | f1, f2 | (11.0, 11.0) | 120.7 | true front |" in report
    for png in ("front_zdt1.png", "hv_zdt1.png", "convergence_branin.png"):
        assert (out / png).stat().st_size > 1000
    assert not (out / "convergence_zdt1.png").exists()

    run_csv = out / "runs" / "zdt1" / "optuna-tpe" / "seed0.csv"
    stamp = run_csv.stat().st_mtime_ns
    assert main(argv) == 0  # finished runs are reused, nothing is overwritten
    assert "0 runs done, 10 reused" in capsys.readouterr().out
    assert run_csv.stat().st_mtime_ns == stamp
    pd.testing.assert_frame_equal(pd.read_csv(out / "results.csv"), results)


def test_median_fronts_take_each_backends_median_seed() -> None:
    from hpo_bridge.bench.mo_scoring import median_fronts

    problem = _problem([[0.0, 2.0], [1.0, 1.0], [2.0, 0.0]])
    runs = [_run("b", 0, [(3.0, 3.0)]), _run("b", 1, [(1.0, 1.0), (2.0, 2.0)]),
            _run("b", 2, [(2.0, 2.0)])]
    table = add_hypervolume(pd.concat(runs, ignore_index=True), [problem])
    front = median_fronts(table, problem)["b"]
    assert front["seed"].tolist() == [2]  # HVs 1, 9, 4: the median is seed 2's
    assert front[["values.a", "values.b"]].to_numpy().tolist() == [[2.0, 2.0]]


def test_cli_lists_the_problems_with_their_objectives(capsys) -> None:
    from hpo_bridge.cli import main

    assert main(["problems"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[2:]}
    assert "f1, f2 (front known)" in lines["zdt1"]
    assert "f1, f2, f3 (front known)" in lines["dtlz2"]
    assert "error, params" in lines["mlp-digits-mo"] and "known" not in lines["mlp-digits-mo"]
    assert lines["branin"].split()[1] == "1"
