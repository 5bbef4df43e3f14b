"""The run loop under what real objectives do: errors of the backend, mutated configs, stopping
exceptions, values that are not numbers, hanging trials, and what the progress bar shows."""

from __future__ import annotations

import functools
import inspect
import io
import math
import os
import re
import sys
import threading
import time

import pytest

import hpo_bridge as hb
from conftest import Adam, conditional_space
from hpo_bridge.backends.registry import resolve

FLAT = {"x": hb.uniform(-1.0, 1.0)}


def square(config: dict) -> float:
    return config["x"] ** 2


def run(objective, space=FLAT, **kw):
    kw = {"backend": "optuna:random", "max_evals": 6, "seed": 0, "progress": False, **kw}
    return hb.minimize(objective, space, **kw)


# -- 1. an error of the backend's library is not the objective's -----------------------------
def test_an_adapter_error_stops_the_run_keeping_every_trial(monkeypatch) -> None:
    adapter = resolve("optuna:random").load()
    native_tell = adapter.tell
    told = []

    def tell(self, handle, outcome):
        told.append(outcome.loss)
        if len(told) == 4:
            raise ValueError("the library refused this value")
        return native_tell(self, handle, outcome)

    monkeypatch.setattr(adapter, "tell", tell)
    with pytest.raises(ValueError, match="refused") as info:
        run(square, max_evals=10)
    assert "told twice" not in str(info.value)
    result = info.value.result
    assert [r.trial_id for r in result.records] == [0, 1, 2, 3]
    assert {r.state for r in result.records} == {"complete"}
    assert result.stopped == "backend error"


def test_skopt_told_an_infinite_loss_keeps_every_trial() -> None:
    def objective(config: dict, trial: hb.Trial) -> float:
        return math.inf if trial.trial_id == 3 else config["x"] ** 2

    options = {"n_initial_points": 3, "acq_optimizer": "sampling",
               "acq_optimizer_kwargs": {"n_points": 200, "n_jobs": 1}}
    try:
        result = run(objective, backend="skopt:gp", **options)
    except Exception as exc:  # the backend may refuse inf: then the run stops cleanly
        assert "told twice" not in str(exc)
        result = exc.result
        assert len(result.records) >= 4
    ids = [r.trial_id for r in result.records]
    assert ids == list(range(len(ids)))
    assert next(r for r in result.records if r.trial_id == 3).state != "running"


# -- 2. records keep what was proposed -----------------------------------------------------
def mutating(config: dict) -> float:
    assert config["optimizer"].get("cls", Adam) is Adam  # an option object by identity
    assert config["activation"] in (math.sin, math.cos, None)
    value = config["layers"][0] + config["optimizer"]["lr"]
    config["layers"].append(99)
    config["optimizer"]["lr"] = 123.0
    config["constant"] = "changed"
    config["extra"] = 1
    return value


@pytest.mark.parametrize("executor", [None, "threads", "processes"])
def test_an_objective_that_mutates_its_config_leaves_the_records_alone(executor) -> None:
    space = hb.as_space(conditional_space())
    result = run(mutating, conditional_space(), executor=executor,
                 n_jobs=1 if executor is None else 2)
    assert len(result.records) == 6 and result.completed
    for record in result.records:
        assert record.params == space.decode(record.point)
        assert record.params["layers"] == [record.params["layers"][0], 64]
        assert record.params["constant"] == "kept" and "extra" not in record.params
        assert record.params["optimizer"]["lr"] < 1.0
        if record.params["optimizer"]["name"] == "adam":
            assert record.params["optimizer"]["cls"] is Adam
    assert result.best_params["optimizer"]["lr"] != 123.0


def test_a_list_option_changed_by_the_objective_stays_in_the_space() -> None:
    option = [1, 2]
    space = {"a": hb.choice([option, [3, 4]]), "f": hb.choice([math.sin, math.cos])}

    def objective(config: dict) -> float:
        assert config["f"] in (math.sin, math.cos) and config["a"] is not option
        config["a"].append(0)
        return float(config["a"][0])

    result = run(objective, space)
    assert option == [1, 2]
    assert all(r.params["a"] in ([1, 2], [3, 4]) for r in result.records)
    assert all(r.params["f"] is math.sin or r.params["f"] is math.cos for r in result.records)


