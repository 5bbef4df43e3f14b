"""Trial records and the :class:`Result` of a run: best trial, the trial table, displays."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, cast

from hpo_bridge.objectives import Objectives, feasible

if TYPE_CHECKING:
    import numpy as np
    import optuna
    import pandas as pd
    from matplotlib.figure import Figure

    from hpo_bridge.space import Space

__all__ = ["TrialRecord", "Result", "BASE_COLUMNS", "COMPARE_COLUMNS", "TIMING_COLUMNS",
           "State", "Direction", "concat_runs", "result_frame"]

#: How a trial finished.
State = Literal["complete", "failed", "pruned"]
#: Which way a run optimizes.
Direction = Literal["minimize", "maximize"]  # the same as hpo_bridge.objectives.Direction

#: Columns every trial table starts with, whatever the backend.
BASE_COLUMNS = ["trial_id", "state", "value", "duration_s", "error"]
#: The first columns of a compare table (:func:`result_frame`, :func:`hpo_bridge.compare`), in
#: order; ``params.*``/``metrics.*`` follow.
COMPARE_COLUMNS = ["backend", "seed", "trial_id", "state", "value", "best_value", "elapsed_s",
                   "duration_s", "error"]
#: Columns every trial table has after the objectives' and fidelity columns, before
#: ``params.*``: when the trial ran (timezone-aware UTC datetimes, Optuna's
#: ``datetime_start``/``datetime_complete``) and how long its objective took.
TIME_COLUMNS = ["objective_s", "datetime_start", "datetime_complete"]
#: Columns that measure wall time and so differ between two runs with the same seed.
TIMING_COLUMNS = ("elapsed_s", "duration_s", *TIME_COLUMNS)
#: Columns a caller may add that go before :data:`COMPARE_COLUMNS` (the bench adds ``problem``).
FRONT_COLUMNS = ("problem",)


@dataclass(frozen=True)
class TrialRecord:
    """One finished trial, in the user's direction (``value`` is what the objective returned).

    With ``objectives=``, ``values`` holds each objective's value in their order (``value`` is
    the one objective's value when there is one, else ``None``). ``constraints`` is what the
    objective returned under ``"constraints"`` (``None`` when it returned none). In a
    multi-fidelity run, ``budget`` is the budget of this evaluation and ``config_id`` its
    configuration's id (``None`` otherwise).

    ``duration_s`` is the trial's wall time, from its creation (the ask) to its end (the
    tell): ``finished - started``, what Optuna shows as a trial's duration; ``objective_s`` is
    the objective's own time inside it (``None`` when nothing measured it: a trial told by
    hand, a trial stored without it). ``warm_start`` is ``True`` for an earlier trial handed
    in with ``warm_start=`` (told to the backend, not evaluated by this run).
    """

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
    values: tuple[float, ...] | None = None
    constraints: tuple[float, ...] | None = None
    budget: float | None = None
    config_id: int | None = None
    objective_s: float | None = None
    warm_start: bool = False

    @property
    def feasible(self) -> bool:
        """Every constraint ``<= 0`` (a trial without constraints is feasible)."""
        return feasible(self.constraints)


class Result:
    """What a run returns.

    Attributes:
        best_params: The decoded configuration of the best complete trial (with constraints:
            the best complete feasible trial). Refused with several objectives: see
            :meth:`pareto_front`. In a multi-fidelity run, the best among the evaluations at
            the highest budget any complete evaluation reached (a loss at a lower budget is
            not comparable); ``budget_spent`` is the run's total budget.
        best_value: Its value.
        best_trial: Its :class:`TrialRecord`.
        records: Every finished trial, in the order they finished.
        backend, seed, direction: How the run was made.
        objectives: The run's :class:`~hpo_bridge.objectives.Objectives` (names and
            directions; ``Objectives.unnamed(direction)`` for a run without ``objectives=``).
    """

    def __init__(self, records: list[TrialRecord], *, space: Space, backend: str,
                 seed: int | None, direction: Direction = "minimize",
                 stopped: str | None = None, objectives: Objectives | None = None):
        self.records = list(records)
        self.space = space
        self.backend = backend
        self.seed = seed
        self.direction = direction
        self.objectives = objectives or Objectives.unnamed(direction)
        #: Why the run stopped early (``"interrupted"``, ``"timeout"``), or ``None``.
        self.stopped = stopped
        #: ``(storage, study name)`` of a stored run (or of a study read by ``hb.load``), else
        #: ``None``.
        self.study_ref: tuple[Any, str] | None = None
        #: What a stored run resumed (``"resuming study 'exp': 37 finished trials, ..."``), or
        #: ``None`` when it started a new study or was not stored.
        self.resumed: str | None = None

    @property
    def study_name(self) -> str | None:
        """The stored study's name (a stored run's or a loaded study's), else ``None``."""
        return None if self.study_ref is None else self.study_ref[1]

    @property
    def completed(self) -> list[TrialRecord]:
        return [r for r in self.records if r.state == "complete"]

    @property
    def constrained(self) -> bool:
        """Whether the objective returned constraints."""
        return any(r.constraints is not None for r in self.records)

    def _refuse_multi(self, what: str) -> None:
        if self.objectives.multi:
            names = ", ".join(self.objectives.names)
            raise ValueError(
                f"{what}: this run has several objectives ({names}), so no single trial is "
                "best; use result.pareto_front() (the feasible non-dominated trials) or "
                "result.hypervolume()")

    @property
    def best_trial(self) -> TrialRecord:
        self._refuse_multi("best_trial")
        done = self.completed
        if not done:
            raise ValueError("no trial has completed, so there is no best trial")
        done = [r for r in done if r.feasible]
        if not done:
            raise ValueError("no complete trial is feasible (every one has a constraint > 0), "
                             "so there is no best trial; see result.trials['constraints']")
        if self.multifidelity:  # values at a lower budget do not compete with higher ones
            top = max(cast(float, r.budget) for r in done)
            done = [r for r in done if r.budget == top]
        pick = max if self.direction == "maximize" else min
        return pick(done, key=lambda r: cast(float, r.value))  # complete: a number

    @property
    def multifidelity(self) -> bool:
        """Whether the run was multi-fidelity (``fidelity=``): its records have a budget."""
        return any(r.budget is not None for r in self.records)

    @property
    def budget_spent(self) -> float | None:
        """A multi-fidelity run's total budget: the sum of the budgets of its evaluations
        (every evaluation started, failed ones too, at its full budget); ``None`` otherwise."""
        if not self.multifidelity:
            return None
        return sum(r.budget for r in self.records if r.budget is not None)

    @property
    def best_params(self) -> Any:
        self._refuse_multi("best_params")
        return self.best_trial.params

    @property
    def best_value(self) -> float:
        self._refuse_multi("best_value")
        return cast(float, self.best_trial.value)

    @property
    def trials(self) -> pd.DataFrame:
        """One row per trial; the same columns for every backend.

        With ``objectives=``: a ``values.<name>`` column per objective; with ``objectives=``
        or constraints: ``constraints`` (a tuple, or ``None``) and ``feasible``. A
        multi-fidelity run has one row per evaluation, with ``budget`` and ``config_id``.
        A warm-started run (``warm_start=``) has a ``warm_start`` column, ``True`` for the
        earlier trials it was handed.
        """
        import pandas as pd

        rows = []
        curves = any(r.intermediate for r in self.records)
        names = list(self.objectives.columns)
        extra_cols = [f"values.{n}" for n in names]
        if names or self.constrained:
            extra_cols += ["constraints", "feasible"]
        fidelity = self.multifidelity
        if fidelity:
            extra_cols = ["budget", "config_id", *extra_cols]
        warm = any(r.warm_start for r in self.records)
        if warm:
            extra_cols.append("warm_start")
        for r in sorted(self.records, key=lambda r: r.trial_id):
            row: dict[str, Any] = {"trial_id": r.trial_id, "state": r.state,
                   "value": math.nan if r.value is None else r.value,
                   "duration_s": r.duration_s, "error": r.error}
            for i, n in enumerate(names):
                row[f"values.{n}"] = math.nan if r.values is None else r.values[i]
            if fidelity:
                row["budget"], row["config_id"] = r.budget, r.config_id
            if warm:
                row["warm_start"] = r.warm_start
            if names or self.constrained:
                row["constraints"] = r.constraints
                row["feasible"] = r.state == "complete" and r.feasible
            row["objective_s"] = math.nan if r.objective_s is None else r.objective_s
            row["datetime_start"], row["datetime_complete"] = r.started, r.finished
            # Choices show their option (or its label), never a bare index.
            row.update({f"params.{name}": self.space.display_value(name, r.point[name])
                        if name in r.point else None for name in self.space.names})
            row.update({f"metrics.{k}": v for k, v in r.metrics.items()})
            if curves:  # the learning curve {step: value}; {} for a trial that reported none
                row["intermediate"] = dict(r.intermediate)
            rows.append(row)
        columns = (BASE_COLUMNS + extra_cols + TIME_COLUMNS
                   + [f"params.{n}" for n in self.space.names])
        frame = pd.DataFrame(rows)
        for name in TIME_COLUMNS[1:]:  # datetimes, also with no trial or one without a time
            frame[name] = pd.to_datetime(frame[name] if name in frame else [], utc=True)
        extra = [c for c in frame.columns if c not in columns]
        frame = frame.reindex(columns=columns + sorted(extra))
        frame.attrs.update(self.objectives.metadata())  # what hb.plot_pareto_front(table) reads
        table: pd.DataFrame = frame
        return table

    # -- several objectives --------------------------------------------------------------------
    def _front_records(self) -> list[TrialRecord]:
        """Complete feasible trials with every value, in trial-id order."""
        done = sorted((r for r in self.completed if r.feasible), key=lambda r: r.trial_id)
        return [r for r in done if _values(r) is not None]

    def _losses(self, records: list[TrialRecord]) -> Any:
        import numpy as np

        return np.array([self.objectives.losses(cast("tuple[float, ...]", _values(r))) for r in records],
                        dtype=float).reshape(len(records), len(self.objectives.names))

    def pareto_front(self) -> pd.DataFrame:
        """The feasible non-dominated complete trials, as rows of :attr:`trials` (same columns).

        A trial is on the front when no other complete feasible trial is at least as good in
        every objective and better in one (each objective in its own direction). Trials with
        equal values are all kept. With one objective, the front is the best feasible trials.

        Example:
            >>> import hpo_bridge as hb
            >>> r = hb.minimize(lambda c: {"a": c["x"], "b": 1 - c["x"]},
            ...                 {"x": hb.uniform(0.0, 1.0)}, objectives=["a", "b"],
            ...                 backend="optuna:random", max_evals=5, seed=0, progress=False)
            >>> len(r.pareto_front())   # no trial dominates another on this line
            5
        """
        table = self.trials
        front: pd.DataFrame = table[table["trial_id"].isin(self._pareto_ids())]
        return front

    def _reference(self, reference: Any, losses: Any) -> Any:
        """``reference`` (the user's directions) as losses, or ``None`` for the default."""
        import numpy as np

        labels = list(self.objectives.names)
        names = ", ".join(labels)
        if reference is None and losses.shape[0] == 0:
            raise ValueError("hypervolume: no complete feasible trial to set the default "
                             "reference point; pass reference= (the hypervolume is then 0.0)")
        if reference is None:  # the default: say which objective cannot set it
            for j in np.flatnonzero(~np.isfinite(losses).any(axis=0)):
                raise ValueError(f"hypervolume: no finite value of {labels[j]!r} among the "
                                 "complete feasible trials to set the default reference point; "
                                 "pass reference=")
            return None
        rule = (f"hypervolume: reference must hold one value per objective, numbers in "
                f"their order ({names}), got {reference!r}")
        if isinstance(reference, (str, bytes, Mapping)):
            raise ValueError(rule)
        try:
            values = np.atleast_1d(np.asarray(reference, dtype=float))
        except (TypeError, ValueError) as exc:
            raise ValueError(rule) from exc
        if values.shape != (losses.shape[1],) or np.isnan(values).any():
            raise ValueError(rule)
        return np.array(self.objectives.losses(values.tolist()))

    def hypervolume(self, reference: Sequence[float] | np.ndarray | None = None) -> float:
        """The hypervolume of the Pareto front: the volume of objective space it dominates, up
        to ``reference`` (exact, Optuna's algorithm; see :mod:`hpo_bridge.pareto`).

        Args:
            reference: One value per objective, in the objectives' own directions (for a
                maximized objective, a value below every one that should count). Default: per
                objective, the worst value over complete feasible trials plus 10 % of the
                range; it depends on the trials, so pass one reference to compare runs.

        Returns:
            The hypervolume (0.0 when no complete feasible trial is better than the reference
            in every objective, or when there is none and ``reference`` is given).

        Raises:
            ValueError: ``reference`` is not one number per objective, or it is left to the
                default and no complete feasible trial can set it.

        Example:
            >>> import hpo_bridge as hb
            >>> r = hb.minimize(lambda c: {"a": c["x"], "b": 1 - c["x"]},
            ...                 {"x": hb.uniform(0.0, 1.0)}, objectives=["a", "b"],
            ...                 backend="optuna:random", max_evals=20, seed=0, progress=False)
            >>> 0.3 < r.hypervolume(reference=[1.0, 1.0]) < 0.5
            True
        """
        from hpo_bridge.pareto import hypervolume

        records = self._front_records()
        losses = self._losses(records)
        ref = self._reference(reference, losses)
        return hypervolume(losses, ref) if records else 0.0

    def hypervolume_so_far(self, reference: Sequence[float] | np.ndarray | None = None
                           ) -> list[float]:
        """The hypervolume after each trial (by trial id), as :meth:`best_so_far` is for one
        objective: 0.0 until a complete feasible trial beats the reference. The default
        reference is :meth:`hypervolume`'s, taken over every trial of the run."""
        from hpo_bridge.pareto import default_reference, hypervolume

        records = self._front_records()
        losses = self._losses(records)
        ref = self._reference(reference, losses)
        if not records:
            return [0.0] * len(self.records)
        ref = default_reference(losses) if ref is None else ref
        row = {r.trial_id: i for i, r in enumerate(records)}
        out, seen = [], []
        for r in sorted(self.records, key=lambda r: r.trial_id):
            if r.trial_id in row:
                seen.append(row[r.trial_id])
            out.append(hypervolume(losses[seen], ref) if seen else 0.0)
        return out

    def best_so_far(self) -> list[float]:
        """Best complete (feasible) value after each trial (by trial id), NaN before the first
        success. Refused with several objectives. In a multi-fidelity run, the best at the
        highest budget reached so far (the last is ``best_value``)."""
        self._refuse_multi("best_so_far")
        return _best_so_far(self)

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

    def plot_pareto_front(self) -> Figure:
        """Every trial's objectives and the Pareto front: ``hb.plot_pareto_front(result)``."""
        from hpo_bridge.plots import plot_pareto_front

        return plot_pareto_front(self)

    def _summary(self) -> list[tuple[str, str]]:
        counts = {s: sum(r.state == s for r in self.records)
                  for s in ("complete", "failed", "pruned")}
        rows = [("backend", self.backend), ("seed", repr(self.seed)),
                ("trials", ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "0")]
        if self.objectives.multi:
            rows.append(("objectives", ", ".join(f"{n} ({d})" for n, d in
                                                 self.objectives.as_dict().items())))
            rows.append(("pareto_front", f"{len(self._pareto_ids())} trials"))
        elif any(r.feasible for r in self.completed):
            rows += [("best_value", f"{self.best_value:.6g}"),
                     ("best_params", repr(self.best_params))]
        if self.stopped:
            rows.append(("stopped", self.stopped))
        if self.study_name:
            rows.append(("study", self.study_name))
        return rows

    def _pareto_ids(self) -> list[int]:
        from hpo_bridge.pareto import non_dominated

        records = self._front_records()
        if not records:
            return []
        return [r.trial_id for r, keep in zip(records, non_dominated(self._losses(records)),
                                                    strict=True)
                if keep]

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


