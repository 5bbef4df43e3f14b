"""Trial records and the :class:`Result` of a run: best trial, the trial table, displays."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, cast

if TYPE_CHECKING:
    import optuna
    import pandas as pd
    from matplotlib.figure import Figure

    from hpo_bridge.space import Space

__all__ = ["TrialRecord", "Result", "BASE_COLUMNS", "State", "Direction"]

#: How a trial finished.
State = Literal["complete", "failed", "pruned"]
#: Which way a run optimizes.
Direction = Literal["minimize", "maximize"]

#: Columns every trial table starts with, whatever the backend.
BASE_COLUMNS = ["trial_id", "state", "value", "duration_s", "error"]


@dataclass(frozen=True)
class TrialRecord:
    """One finished trial, in the user's direction (``value`` is what the objective returned)."""

    trial_id: int
    state: State
    value: float | None
    params: Any
    point: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    duration_s: float = 0.0
    started: datetime | None = None
    finished: datetime | None = None
    intermediate: dict[int, float] = field(default_factory=dict)


class Result:
    """What a run returns.

    Attributes:
        best_params: The decoded configuration of the best complete trial.
        best_value: Its value.
        best_trial: Its :class:`TrialRecord`.
        records: Every finished trial, in the order they finished.
        backend, seed, direction: How the run was made.
    """

    def __init__(self, records: list[TrialRecord], *, space: Space, backend: str,
                 seed: int | None, direction: Direction = "minimize",
                 stopped: str | None = None):
        self.records = list(records)
        self.space = space
        self.backend = backend
        self.seed = seed
        self.direction = direction
        #: Why the run stopped early (``"interrupted"``, ``"timeout"``), or ``None``.
        self.stopped = stopped
        #: ``(storage, study name)`` of a stored run, else ``None``.
        self.study_ref: tuple[Any, str] | None = None
        #: The stored study's name, else ``None``.
        self.study_name: str | None = None
        #: What a stored run resumed (``"resuming study 'exp': 37 finished trials, ..."``), or
        #: ``None`` when it started a new study or was not stored.
        self.resumed: str | None = None

    @property
    def completed(self) -> list[TrialRecord]:
        return [r for r in self.records if r.state == "complete"]

    @property
    def best_trial(self) -> TrialRecord:
        done = self.completed
        if not done:
            raise ValueError("no trial has completed, so there is no best trial")
        pick = max if self.direction == "maximize" else min
        return pick(done, key=lambda r: cast(float, r.value))  # complete: a number

    @property
    def best_params(self) -> Any:
        return self.best_trial.params

    @property
    def best_value(self) -> float:
        return cast(float, self.best_trial.value)

    @property
    def trials(self) -> pd.DataFrame:
        """One row per trial; the same columns for every backend."""
        import pandas as pd

        rows = []
        curves = any(r.intermediate for r in self.records)
        for r in sorted(self.records, key=lambda r: r.trial_id):
            row: dict[str, Any] = {"trial_id": r.trial_id, "state": r.state,
                   "value": math.nan if r.value is None else r.value,
                   "duration_s": r.duration_s, "error": r.error}
            # Choices show their option (or its label), never a bare index.
            row.update({f"params.{name}": self.space.display_value(name, r.point[name])
                        if name in r.point else None for name in self.space.names})
            row.update({f"metrics.{k}": v for k, v in r.metrics.items()})
            if curves:  # the learning curve {step: value}; {} for a trial that reported none
                row["intermediate"] = dict(r.intermediate)
            rows.append(row)
        columns = BASE_COLUMNS + [f"params.{n}" for n in self.space.names]
        frame = pd.DataFrame(rows)
        extra = [c for c in frame.columns if c not in columns]
        return frame.reindex(columns=columns + sorted(extra))

    def best_so_far(self) -> list[float]:
        """Best complete value after each trial (by trial id), NaN before the first success."""
        best, out = math.nan, []
        better = (lambda a, b: a > b) if self.direction == "maximize" else (lambda a, b: a < b)
        for r in sorted(self.records, key=lambda r: r.trial_id):
            value = r.value
            if r.state == "complete" and value is not None and (
                    math.isnan(best) or better(value, best)):
                best = value
            out.append(best)
        return out

    def to_optuna(self) -> optuna.Study:
        """An Optuna study of these trials, for ``optuna.visualization``, ``optuna.importance``.

        A stored run gives its stored study (loaded); any other run an in-memory study holding
        every trial with its parameters, value, state and metrics (user attributes).
        """
        from hpo_bridge.storage import to_optuna

        return to_optuna(self)

    def plot_convergence(self) -> Figure:
        """Best value so far against trials: ``hb.plot_convergence(result)``, the same figure
        as for a table of ``hb.compare`` (a matplotlib ``Figure``)."""
        from hpo_bridge.plots import plot_convergence

        return plot_convergence(self)

    def plot_trials(self) -> Figure:
        """Each trial's value and the best value so far (a matplotlib ``Figure``)."""
        from hpo_bridge.plots import plot_trials

        return plot_trials(self)

    plot = plot_trials

    def _summary(self) -> list[tuple[str, str]]:
        counts = {s: sum(r.state == s for r in self.records)
                  for s in ("complete", "failed", "pruned")}
        rows = [("backend", self.backend), ("seed", repr(self.seed)),
                ("trials", ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "0")]
        if self.completed:
            rows += [("best_value", f"{self.best_value:.6g}"),
                     ("best_params", repr(self.best_params))]
        if self.stopped:
            rows.append(("stopped", self.stopped))
        if self.study_name:
            rows.append(("study", self.study_name))
        return rows

    def __repr__(self) -> str:
        body = "\n".join(f"  {k}: {v}" for k, v in self._summary())
        return f"Result(\n{body}\n)"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'><code>{html.escape(v)}</code></td></tr>"
            for k, v in self._summary()
        )
        table = self.trials.tail(10).to_html(index=False, float_format=lambda v: f"{v:.4g}")
        return (f"<div><strong>hpo_bridge Result</strong><table>{rows}</table>"
                f"<details><summary>last trials</summary>{table}</details></div>")