# -- 3. an exception that stops the run keeps the finished trials ---------------------------
@pytest.mark.parametrize("executor", [None, "threads"])
def test_an_exception_outside_catch_carries_the_result(executor) -> None:
    def objective(config: dict, trial: hb.Trial) -> float:
        if trial.trial_id == 3:
            raise RuntimeError("boom")
        time.sleep(0.01)
        return config["x"]

    with pytest.raises(RuntimeError, match="boom") as info:
        run(objective, catch=(), max_evals=20, executor=executor,
            n_jobs=1 if executor is None else 2)
    result = info.value.result
    states = {r.trial_id: r.state for r in result.records}
    assert states[3] == "failed" and "boom" in result.records[list(states).index(3)].error
    assert sum(s == "complete" for s in states.values()) >= 2
    in_flight = [r for r in result.records if r.state != "complete" and r.trial_id != 3]
    assert all("the run stopped" in r.error for r in in_flight)  # recorded, not left running
    assert result.stopped == "error: RuntimeError"


def test_system_exit_records_and_stores_its_trial(tmp_path) -> None:
    db = str(tmp_path / "runs.db")

    def objective(config: dict, trial: hb.Trial) -> float:
        if trial.trial_id == 2:
            sys.exit(3)
        return config["x"]

    with pytest.raises(SystemExit) as info:
        run(objective, max_evals=10, storage=db, study_name="s")
    assert [r.state for r in info.value.result.records] == ["complete", "complete", "failed"]
    stored = hb.load(db, "s")
    assert [r.state for r in stored.records] == ["complete", "complete", "failed"]
    assert "SystemExit" in stored.records[2].error


# -- 8. programming errors stop the run at once ---------------------------------------------
@pytest.mark.parametrize("value", ["0.5", None, [0.5], {"accuracy": 0.5}])
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_value_that_is_not_a_number_stops_the_run(value, n_jobs: int) -> None:
    with pytest.raises(hb.ObjectiveError, match="must return a number") as info:
        run(lambda c: value, max_evals=40, n_jobs=n_jobs)
    assert isinstance(info.value, TypeError)
    records = info.value.result.records
    assert 1 <= len(records) <= 3 and records[0].state == "failed"
    assert "real number" in records[0].error or "without 'value'" in records[0].error


@pytest.mark.parametrize("objective", [lambda: 1.0, lambda c, t, extra: 1.0,
                                       lambda c, *, key: 1.0])
def test_an_objective_that_cannot_take_a_config_is_refused_before_any_trial(objective) -> None:
    with pytest.raises(hb.ObjectiveError, match="cannot be called with a configuration") as info:
        run(objective, max_evals=3)
    assert info.value.result is None  # found before the first trial


def test_a_wrong_signature_found_at_the_first_call_stops_the_run() -> None:
    def objective(config, trial, extra):
        return 1.0

    # A signature that claims one argument (as a wrapper might) hides the problem until called.
    objective.__signature__ = inspect.Signature(
        [inspect.Parameter("config", inspect.Parameter.POSITIONAL_OR_KEYWORD)])
    with pytest.raises(hb.ObjectiveError, match="cannot be called") as info:
        run(objective, max_evals=20)
    assert len(info.value.result.records) == 1


# -- the trial goes only to an objective that asks for it (issue 26, D13) ----------------------

def _got(second: object) -> float:
    """The value an objective returns for what it got as its second argument: 1.0 for a trial,
    2.0 for its own default kept, 3.0 for anything else."""
    return 1.0 if isinstance(second, hb.Trial) else 2.0 if second == "default" else 3.0


def _with_default(config, verbose="default"):
    return _got(verbose)


def _named_trial(config, trial=None):
    return _got(trial)


def _trial_first(config, trial):
    return _got(trial)


def _star_args(config, *args):
    return _got(args[0] if args else "default")


def _keyword_only(config, *, trial="default"):
    return _got(trial)


