"""Pareto fronts and hypervolumes of loss vectors (every objective minimized).

The hypervolume is Optuna's exact algorithm (``optuna._hypervolume.compute_hypervolume``: a
sweep in 2-D, an O(n^2) method in 3-D, WFG above), imported when called; the dominance test
is the definition, on NumPy arrays.

Default reference point (:func:`default_reference`): per objective, the worst loss of the
given points plus 10 % of the range between the best and the worst (or of ``max(|worst|, 1)``
when every point has the same loss), over finite losses only. This is the usual
"nadir + 10 % of the range" choice; it depends on the points, so hypervolumes of two runs are
comparable only with one ``reference`` passed to both.

Example:
    >>> import numpy as np
    >>> losses = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 3.0]])
    >>> non_dominated(losses).tolist()
    [True, True, False]
    >>> hypervolume(losses, reference=np.array([4.0, 4.0]))  # 3 x 1 + 2 x 2 + 2 x 1, no overlap
    5.0
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = ["MARGIN", "default_reference", "hypervolume", "non_dominated"]

#: The default reference point's margin beyond the worst loss, as a share of the range.
MARGIN = 0.1


def non_dominated(losses: np.ndarray) -> np.ndarray:
    """A boolean mask: which rows no other row dominates (``<=`` everywhere and ``<`` once).

    Equal rows do not dominate each other: duplicates on the front are all kept.
    """
    import numpy as np

    losses = np.asarray(losses, dtype=float)
    if losses.ndim != 2:
        raise ValueError(f"losses must be a 2-D array (points x objectives), got shape "
                         f"{losses.shape}")
    n = losses.shape[0]
    mask = np.ones(n, dtype=bool)
    for i in range(n):
        le = np.all(losses <= losses[i], axis=1)
        lt = np.any(losses < losses[i], axis=1)
        mask[i] = not np.any(le & lt)
    return mask


def default_reference(losses: np.ndarray) -> np.ndarray:
    """The worst finite loss per objective plus :data:`MARGIN` of the range (see the module)."""
    import numpy as np

    losses = np.asarray(losses, dtype=float)
    ref = np.empty(losses.shape[1])
    for j in range(losses.shape[1]):
        column = losses[:, j][np.isfinite(losses[:, j])]
        if column.size == 0:
            raise ValueError(f"no finite value of objective {j} to set a reference point; "
                             "pass reference=")
        worst, best = column.max(), column.min()
        spread = worst - best if worst > best else max(abs(worst), 1.0)
        ref[j] = worst + MARGIN * spread
    return ref


def hypervolume(losses: np.ndarray, reference: np.ndarray | None = None) -> float:
    """The volume dominated by ``losses`` and bounded by ``reference`` (both minimized).

    Points that do not dominate the reference (worse in some objective) add nothing. A loss of
    ``-inf`` in a point that counts gives ``inf``.
    """
    import numpy as np
    from optuna._hypervolume import compute_hypervolume

    losses = np.asarray(losses, dtype=float).reshape(len(losses), -1)
    if losses.shape[0] == 0:
        return 0.0
    ref = default_reference(losses) if reference is None else np.asarray(reference, float)
    if ref.shape != (losses.shape[1],):
        raise ValueError(f"reference must have one value per objective ({losses.shape[1]}), "
                         f"got {reference!r}")
    inside = losses[np.all(losses < ref, axis=1)]
    if inside.shape[0] == 0:
        return 0.0
    if np.any(np.isneginf(inside)):
        return float("inf")
    return float(compute_hypervolume(inside, ref))
