"""The ``hpo-bridge`` command on stored studies, its version, backends as JSON and its errors."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import hpo_bridge as hb
from hpo_bridge.cli import main

SPACE = {"x": hb.uniform(-2.0, 2.0), "opt": hb.choice(["adam", "sgd"]), "n": hb.integer(1, 5)}


def single(c: dict) -> float:
    return c["x"] ** 2 + c["n"]


def two(c: dict) -> dict:
    return {"a": c["x"] ** 2, "b": (c["x"] - 1) ** 2}


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, hb.Result, hb.Result]:
    db = str(tmp_path_factory.mktemp("cli") / "runs.db")
    one = hb.minimize(single, SPACE, backend="optuna:tpe", max_evals=6, seed=1, storage=db,
                      study_name="exp", progress=False)
    mo = hb.minimize(two, SPACE, backend="optuna:random", max_evals=5, seed=1, storage=db,
                     study_name="mo", objectives={"a": "minimize", "b": "minimize"},
                     progress=False)
    return db, one, mo


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"hpo-bridge {hb.__version__}"


def test_python_dash_m_runs_the_command() -> None:
    out = subprocess.run([sys.executable, "-m", "hpo_bridge", "--version"], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == f"hpo-bridge {hb.__version__}"


def test_backends_short_table_fits_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backends"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(map(len, lines)) <= 100
    assert lines[0].split() == ["name", "available", "parallel", "conditional", "objectives",
                                "constraints"]
    assert {b.name for b in hb.backends()} <= {line.split()[0] for line in lines if line}


def test_backends_json_is_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backends", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    by_name = {d["name"]: d for d in doc}
    assert list(by_name) == [b.name for b in hb.backends()]
    for b in hb.backends():
        assert by_name[b.name]["capabilities"]["objectives"] == b.capabilities.objectives
        assert by_name[b.name]["available"] == b.available
        assert by_name[b.name]["runs"] == b.runs


def test_studies_lists_every_study_with_its_best(stored, capsys) -> None:
    db, one, mo = stored
    assert main(["studies", db, "--json"]) == 0
    rows = {r["study"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == {"exp", "mo"}
    assert rows["exp"]["trials"] == 6 and rows["exp"]["states"] == {"complete": 6}
    assert rows["exp"]["best_value"] == one.best_value
    assert rows["exp"]["backends"] == ["optuna:tpe"]
    assert rows["mo"]["objectives"] == {"a": "minimize", "b": "minimize"}
    assert rows["mo"]["best_value"] is None
    assert main(["studies", db]) == 0
    text = capsys.readouterr().out
    assert "exp" in text and "a (minimize), b (minimize)" in text


def test_trials_as_csv_json_and_text_match_the_result(stored, capsys) -> None:
    db, one, _ = stored
    assert main(["trials", db, "--study", "exp", "--csv"]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    expected = hb.load(db, "exp").trials
    assert list(frame.columns) == list(expected.columns)
    assert frame["value"].tolist() == pytest.approx(one.trials["value"].tolist(), rel=1e-15)
    assert frame["params.opt"].tolist() == one.trials["params.opt"].tolist()
    assert main(["trials", db, "--study", "exp", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["params.x"] for r in records] == pytest.approx(one.trials["params.x"].tolist(),
                                                             rel=1e-12)
    assert main(["trials", db, "--study", "exp"]) == 0
    assert "params.opt" in capsys.readouterr().out


def test_trials_of_a_study_without_trials(tmp_path: Path, capsys) -> None:
    from hpo_bridge.storage import attach_storage

    db = str(tmp_path / "empty.db")  # a study made, then no trial run (its run was stopped)
    attach_storage(hb.Optimizer(SPACE, "optuna:random", seed=0), db, "empty", None)
    assert main(["trials", db]) == 0
    assert capsys.readouterr().out == "study 'empty' has no finished trials\n"
    assert main(["trials", db, "--study", "empty", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["trials", db, "--csv"]) == 0  # the header: a script still finds the columns
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert frame.empty and list(frame.columns) == list(hb.load(db).trials.columns)
    assert "params.opt" in frame.columns


def test_best_of_one_and_of_several_objectives(stored, capsys) -> None:
    db, one, mo = stored
    assert main(["best", db, "--study", "exp", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc == {"trial_id": one.best_trial.trial_id, "value": one.best_value,
                   "params": one.best_params}
    assert main(["best", db, "--study", "exp"]) == 0
    assert f"best trial {one.best_trial.trial_id}" in capsys.readouterr().out
    assert main(["best", db, "--study", "mo", "--json"]) == 0
    front = json.loads(capsys.readouterr().out)
    assert sorted(r["trial_id"] for r in front) == sorted(mo.pareto_front()["trial_id"])


def test_best_of_a_study_without_a_complete_trial(tmp_path: Path, capsys) -> None:
    """As ``trials`` of a study without trials: one line saying why, JSON null (or [] for a
    Pareto front), exit 0; not argparse's usage error."""
    from hpo_bridge.storage import attach_storage

    db = str(tmp_path / "none.db")
    attach_storage(hb.Optimizer(SPACE, "optuna:random", seed=0), db, "empty", None)
    attach_storage(hb.Optimizer(SPACE, "optuna:random", seed=0, objectives=["a", "b"]), db,
                   "mo", None)

    def boom(c: dict) -> float:
        raise RuntimeError("boom")

    with pytest.raises(hb.NoSuccessfulTrialError):
        hb.minimize(boom, SPACE, backend="optuna:random", max_evals=2, seed=0, storage=db,
                    study_name="failed", progress=False)
    for study, line in (("empty", "study 'empty' has no best trial: no trial has completed "
                                  "(no finished trials)"),
                        ("failed", "study 'failed' has no best trial: no trial has completed "
                                   "(2 failed)"),
                        ("mo", "study 'mo' has no Pareto front: no trial has completed "
                               "(no finished trials)")):
        assert main(["best", db, "--study", study]) == 0
        assert capsys.readouterr().out == line + "\n"
        assert main(["best", db, "--study", study, "--json"]) == 0
        assert json.loads(capsys.readouterr().out) == ([] if study == "mo" else None)


