"""Trackers as callbacks (issue 23 item 3): MLflow (a file store and a real ``mlflow server``),
TensorBoard (event files read back), Weights & Biases (offline, read back)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

import pytest

import hpo_bridge as hb


class SGD:
    pass


class Adam:
    pass


SPACE = {"lr": hb.loguniform(1e-3, 1.0), "opt": hb.choice([SGD, Adam])}


def objective(config, trial):
    """Trial-dependent states: the 2nd call fails, the 3rd is pruned, the rest complete."""
    objective.calls += 1
    for step in range(3):
        trial.report(config["lr"] * (3 - step), step)
    if objective.calls == 2:
        raise ValueError("diverged")
    if objective.calls == 3:
        raise hb.TrialPruned()
    return {"error": config["lr"], "epochs": 3}


def stop_before_logging_at(trial_id):
    """A callback that raises at ``trial_id``: given before the tracker, that trial is stored
    but never logged, as when the process is killed between the two."""
    def fragile(result, record):
        if record.trial_id == trial_id:
            raise RuntimeError("killed")
    return fragile


# -- MLflow ------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    """A real ``mlflow server`` on 127.0.0.1 (backend store in a tmp dir), stopped at the end."""
    root = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    mlflow_cli = Path(sys.executable).parent / "mlflow"
    log = open(root / "server.log", "w")  # closed below
    proc = subprocess.Popen(
        [str(mlflow_cli), "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
         "--default-artifact-root", str(root / "artifacts"), "--workers", "1"],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600  # a hang guard only: it starts in seconds when idle
        while True:
            assert proc.poll() is None, (root / "server.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(url + "/health", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "mlflow server did not answer /health"
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _run(uri, storage, max_evals, *first):
    from hpo_bridge.integrations.mlflow import MLflowCallback

    objective.calls = 0
    return hb.minimize(objective, SPACE, backend="optuna:random", seed=0, max_evals=max_evals,
                       objectives=["error"], progress=False, storage=storage,
                       study_name="exp",
                       callbacks=[*first, MLflowCallback(uri, experiment_name="hb")])


def check_mlflow(uri, tmp_path):
    from mlflow import MlflowClient

    storage = f"sqlite:///{tmp_path / 'runs.db'}"
    with pytest.raises(hb.CallbackError):  # trial 3 stored, not logged: "killed" there
        _run(uri, storage, 6, stop_before_logging_at(3))
    result = _run(uri, storage, 6)  # resumed: logs trial 3 now, then 4 and 5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "already stored: nothing was run"
        _run(uri, storage, 6)  # nothing new: nothing logged twice
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("hb").experiment_id
    runs = client.search_runs([experiment], max_results=100)
    parents = [r for r in runs if r.data.tags.get("hpo_bridge.kind") == "study"]
    children = [r for r in runs if r.data.tags.get("hpo_bridge.kind") == "trial"]
    assert len(parents) == 1
    parent = parents[0]
    assert parent.info.run_name == "exp" and parent.info.status == "FINISHED"
    assert parent.data.tags["hpo_bridge.study"] == "exp"
    assert parent.data.metrics["best_value"] == result.best_value
    by_trial = {int(r.data.tags["hpo_bridge.trial"]): r for r in children}
    assert sorted(by_trial) == [0, 1, 2, 3, 4, 5] and len(children) == 6  # no duplicates
    table = result.trials.set_index("trial_id")
    for trial_id, run in by_trial.items():
        row = table.loc[trial_id]
        assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert run.data.tags["hpo_bridge.state"] == row["state"]
        assert run.info.status == {"complete": "FINISHED", "failed": "FAILED",
                                   "pruned": "KILLED"}[row["state"]]
        assert run.data.params == {"lr": str(row["params.lr"]),
                                   "opt": row["params.opt"]}  # labels, not indices
        assert run.info.run_name == f"trial {trial_id}"
        steps = client.get_metric_history(run.info.run_id, "intermediate")
        assert [m.step for m in steps] == [0, 1, 2]
        if row["state"] == "complete":
            assert run.data.metrics["error"] == row["value"]
            assert run.data.metrics["epochs"] == 3
    assert by_trial[1].data.tags["hpo_bridge.error"].startswith("ValueError: diverged")
    assert {r.data.tags["hpo_bridge.state"] for r in children} == {"complete", "failed",
                                                                    "pruned"}


def test_mlflow_file_store(tmp_path, monkeypatch):
    # MLflow 3 keeps the file store in maintenance mode and asks for this opt-in
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    check_mlflow(f"file://{tmp_path / 'mlruns'}", tmp_path)


def test_mlflow_server(mlflow_server, tmp_path):
    check_mlflow(mlflow_server, tmp_path)


def test_mlflow_run_without_storage_gets_its_own_parent(tmp_path, monkeypatch):
    from mlflow import MlflowClient

    from hpo_bridge.integrations.mlflow import MLflowCallback

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    uri = f"file://{tmp_path / 'mlruns'}"
    callback = MLflowCallback(uri, experiment_name="plain")
    values = []
    for seed in (0, 1):  # one callback object, two runs: two parents
        result = hb.minimize(lambda c: c["lr"], SPACE, backend="optuna:random", seed=seed,
                             max_evals=2, progress=False, callbacks=[callback])
        values += [r.value for r in result.records]
    runs = MlflowClient(uri).search_runs(
        [MlflowClient(uri).get_experiment_by_name("plain").experiment_id])
    parents = {r.info.run_id for r in runs if r.data.tags["hpo_bridge.kind"] == "study"}
    children = [r for r in runs if r.data.tags["hpo_bridge.kind"] == "trial"]
    assert len(parents) == 2 and len(children) == 4
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == parents
    assert sorted(r.data.metrics["value"] for r in children) == sorted(values)


def test_mlflow_a_run_stopped_by_ctrl_c_ends_killed_not_finished(tmp_path, monkeypatch):
    """Ctrl-C returns the run (``stopped == "interrupted"``); its parent run was marked
    FINISHED, as if the search had run to its end."""
    from mlflow import MlflowClient

    from hpo_bridge.integrations.mlflow import MLflowCallback

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    uri = f"file://{tmp_path / 'mlruns'}"

    def objective(config, trial):
        if trial.trial_id == 1:
            raise KeyboardInterrupt
        return config["lr"]

    result = hb.minimize(objective, SPACE, backend="optuna:random", seed=0, max_evals=5,
                         progress=False, callbacks=[MLflowCallback(uri, experiment_name="c")])
    assert result.stopped == "interrupted"
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("c").experiment_id])
    [parent] = [r for r in runs if r.data.tags["hpo_bridge.kind"] == "study"]
    assert parent.info.status == "KILLED"
    assert parent.data.tags["hpo_bridge.stopped"] == "interrupted"


# -- TensorBoard -------------------------------------------------------------------------------

def _events(path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(path))
    accumulator.Reload()
    return accumulator


def test_tensorboard_hparams_sessions_read_back(tmp_path):
    from tensorboard.plugins.hparams import api_pb2, metadata

    from hpo_bridge.integrations.tensorboard import TensorBoardCallback

    storage, logs = f"sqlite:///{tmp_path / 'runs.db'}", tmp_path / "tb"

    def run(max_evals, *first):
        objective.calls = 0
        return hb.minimize(objective, SPACE, backend="optuna:random", seed=0,
                           max_evals=max_evals, objectives=["error"], progress=False,
                           storage=storage, study_name="exp",
                           callbacks=[*first, TensorBoardCallback(logs)])

    with pytest.raises(hb.CallbackError):  # trial 3 stored, not written: "killed" there
        run(5, stop_before_logging_at(3))
    result = run(5)  # resumed: writes trial 3, then 4
    root = _events(logs)
    config = metadata.parse_experiment_plugin_data(
        root.PluginTagToContent(metadata.PLUGIN_NAME)[metadata.EXPERIMENT_TAG])
    infos = {h.name: h for h in config.hparam_infos}
    assert (infos["lr"].domain_interval.min_value, infos["lr"].domain_interval.max_value) == \
        (1e-3, 1.0)
    assert [v.string_value for v in infos["opt"].domain_discrete.values] == ["SGD", "Adam"]
    assert [m.name.tag for m in config.metric_infos] == ["error", "duration_s"]
    assert sorted(p.name for p in logs.iterdir() if p.is_dir()) == [f"trial-{i}"
                                                                     for i in range(5)]
    table = result.trials.set_index("trial_id")
    statuses = {"complete": api_pb2.STATUS_SUCCESS, "failed": api_pb2.STATUS_FAILURE,
                "pruned": api_pb2.STATUS_UNKNOWN}
    for trial_id, row in table.iterrows():
        session = _events(logs / f"trial-{trial_id}")
        assert len(list((logs / f"trial-{trial_id}").iterdir())) == 1  # written once
        content = session.PluginTagToContent(metadata.PLUGIN_NAME)
        start = metadata.parse_session_start_info_plugin_data(
            content[metadata.SESSION_START_INFO_TAG])
        assert start.hparams["lr"].number_value == row["params.lr"]
        assert start.hparams["opt"].string_value == row["params.opt"]
        assert start.hparams["state"].string_value == row["state"]
        end = metadata.parse_session_end_info_plugin_data(content[metadata.SESSION_END_INFO_TAG])
        assert end.status == statuses[row["state"]]
        assert [e.step for e in session.Scalars("intermediate")] == [0, 1, 2]
        if row["state"] != "failed":  # a pruned trial's value is its last report
            assert session.Scalars("error")[0].value == pytest.approx(row["value"], rel=1e-6)
        else:
            assert "error" not in session.Tags()["scalars"]
    assert set(table["state"]) == {"complete", "failed", "pruned"}


def test_tensorboard_refuses_a_log_dir_of_another_unstored_run(tmp_path):
    from hpo_bridge.integrations.tensorboard import TensorBoardCallback

    for attempt in range(2):
        call = lambda: hb.minimize(lambda c: c["lr"], SPACE, backend="optuna:random",  # noqa: E731
                                   max_evals=2, progress=False,
                                   callbacks=[TensorBoardCallback(tmp_path)])
        if attempt == 0:
            call()
        else:
            with pytest.raises(hb.CallbackError, match="already holds the sessions"):
                call()


# -- Weights & Biases (offline) ----------------------------------------------------------------

def read_wandb(path):
    """The records of an offline run's ``.wandb`` file: LevelDB's log format (32 KiB blocks of
    chunks, each a 7-byte header: CRC32C, length, type) after W&B's 7-byte file header, each
    record one of W&B's own protocol buffers (``wandb.proto.wandb_internal_pb2.Record``)."""
    import struct

    from wandb.proto import wandb_internal_pb2

    data = Path(path).read_bytes()
    assert data[:4] == b":W&B"
    pos, chunks, records = 7, b"", []
    while pos + 7 <= len(data):
        left = 32768 - pos % 32768
        _, length, kind = struct.unpack("<IHB", data[pos:pos + 7]) if left >= 7 else (0, 0, 0)
        if kind == 0:  # the zero padding at a block's end
            pos += left
            continue
        chunks += data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):  # a full record, or the last chunk of one
            records.append(wandb_internal_pb2.Record.FromString(chunks))
            chunks = b""
    return records