def _kw_only_other(config, *, verbose="default"):
    return _got(verbose)


def _partial_target(config, k, trial="default"):
    return _got(trial) + 10 * k


class _CallableNoTrial:
    def __call__(self, config, verbose="default"):
        return _got(verbose)


class _CallableTrial:
    def __call__(self, config, t):
        return _got(t)


def _loop_lambdas():
    return [lambda c, k=k: _got("default") + 10 * k for k in range(2)]


@pytest.mark.parametrize("objective, value", [
    (_loop_lambdas()[1], 12.0),  # the usual way to bind a loop variable
    (_with_default, 2.0),
    (lambda c, verbose=False: _got("default" if verbose is False else verbose), 2.0),
    (_star_args, 2.0),
    (_keyword_only, 2.0),  # keyword-only: the call is positional, never trial=
    (_kw_only_other, 2.0),
    (_CallableNoTrial(), 2.0),
    (functools.partial(_partial_target, k=1), 12.0),  # k bound: (config, *, k=1, trial=...)
    (_named_trial, 1.0),  # named trial, with a default: it asks for it
    (_trial_first, 1.0),
    (lambda c, t: _got(t), 1.0),
    (_CallableTrial(), 1.0),
    (functools.partial(lambda k, c, t: _got(t) + 10 * k, 1), 11.0),
])
def test_the_trial_goes_only_to_an_objective_that_asks_for_it(objective, value: float) -> None:
    result = run(objective, max_evals=2)
    assert [r.state for r in result.records] == ["complete", "complete"]
    assert {r.value for r in result.records} == {value}


def test_without_a_backend_optuna_tpe_runs() -> None:
    """Issue 26: the README's quick start says which backend runs when ``backend=`` is left out."""
    result = hb.minimize(square, FLAT, max_evals=2, seed=0, progress=False)
    assert result.backend == "optuna:tpe"
    assert hb.maximize(square, FLAT, max_evals=2, seed=0, progress=False).backend == "optuna:tpe"
    assert hb.Optimizer(FLAT).backend == "optuna:tpe"
    import pathlib
    readme = (pathlib.Path(__file__).parents[1] / "README.md").read_text()
    assert "Without `backend=`, `hb.minimize`, `hb.maximize` and `hb.Optimizer` run `optuna:tpe`" \
        in readme


def test_failures_inside_the_objective_stay_failed_trials() -> None:
    def objective(config: dict, trial: hb.Trial) -> float:
        if trial.trial_id == 1:
            return config["x"] + "a TypeError inside the objective"
        return math.nan if trial.trial_id == 2 else config["x"]

    result = run(objective)
    states = [r.state for r in result.records]
    assert states == ["complete", "failed", "failed", "complete", "complete", "complete"]


def test_a_torch_scalar_tensor_is_a_number() -> None:
    torch = pytest.importorskip("torch")  # the 'torch' extra; installed in CI
    result = run(lambda c: torch.tensor(c["x"]) ** 2 if c["x"] > 0
                 else {"loss": torch.tensor([c["x"] ** 2], requires_grad=True)})
    assert result.completed and len(result.records) == 6
    assert all(isinstance(r.value, float) for r in result.records)
    with pytest.raises(hb.ObjectiveError):
        run(lambda c: torch.tensor([c["x"], c["x"]]))


# -- 9. trial_timeout ------------------------------------------------------------------------
def hangs_once(config: dict, trial: hb.Trial) -> dict:
    if trial.trial_id == 1:
        time.sleep(1000)
    return {"value": config["x"], "pid": os.getpid()}


