"""The bench: scoring on hand-checked numbers, planning, provenance, the CLI and re-run skipping."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hpo_bridge.bench import plan_bench
from hpo_bridge.bench.meta import library_versions, sampler_settings
from hpo_bridge.bench.scoring import (
    headline_by_budget,
    normalized_scores,
    score_table,
    significance,
    time_table,
)
from hpo_bridge.cli import main
from hpo_bridge.plots import rank_table

REF = "optuna:random"


def _runs(problem: str, curves: dict[tuple[str, int], list[float]]) -> pd.DataFrame:
    rows = []
    for (backend, seed), curve in curves.items():
        for i, best in enumerate(curve):
            rows.append({"problem": problem, "backend": backend, "seed": seed, "trial_id": i,
                         "state": "complete", "value": best, "best_value": best,
                         "elapsed_s": i + 1.0, "duration_s": 0.25})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def hand() -> pd.DataFrame:
    """Two problems, two seeds, two trials; p has a known optimum 0, q none (best seen: 1)."""
    p = _runs("p", {(REF, 0): [4, 2], (REF, 1): [6, 4],            # median final 3
                    ("a", 0): [3, 0.1], ("a", 1): [1.5, 0.5],
                    ("b", 0): [9, 3], ("b", 1): [math.nan, 6]})
    q = _runs("q", {(REF, 0): [5, 5], (REF, 1): [7, 7],            # median final 6
                    ("a", 0): [2, 2], ("a", 1): [4, 4],
                    ("b", 0): [8, 8], ("b", 1): [3, 1]})
    return pd.concat([p, q], ignore_index=True)


KNOWN = {"p": 0.0, "q": None}


def test_normalized_score_by_hand(hand: pd.DataFrame) -> None:
    scores = normalized_scores(hand, KNOWN)
    got = scores.set_index(["problem", "backend", "seed"])["score"]
    # p: (final - 0) / (3 - 0); q: (final - 1) / (6 - 1); clipped to [-1, 1]
    expected = {("p", REF, 0): 2 / 3, ("p", REF, 1): 1.0, ("p", "a", 0): 0.1 / 3,
                ("p", "a", 1): 0.5 / 3, ("p", "b", 0): 1.0, ("p", "b", 1): 1.0,
                ("q", REF, 0): 0.8, ("q", REF, 1): 1.0, ("q", "a", 0): 0.2, ("q", "a", 1): 0.6,
                ("q", "b", 0): 1.0, ("q", "b", 1): 0.0}
    for key, value in expected.items():
        assert got[key] == pytest.approx(value), key
    table = score_table(scores)
    assert table.index.tolist() == ["a", "b", REF]
    assert table.loc["a", "p"] == pytest.approx(0.1)
    assert table.loc["a", "mean"] == pytest.approx((0.1 + 0.4) / 2)
    assert table.loc["a", "score"] == pytest.approx(75.0)
    assert table.loc["b", "score"] == pytest.approx(100 * (1 - (1.0 + 0.5) / 2))
    assert table.loc[REF, "score"] == pytest.approx(100 * (1 - (5 / 6 + 0.9) / 2))


def test_score_at_a_smaller_budget_and_by_budget(hand: pd.DataFrame) -> None:
    first = normalized_scores(hand, KNOWN, budgets=[1]).set_index(
        ["problem", "backend", "seed"])["score"]
    assert first[("p", "a", 0)] == pytest.approx(1.0)      # 3 / 3
    assert first[("p", "a", 1)] == pytest.approx(0.5)      # 1.5 / 3
    assert first[("p", "b", 1)] == pytest.approx(1.0)      # no success yet
    by_budget = headline_by_budget(hand, KNOWN, fractions=(0.5, 1.0))
    assert by_budget.loc["a", "2 trials"] == pytest.approx(75.0)
    # after 1 trial: a scores p (1 + 0.5)/2 = 0.75, q (0.2 + 0.6)/2 = 0.4
    assert by_budget.loc["a", "1 trials"] == pytest.approx(100 * (1 - (0.75 + 0.4) / 2))


def test_scores_are_clipped_to_minus_one_and_one() -> None:
    df = _runs("r", {(REF, 0): [3.0], (REF, 1): [3.0], ("a", 0): [-5.0], ("a", 1): [50.0]})
    scores = normalized_scores(df, {"r": 1.0}).set_index(["backend", "seed"])["score"]
    assert scores[("a", 0)] == -1.0   # (-5 - 1) / 2 = -3
    assert scores[("a", 1)] == 1.0    # 49 / 2
    # random search already at the optimum: 0 if there too, else 1
    df = _runs("s", {(REF, 0): [0.0], ("a", 0): [0.0], ("b", 0): [0.5]})
    scores = normalized_scores(df, {"s": 0.0}).set_index("backend")["score"]
    assert scores.to_dict() == {REF: 0.0, "a": 0.0, "b": 1.0}


def test_scoring_needs_a_random_reference(hand: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="random-search reference"):
        normalized_scores(hand[hand["backend"] != REF], KNOWN)


def test_ranks_by_hand(hand: pd.DataFrame) -> None:
    ranks = rank_table(hand)
    # p: a < ref < b on both seeds; q seed 0: a, ref, b; seed 1: b, a, ref
    assert ranks.loc["a", "p"] == 1.0 and ranks.loc["b", "p"] == 3.0
    assert ranks.loc["a", "q"] == 1.5 and ranks.loc[REF, "q"] == 2.5 and ranks.loc["b", "q"] == 2
    assert ranks["mean_rank"].to_dict() == {"a": 1.25, REF: 2.25, "b": 2.5}


def test_significance_is_a_one_sided_mann_whitney(hand: pd.DataFrame) -> None:
    sig = significance(hand, REF, normalized_scores(hand, KNOWN))
    assert REF not in sig.index
    # a beats the reference on both seeds of p: U = 0, exact p = 1 / C(4, 2)
    assert sig.loc["a", "p"] == pytest.approx(1 / 6)
    assert sig.loc["b", "p"] > 0.5
    assert sig.loc["a", "wins"] == 0
    # Wilcoxon on the per-problem mean-score differences to the reference (exact, n = 2):
    # a: p 0.1 - 5/6, q 0.4 - 0.9, both below: P(T+ <= 0) = 1/4; b: p 1 - 5/6 above, q 0.5 - 0.9
    # below and larger: T+ = 1, P(T+ <= 1) = 2/4. (It was `0 < p <= 1`, true of any p-value.)
    assert sig.loc["a", "across problems"] == pytest.approx(0.25)
    assert sig.loc["b", "across problems"] == pytest.approx(0.5)


def test_time_table_by_hand(hand: pd.DataFrame) -> None:
    times = time_table(hand)
    # every run: 2 trials of 0.25 s, last elapsed 2 s -> (2 - 0.5) / 2 per trial
    assert times.loc["a", "median trial (s)"] == 0.25
    assert times.loc["a", "overhead/trial median (s)"] == pytest.approx(0.75)


def test_sampler_settings_are_read_from_the_libraries() -> None:
    hyperopt_tpe = sampler_settings("hyperopt:tpe")
    assert hyperopt_tpe["n_startup_jobs"] == 20 and hyperopt_tpe["gamma"] == 0.25
    optuna_tpe = sampler_settings("optuna:tpe")
    assert optuna_tpe["n_startup_trials"] == 10
    assert "0.1" in str(optuna_tpe["gamma"])
    assert sampler_settings("skopt:gp")["n_initial_points"] == 10
    versions = library_versions()
    assert {"hyperopt", "optuna", "skopt", "sklearn", "numpy", "torch"} <= set(versions)


def test_quick_plan_covers_every_available_backend() -> None:
    import hpo_bridge as hb
    from hpo_bridge.bench.problems import QUICK_PROBLEMS, get_problem

    plan = plan_bench(None, None, None, None, quick=True)
    available = [b.name for b in hb.backends() if b.available]
    assert plan.backends == available
    assert [p.name for p in plan.problems] == [p for p in QUICK_PROBLEMS
                                               if get_problem(p).available]
    planned = {(p, b) for p, b, _ in plan.runs}
    assert ("branin", "optuna:grid") not in planned
    assert any("optuna:grid skipped on branin" in n for n in plan.notes)
    for p in plan.problems:
        assert {(p.name, b) for b in available if b != "optuna:grid"} <= planned


def test_plan_adds_a_random_reference_and_checks_names() -> None:
    plan = plan_bench(["branin"], ["optuna:tpe"], 2, 5)
    assert plan.backends == ["optuna:tpe", REF] and plan.reference == REF
    with pytest.raises(ValueError, match="unknown problem 'nope'.*branin"):
        plan_bench(["nope"], ["optuna:tpe"], 2, 5)
    with pytest.raises(ValueError, match="unknown name 'nope'.*optuna:tpe"):
        plan_bench(["branin"], ["nope"], 2, 5)
    with pytest.raises(ValueError, match=r"max_evals must be a positive int \(the number of "
                       r"trials, e.g. max_evals=50\), got 0"):
        plan_bench(["branin"], ["optuna:tpe"], 2, 0)
    with pytest.raises(ValueError, match=r"seeds must be a positive int \(how many seeds"):
        plan_bench(["branin"], ["optuna:tpe"], -1, 5)
    assert plan_bench(["branin"], ["optuna:tpe"], np.int64(2), np.int64(5)).max_evals == 5
    assert plan_bench(["branin"], ["optuna:tpe"], np.array([3, 1]), 5).seeds == [1, 3]
    for seeds, message in (("5", "iterable of ints"), ([0, 0], "distinct")):
        with pytest.raises(ValueError, match=f"seeds must be .*{message}"):
            plan_bench(["branin"], ["optuna:tpe"], seeds, 5)


# -- CLI ---------------------------------------------------------------------------------------
def test_cli_backends(capsys) -> None:
    import hpo_bridge as hb

    assert main(["backends", "--long"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["name", "library", "runs", "available",
                                           "capabilities"]
    for b in hb.backends():
        assert b.name in out


def test_cli_errors_list_valid_names(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--problems", "branin", "--backends", "optuna:tpe,nope", "--out", "x"])
    assert exc.value.code == 2
    assert "valid names are" in capsys.readouterr().err


def test_cli_bench_writes_a_report_and_skips_finished_runs(tmp_path: Path, capsys) -> None:
    out = tmp_path / "bench"
    argv = ["bench", "--problems", "branin", "--backends", "optuna:random,hyperopt:tpe",
            "--seeds", "2", "--max-evals", "5", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    assert "4 runs done, 0 reused" in capsys.readouterr().out
    results = pd.read_csv(out / "results.csv")
    assert len(results) == 2 * 2 * 5
    assert results.groupby(["backend", "seed"]).size().tolist() == [5, 5, 5, 5]
    report = (out / "report.md").read_text()
    for heading in ("Normalized score", "Mean rank", "Better than random search",
                    "Time per trial", "Versions", "Sampler settings"):
        assert heading in report
    assert "n_startup_jobs=20" in report
    for png in ("convergence_branin.png", "final_branin.png"):
        assert (out / png).stat().st_size > 1000
    run_meta = out / "runs" / "branin" / "hyperopt-tpe" / "seed0.json"
    meta = json.loads(run_meta.read_text())
    assert meta["versions"]["hyperopt"] and meta["settings"]["gamma"] == 0.25
    stamp = run_meta.stat().st_mtime_ns

    assert main(argv) == 0  # the same runs again: nothing to do
    assert "0 runs done, 4 reused" in capsys.readouterr().out
    assert run_meta.stat().st_mtime_ns == stamp
    pd.testing.assert_frame_equal(pd.read_csv(out / "results.csv"), results)

    assert main([*argv[:-3], "--seeds", "3", "--out", str(out), "--no-progress"][:]) == 0
    assert "2 runs done, 4 reused" in capsys.readouterr().out  # only seed 2 is new
    assert np.array_equal(sorted(pd.read_csv(out / "results.csv")["seed"].unique()), [0, 1, 2])


def _bench(out: Path, problem: str, backends: str, evals: str = "4") -> list[str]:
    return ["bench", "--problems", problem, "--backends", backends, "--seeds", "2",
            "--max-evals", evals, "--out", str(out), "--no-progress"]


def test_bench_into_a_used_folder_keeps_every_earlier_run(tmp_path: Path, capsys) -> None:
    out = tmp_path / "bench"
    assert main(_bench(out, "branin", "optuna:random,hyperopt:tpe")) == 0
    first = pd.read_csv(out / "results.csv")
    assert main(_bench(out, "six-hump-camel", "optuna:random,optuna:tpe")) == 0
    assert "4 runs done, 0 reused" in capsys.readouterr().out
    results = pd.read_csv(out / "results.csv")
    runs = set(map(tuple, results[["problem", "backend", "seed"]].drop_duplicates().to_numpy()))
    assert runs == {(p, b, s) for s in (0, 1) for p, b in [
        ("branin", "optuna:random"), ("branin", "hyperopt:tpe"),
        ("six-hump-camel", "optuna:random"), ("six-hump-camel", "optuna:tpe")]}
    pd.testing.assert_frame_equal(  # the earlier rows, unchanged
        results[results["problem"] == "branin"].reset_index(drop=True), first)
    report = (out / "report.md").read_text()
    assert "problems: six-hump-camel, branin" in report
    assert "4 earlier runs with the same budget found" in report
    assert "hyperopt:tpe ran 2 of the 4 (problem, seed) pairs (problems: branin)" in report
    for png in ("convergence_branin.png", "convergence_six-hump-camel.png"):
        assert (out / png).exists()


def test_bench_refuses_another_budget_in_a_used_folder(tmp_path: Path, capsys) -> None:
    out = tmp_path / "bench"
    assert main(_bench(out, "branin", "optuna:random")) == 0
    results, report = (out / "results.csv").read_text(), (out / "report.md").read_text()
    seed0 = (out / "runs" / "branin" / "optuna-random" / "seed0.csv").read_text()
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(_bench(out, "branin", "optuna:random", evals="6"))
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "holds runs made with max_evals=4" in err and "--out" in err
    assert (out / "results.csv").read_text() == results
    assert (out / "report.md").read_text() == report
    assert (out / "runs" / "branin" / "optuna-random" / "seed0.csv").read_text() == seed0


def test_bench_refuses_a_folder_it_did_not_make(tmp_path: Path, capsys) -> None:
    (tmp_path / "results.csv").write_text("a,b\n1,2\n")
    with pytest.raises(SystemExit):
        main(_bench(tmp_path, "branin", "optuna:random"))
    assert "not made by hpo-bridge bench" in capsys.readouterr().err
    assert (tmp_path / "results.csv").read_text() == "a,b\n1,2\n"


def test_demo_plan_runs_the_slowest_backend_only_where_it_matters() -> None:
    from hpo_bridge.bench.runner import DEMO_PROBLEMS

    plan = plan_bench(None, None, None, None, demo=True)
    assert [p.name for p in plan.problems] == list(DEMO_PROBLEMS)
    assert (plan.max_evals, len(plan.seeds)) == (30, 5)
    planned = {(p, b) for p, b, _ in plan.runs}
    assert {p for p, b in planned if b == "skopt:gp"} == {"branin"}
    assert {p for p, b in planned if b == "optuna:tpe"} == set(DEMO_PROBLEMS)


def _finals(problem: str, finals: dict[str, list[float]]) -> pd.DataFrame:
    return pd.concat([_runs(problem, {(b, s): [v] for b, vs in finals.items()
                                      for s, v in enumerate(vs)})], ignore_index=True)


def test_recommendation_is_read_off_the_ranks_per_class_of_space() -> None:
    from hpo_bridge.bench.problems import get_problem
    from hpo_bridge.bench.recommend import recommend

    problems = [get_problem(n) for n in ("branin", "hartmann6", "mixed")]
    table = pd.concat([
        _finals("branin", {"a": [1, 1], "b": [2, 2], REF: [3, 3]}),
        _finals("hartmann6", {"a": [2, 2], "b": [1, 1], REF: [3, 3]}),
        _finals("mixed", {"a": [3, 3], "b": [1, 2], REF: [2, 1]}),
    ], ignore_index=True)
    lines = recommend(table, problems)
    assert lines[0].startswith("- For **numeric, 1–3-D** spaces (branin), use `a`: mean rank 1.00")
    assert lines[1].startswith("- For **numeric, 4–10-D** spaces (hartmann6), use `b`")
    assert lines[2].startswith(f"- For **conditional** spaces (mixed), use `b` or `{REF}`")
    assert lines[3].startswith("- For **all problems** together, use `b`: mean rank 1.50")
    # a backend missing a problem of the class does not compete in it
    lines = recommend(table[~((table["backend"] == "b") & (table["problem"] == "mixed"))],
                      problems)
    assert lines[2].startswith(f"- For **conditional** spaces (mixed), use `{REF}`")


def test_auto_against_the_best_single_backend_by_hand() -> None:
    from hpo_bridge.bench.scoring import against_best

    df = pd.concat([_finals("p", {"auto": [1, 2, 3, 4], "b": [5, 6, 7, 8], REF: [9, 9, 9, 9]}),
                    _finals("q", {"auto": [5, 6, 7, 8], "b": [1, 2, 3, 4], REF: [9, 9, 9, 9]})],
                   ignore_index=True)
    vs = against_best(df, "auto")
    assert vs.loc["p", "best other"] == "b" and vs.loc["q", "best other"] == "b"
    assert vs.loc["p", "p (worse)"] == pytest.approx(1.0)
    assert vs.loc["q", "p (worse)"] == pytest.approx(1 / 70)   # U = 16: 1 / C(8, 4)
    assert vs.loc["q", "auto rank"] == 2.0 and vs.loc["q", "its rank"] == 1.0


def test_bench_keeps_auto_under_one_name_and_says_what_it_chose(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    assert main(_bench(out, "mixed", "auto")) == 0
    results = pd.read_csv(out / "results.csv")
    assert set(results["backend"]) == {"auto", REF}
    meta = json.loads((out / "runs" / "mixed" / "auto" / "seed0.json").read_text())
    assert meta["chosen"] == "auto(optuna:tpe)" and meta["settings"]["GP_TRIALS"] == 200
    report = (out / "report.md").read_text()
    assert "## `auto` against the best single backend" in report
    assert report.index("## Recommendation") < report.index("## Setup")


# -- the settings table states what the adapters pass ------------------------------------------
def _record_init(monkeypatch: pytest.MonkeyPatch, cls: type, calls: list[dict]) -> None:
    init = cls.__init__

    def recording(self, *args, **kwargs):
        calls.append(kwargs)
        init(self, *args, **kwargs)

    monkeypatch.setattr(cls, "__init__", recording)


def _flat(kwargs: dict) -> dict:
    flat = {}
    for key, value in kwargs.items():
        if key in ("acq_func_kwargs", "acq_optimizer_kwargs") and isinstance(value, dict):
            flat.update(value)
        else:
            flat[key] = value
    return flat


#: What the adapters pass that is not a setting (the seed, the space, the worker count).
_NOT_SETTINGS = {"seed", "random_state", "n_jobs", "space", "dimensions", "base_estimator"}


@pytest.mark.parametrize("backend", ["optuna:tpe", "optuna:gp", "optuna:random", "optuna:cmaes",
                                     "optuna:qmc", "optuna:nsga2", "skopt:gp", "skopt:rf",
                                     "skopt:et"])
def test_settings_table_states_what_the_adapter_passes(backend: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import optuna
    import skopt

    import hpo_bridge as hb
    from hpo_bridge.bench.meta import sampler_settings

    calls: list[dict] = []
    if backend.startswith("optuna:"):
        for cls in (optuna.samplers.TPESampler, optuna.samplers.GPSampler,
                    optuna.samplers.RandomSampler, optuna.samplers.CmaEsSampler,
                    optuna.samplers.QMCSampler, optuna.samplers.NSGAIISampler):
            _record_init(monkeypatch, cls, calls)
    else:
        _record_init(monkeypatch, skopt.Optimizer, calls)
    opt = hb.Optimizer({"x": hb.uniform(0.0, 1.0), "y": hb.uniform(0.0, 1.0)}, backend, seed=0)
    opt.tell(opt.ask(), 0.5)
    assert calls, f"{backend}: no sampler was built"
    stated = sampler_settings(backend)
    passed = _flat(calls[0])  # the first is the adapter's own (an inner independent one follows)
    for key, value in passed.items():
        if key in _NOT_SETTINGS:
            continue
        assert key in stated, f"{backend} passes {key}={value!r}; the table does not say so"
        assert stated[key] == value, f"{backend}: table says {key}={stated[key]!r}, " \
            f"the adapter passes {value!r}"


# -- honest replicates (issue 27 item 4, issue 23 item 6) ---------------------------------------
def _det(seeds: int = 4) -> pd.DataFrame:
    """`det` gives the same run for every seed; `copy` runs exactly the reference's trials."""
    ref = {(REF, s): [5.0 + s, 4.0 + s] for s in range(seeds)}
    det = {("det", s): [1.0, 0.5] for s in range(seeds)}
    copy = {("copy", s): [5.0 + s, 4.0 + s] for s in range(seeds)}
    return _runs("p", {**ref, **det, **copy})