def test_wandb_offline_run_read_back(tmp_path, monkeypatch):
    import json

    from hpo_bridge.integrations.wandb import WandbCallback

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")
    objective.calls = 0
    result = hb.minimize(objective, SPACE, backend="optuna:random", seed=0, max_evals=4,
                         objectives=["error"], progress=False,
                         callbacks=[WandbCallback(project="hb", name="exp"),
                                    hb.stop.no_improvement(10)])
    import wandb

    wandb.teardown()  # W&B's service writes the file after finish() returns; this waits for it
    [path] = list((tmp_path / "wandb").glob("offline-run-*/run-*.wandb"))
    records = read_wandb(path)
    [run] = [r.run for r in records if r.WhichOneof("record_type") == "run"]
    assert run.project == "hb" and run.display_name == "exp"
    config = {u.key: json.loads(u.value_json) for u in run.config.update}
    assert config["hpo_bridge"]["backend"] == "optuna:random"
    assert config["hpo_bridge"]["objectives"] == {"error": "minimize"}
    rows = [{i.nested_key[0] if i.nested_key else i.key: json.loads(i.value_json)
             for i in r.history.item} for r in records if r.WhichOneof("record_type") == "history"]
    table = result.trials
    assert [r["trial"] for r in rows] == table["trial_id"].tolist()
    assert [r["state"] for r in rows] == table["state"].tolist()
    assert [r["params/opt"] for r in rows] == table["params.opt"].tolist()
    assert [r["params/lr"] for r in rows] == pytest.approx(table["params.lr"].tolist())
    assert [r.get("error") for r in rows if r["state"] == "complete"] == pytest.approx(
        table.loc[table["state"] == "complete", "value"].tolist())
    assert all(r["metrics/epochs"] == 3 for r in rows if r["state"] == "complete")
    summary = {}
    for r in records:
        if r.WhichOneof("record_type") == "summary":
            for u in r.summary.update:
                summary[u.nested_key[0] if u.nested_key else u.key] = json.loads(u.value_json)
    assert summary["best_value"] == pytest.approx(result.best_value)
    assert summary["best_trial"] == result.best_trial.trial_id
    [end] = [r.exit for r in records if r.WhichOneof("record_type") == "exit"]
    assert end.exit_code == 0