@pytest.mark.parametrize("executor, n_jobs", [("processes", 2), ("threads", 2), (None, 1)])
def test_a_hanging_trial_times_out_and_the_run_goes_on(executor, n_jobs: int) -> None:
    t0 = time.monotonic()
    if executor == "threads":
        with pytest.warns(RuntimeWarning, match="a thread cannot be stopped"):
            result = run(hangs_once, executor=executor, n_jobs=n_jobs, trial_timeout=1)
    else:
        result = run(hangs_once, executor=executor, n_jobs=n_jobs, trial_timeout=1)
    assert time.monotonic() - t0 < 30
    states = {r.trial_id: r for r in result.records}
    assert sorted(states) == list(range(6))
    assert states[1].state == "failed" and states[1].error == "timed out after 1 s"
    assert all(r.state == "complete" for i, r in states.items() if i != 1)
    if executor != "threads":  # a serial run with a time limit runs in a worker process
        assert os.getpid() not in {r.metrics["pid"] for r in result.records if r.metrics}


class SlowToLoad:
    """An objective whose unpickling in a worker takes 2 s, as one that imports torch can."""

    def __reduce__(self):
        return (_load_slowly, ())

    def __call__(self, config: dict) -> float:
        return config["x"]


def _load_slowly() -> SlowToLoad:
    time.sleep(2.0)
    return SlowToLoad()


def test_a_time_limit_counts_the_trial_not_the_workers_start_up() -> None:
    """A new worker process (the first of each slot, and the one that replaces a worker
    stopped at a trial's limit) starts and loads the objective before its trial's limit runs:
    2 s to load, a 1.5 s limit, every trial completes. (It failed the first trial of each slot
    when the limit counted from the worker's start.)"""
    result = run(SlowToLoad(), executor="processes", n_jobs=2, trial_timeout=1.5)
    assert [r.state for r in result.records] == ["complete"] * 6


def test_a_serial_run_stays_in_this_process_and_pickles_nothing() -> None:
    # The inline path of the one loop: n_jobs=1 without executor or trial_timeout sends no
    # trial to a process, so an objective cloudpickle cannot send still runs.
    lock = threading.Lock()
    pids = []

    def objective(config: dict) -> float:
        with lock:
            pids.append(os.getpid())
        return config["x"] ** 2

    result = run(objective)
    assert len(result.records) == 6 and pids == [os.getpid()] * 6
    with pytest.raises(hb.SpaceError, match="must be picklable"):  # the pooled path pickles it
        run(objective, trial_timeout=5)


def test_trial_timeout_is_checked() -> None:
    with pytest.raises(ValueError, match="trial_timeout must be a positive float"):
        run(square, trial_timeout=0)


# -- 11. progress ------------------------------------------------------------------------------
def terminal(monkeypatch) -> io.StringIO:
    screen = io.StringIO()  # stdout and stderr on one screen, as in a terminal
    monkeypatch.setattr(sys, "stdout", screen)
    monkeypatch.setattr(sys, "stderr", screen)
    return screen


def test_the_bar_counts_failures_and_survives_print(monkeypatch) -> None:
    screen = terminal(monkeypatch)

    def objective(config: dict, trial: hb.Trial) -> float:
        print(f"LINE {trial.trial_id}")
        if trial.trial_id in (1, 2):
            raise RuntimeError("failed on purpose")
        return config["x"]

    run(objective, progress=True)
    text = screen.getvalue()
    assert "failed=2" in text and "best=" in text
    assert all(f"LINE {i}" in text for i in range(6))
    assert not re.search(r"[^\n\r]LINE", text), text  # each print starts its own line


def test_ctrl_c_says_how_many_trials_finished_and_how_to_resume(monkeypatch, tmp_path) -> None:
    def objective(config: dict, trial: hb.Trial) -> float:
        if trial.trial_id == 3:
            raise KeyboardInterrupt
        return config["x"]

    screen = terminal(monkeypatch)
    assert run(objective, progress=True).stopped == "interrupted"
    assert "4 trials of this run recorded (3 complete)" in screen.getvalue()
    assert "Nothing was stored" in screen.getvalue()
    screen = terminal(monkeypatch)
    run(objective, progress=True, storage=str(tmp_path / "r.db"), study_name="s")
    assert "study_name='s'" in screen.getvalue() and "resume" in screen.getvalue()


