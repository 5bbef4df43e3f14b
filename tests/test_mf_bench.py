"""Issue 21 items 5 and 6: tabulated learning-curve problems and the simulated-time runner."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hpo_bridge.bench.problems import get_problem
from hpo_bridge.bench.problems.base import Problem
from hpo_bridge.bench.problems.mf_tables import CurveData, load_curves
from hpo_bridge.bench.simulate import simulate
from hpo_bridge.fidelity import fidelity
from hpo_bridge.space import choice

GRID = {"x": [0, 1, 2], "y": ["a", "b"]}
STEPS = 9


def _write_table(path: Path, loss: Any, time: Any, **extra: Any) -> Path:
    rows = list(itertools.product(*GRID.values()))
    np.savez_compressed(path, param_x=np.array([r[0] for r in rows]),
                        param_y=np.array([r[1] for r in rows]), val_loss=loss, time=time,
                        meta=np.asarray(json.dumps({"made": "by hand"})), **extra)
    return path


@dataclass(frozen=True)
class HandObjective:
    """The shipped problems' objective (CurveObjective) over a hand-built table."""

    data: CurveData

    def __call__(self, config: dict[str, Any]) -> float:
        return self.data.loss(config, "val_loss", "epochs")

    def cost(self, config: dict[str, Any], reached: float | None = None) -> float:
        return self.data.cost(config, "epochs", reached)


def _hand_problem(tmp_path: Path, loss: Any = None) -> Problem:
    n = 6
    # every row's step s takes s seconds; every loss equal unless given (ranks ties by id)
    time = np.tile(np.arange(1.0, STEPS + 1), (n, 1))
    loss = np.full((n, STEPS), 0.5) if loss is None else loss
    data = load_curves(_write_table(tmp_path / "hand.npz", loss, time), GRID)
    return Problem(name="hand", space={k: choice(v) for k, v in GRID.items()},
                   objective=HandObjective(data), optimum=None, cost="cheap", quick=False,
                   description="hand-built", fidelity=fidelity("epochs", 1, STEPS, eta=3))


def test_table_loads_without_unpickling(tmp_path: Path) -> None:
    loss = np.zeros((6, STEPS))
    data = load_curves(_write_table(tmp_path / "ok.npz", loss, loss), GRID)
    assert data.steps == STEPS and data.meta == {"made": "by hand"}
    evil = _write_table(tmp_path / "evil.npz", loss, loss,
                        payload=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="allow_pickle"):  # numpy refuses the object array
        load_curves(evil, GRID)
    other = {"x": [0, 1, 3], "y": ["a", "b"]}
    with pytest.raises(ValueError, match="another grid"):
        load_curves(tmp_path / "ok.npz", other)


def test_lookup_returns_the_recorded_value(tmp_path: Path) -> None:
    loss = np.arange(6 * STEPS, dtype=float).reshape(6, STEPS) / 100
    problem = _hand_problem(tmp_path, loss)
    # rows in itertools.product order: (x=2, y="a") is row 4
    assert problem.objective({"x": 2, "y": "a", "epochs": 3}) == loss[4, 2]
    assert problem.objective.cost({"x": 2, "y": "a", "epochs": 3}, None) == 1 + 2 + 3
    assert problem.objective.cost({"x": 2, "y": "a", "epochs": 9}, 3) == sum(range(4, 10))
    with pytest.raises(ValueError, match="not in the table"):
        problem.objective({"x": 5, "y": "a", "epochs": 3})
    with pytest.raises(ValueError, match="epochs must be an int from 1 to 9"):
        problem.objective({"x": 2, "y": "a", "epochs": 10})
    # every proposal of a run is a row of the table, and its value the recorded one
    sim = simulate(problem, "optuna:tpe", workers=2, max_evals=15, seed=1, overhead=0.0)
    for _, row in sim.result.trials.iterrows():
        index = GRID["x"].index(row["params.x"]) * 2 + GRID["y"].index(row["params.y"])
        assert row["value"] == loss[index, int(row["budget"]) - 1]