KILLED_RUN = """
import os, sys
sys.path.insert(0, {tests!r})
import hpo_bridge as hb
from hpo_bridge.integrations.mlflow import MLflowCallback
from test_trackers import SPACE, objective

def kill(result, record):  # the process dies with trial 3 stored but not yet logged
    if record.trial_id == 3:
        os._exit(3)

objective.calls = 0
hb.minimize(objective, SPACE, backend="optuna:random", seed=0, max_evals=6,
            objectives=["error"], progress=False, storage={storage!r}, study_name="exp",
            callbacks=[kill, MLflowCallback({uri!r}, experiment_name="hb")])
"""


def test_mlflow_a_killed_process_resumed_logs_each_trial_once(tmp_path, monkeypatch):
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    uri, storage = f"file://{tmp_path / 'mlruns'}", f"sqlite:///{tmp_path / 'runs.db'}"
    script = KILLED_RUN.format(tests=str(Path(__file__).parent), storage=storage, uri=uri)
    env = {**os.environ, "PYTHONPATH": str(Path(hb.__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 3, done.stderr[-3000:]
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("hb").experiment_id
    before = client.search_runs([experiment])
    assert sorted(r.data.tags["hpo_bridge.trial"] for r in before
                  if r.data.tags["hpo_bridge.kind"] == "trial") == ["0", "1", "2"]
    result = _run(uri, storage, 6)  # resumed in this process
    runs = client.search_runs([experiment])
    parents = [r for r in runs if r.data.tags["hpo_bridge.kind"] == "study"]
    trials = sorted(int(r.data.tags["hpo_bridge.trial"]) for r in runs
                    if r.data.tags["hpo_bridge.kind"] == "trial")
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    assert trials == [r.trial_id for r in result.records] == [0, 1, 2, 3, 4, 5]
