"""Pareto fronts and hypervolumes of benchmark runs, on top of :mod:`hpo_bridge.pareto`.

Every function here works on **losses**: an ``(n, m)`` array of objective values, all to be
minimized (flip the sign of a maximized objective first, :func:`as_losses`); a NaN row is a
failed or infeasible trial. The hypervolume is :func:`hpo_bridge.pareto.hypervolume` (Optuna's
exact algorithm), the one ``Result.hypervolume`` uses.

Example:
    >>> import numpy as np
    >>> hypervolume(np.array([[0.0, 1.0], [1.0, 0.0]]), (2.0, 2.0))
    3.0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from numpy.typing import ArrayLike

__all__ = ["as_losses", "non_dominated", "hypervolume", "hypervolume_curve", "run_losses"]


def as_losses(values: ArrayLike, directions: Sequence[str]) -> np.ndarray:
    """``values`` (one column per objective) with every ``"maximize"`` column negated."""
    import numpy as np

    signs = np.array([-1.0 if d == "maximize" else 1.0 for d in directions])
    losses: np.ndarray = np.asarray(values, dtype=float) * signs
    return losses


def non_dominated(losses: ArrayLike) -> np.ndarray:
    """The rows of ``losses`` that no other row dominates, each once, sorted; rows holding a
    NaN (a failed or infeasible trial) are dropped first.

    Example:
        >>> import numpy as np
        >>> non_dominated(np.array([[1.0, 2.0], [2.0, 1.0], [2.0, 2.0]])).tolist()
        [[1.0, 2.0], [2.0, 1.0]]
    """
    import numpy as np

    from hpo_bridge.pareto import non_dominated as mask

    points: np.ndarray = np.asarray(losses, dtype=float)
    points = np.unique(points[~np.isnan(points).any(axis=1)], axis=0)  # sorted by column 0, 1
    if len(points) and points.shape[1] == 2:  # a sweep, for the true fronts' dense samples:
        # keep a point if its 2nd loss beats all the earlier ones'
        best = np.minimum.accumulate(points[:, 1])
        front: np.ndarray = points[np.concatenate([[True], points[1:, 1] < best[:-1]])]
        return front
    return points[mask(points)] if len(points) else points


def hypervolume(losses: ArrayLike, reference: ArrayLike) -> float:
    """The volume dominated by ``losses`` and bounded by ``reference`` (0 if no row is inside);
    rows with a NaN add nothing. :func:`hpo_bridge.pareto.hypervolume`, which Results use too."""
    import numpy as np

    from hpo_bridge.pareto import hypervolume as exact

    ref = np.asarray(reference, dtype=float)
    points = np.asarray(losses, dtype=float).reshape(-1, len(ref))
    return exact(points[~np.isnan(points).any(axis=1)], ref)


def hypervolume_curve(losses: ArrayLike, reference: ArrayLike) -> np.ndarray:
    """The hypervolume of the first ``t`` rows, for ``t = 1 .. n`` (NaN rows count as none)."""
    import numpy as np

    ref = np.asarray(reference, dtype=float)
    points = np.asarray(losses, dtype=float).reshape(-1, len(ref))
    curve = np.zeros(len(points))
    front = np.empty((0, len(ref)))
    value = 0.0
    for t, row in enumerate(points):
        if not np.isnan(row).any() and (row < ref).all() \
                and not ((front <= row).all(axis=1)).any():
            front = non_dominated(np.vstack([front, row]))
            value = hypervolume(front, reference)
        curve[t] = value
    return curve


def run_losses(run: pd.DataFrame, objectives: Mapping[str, str]) -> np.ndarray:
    """One run's trials (ordered by ``trial_id``) as losses: the ``values.<name>`` columns,
    NaN where a trial failed or is infeasible (a ``feasible`` column that is False)."""
    import numpy as np

    run = run.sort_values("trial_id")
    columns = [f"values.{name}" for name in objectives]
    missing = [c for c in columns if c not in run.columns]
    if missing:
        raise ValueError(f"the run table has no column(s) {missing}: not a run with the "
                         f"objectives {list(objectives)}")
    losses = as_losses(run[columns].to_numpy(dtype=float), list(objectives.values()))
    if "state" in run.columns:
        losses[(run["state"] != "complete").to_numpy()] = np.nan
    if "feasible" in run.columns:
        infeasible = run["feasible"].map(lambda v: str(v) == "False").to_numpy(dtype=bool)
        losses[infeasible] = np.nan
    return losses
