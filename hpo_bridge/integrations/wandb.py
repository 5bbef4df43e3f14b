"""``WandbCallback``: a run's trials in Weights & Biases (``pip install 'hpo_bridge[wandb]'``).

One W&B run per study; each finished trial is one logged row, with the trial number as the
x axis of every chart (``define_metric("*", step_metric="trial")``)::

    from hpo_bridge.integrations.wandb import WandbCallback
    hb.minimize(f, space, callbacks=[WandbCallback(project="exp")])

- The run's config: ``hpo_bridge`` (backend, seed, direction, objectives, study name); its
  name is the study's (``name=`` overrides it).
- Each row: ``trial``, ``state`` (``complete``/``failed``/``pruned``), each objective's value
  under its name (``value`` without ``objectives=``), ``duration_s``, the decoded parameters
  as ``params/<name>`` (a choice as its label, as in ``result.trials``) and the objective's
  other numeric metrics as ``metrics/<key>``. Intermediate values are not logged.
- At the end: the summary ``best_value`` and ``best_trial`` (one objective) and ``stopped``;
  the run is finished with exit code 1 when an error stopped it, 130 after Ctrl-C (W&B shows
  both as failed), 0 otherwise.
- A stored run gets a W&B run id made from its storage and study name and is opened with
  ``resume="allow"``: a resumed study continues the same W&B run, and trials up to the
  summary's ``hpo_bridge/last_trial`` are not logged again (this needs the W&B server: an
  offline run cannot read what an earlier offline run wrote).
- Offline (``WANDB_MODE=offline``) everything is written under ``WANDB_DIR`` for
  ``wandb sync`` later.
"""

from __future__ import annotations

import hashlib
from numbers import Real
from typing import TYPE_CHECKING, Any

from hpo_bridge.callbacks import Callback, run_ending

if TYPE_CHECKING:
    from hpo_bridge.optimizer import Optimizer
    from hpo_bridge.results import Result, TrialRecord

__all__ = ["WandbCallback"]


class WandbCallback(Callback):
    """Log each trial of a run to Weights & Biases (see the module docstring).

    Args:
        project: The W&B project.
        name: The run's name (default: the study's name, else W&B's own).
        **init_kwargs: Passed to ``wandb.init`` (``entity``, ``group``, ``tags``, ``dir``, ...).
    """

    def __init__(self, project: str | None = None, *, name: str | None = None,
                 **init_kwargs: Any) -> None:
        import wandb  # noqa: F401 - a missing extra fails when the callback is made

        self.project = project
        self.name = name
        self.init_kwargs = init_kwargs
        self.run: Any = None
        self._last = -1

    def __getstate__(self) -> dict[str, Any]:  # hb.compare(n_jobs=k) sends it to workers
        return {**self.__dict__, "run": None}

    def on_start(self, optimizer: Optimizer) -> None:
        self.run, self._last = None, -1

    def _open(self, result: Result) -> Any:
        import wandb

        kwargs: dict[str, Any] = {"reinit": "create_new", **self.init_kwargs}
        if result.study_ref is not None:
            storage, study = result.study_ref
            key = f"{storage}\n{study}".encode()
            kwargs.setdefault("id", "hb-" + hashlib.sha1(key).hexdigest()[:16])
            kwargs.setdefault("resume", "allow")
        config = {"hpo_bridge": {
            "backend": str(result.backend), "seed": result.seed, "direction": result.direction,
            "objectives": dict(zip(result.objectives.names, result.objectives.directions,
                                   strict=True)),
            "study": result.study_name}}
        run = wandb.init(project=self.project, name=self.name or result.study_name,
                         config=config, **kwargs)
        run.define_metric("trial")
        run.define_metric("*", step_metric="trial")
        summary: Any = run.summary  # a resumed run's, from the W&B server
        self._last = int(summary.get("hpo_bridge/last_trial", -1))
        return run

    def __call__(self, result: Result, record: TrialRecord) -> None:
        first = self.run is None
        if first:
            self.run = self._open(result)
        todo = ([r for r in result.records if r.trial_id > self._last] if first
                else [record])
        for r in todo:
            self._log(result, r)

    def _log(self, result: Result, record: TrialRecord) -> None:
        row: dict[str, Any] = {"trial": record.trial_id, "state": record.state,
                               "duration_s": record.duration_s}
        values = record.values if record.values is not None else (
            None if record.value is None else (record.value,))
        for name, value in zip(result.objectives.names, values or (), strict=False):
            row[name] = value
        for name, value in record.point.items():
            row[f"params/{name}"] = result.space.display_value(name, value)
        for key, value in record.metrics.items():
            if isinstance(value, Real) and not isinstance(value, bool):
                row[f"metrics/{key}"] = value
        self.run.log(row)
        self._last = max(self._last, record.trial_id)
        self.run.summary["hpo_bridge/last_trial"] = self._last

    def on_run_end(self, result: Result) -> None:
        if self.run is None:
            if not result.records:
                return
            self(result, result.records[-1])
        ending, best = run_ending(result)
        if result.stopped:
            self.run.summary["stopped"] = result.stopped
        if best is not None:
            self.run.summary["best_value"] = best.value
            self.run.summary["best_trial"] = best.trial_id
        # Ctrl-C: 130, a shell's code for SIGINT (W&B marks any other code than 0 failed)
        self.run.finish(exit_code={"finished": 0, "failed": 1, "killed": 130}[ending])
        self.run = None
