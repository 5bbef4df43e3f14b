"""Pareto fronts and hypervolumes for the multi-objective benchmark (numpy; Optuna's exact HV).

Every function here works on **losses**: an ``(n, m)`` array of objective values, all to be
minimized (flip the sign of a maximized objective first, :func:`as_losses`). The hypervolume
is Optuna's exact algorithm (``optuna._hypervolume.compute_hypervolume``: 2-D and 3-D sweeps,
WFG above), which Optuna 5 exposes under no public name.

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
    return np.asarray(values, dtype=float) * signs


def non_dominated(losses: ArrayLike) -> np.ndarray:
    """The rows of ``losses`` that no other row dominates (duplicates kept once), sorted.

    Rows holding a NaN (a failed trial) are dropped first.

    Example:
        >>> import numpy as np
        >>> non_dominated(np.array([[1.0, 2.0], [2.0, 1.0], [2.0, 2.0]])).tolist()
        [[1.0, 2.0], [2.0, 1.0]]
    """
    import numpy as np

    points = np.asarray(losses, dtype=float)
    points = np.unique(points[~np.isnan(points).any(axis=1)], axis=0)  # sorted by column 0, 1
    if len(points) == 0:
        return points
    if points.shape[1] == 2:  # a sweep: keep a point if its 2nd loss beats every earlier one's
        best = np.minimum.accumulate(points[:, 1])
        keep = np.concatenate([[True], points[1:, 1] < best[:-1]])
        return points[keep]
    # i is dominated if some j is <= everywhere and < somewhere (rows are unique, so != is <).
    le = np.asarray((points[None, :, :] <= points[:, None, :]).all(axis=2))
    np.fill_diagonal(le, False)
    return points[~le.any(axis=1)]


def hypervolume(losses: ArrayLike, reference: ArrayLike) -> float:
    """The volume dominated by ``losses`` and bounded by ``reference`` (0 if no row is inside).

    Rows that do not dominate ``reference`` (or hold a NaN) add nothing and are dropped.
    """
    import numpy as np
    from optuna._hypervolume import compute_hypervolume

    ref = np.asarray(reference, dtype=float)
    points = np.asarray(losses, dtype=float).reshape(-1, len(ref))
    points = points[~np.isnan(points).any(axis=1)]
    points = non_dominated(points[(points < ref).all(axis=1)])
    if len(points) == 0:
        return 0.0
    return float(compute_hypervolume(points, ref, assume_pareto=True))


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
