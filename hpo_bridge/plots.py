"""Convergence plots. Every function returns a matplotlib ``Figure``; none calls ``show``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from hpo_bridge.results import Result

__all__ = ["plot_result"]


def _figure(width: float = 6.4, height: float = 4.0) -> tuple[Figure, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def plot_result(result: Result) -> Figure:
    """Each trial's value and the best value so far of one run."""
    fig, ax = _figure()
    ids = [r.trial_id for r in sorted(result.records, key=lambda r: r.trial_id)]
    values = [r.value if r.state == "complete" else None
              for r in sorted(result.records, key=lambda r: r.trial_id)]
    ax.scatter([i for i, v in zip(ids, values) if v is not None],
               [v for v in values if v is not None], s=12, alpha=0.5, label="trial value")
    ax.step(ids, result.best_so_far(), where="post", color="C1", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel("value")
    ax.set_title(f"{result.backend} (seed={result.seed})")
    ax.legend()
    return fig