def test_the_bench_runs_seed_by_seed_so_slow_backends_are_spread() -> None:
    from hpo_bridge.bench.runner import plan_bench, run_order

    plan = plan_bench(["branin", "hartmann6"], ["skopt:gp", "optuna:random"], 2, 3)
    order = run_order(plan.runs)
    assert sorted(order) == sorted(plan.runs)
    assert [k[2] for k in order] == [0] * 4 + [1] * 4
    assert [k[1] for k in order[:4]] == ["skopt:gp", "optuna:random"] * 2


def test_compare_forwards_trial_timeout() -> None:
    table = hb.compare(hangs_once, FLAT, backends=["optuna:random"], seeds=[0], max_evals=3,
                       trial_timeout=1)
    assert list(table.state) == ["complete", "failed", "complete"]
    assert table.error.iloc[1] == "timed out after 1 s"


def test_a_dask_task_over_its_time_limit_is_cancelled(tmp_path) -> None:
    from distributed import Client, LocalCluster

    release = str(tmp_path / "release")

    def objective(config: dict, trial: hb.Trial) -> float:
        end = time.monotonic() + 60
        while trial.trial_id == 1 and not os.path.exists(release) and time.monotonic() < end:
            time.sleep(0.05)  # hangs until released (a Dask worker thread cannot be killed)
        return config["x"]

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        try:
            result = run(objective, executor=client, n_jobs=2, max_evals=5, trial_timeout=1)
        finally:
            open(release, "w").close()
    states = {r.trial_id: (r.state, r.error) for r in result.records}
    assert states.pop(1) == ("failed", "timed out after 1 s")
    assert sorted(states) == [0, 2, 3, 4] and {s for s, _ in states.values()} == {"complete"}


def test_numpy_counts_and_seconds_are_taken_and_n_jobs_none_is_refused() -> None:
    """``max_evals=np.int64(3)`` was refused as "not a positive int"; ``n_jobs=None``
    (scikit-learn's spelling of one job) was a TypeError in the executor."""
    import numpy as np

    result = run(square, max_evals=np.int64(3), timeout=np.float64(60.0))
    assert len(result.records) == 3
    with pytest.raises(hb.SpaceError, match="n_jobs must be a positive int.*got None"):
        run(square, max_evals=3, n_jobs=None)


def test_report_and_trial_pruned_name_their_bad_values() -> None:
    """A step from ``np.arange`` was refused; a value that is not a number was float()'s
    message; ``TrialPruned(value="abc")`` was blamed on what the objective returns."""
    import numpy as np

    def steps(config, trial):
        for step in np.arange(3):
            trial.report(np.float32(config["x"]), step)
        return config["x"]

    record = run(steps, max_evals=2).records[0]
    assert sorted(record.intermediate) == [0, 1, 2] and record.state == "complete"
    assert all(type(step) is int for step in record.intermediate)

    def words(config, trial):
        trial.report("high", 0)

    with pytest.raises(hb.NoSuccessfulTrialError, match="trial.report: value must be a real "
                                                       "number, got 'high'"):
        run(words, max_evals=1)

    def pruned(config, trial):
        raise hb.TrialPruned(value="abc")

    with pytest.raises(hb.ObjectiveError, match=r"hb.TrialPruned\(value=...\) takes what the "
                                                r"objective returns"):
        run(pruned, max_evals=2)


def test_an_optimizer_by_hand_shows_no_optuna_new_study_line(optuna_log: list) -> None:
    """``minimize`` and ``compare`` quiet Optuna's "A new study created in memory" line; an
    ``hb.Optimizer`` driven by hand printed it for its study, a study of several objectives
    and the pruner's mirror study. Optuna's level is put back after each."""
    import optuna

    space = {"x": hb.uniform(0.0, 1.0)}
    for kwargs in ({}, {"objectives": ["a", "b"]}, {"pruner": "median"}):
        opt = hb.Optimizer(space, backend="optuna:tpe", seed=0, **kwargs)
        trial = opt.ask()
        opt.tell(trial, {"a": 1.0, "b": 2.0} if "objectives" in kwargs else 1.0)
    assert optuna.logging.get_verbosity() == optuna.logging.INFO
    optuna.create_study()  # the user's own study still says so
    assert [r.getMessage().startswith("A new study created") for r in optuna_log] == [True]
