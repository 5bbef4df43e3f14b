"""What an :class:`~hpo_bridge.Optimizer` tells the code around it: the hook protocol.

Storage (:mod:`hpo_bridge.storage`) and pruning (:mod:`hpo_bridge.pruning`) are hooks: they see
every ask, intermediate report and tell through these methods and touch the optimizer only
through its public methods. A trial finds its way back to the optimizer through a
:class:`Reporter`, which may be replaced by a picklable client when the trial runs in another
process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from hpo_bridge.optimizer import Optimizer, Trial
    from hpo_bridge.results import TrialRecord

__all__ = ["Hook", "Reporter"]


class Reporter(Protocol):
    """Where ``trial.report`` goes: the driver's optimizer, or a client of it in a worker."""

    def __call__(self, trial: Trial, value: float, step: int) -> bool:
        """Pass on an intermediate value; ``True`` when the trial should stop."""

    def for_worker(self, trial: Trial) -> Reporter | None:
        """What ``trial`` carries when it is pickled to another process (``None``: nothing)."""


class Hook:
    """Sees every ask, report and tell of an :class:`Optimizer` (``opt.add_hook(hook)``).

    Every method is optional; storage and pruning are hooks. A hook touches the optimizer only
    through its public methods.
    """

    #: Whether trials pass their intermediate values to this hook (:meth:`on_report`), from
    #: worker processes too (:meth:`worker_reporter`). A pruner does; storage does not.
    wants_reports: ClassVar[bool] = False

    def before_ask(self, opt: Optimizer) -> None:
        """Before each proposal (e.g. restore trials that finished elsewhere)."""

    def trial_id(self, opt: Optimizer, handle: Any, point: dict[str, Any]) -> int | None:
        """The id of a new trial, if this hook assigns ids (a stored study numbers trials)."""
        return None

    def on_ask(self, opt: Optimizer, trial: Trial, handle: Any) -> None:
        """A new pending trial."""

    def on_schedule(self, opt: Optimizer, trial: Trial) -> None:
        """A multi-fidelity run set the new ``trial``'s budget and configuration id (right
        after :meth:`on_ask`, before it runs)."""

    def on_report(self, opt: Optimizer, trial: Trial, value: float, step: int) -> bool:
        """An intermediate value of a trial (``wants_reports`` hooks only); ``True``: stop it."""
        return False

    def worker_reporter(self, opt: Optimizer, trial: Trial) -> Reporter | None:
        """A picklable stand-in for :meth:`on_report` that ``trial`` carries to a worker."""
        return None

    def on_tell(self, opt: Optimizer, record: TrialRecord, handle: Any) -> None:
        """A finished trial, before the backend is told."""

    def on_restore(self, opt: Optimizer, records: list[TrialRecord]) -> None:
        """Finished trials run elsewhere, added by :meth:`Optimizer.restore`."""

    def on_end(self, opt: Optimizer) -> None:
        """The run ended, whatever stopped it (the run loop calls it once)."""
