"""Many workers, one study, every backend: the same script in several processes at once.

Each worker is a separate process running ``hb.minimize(..., storage=s, study_name=n)`` with
its own backend; one is SIGKILLed in the middle of a trial. Together they must run exactly
``max_evals`` trials with unique ids, lose nothing, fail the killed worker's trial, and let
every backend propose from trials it did not run. Nothing depends on which worker gets
somewhere first: every worker is inside its first trial, and the one to kill is killed, before
any worker goes further.
"""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import optuna
import pytest

import hpo_bridge as hb
from hpo_bridge.storage import INTERRUPTED, open_engine

_WORKER = textwrap.dedent('''
    import os, sys, time
    import hpo_bridge as hb

    SPACE = {"x": hb.uniform(-3.0, 3.0), "y": hb.uniform(-3.0, 3.0),
             "act": hb.choice(["relu", "tanh"])}

    def main(storage, study, backend, max_evals, seed, die_at, marker):
        mine = []
        folder = os.path.dirname(marker)
        open(os.path.join(folder, f"ready-{seed}"), "w").close()
        while not os.path.exists(os.path.join(folder, "go")):  # all start together
            time.sleep(0.01)

        def objective(config):
            mine.append(1)
            if len(mine) == 1:
                # Every worker is inside its first trial before any goes further: none can find
                # the budget spent before it ran a trial, or before it reached the trial it dies
                # in; and the others go on only once it is killed ("all-in", from the test).
                open(os.path.join(folder, f"started-{seed}"), "w").close()
                if die_at == 1:  # this worker dies in its first trial
                    open(marker, "w").close()
                    time.sleep(600)
                deadline = time.monotonic() + 120  # a hang guard only
                while not os.path.exists(os.path.join(folder, "all-in")):
                    assert time.monotonic() < deadline, "the other workers never started a trial"
                    time.sleep(0.01)
            time.sleep(0.25)
            return (config["x"] - 1) ** 2 + config["y"] ** 2 + (config["act"] == "tanh")

        result = hb.minimize(objective, SPACE, backend=backend, max_evals=max_evals,
                             seed=seed, storage=storage, study_name=study, progress=False)
        ran = len(mine)
        seen = len(result.records)
        print(f"ran={ran} seen={seen} best={result.best_value}")

    if __name__ == "__main__":
        storage, study, backend, max_evals, seed, die_at, marker = sys.argv[1:]
        main(storage, study, backend, int(max_evals), int(seed), int(die_at), marker)
''')


@pytest.fixture(autouse=True)
def _quiet_optuna():
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def _start(script: Path, storage: str, study: str, backend: str, max_evals: int, seed: int,
           die_at: int = 0) -> tuple[subprocess.Popen, Path]:
    marker = script.parent / f"dying-{seed}"
    cmd = [sys.executable, str(script), storage, study, backend, str(max_evals), str(seed),
           str(die_at), str(marker)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), \
        marker


def _run_workers(tmp_path: Path, storage: str, backends: list[str], max_evals: int,
                 kill: int | None) -> list[str]:
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    procs = [_start(script, storage, "shared", b, max_evals, seed=i,
                    die_at=1 if i == kill else 0) for i, b in enumerate(backends)]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready-{i}").exists() for i in range(len(procs))):
        assert all(p.poll() is None for p, _ in procs), [p.stderr.read() for p, _ in procs]
        assert time.monotonic() < deadline, "the workers never got ready"
        time.sleep(0.02)
    (tmp_path / "go").touch()
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"started-{i}").exists() for i in range(len(procs))):
        assert all(p.poll() is None for p, _ in procs), [p.stderr.read() for p, _ in procs]
        assert time.monotonic() < deadline, "the workers never all started a trial"
        time.sleep(0.02)
    if kill is not None:
        proc, marker = procs[kill]
        assert marker.exists()  # it is inside the trial it dies in
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=120)
    (tmp_path / "all-in").touch()  # the others go on
    outputs = []
    for i, (proc, _) in enumerate(procs):
        out, err = proc.communicate(timeout=240)
        if i == kill:
            assert proc.returncode == -signal.SIGKILL
        else:
            assert proc.returncode == 0, err
            outputs.append(out)
    return outputs


