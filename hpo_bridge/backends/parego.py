"""ParEGO (Knowles 2006) around any single-objective adapter: several objectives and
constraints on libraries that model one loss (hyperopt, scikit-optimize).

Before each proposal the wrapper

1. draws a weight vector ``λ`` at random from the evenly spread vectors on the simplex whose
   components are multiples of ``1/s`` (Knowles: ``s = 10`` for 2 objectives, 11 vectors;
   ``s = 4`` for 3, 15 vectors; we use ``s = 3`` beyond), from a generator seeded by the run's
   seed;
2. normalizes each objective's loss to ``[0, 1]`` by the smallest and largest finite loss of
   the complete feasible trials (``+inf`` is 1, ``-inf`` is 0);
3. scalarizes every finished trial with the augmented Chebyshev function
   ``max_j λ_j f_j + 0.05 Σ_j λ_j f_j`` (at most 1.05);
4. tells an infeasible trial (a constraint ``> 0``) the penalty ``2.05 + v / v_max``
   (``v``: the sum of its positive constraints, ``v_max`` the largest finite such sum; an
   infinite ``v`` is told ``2.05 + 1``): worse than
   every feasible trial, and less bad the nearer it is to feasible (as skopt's failure policy
   tells a failure the worst loss; without a feasible trial yet, the model learns to reduce the
   violation). A failed trial is told as a failure, under the library's own policy;
5. builds the library's optimizer afresh (seeded from the run's seed and the proposal's index,
   so a seeded run is reproducible) and tells it that history with
   :meth:`~hpo_bridge.backends.base.Adapter.tell_many` (one model fit where the library
   can take a batch, as skopt's adapter does), registers the pending trials with ``ask_fixed``
   (so the library's own policy for pending trials applies), then asks it.

With one objective and constraints (``{"value": v, "constraints": c}``) the same steps give a
penalty on those backends: the weight is 1 and the scalar is the normalized loss, monotone in
it. Rebuilding costs one model fit per proposal, what these libraries' own ``tell`` costs.
Constraints are known only when a trial returns them: on such a backend the wrapper is in the
stack from the start, passing through until then (``gated``), and scalarizes from that trial
on; the history is the run's own (the optimizer's), read when a proposal is rebuilt.

Not for libraries that keep a generational state (CMA-ES, differential evolution): rebuilding
them each proposal would restart the search. Such a backend uses its library's own method
where there is one (nevergrad's, ``"native"``) or says ``"refused"`` (``optuna:cmaes``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from hpo_bridge.backends.base import Adapter, Handle, Told
from hpo_bridge.objectives import feasible, violation
from hpo_bridge.results import State
from hpo_bridge.space import Space

__all__ = ["RHO", "ScalarizedAdapter", "scalarize", "weight_vectors"]

#: The augmentation of the Chebyshev function (Knowles: 0.05).
RHO = 0.05
#: The penalty of the least infeasible trial: beyond every feasible scalar (at most 1 + RHO).
PENALTY = 2.0 + RHO
_S = {1: 1, 2: 10, 3: 4}

Finished = tuple[Mapping[str, Any], State, Sequence[float] | None, Sequence[float] | None]


def weight_vectors(n: int) -> np.ndarray:
    """Every vector of ``n`` multiples of ``1/s`` summing to 1 (Knowles's set).

    Example:
        >>> weight_vectors(2).shape, weight_vectors(3).shape
        ((11, 2), (15, 3))
    """
    s = _S.get(n, 3)
    rows = []
    for bars in itertools.combinations(range(s + n - 1), n - 1):
        edges = (-1, *bars, s + n - 1)
        rows.append([(edges[i + 1] - edges[i] - 1) / s for i in range(n)])
    return np.array(rows, dtype=float)


def _normalizer(losses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.zeros(losses.shape[1]), np.ones(losses.shape[1])
    for j in range(losses.shape[1]):
        column = losses[:, j][np.isfinite(losses[:, j])]
        if column.size:
            lo[j], hi[j] = column.min(), column.max()
    return lo, hi


def scalarize(trials: Sequence[Finished], weights: np.ndarray) -> list[float | None]:
    """The loss each finished trial is told under ``weights`` (``None`` for a failure)."""
    usable = [i for i, (_, state, losses, _c) in enumerate(trials)
              if state != "failed" and losses is not None]
    out: list[float | None] = [None] * len(trials)
    if not usable:
        return out
    matrix = np.array([trials[i][2] for i in usable], dtype=float)
    feasible_rows = [k for k, i in enumerate(usable)
                     if trials[i][1] != "complete" or feasible(trials[i][3])]
    lo, hi = _normalizer(matrix[feasible_rows] if feasible_rows else matrix[:0])
    span = np.where(hi > lo, hi - lo, 1.0)
    with np.errstate(invalid="ignore"):
        norm = np.clip((matrix - lo) / span, 0.0, 1.0)
    norm = np.where(np.isnan(norm), 0.0, norm)
    weighted = norm * weights
    scalars = weighted.max(axis=1) + RHO * weighted.sum(axis=1)
    violations = [violation(trials[i][3]) if trials[i][1] == "complete" else 0.0
                  for i in usable]
    worst = max((v for v in violations if math.isfinite(v)), default=0.0)
    for k, i in enumerate(usable):
        v = violations[k]
        if v > 0:  # an infinite violation is the worst one
            out[i] = PENALTY + (1.0 if math.isinf(v) else v / worst)
        else:
            out[i] = float(scalars[k])
    return out


class _Gated:
    """A pending trial's handle while the wrapper passes through (see ``gated``)."""

    __slots__ = ("inner", "token")

    def __init__(self, inner: Handle, token: int) -> None:
        self.inner, self.token = inner, token


class ScalarizedAdapter(Adapter):
    """ParEGO around the adapter ``factory(seed)`` builds; see the module's docstring.

    ``history`` is the run's history of finished trials, ``(point, told)`` each, owned and
    appended by the optimizer before each ``tell`` (the wrapper keeps no copy of it).
    ``gated``: one objective on a backend that takes constraints as a penalty; the wrapper
    passes every call through to ``first`` (so an unconstrained run proposes exactly what the
    library proposes) until the first trial told with constraints, and scalarizes from then
    on, inside the stack: the optimizer's adapter and its pending handles stay the same.
    """

    def __init__(self, space: Space, seed: int | None, *, n_objectives: int,
                 factory: Callable[[int | None], Adapter], first: Adapter,
                 history: Sequence[tuple[Mapping[str, Any], Told]], gated: bool = False
                 ) -> None:
        super().__init__(space, seed)
        self.n_objectives = n_objectives
        self._factory = factory
        self._weights = weight_vectors(n_objectives)
        self._rng = np.random.default_rng(None if seed is None else [seed, 0x9A3E60])
        self._history = history
        self._pending: dict[int, dict[str, Any]] = {}
        self._tokens = itertools.count()
        self._proposals = 0
        #: Whether it scalarizes (else it passes through to ``first``: ``gated``, no
        #: constraints told yet).
        self.active = not gated
        #: The library's adapter of the last proposal (``first`` before any).
        self.inner = first
        #: The weight vector of the last proposal.
        self.weights: np.ndarray | None = None

    def _rebuild(self) -> Adapter:
        k = self._proposals
        self._proposals += 1
        self.weights = self._weights[self._rng.integers(len(self._weights))]
        seed = (None if self.seed is None
                else int(np.random.SeedSequence([self.seed, k]).generate_state(1)[0]))
        inner = self._factory(seed)
        finished = [(point, t.state, t.losses, t.constraints) for point, t in self._history]
        told = scalarize(finished, self.weights)
        inner.tell_many([(point, Told(state, None if loss is None else (loss,)))
                         for (point, state, _, _), loss in zip(finished, told, strict=True)])
        for point in self._pending.values():
            inner.ask_fixed(point)
        self.inner = inner
        return inner

    def _token(self, point: Mapping[str, Any]) -> int:
        token = next(self._tokens)
        self._pending[token] = dict(point)
        return token

    def ask(self) -> tuple[Handle, dict[str, Any]]:
        if not self.active:
            handle, point = self.inner.ask()
            return _Gated(handle, self._token(point)), point
        _, point = self._rebuild().ask()
        return self._token(point), point

    def ask_batch(self, n: int) -> list[tuple[Handle, dict[str, Any]]]:
        if not self.active:
            return [(_Gated(h, self._token(p)), p) for h, p in self.inner.ask_batch(n)]
        return [(self._token(p), p) for _, p in self._rebuild().ask_batch(n)]

    def ask_fixed(self, point: Mapping[str, Any]) -> Handle:
        if not self.active:
            return _Gated(self.inner.ask_fixed(point), self._token(point))
        return self._token(point)

    def tell(self, handle: Handle, told: Told) -> None:
        if isinstance(handle, _Gated):
            self._pending.pop(handle.token)
            if told.constraints is None and not self.active:
                self.inner.tell(handle.inner, told)
                return
        else:
            self._pending.pop(handle)
        self.active = True  # constraints: scalarized from the next proposal on (the history)

    def tell_many(self, trials: Sequence[tuple[Mapping[str, Any], Told]]) -> None:
        """Trials finished elsewhere: already in the history; passed through while gated."""
        if any(told.constraints is not None for _, told in trials):
            self.active = True
        if not self.active:
            self.inner.tell_many(trials)

    def report(self, handle: Handle, value: float, step: int) -> None:
        if isinstance(handle, _Gated) and not self.active:
            self.inner.report(handle.inner, value, step)

    def withdraw(self, handle: Handle) -> None:
        if isinstance(handle, _Gated):
            self._pending.pop(handle.token)
            if not self.active:
                self.inner.withdraw(handle.inner)
        else:
            self._pending.pop(handle)

    @property
    def startup(self) -> int:
        return self.inner.startup

    @property
    def remaining(self) -> int | None:
        return None if self.active else self.inner.remaining
