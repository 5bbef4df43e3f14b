"""``TensorBoardCallback``: a run in TensorBoard's HParams dashboard
(``pip install 'hpo_bridge[tensorboard]'``; no TensorFlow, no torch).

Written with TensorBoard's own package: its event-file writer and its HParams plugin's
protocol buffers (``tensorboard.plugins.hparams``), as TensorBoard's own ``hparams`` summary
API writes them without TensorFlow::

    from hpo_bridge.integrations.tensorboard import TensorBoardCallback
    hb.minimize(f, space, callbacks=[TensorBoardCallback("tb/exp")])
    # tensorboard --logdir tb/exp

- ``log_dir`` holds the HParams configuration (every parameter with its domain: an interval
  for numbers, the options' labels for a choice; the metrics: each objective by its name,
  ``value`` without ``objectives=``, and ``duration_s``), and one session per trial in
  ``log_dir/trial-N``: its parameters (a choice as its label, as in ``result.trials``) and the
  hparam ``state`` (``complete``/``failed``/``pruned``), each objective's value and
  ``duration_s`` as scalars, the intermediate values (``trial.report``) as the scalar
  ``intermediate`` at their steps, and its end status (``STATUS_SUCCESS`` for a complete
  trial, ``STATUS_FAILURE`` for a failed one, ``STATUS_UNKNOWN`` for a pruned one).
- A stored run resumed into the same ``log_dir`` writes only the trials that have no
  session yet (a trial stored but not written, because the process was killed, is written
  then). A run that is not stored needs a ``log_dir`` of its own: one already holding
  sessions is refused at the first trial.
"""

from __future__ import annotations

import math
import os
import time
from typing import TYPE_CHECKING, Any

from hpo_bridge.callbacks import Callback
from hpo_bridge.space import Choice, Normal

if TYPE_CHECKING:
    from hpo_bridge.optimizer import Optimizer
    from hpo_bridge.results import Result, TrialRecord

__all__ = ["TensorBoardCallback"]


def _seconds(when: Any) -> float:
    return when.timestamp() if when is not None else time.time()