def test_simulator_orders_completions_by_recorded_cost(tmp_path: Path) -> None:
    """Two workers, ASHA over rungs 1, 3, 9, step s costs s seconds, all losses equal (ties
    rank by configuration id), no overhead: the timeline worked out by hand."""
    problem = _hand_problem(tmp_path)
    sim = simulate(problem, "optuna:random", workers=2, max_evals=9, seed=0, overhead=0.0)
    got = [tuple(r) for r in sim.timeline[["trial_id", "worker", "start_s", "finish_s"]]
           .itertuples(index=False)]
    assert got == [(0, 0, 0, 1), (1, 1, 0, 1), (2, 0, 1, 2), (3, 1, 1, 2),
                   (5, 1, 2, 3),  # new configuration at budget 1
                   (6, 1, 3, 4),
                   (4, 0, 2, 7),  # config 0 promoted to 3 epochs at t=2: steps 2+3 = 5 s
                   (8, 0, 7, 8),
                   (7, 1, 4, 9)]  # config 1 promoted at t=4
    trials = sim.result.trials.set_index("trial_id")
    assert trials.loc[4, "budget"] == 3 and trials.loc[4, "config_id"] == 0
    assert trials.loc[7, "budget"] == 3 and trials.loc[7, "config_id"] == 1
    assert sim.clock_s == 9
    # retraining instead of continuing: a promotion pays every step from the first
    again = simulate(problem, "optuna:random", workers=2, max_evals=9, seed=0, overhead=0.0,
                     resume=False)
    ends = dict(zip(again.timeline["trial_id"], again.timeline["finish_s"], strict=True))
    assert ends[4] == 2 + 1 + 2 + 3
    # the optimizer's time is on the clock: asks are serial, each one before its start
    slow = simulate(problem, "optuna:random", workers=2, max_evals=2, seed=0, overhead=0.25)
    assert list(slow.timeline["start_s"]) == [0.25, 0.5]
    assert list(slow.timeline["finish_s"]) == [1.25, 1.5]


def test_simulation_is_deterministic_with_a_seed() -> None:
    problem = get_problem("hartmann6-mf")

    def run(seed: int) -> Any:
        sim = simulate(problem, "optuna:tpe", workers=4, max_evals=40, seed=seed, overhead=0.0)
        return sim.timeline, sim.result.trials[["trial_id", "budget", "config_id", "value"]]

    (t1, r1), (t2, r2), (_, r3) = run(3), run(3), run(4)
    assert t1.equals(t2) and r1.equals(r2)
    assert not r1["value"].equals(r3["value"])


def test_simulate_refuses_a_problem_without_recorded_cost() -> None:
    with pytest.raises(ValueError, match="no fidelity with a recorded cost"):
        simulate(get_problem("branin"), "optuna:random", max_evals=5)
    with pytest.raises(ValueError, match="workers must be an int >= 1"):
        simulate(get_problem("hartmann6-mf"), "optuna:random", max_evals=5, workers=0)


def test_hartmann_mf_known_optimum_and_fidelity_gap() -> None:
    from hpo_bridge.bench.problems.synthetic import MINIMIZERS

    problem = get_problem("hartmann6-mf")
    best = MINIMIZERS["hartmann6"]
    assert problem.objective({**best, "budget": 27}) == pytest.approx(problem.optimum, abs=1e-5)
    low = [problem.objective({**best, "budget": b}) for b in problem.fidelity.rungs]
    assert low == sorted(low, reverse=True)  # a lower fidelity is never below a higher one
    assert problem.objective.cost({**best, "budget": 27}) == pytest.approx(1.0)