def test_identical_runs_are_found_per_backend_and_across_backends() -> None:
    from hpo_bridge.compare import repeated_runs, run_fingerprints

    table = _det()
    prints = run_fingerprints(table)
    assert prints.groupby("backend")["fingerprint"].nunique().to_dict() == {
        REF: 4, "det": 1, "copy": 4}
    notes = repeated_runs(table)
    assert "det on p: its 4 seeds gave 1 distinct run(s); identical runs are not " \
           "independent replicates" in notes
    assert f"copy on p ran exactly the trials of {REF} for every seed" in notes
    assert len(notes) == 2
    # one value differing in one trial makes another run
    table.loc[(table.backend == "det") & (table.seed == 3) & (table.trial_id == 0), "value"] = 2
    assert "det on p: its 4 seeds gave 2 distinct run(s); identical runs are not " \
           "independent replicates" in repeated_runs(table)


def test_significance_counts_identical_runs_once() -> None:
    sig = significance(_det(), REF)
    # det's 4 identical runs are one sample beating 4 reference runs: U = 0, p = 1 / C(5, 1)
    assert sig.loc["det", "p"] == pytest.approx(1 / 5)
    # counted as 4 samples it would have been 1 / C(8, 4) = 1/70: significant, wrongly
    assert sig.loc["det", "p"] > 0.05


def test_report_flags_a_backend_whose_seeds_give_one_run(tmp_path: Path) -> None:
    pytest.importorskip("nevergrad")
    from hpo_bridge.bench import run_bench

    # NGOpt picks a deterministic method on a bounded continuous space: seeds are one run
    info = run_bench(["branin"], ["nevergrad:ngopt", REF], seeds=2, max_evals=6,
                     out=tmp_path / "out")
    report = Path(info["report"]).read_text()
    assert "## Identical runs" in report
    assert "nevergrad:ngopt on branin: its 2 seeds gave 1 distinct run(s)" in report
    assert f"{REF} on branin" not in report