class TensorBoardCallback(Callback):
    """Write each trial as a TensorBoard HParams session (see the module docstring).

    Args:
        log_dir: The directory of the run (``tensorboard --logdir`` it).
    """

    def __init__(self, log_dir: str | os.PathLike[str]) -> None:
        from tensorboard.plugins.hparams import api_pb2  # noqa: F401 - a missing extra fails now

        self.log_dir = os.fspath(log_dir)
        self._written: set[int] | None = None

    def on_start(self, optimizer: Optimizer) -> None:
        self._written = None

    def _session_dir(self, trial_id: int) -> str:
        return os.path.join(self.log_dir, f"trial-{trial_id}")

    def _write(self, path: str, summaries: list[tuple[Any, int, float]]) -> None:
        """``(summary, step, wall time)`` events into a new event file in ``path``."""
        from tensorboard.compat.proto import event_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        writer = EventFileWriter(path)
        try:
            for summary, step, wall in summaries:
                writer.add_event(event_pb2.Event(wall_time=wall, step=step, summary=summary))
        finally:
            writer.close()

    @staticmethod
    def _summary(tag: str, data: Any) -> Any:
        from tensorboard.compat.proto import summary_pb2
        from tensorboard.plugins.hparams import metadata

        return summary_pb2.Summary(value=[summary_pb2.Summary.Value(
            tag=tag, metadata=metadata.create_summary_metadata(data),
            tensor=metadata.NULL_TENSOR)])

    @staticmethod
    def _scalar(tag: str, value: float) -> Any:
        from tensorboard.compat.proto import summary_pb2

        return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag,
                                                                    simple_value=value)])

    def _metric_names(self, result: Result) -> list[str]:
        return [*result.objectives.names, "duration_s"]

    def _experiment(self, result: Result) -> Any:
        from google.protobuf import struct_pb2
        from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

        infos = []
        for dim in result.space.dims:
            param = dim.param
            info = api_pb2.HParamInfo(name=dim.name)
            if isinstance(param, Choice):
                labels = [result.space.display_value(dim.name, i)
                          for i in range(len(param.options))]
                numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool)
                              for v in labels)
                info.type = api_pb2.DATA_TYPE_FLOAT64 if numbers else api_pb2.DATA_TYPE_STRING
                info.domain_discrete.CopyFrom(struct_pb2.ListValue(
                    values=[struct_pb2.Value(number_value=float(v)) if numbers
                            else struct_pb2.Value(string_value=str(v)) for v in labels]))
            else:
                info.type = api_pb2.DATA_TYPE_FLOAT64
                if not isinstance(param, Normal):
                    low, high = getattr(param, "low", None), getattr(param, "high", None)
                    if low is not None and high is not None:
                        info.domain_interval.min_value = float(low)
                        info.domain_interval.max_value = float(high)
            infos.append(info)
        infos.append(api_pb2.HParamInfo(
            name="state", type=api_pb2.DATA_TYPE_STRING,
            domain_discrete=struct_pb2.ListValue(values=[
                struct_pb2.Value(string_value=s) for s in ("complete", "failed", "pruned")])))
        experiment = api_pb2.Experiment(
            name=result.study_name or "", hparam_infos=infos, time_created_secs=time.time(),
            metric_infos=[api_pb2.MetricInfo(name=api_pb2.MetricName(tag=n))
                          for n in self._metric_names(result)])
        return self._summary("_hparams_/experiment",
                             plugin_data_pb2.HParamsPluginData(experiment=experiment))

    def _start(self, result: Result) -> None:
        os.makedirs(self.log_dir, exist_ok=True)
        self._written = {int(name[len("trial-"):]) for name in os.listdir(self.log_dir)
                         if name.startswith("trial-") and name[len("trial-"):].isdigit()}
        if self._written and result.study_ref is None:
            raise FileExistsError(
                f"TensorBoardCallback: {self.log_dir!r} already holds the sessions of another "
                "run; give each run that is not stored its own log_dir")
        if not any(n.startswith("events.") for n in os.listdir(self.log_dir)):
            self._write(self.log_dir, [(self._experiment(result), 0, time.time())])

    def __call__(self, result: Result, record: TrialRecord) -> None:
        first = self._written is None
        if first:
            self._start(result)
        assert self._written is not None
        todo = ([r for r in result.records if r.trial_id not in self._written] if first
                else [] if record.trial_id in self._written else [record])
        for r in todo:
            self._session(result, r)
            self._written.add(r.trial_id)

    def _session(self, result: Result, record: TrialRecord) -> None:
        from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

        start = plugin_data_pb2.SessionStartInfo(group_name=f"trial-{record.trial_id}",
                                                 start_time_secs=_seconds(record.started))
        for name, value in record.point.items():
            shown = result.space.display_value(name, value)
            if isinstance(shown, bool):
                start.hparams[name].bool_value = shown
            elif isinstance(shown, (int, float)):
                start.hparams[name].number_value = float(shown)
            else:
                start.hparams[name].string_value = str(shown)
        start.hparams["state"].string_value = record.state
        finished = _seconds(record.finished)
        events = [(self._summary("_hparams_/session_start_info",
                                 plugin_data_pb2.HParamsPluginData(session_start_info=start)),
                   0, _seconds(record.started))]
        values = record.values if record.values is not None else (
            None if record.value is None else (record.value,))
        for name, value in zip(result.objectives.names, values or (), strict=False):
            events.append((self._scalar(name, float(value)), 0, finished))
        events.append((self._scalar("duration_s", float(record.duration_s)), 0, finished))
        events += [(self._scalar("intermediate", float(v)), int(step), finished)
                   for step, v in sorted(record.intermediate.items()) if not math.isnan(v)]
        status = {"complete": api_pb2.STATUS_SUCCESS, "failed": api_pb2.STATUS_FAILURE}.get(
            record.state, api_pb2.STATUS_UNKNOWN)
        end = plugin_data_pb2.SessionEndInfo(status=status, end_time_secs=finished)
        events.append((self._summary("_hparams_/session_end_info",
                                     plugin_data_pb2.HParamsPluginData(session_end_info=end)),
                       0, finished))
        self._write(self._session_dir(record.trial_id), events)
