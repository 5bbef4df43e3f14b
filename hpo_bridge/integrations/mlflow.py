"""``MLflowCallback``: a run's trials in MLflow (``pip install 'hpo_bridge[mlflow]'``).

One parent run per study and one child run per trial, written with MLflow's client API (no
global active run is touched, so it works beside the user's own ``mlflow.start_run``)::

    from hpo_bridge.integrations.mlflow import MLflowCallback
    hb.minimize(f, space, storage="runs.db", study_name="exp",
                callbacks=[MLflowCallback("sqlite:///mlflow.db", experiment_name="exp")])

- The parent run (named after the study) has the tags ``hpo_bridge.study`` (the stored
  study's name, or a fresh id for a run that is not stored), ``hpo_bridge.storage``,
  ``hpo_bridge.backend``, ``hpo_bridge.seed``, ``hpo_bridge.objectives``; at the end of the
  run ``hpo_bridge.stopped`` and the metric ``best_value`` (one objective), and it is marked
  ``FINISHED`` (``FAILED`` when an error stopped the run, ``KILLED`` after Ctrl-C).
- A child run per finished trial (``mlflow.parentRunId``, named ``trial N``): the decoded
  parameters as params (a choice shows its option or its label, as in ``result.trials``), each
  objective's value as a metric named after the objective (``value`` without
  ``objectives=``), the objective's other numeric metrics, ``duration_s``, the intermediate
  values (``trial.report``) as the metric ``intermediate`` at their steps, the tags
  ``hpo_bridge.trial`` (its number) and ``hpo_bridge.state``; status ``FINISHED`` (complete),
  ``KILLED`` (pruned) or ``FAILED`` (failed; the error in the tag ``hpo_bridge.error``).
- Resuming a stored study finds its parent run again (by the study and storage tags), and
  at its first trial looks up the child runs already there (by the tag ``hpo_bridge.trial``):
  a trial logged before is never logged again, and a trial that was stored but not logged
  (the process was killed in between) is logged then. Two processes sharing one study each
  log their own trials.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from datetime import datetime
from numbers import Real
from typing import TYPE_CHECKING, Any, cast

from hpo_bridge.callbacks import Callback, run_ending

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from hpo_bridge.optimizer import Optimizer
    from hpo_bridge.results import Result, TrialRecord

__all__ = ["MLflowCallback"]

_T = "hpo_bridge."
_STATUS = {"complete": "FINISHED", "pruned": "KILLED", "failed": "FAILED"}


def _key(name: str) -> str:
    """A name MLflow takes as a param or metric key (letters, digits, ``_-. /:``)."""
    return re.sub(r"[^\w\-. /:]", "_", name)


def _ms(when: datetime | None) -> int | None:
    return None if when is None else int(when.timestamp() * 1000)


class MLflowCallback(Callback):
    """Log each trial of a run to MLflow (see the module docstring).

    Args:
        tracking_uri: Where MLflow writes (``"sqlite:///mlflow.db"``, ``"http://host:5000"``, a
            file store ``"file:///path/mlruns"``); ``None``: MLflow's own default
            (``MLFLOW_TRACKING_URI``).
        experiment_name: The experiment, made if missing (``None``: MLflow's default one).
        tags: Extra tags for the parent run.
    """

    def __init__(self, tracking_uri: str | None = None, experiment_name: str | None = None,
                 tags: dict[str, str] | None = None) -> None:
        import mlflow  # noqa: F401 - a missing extra fails when the callback is made

        self.tracking_uri = tracking_uri
        self.experiment_name = experiment_name
        self.tags = dict(tags or {})
        self._client: MlflowClient | None = None
        self._reset()

    def _reset(self) -> None:
        self.parent_id: str | None = None
        self._fresh_key = uuid.uuid4().hex
        self._logged: set[int] | None = None  # trial numbers with a child run
        self._experiment: str | None = None

    def __getstate__(self) -> dict[str, Any]:  # hb.compare(n_jobs=k) sends it to workers
        return {**self.__dict__, "_client": None}

    @property
    def client(self) -> MlflowClient:
        if self._client is None:
            from mlflow import MlflowClient

            self._client = MlflowClient(self.tracking_uri)
        return self._client

    # -- the parent run ------------------------------------------------------------------
    def on_start(self, optimizer: Optimizer) -> None:
        self._reset()

    def _experiment_id(self) -> str:
        if self._experiment is None:
            if self.experiment_name is None:
                self._experiment = "0"
            else:
                found = self.client.get_experiment_by_name(self.experiment_name)
                self._experiment = (found.experiment_id if found is not None
                                    else self.client.create_experiment(self.experiment_name))
        return self._experiment

    def _study_tags(self, result: Result) -> dict[str, str]:
        if result.study_ref is None:
            return {_T + "study": self._fresh_key, _T + "storage": ""}
        storage, name = result.study_ref
        where = re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", storage) \
            if isinstance(storage, str) else ""  # no password in a tag
        return {_T + "study": name, _T + "storage": where}

    def _filter(self, tags: dict[str, str], kind: str) -> str:
        parts = [f"tags.`{k}` = '{v}'" for k, v in {**tags, _T + "kind": kind}.items()
                 if v and "'" not in v]
        return " and ".join(parts)

    def _search(self, tags: dict[str, str], kind: str) -> list[Any]:
        runs: list[Any] = []
        token = None
        while True:
            page = self.client.search_runs([self._experiment_id()],
                                           filter_string=self._filter(tags, kind),
                                           max_results=1000, page_token=token)
            runs.extend(r for r in page
                        if all(r.data.tags.get(k, "") == v for k, v in tags.items()))
            token = page.token
            if not token:
                return runs

    def _parent(self, result: Result) -> str:
        if self.parent_id is not None:
            return self.parent_id
        tags = self._study_tags(result)
        found = self._search(tags, "study") if result.study_ref is not None else []
        if found:
            self.parent_id = found[0].info.run_id
            self.client.update_run(self.parent_id, status="RUNNING")
        else:
            run = self.client.create_run(self._experiment_id(), run_name=(
                result.study_name or f"hpo_bridge {result.backend}"), tags={
                **tags, _T + "kind": "study", _T + "backend": str(result.backend),
                _T + "seed": str(result.seed),
                _T + "objectives": json.dumps(dict(zip(result.objectives.names,
                                                       result.objectives.directions,
                                                       strict=True))),
                **self.tags})
            self.parent_id = run.info.run_id
        self._logged = {int(r.data.tags[_T + "trial"]) for r in self._search(tags, "trial")
                        if (r.data.tags.get(_T + "trial") or "").isdigit()}
        return self.parent_id

    # -- a trial -------------------------------------------------------------------------
    def __call__(self, result: Result, record: TrialRecord) -> None:
        first = self._logged is None
        parent = self._parent(result)
        assert self._logged is not None
        todo = ([r for r in result.records if r.trial_id not in self._logged] if first
                else [] if record.trial_id in self._logged else [record])
        for r in todo:  # the first call logs what a killed run stored but did not log
            self._log_trial(result, r, parent)

    def _log_trial(self, result: Result, record: TrialRecord, parent: str) -> None:
        from mlflow.entities import Metric, Param

        assert self._logged is not None
        tags = {**self._study_tags(result), _T + "kind": "trial",
                _T + "trial": str(record.trial_id), _T + "state": record.state,
                "mlflow.parentRunId": parent}
        if record.error:
            tags[_T + "error"] = record.error[:4000]
        if record.warm_start:
            tags[_T + "warm_start"] = "true"
        run = self.client.create_run(self._experiment_id(), start_time=_ms(record.started),
                                     run_name=f"trial {record.trial_id}", tags=tags)
        when = _ms(record.finished) or _ms(record.started) or 0
        params = [Param(_key(name), str(result.space.display_value(name, value))[:6000])
                  for name, value in record.point.items()]
        metrics = [Metric("duration_s", float(record.duration_s), when, 0)]
        names = result.objectives.names
        values = record.values if record.values is not None else (
            None if record.value is None else (record.value,))
        for name, value in zip(names, values or (), strict=False):
            metrics.append(Metric(_key(name), float(value), when, 0))
        for key, value in record.metrics.items():
            if (isinstance(value, Real) and not isinstance(value, bool)
                    and _key(str(key)) not in {m.key for m in metrics}):
                metrics.append(Metric(_key(str(key)), float(value), when, 0))
        metrics += [Metric("intermediate", float(v), when, int(step))
                    for step, v in sorted(record.intermediate.items()) if not math.isnan(v)]
        self.client.log_batch(run.info.run_id, metrics=metrics, params=params)
        self.client.set_terminated(run.info.run_id, _STATUS[record.state],
                                   end_time=_ms(record.finished))
        self._logged.add(record.trial_id)

    # -- the end -------------------------------------------------------------------------
    def on_run_end(self, result: Result) -> None:
        if self.parent_id is None:
            if not result.records:
                return
            self(result, result.records[-1])  # catch up: a resumed run with no new trial
        assert self.parent_id is not None
        ending, best = run_ending(result)
        if result.stopped:
            self.client.set_tag(self.parent_id, _T + "stopped", result.stopped)
        if best is not None:
            self.client.log_metric(self.parent_id, "best_value", float(cast(float, best.value)))
            self.client.set_tag(self.parent_id, _T + "best_trial", str(best.trial_id))
        self.client.set_terminated(self.parent_id, ending.upper())  # FINISHED, FAILED, KILLED
