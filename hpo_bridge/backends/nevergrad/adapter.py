"""Nevergrad optimizers behind ask/tell, through nevergrad's own ``ask`` and ``tell``.

A native nevergrad loop builds a parametrization, seeds it (``param.random_state``), builds
``ng.optimizers.NGOpt(parametrization=param, budget=n, num_workers=k)`` and alternates
``optimizer.ask()`` and ``optimizer.tell(candidate, loss)``. This adapter makes the same calls
on the parametrization of :mod:`hpo_bridge.backends.nevergrad.translate`, seeded with
``numpy.random.RandomState(seed)``, so a seeded run proposes what that loop proposes.

``budget`` and ``num_workers`` are nevergrad's own: NGOpt picks its algorithm from them, so
``minimize`` passes ``max_evals`` and ``n_jobs`` (the backend's ``capabilities.planned``); by
hand, pass them to ``hb.Optimizer`` (default: ``budget=100``, ``minimize``'s default
``max_evals``, since NGOpt cannot choose without a budget for some spaces; ``budget=None`` is
accepted). More pending trials than ``num_workers`` are refused by the
optimizer (some of NGOpt's choices, scipy's COBYLA among them, would wait forever).

Failures and infinities: nevergrad's ``tell`` clips ``+inf``, NaN and anything above ``5e20``
to ``5e20`` (with a warning). A failed trial, ``+inf`` or a loss above ``5e20`` is told
``5e20``; ``-inf`` or a loss below ``-5e20`` is told ``-5e20`` (nevergrad would pass ``-inf``
on to its algorithm). A pruned trial is told its last reported loss (``5e20`` if none). The
records keep what the objective returned.

Several objectives and constraints, natively: every loss is told as a list (nevergrad turns
them into one loss by each candidate's contribution to the hypervolume of its Pareto front,
``HypervolumePareto``, seeded by the optimizer's generator), and the constraints as
``constraint_violation`` when one is violated (positive is violated, our convention), which
nevergrad adds to the loss as its own penalty and keeps out of its archive of bests. A failed trial is told ``5e20`` for
every objective.

Points the optimizer did not propose (``points_to_evaluate``, warm starts, resumed trials) are
given through ``optimizer.suggest`` and the next ``ask``, nevergrad's way to evaluate a point
of one's own choice.

NumPy 2.4 and nevergrad's metamodel: NGOpt's ``MetaModel`` (chosen e.g. for two continuous
parameters with ``num_workers=4``) minimizes its surrogate through
``float(model.predict(x[None, :]))``, a one-element array, which NumPy < 2.4 converted (with a
``DeprecationWarning``, nevergrad issue 1612) and NumPy 2.4 refuses (``TypeError``; the
Powell thread nevergrad left waiting then also kept the interpreter from exiting). Importing
this module gives ``nevergrad.optimization.metamodel`` (that one module) a ``float`` that
converts a one-element array as NumPy < 2.4 did, so the metamodel proposes what it proposes
under the NumPy nevergrad was tested with; nothing else changes.

scipy's COBYLA warning: nevergrad calls ``scipy.optimize.minimize(..., method="COBYLA",
tol=0)``, and scipy >= 1.16 (PRIMA) replaces the invalid ``rhoend`` 0 by its own 1e-6 with a
``UserWarning: COBYLA: Invalid RHOEND ...`` at every (re)start of COBYLA. The adapter's calls
to nevergrad ignore exactly that warning (``warnings.catch_warnings``, the filters being the
process's). COBYLA runs in nevergrad's thread, which (re)starts a minimization only while
computing its next point; so a ``tell`` waits, inside its ``catch_warnings``, until that
thread has answered it (posted its next point, or ended), as the next ``ask`` would: the
warning is always raised while the filter is on, and nothing else is filtered outside those
calls. What is proposed does not change.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import nevergrad as ng
import nevergrad.optimization.metamodel as ng_metamodel
import numpy as np

from hpo_bridge.backends.base import Adapter, RunSetup, Told
from hpo_bridge.backends.nevergrad.translate import (
    from_value,
    parametrization,
    to_value,
)
from hpo_bridge.errors import UnsupportedError
from hpo_bridge.space import Space

#: What nevergrad's ``tell`` clips ``+inf`` and NaN to.
LARGEST = 5.0e20
#: The budget when none is given (``minimize``'s default ``max_evals``): NGOpt cannot choose
#: an algorithm for some spaces (one continuous parameter) without one.
DEFAULT_BUDGET = 100


def _float(value: Any) -> float:
    """``float(value)``, with a one-element array converted as NumPy < 2.4 did."""
    if isinstance(value, np.ndarray) and value.size == 1:
        return float(value.reshape(()))
    return float(value)


def _numpy_24_metamodel() -> None:
    """Give nevergrad's metamodel module :func:`_float` where NumPy 2.4 refuses its
    ``float(model.predict(...))`` (see the module's docstring)."""
    try:
        float(np.zeros(1))
    except TypeError:
        ng_metamodel.float = _float


_numpy_24_metamodel()


#: The message of scipy's warning about nevergrad's ``tol=0`` (see the module's docstring).
COBYLA_RHOEND = r"COBYLA: Invalid RHOEND"


@contextmanager
def _quiet() -> Iterator[None]:
    """Warnings filtered during a call to nevergrad: scipy's COBYLA ``rhoend`` warning; and
    for ``tell``, 5e20 being what we mean (no "clipping" warning), and HypervolumePareto's
    infinite loss for a point worse than its bounds in every objective (by design)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=COBYLA_RHOEND, category=UserWarning)
        warnings.simplefilter("ignore", ng.errors.LossTooLargeWarning)
        warnings.simplefilter("ignore", ng.errors.BadLossWarning)
        yield


def _messaging_threads(optimizer: Any) -> list[Any]:
    """The threads (nevergrad's ``MessagingThread``) of the recast optimizers (scipy's
    COBYLA, SQP ...) in ``optimizer``: itself, NGOpt's choice, a chain's or a portfolio's
    members. Only what is already built is looked at (NGOpt builds its choice lazily)."""
    threads, todo, seen = [], [optimizer], set()
    while todo:
        opt = todo.pop()
        if id(opt) in seen:
            continue
        seen.add(id(opt))
        thread = getattr(opt, "_messaging_thread", None)
        if thread is not None:
            threads.append(thread)
        for value in vars(opt).values():
            todo.extend(v for v in (value if isinstance(value, list) else [value])
                        if isinstance(v, ng.optimizers.base.Optimizer))
    return threads


def _settle(thread: Any) -> None:
    """Wait until ``thread`` has answered every tell: it posts one message (a point, its end
    or its error) first and one after each tell it reads, so it is idle, waiting for a tell,
    when it has posted one more message than it was told (or has ended)."""
    asks, tells = thread.messages_ask, thread.messages_tell
    while thread.is_alive() and asks.unfinished_tasks <= tells.unfinished_tasks:
        with asks.not_empty:  # notified at every post; the timeout also sees the thread end
            asks.not_empty.wait(0.05)


def _told(loss: float | None) -> float:
    if loss is None or math.isnan(loss):
        return LARGEST
    return min(max(float(loss), -LARGEST), LARGEST)


class NevergradAdapter(Adapter):
    """A nevergrad optimizer. Options: ``optimizer`` (a name in ``ng.optimizers.registry``),
    ``budget`` and ``num_workers``."""

    to_native = staticmethod(to_value)

    @classmethod
    def from_native(cls, space: Space, native: Mapping[str, Any]) -> dict[str, Any]:
        return from_value(space, native)

    def __init__(self, space: Space, seed: int | None, optimizer: str = "NGOpt",
                 budget: int | None = DEFAULT_BUDGET, num_workers: int = 1) -> None:
        super().__init__(space, seed)
        self.name = optimizer
        param = parametrization(space)
        if seed is not None:
            param.random_state = np.random.RandomState(seed)
        self.optimizer = ng.optimizers.registry[optimizer](
            parametrization=param, budget=budget, num_workers=num_workers)
        self.num_workers = num_workers
        self.n_objectives = 1
        self._worst: list[float] | None = None  # the worst loss told, each objective

    @classmethod
    def option_names(cls, **_: Any) -> set[str]:
        return {"budget", "num_workers"}

    def ask(self) -> tuple[Any, dict[str, Any]]:
        candidate = self._ask()
        return candidate, from_value(self.space, candidate.value)

    def _ask(self) -> Any:
        try:
            with _quiet():
                return self.optimizer.ask()
        except AssertionError as exc:  # NGOpt asserts when it cannot choose without a budget
            if self.optimizer.budget is None:
                raise UnsupportedError(
                    f"nevergrad:{self.name.lower()}: {self.name} cannot choose an algorithm for "
                    "this space without a budget; pass budget=N to hb.Optimizer (minimize "
                    "passes max_evals)") from exc
            raise

    def ask_fixed(self, point: Mapping[str, Any]) -> Any:
        self.optimizer.suggest(to_value(self.space, point))
        return self._ask()

    def configure(self, setup: RunSetup) -> None:
        self.n_objectives = setup.n_objectives

    def withdraw(self, handle: Any) -> None:
        """nevergrad cannot drop an ask, and its sequential optimizers (those NGOpt picks for
        a small continuous space: COBYLA, SQP through its recaster) wait for its result
        before the next ask, so it is told the worst loss told so far (the largest if
        none): a result no better than any seen, rather than a run that waits forever."""
        worst = self._worst
        self.tell(handle, Told("complete", None if worst is None else tuple(worst)))

    def tell(self, handle: Any, told: Told) -> None:
        """Every loss (a list with several objectives) and, when one is violated, the
        constraints as ``constraint_violation``."""
        losses, constraints = told.losses, told.constraints
        values = ([_told(None)] * self.n_objectives if losses is None
                  else [_told(v) for v in losses])
        if losses is not None and told.state == "complete":
            self._worst = values if self._worst is None else [
                max(w, v) for w, v in zip(self._worst, values, strict=True)]
        # Only a violation is told: nevergrad's penalty multiplies the loss by it, and a
        # feasible trial's 0 times an infinite hypervolume loss would be NaN.
        violation = None
        if told.state == "complete" and constraints is not None and any(
                c > 0 for c in constraints):
            violation = [float(c) for c in constraints]
        with _quiet():
            self.optimizer.tell(handle, values if len(values) > 1 else values[0],
                                constraint_violation=violation)
            for thread in _messaging_threads(self.optimizer):
                _settle(thread)