def test_cli_bench_simulate_four_workers(tmp_path: Path) -> None:
    import pandas as pd

    from hpo_bridge.cli import main

    out = tmp_path / "sim"
    code = main(["bench", "--simulate", "--workers", "4", "--problems", "gb-wine-tab",
                 "--backends", "optuna:tpe", "--seeds", "1", "--max-evals", "16",
                 "--out", str(out), "--no-progress"])
    assert code == 0
    table = pd.read_csv(out / "results.csv")
    assert set(table["backend"]) == {"optuna:tpe", "optuna:random"}
    assert table["sim_time_s"].notna().all() and set(table["worker"]) == {0, 1, 2, 3}
    assert set(table["budget"]) <= {1, 3, 9, 27, 81} and (table["sim_cost_s"] > 0).all()
    report = (out / "report.md").read_text()
    assert "## Regret against simulated time" in report and "### gb-wine-tab" in report
    assert (out / "simtime_gb-wine-tab.png").exists()
    # a problem without a recorded cost is refused before anything runs
    with pytest.raises(SystemExit):
        main(["bench", "--simulate", "--problems", "branin", "--out", str(tmp_path / "x")])
    assert not (tmp_path / "x").exists()


def test_bench_runs_a_fidelity_problem_with_its_fidelity(tmp_path: Path) -> None:
    """Without --simulate, a multi-fidelity problem runs as hb.compare(..., fidelity=) would
    (Hyperband over the problem's budget): rows at the rung budgets, best at the highest."""
    from hpo_bridge.bench import run_bench

    info = run_bench(["hartmann6-mf"], ["optuna:random"], seeds=1, max_evals=12,
                     out=tmp_path / "b")
    assert not info["failed"]
    import pandas as pd

    table = pd.read_csv(tmp_path / "b" / "results.csv")
    assert set(table["budget"]) <= {1, 3, 9, 27} and table["config_id"].notna().all()
    assert "sim_time_s" not in table.columns


# --- the shipped tables -----------------------------------------------------------------------
TABLES = {"mlp-digits-tab": "mlp", "gb-breast-cancer-tab": "gb-breast_cancer",
          "gb-wine-tab": "gb-wine"}


def test_shipped_tables_are_data_only_small_and_complete() -> None:
    from hpo_bridge.bench.problems import list_problems
    from hpo_bridge.bench.problems.mf_tables import DATA

    files = sorted(DATA.glob("*.npz"))
    assert sum(f.stat().st_size for f in files) <= 20e6
    for name, key in TABLES.items():
        assert name in list_problems(available_only=True)
        problem = get_problem(name)
        objective = problem.objective
        data = load_curves(DATA / Path(objective.table_file), dict(objective.grid))
        assert data.time.shape[0] >= 500 and data.steps == problem.fidelity.high
        assert np.isfinite(data.curves[objective.metric]).all() and (data.time > 0).all()
        # the optimum is the table's minimum at the full budget, by enumeration
        assert problem.optimum == objective.full_fidelity_optimum()
        # a lookup returns the recorded value, for any row and step
        rng = np.random.default_rng(0)
        names = list(data.grid)
        for _ in range(20):
            row, step = int(rng.integers(data.time.shape[0])), int(rng.integers(1, data.steps + 1))
            config: dict[str, Any] = {}
            index = row
            for n in reversed(names):  # the row's grid values (product order: last fastest)
                config[n] = data.grid[n][index % len(data.grid[n])]
                index //= len(data.grid[n])
            config[problem.fidelity.name] = step
            assert objective(config) == float(data.curves[objective.metric][row, step - 1])
            assert data.row(config) == row
        assert objective.table == key


def test_mlp_table_is_the_mlp_digits_training() -> None:
    """Without dropout the table's curve is mlp-digits' own training, epoch by epoch."""
    pytest.importorskip("torch")
    from hpo_bridge.bench.problems.mf_tables import mlp_config
    from hpo_bridge.bench.problems.torch_mlp import train_mlp_digits

    objective = get_problem("mlp-digits-tab").objective
    config = {"lr": 1e-2, "batch_size": 128, "hidden_units": 64, "n_layers": 2,
              "dropout": 0.0, "optimizer": "sgd"}

    class Curve:  # mlp-digits reports its validation error after every epoch
        errors: list[float] = []

        def report(self, value: float, step: int) -> None:
            self.errors.append(value)

    curve = Curve()
    train_mlp_digits({**mlp_config(config), "epochs": 4}, trial=curve)
    table = [objective({**config, "epochs": e}) for e in range(1, 5)]
    assert table == pytest.approx(curve.errors, abs=1e-6)