@pytest.mark.parametrize("argv, message", [
    (["best", "{db}"], "holds 2 studies.*--study NAME"),
    (["trials", "{db}", "--study", "nope"], "no study 'nope'"),
    (["trials", "{db}", "--study", "Exp"], r"no study 'Exp' \(did you mean 'exp'\?\)"),
    (["studies", "{missing}"], "no such file"),
    (["trials", "{missing}"], "no such file"),
])
def test_storage_errors_are_one_line(stored, tmp_path: Path, capsys, argv, message) -> None:
    db = stored[0]
    argv = [a.format(db=db, missing=tmp_path / "missing.db") for a in argv]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert re.search(message, err)


def test_a_database_url_without_its_driver_names_the_driver_and_the_fix(
        monkeypatch, capsys) -> None:
    """SQLAlchemy 2.1 reads ``postgresql://`` as psycopg 3 (the dev extra installs psycopg2):
    was Optuna's ImportError traceback, "Please install appropriate one"."""
    monkeypatch.setitem(sys.modules, "psycopg", None)  # not installed, wherever this runs
    with pytest.raises(SystemExit) as exc:
        main(["studies", "postgresql://me:secret@127.0.0.1:1/db"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "secret" not in err
    assert re.search(r"driver 'psycopg' .* postgresql:// URLs is not installed; "
                     r"pip install 'psycopg\[binary\]'", err)


def test_bench_out_naming_a_file_is_refused(tmp_path: Path, capsys) -> None:
    target = tmp_path / "report.txt"
    target.write_text("mine")
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--problems", "branin", "--backends", "optuna:random", "--seeds", "1",
              "--max-evals", "3", "--out", str(target), "--no-progress"])
    assert exc.value.code == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert target.read_text() == "mine"


def test_bench_where_every_requested_backend_is_skipped_fails(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--problems", "branin", "--backends", "optuna:grid", "--seeds", "1",
              "--max-evals", "3", "--out", str(out), "--no-progress"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "nothing to run" in err and "optuna:grid skipped on branin" in err
    assert not out.exists()