def _check_study(storage: str, max_evals: int, killed: bool) -> list:
    study = optuna.load_study(study_name="shared", storage=open_engine(storage).storage)
    trials = study.get_trials(deepcopy=False)
    assert [t.number for t in trials] == list(range(max_evals))  # exactly the budget, unique
    assert all(t.state.is_finished() for t in trials)
    failed = [t for t in trials if t.state.name == "FAIL"]
    assert [t.user_attrs.get("error") for t in failed] == ([INTERRUPTED] if killed else [])
    return trials


@pytest.mark.parametrize("suffix", [".log", ".db"])
def test_two_workers_share_one_study(tmp_path, suffix):
    storage, max_evals = str(tmp_path / f"shared{suffix}"), 24
    outputs = _run_workers(tmp_path, storage, ["optuna:tpe", "hyperopt:tpe"], max_evals,
                           kill=None)
    trials = _check_study(storage, max_evals, killed=False)
    backends = {t.user_attrs["backend"] for t in trials}
    assert backends == {"optuna:tpe", "hyperopt:tpe"}  # both worked on it
    ran = [int(out.split("ran=")[1].split()[0]) for out in outputs]
    assert sum(ran) == max_evals
    seen = [int(out.split("seen=")[1].split()[0]) for out in outputs]
    assert max(seen) == max_evals  # the last to finish sees the whole study


@pytest.mark.slow
def test_four_workers_different_backends_one_killed(tmp_path):
    storage, max_evals = str(tmp_path / "shared.log"), 40
    backends = ["optuna:tpe", "hyperopt:tpe", "skopt:rf", "optuna:random"]
    _run_workers(tmp_path, storage, backends, max_evals, kill=3)
    trials = _check_study(storage, max_evals, killed=True)
    # Several backends wrote this study (how many trials each got depends on the machine's
    # scheduling; a slow model may get few or none).
    assert len({t.user_attrs.get("backend") for t in trials} - {None}) >= 2
    result = hb.load(storage, "shared")
    assert len(result.records) == max_evals and len(result.completed) == max_evals - 1
    ids = [r.trial_id for r in result.records]
    assert len(set(ids)) == len(ids)


def test_postgresql_two_workers_one_killed(tmp_path, postgres_url):
    max_evals = 16
    _run_workers(tmp_path, postgres_url, ["skopt:gp", "optuna:tpe"], max_evals, kill=0)
    _check_study(postgres_url, max_evals, killed=True)


def test_workers_propose_from_each_others_trials(tmp_path):
    """A non-Optuna backend told the other worker's trials: its model is fit on them."""
    storage = str(tmp_path / "s.log")
    space = {"x": hb.uniform(-3.0, 3.0)}
    hb.minimize(lambda c: (c["x"] - 2) ** 2, space, backend="optuna:random", max_evals=15,
                seed=0, storage=storage, study_name="s", progress=False)
    result = hb.minimize(lambda c: (c["x"] - 2) ** 2, space, backend="skopt:gp",
                         max_evals=17, seed=0, storage=storage, study_name="s",
                         progress=False, n_initial_points=1)
    # 15 random trials were told to the GP, so its own two proposals are model-based and close
    # to the optimum (random search would put them anywhere in [-3, 3]).
    mine = [r for r in result.records if r.trial_id >= 15]
    assert len(mine) == 2 and all(abs(r.params["x"] - 2) < 0.5 for r in mine)


def test_skopt_learns_trials_run_elsewhere_in_one_model_fit():
    from hpo_bridge.backends.base import Told
    from hpo_bridge.backends.skopt.adapter import SkoptAdapter

    space = hb.as_space({"x": hb.uniform(-3.0, 3.0), "k": hb.choice(["a", "b"])})
    adapter = SkoptAdapter(space, 0, estimator="GP")
    finished = [({"x": -3.0 + 0.25 * i, "k": i % 2}, Told("complete", (float(i),)))
                for i in range(20)]
    finished += [({"x": 2.9, "k": 0}, Told("failed")),
                 ({"x": 2.8, "k": 1}, Told("complete", (math.inf,)))]
    adapter.tell_many(finished)
    assert len(adapter.optimizer.models) == 1  # one fit for 22 trials, not one per trial
    assert adapter.optimizer.yi[-2:] == [19.0, 19.0]  # failure and inf told the worst loss