def _values(record: TrialRecord) -> tuple[float, ...] | None:
    """Each objective's value of ``record`` (one unnamed objective: its ``value``)."""
    if record.values is not None:
        return record.values
    return None if record.value is None else (record.value,)


def _best_so_far(result: Result) -> list[float]:
    """:meth:`Result.best_so_far`; all NaN with several objectives (no trial has one value)."""
    best, top, out = math.nan, -math.inf, []
    better: Callable[[float, float], bool] = (
        (lambda a, b: a > b) if result.direction == "maximize" else (lambda a, b: a < b))
    for r in sorted(result.records, key=lambda r: r.trial_id):
        value = r.value
        budget = -math.inf if r.budget is None else r.budget
        if r.state == "complete" and value is not None and r.feasible and (
                math.isnan(best) or budget > top
                or (budget == top and better(value, best))):
            best, top = value, budget
        out.append(best)
    return out


# -- compare tables (hb.compare, plotting a Result, the bench) -------------------------------
def result_frame(result: Result, t0: float | None = None) -> pd.DataFrame:
    """One run's rows of a compare table (``t0``: the run's start, ``time.time()``)."""
    frame = result.trials
    records = sorted(result.records, key=lambda r: r.trial_id)
    if t0 is None:
        first = records[0].started if records else None
        t0 = first.timestamp() if first is not None else 0.0
    frame.insert(0, "backend", result.backend)
    frame.insert(1, "seed", result.seed)
    frame.insert(_column(frame, "value") + 1, "best_value", _best_so_far(result))
    frame.insert(_column(frame, "best_value") + 1, "elapsed_s",
                 [r.finished.timestamp() - t0 if r.finished else math.nan for r in records])
    return frame


def concat_runs(frames: Sequence[pd.DataFrame | None]) -> pd.DataFrame:
    """Stack run tables, base columns first and every other column sorted after them."""
    import pandas as pd

    given = [f for f in frames if f is not None and len(f)]
    if not given:
        empty: pd.DataFrame = pd.DataFrame(columns=COMPARE_COLUMNS)
        return empty
    table = pd.concat(given, ignore_index=True, sort=False)
    front = [c for c in FRONT_COLUMNS if c in table.columns]
    base = [c for c in COMPARE_COLUMNS if c in table.columns]
    base += [c for c in table.columns if c.startswith("values.")]
    base += [c for c in ("constraints", "feasible", *TIME_COLUMNS) if c in table.columns]
    params = [c for c in table.columns if c.startswith("params.")]
    metrics = [c for c in table.columns if c.startswith("metrics.")]
    seen = set(front + base + params + metrics)
    ordered: pd.DataFrame = table[front + base + params + metrics
                                  + [c for c in table.columns if c not in seen]]
    return ordered


def _column(frame: pd.DataFrame, name: str) -> int:
    """The position of a column (the table's columns are unique)."""
    return list(frame.columns).index(name)
