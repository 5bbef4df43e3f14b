"""scikit-optimize behind ask/tell, built exactly as its minimizers build ``skopt.Optimizer``.

``gp_minimize``, ``forest_minimize`` and ``dummy_minimize`` are loops of ``Optimizer.ask`` and
``Optimizer.tell`` around an optimizer made in ``base_minimize``; this adapter makes the same
optimizer from the same seed, so a seeded run proposes what the native call proposes.
``skopt:random`` samples ``Space.rvs`` with the generator ``dummy_minimize`` would use (its own
estimator is broken on scikit-learn >= 1.6).

skopt cannot be told a failure, nor an infinite or near-overflow loss. Policy: a failed trial,
a loss of ``+inf`` or above ``1e150`` is told the worst loss told so far, ``-inf`` or a loss
below ``-1e150`` the best one (each deferred until one ordinary loss has been told), so the model
learns to avoid (or favour) the region without crashing; a pruned trial is told its last
reported loss (the worst loss if it reported none). The records keep what the objective
returned.

Pending trials: ``ask(n)`` uses skopt's own ``ask(n_points, strategy="cl_min")``; once a model
proposes, a single ask while others are pending (the first one after a tell too) asks a copy
of the optimizer told the pending points at the lowest loss seen: skopt's constant liar, as
its ``ask(n_points)`` applies it to every point after a batch's first. (A plain ``ask`` would
return the model's next point, blind to what is still running.)

Fits: skopt's ``tell`` fits the model and searches the acquisition for the next point (0.1-0.3
s with ``gp``, the whole cost of a proposal). A told trial is queued and skopt is told at the
next ask (or any read of ``optimizer``): a serial run makes the calls ``gp_minimize`` makes, in
its order; trials that finish together are told in one ``tell(xs, ys)``, one fit instead of
one each, and the last trial of a run costs none. A proposal made while others are pending
costs one fit, the constant liar's (the queued trials go into it; skopt itself is told them at
the next ask without pending points), so a pooled run makes one fit per proposal: see
docs/running.md "Parallel and distributed trials" for what that bounds.

Threads: every ask and tell runs BLAS/OpenMP in one thread (``threadpoolctl``), so a seeded run
is the same on any machine whatever its thread settings (``gp_minimize`` itself is not: its
proposals change with ``OMP_NUM_THREADS``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar, cast

import numpy as np
from sklearn.utils import check_random_state
from skopt import Optimizer
from skopt.space import Space as SkSpace
from skopt.utils import cook_estimator, normalize_dimensions
from threadpoolctl import ThreadpoolController

from hpo_bridge.backends.base import Adapter, Told, keyword_names
from hpo_bridge.backends.skopt.translate import dimensions, from_x, to_x
from hpo_bridge.errors import UnsupportedError
from hpo_bridge.space import Choice, Space

_INT32 = np.iinfo(np.int32).max
#: Most memory the candidates of one ask may take (see ``_check_memory``).
_CANDIDATES_BYTES = 256 * 2**20
#: Larger losses are told as the worst loss seen: squares and sums of n such values stay finite.
_LARGEST = 1e150
# The BLAS and OpenMP libraries numpy, scipy and scikit-learn loaded. The GP's fit and the
# acquisition's predictions run in one thread: a seeded run then proposes the same points
# whatever OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS say (sums in another order
# change the last bits of the GP's kernel fit, and later proposals with them).
_THREADS = ThreadpoolController()


_P = ParamSpec("_P")
_R = TypeVar("_R")
#: A point as skopt asks and is told it: one value per dimension.
Point = list[Any]


def _one_thread(method: Callable[_P, _R]) -> Callable[_P, _R]:
    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with _THREADS.limit(limits=1):
            return method(*args, **kwargs)
    return wrapper


ACQ_OPTIMIZER_KWARGS = {"n_points": 10000, "n_restarts_optimizer": 5, "n_jobs": 1}
_XI_KAPPA = {"xi": 0.01, "kappa": 1.96}


def _gp_optimizer(dims: list[Any], seed: int | None, **kw: Any) -> Optimizer:
    # As gp_minimize: normalized space, GP cooked with the first draw of the seeded generator.
    rng = check_random_state(seed)
    space = normalize_dimensions(dims)
    estimator = cook_estimator("GP", space=space, random_state=rng.randint(0, _INT32),
                               noise=kw.pop("noise", "gaussian"))
    args = dict(n_initial_points=10, initial_point_generator="random", n_jobs=1,
                acq_func="gp_hedge", acq_optimizer="auto", random_state=rng,
                acq_optimizer_kwargs=dict(ACQ_OPTIMIZER_KWARGS), acq_func_kwargs=dict(_XI_KAPPA))
    return Optimizer(space, estimator, **{**args, **kw})


def _forest_optimizer(dims: list[Any], seed: int | None, estimator: str, **kw: Any) -> Optimizer:
    # As forest_minimize -> base_minimize.
    args = dict(n_initial_points=10, initial_point_generator="random", n_jobs=1,
                acq_func="EI", acq_optimizer="sampling", random_state=seed,
                acq_optimizer_kwargs=dict(ACQ_OPTIMIZER_KWARGS), acq_func_kwargs=dict(_XI_KAPPA))
    return Optimizer(dims, estimator, **{**args, **kw})


class _RandomOptimizer:
    """What ``dummy_minimize`` does: ``Space.rvs`` on the optimizer's seeded generator."""

    def __init__(self, dims: list[Any], seed: int | None) -> None:
        self.space = SkSpace(dims)
        self.rng = check_random_state(seed)
        self.rng.randint(0, _INT32)  # Optimizer spends one draw cooking its estimator
        self.Xi: list[Point] = []
        self.yi: list[float] = []

    def ask(self, n_points: int | None = None, strategy: str = "cl_min") -> Any:
        if n_points is None:
            return self.space.rvs(random_state=self.rng)[0]
        return [self.space.rvs(random_state=self.rng)[0] for _ in range(n_points)]

    def tell(self, x: Point, y: float) -> None:
        self.Xi.append(x)
        self.yi.append(y)


def _check_memory(space: Space, kw: dict[str, Any], backend: str) -> None:
    """Refuse a space whose one-hot candidates would not fit in memory, before any trial.

    Each model-based ask scores ``n_points`` candidates in skopt's transformed space, where a
    choice of ``n > 2`` options is ``n`` one-hot columns: a choice of 100,000 options made
    ``skopt:rf`` allocate 7.45 GiB, then crash. An index would be cheap, but it would give
    the model an order among the options that is not there.
    """
    n_points = (kw.get("acq_optimizer_kwargs") or {}).get("n_points", ACQ_OPTIMIZER_KWARGS["n_points"])
    widths = {d.name: len(d.param.options) if isinstance(d.param, Choice)
              and len(d.param.options) > 2 else 1 for d in space.dims}
    size = n_points * sum(widths.values()) * 8
    if size <= _CANDIDATES_BYTES:
        return
    name = max(widths, key=lambda n: widths[n])
    raise UnsupportedError(
        f"{backend}: parameter {name!r} is a choice of {widths[name]} options, which skopt "
        f"one-hot encodes: scoring {n_points} candidates per ask would take "
        f"{size / 2**30:.1f} GiB (limit {_CANDIDATES_BYTES / 2**20:.0f} MiB). Use a backend "
        "that samples a choice as a category (optuna:tpe, hyperopt:tpe, optuna:random), "
        "hb.integer(0, n - 1) as an index if the options have an order, or fewer candidates "
        "(acq_optimizer_kwargs={'n_points': ...})"
    )


class SkoptAdapter(Adapter):
    """An skopt optimizer. Options: ``estimator`` (GP, RF, ET, random), Optimizer kwargs, and
    ``batch_asks=True``: propose as ``BayesSearchCV`` does (``Optimizer.ask(n_points=1)``)."""

    def __init__(self, space: Space, seed: int | None, estimator: str = "GP", **kw: Any):
        super().__init__(space, seed)
        if estimator != "random":
            _check_memory(space, kw, f"skopt:{estimator.lower()}")
        dims = dimensions(space)
        # BayesSearchCV's asking: each proposal from ``Optimizer.ask(n_points=1)``, i.e. from a
        # copy of the optimizer seeded by a draw of its generator (gp_minimize calls ``ask()``).
        self._batch_asks = bool(kw.pop("batch_asks", False))
        # What the optimizer was given (it keeps only a private, cooked copy): for the liar.
        self._initial_points = kw.get("initial_point_generator", "random")
        self._native_opt: Optimizer | _RandomOptimizer
        if estimator == "GP":
            self._native_opt = _gp_optimizer(dims, seed, **kw)
        elif estimator == "random":
            self._native_opt = _RandomOptimizer(dims, seed)
        else:
            self._native_opt = _forest_optimizer(dims, seed, estimator, **kw)
        self._pending: list[Point] = []
        self._deferred: list[tuple[Point, str]] = []  # (point, stand-in) before a first loss
        #: Told, not yet passed to skopt: its ``tell`` fits the model (the costly part of a
        #: proposal), so trials told one after the other before the next ask are told in one
        #: ``tell(xs, ys)``: one fit (see ``_flush``).
        self._told_queue: list[tuple[Point, float]] = []

    @property
    def optimizer(self) -> Any:
        """skopt's ``Optimizer`` (``_RandomOptimizer`` for ``skopt:random``), told every trial
        told so far."""
        self._flush()
        return self._native_opt

    @_one_thread
    def _flush(self, fit: bool = True) -> None:
        """Tell skopt the trials told since the last ask, in one call (one model fit).

        A serial run tells one trial before each ask: the same ``tell(x, y)`` ``gp_minimize``
        makes, at the same point of the generator's stream, so its proposals are unchanged.
        Several trials told before one ask (a pooled run, where they finish together) cost one
        fit instead of one each; the last trial of a run costs none."""
        if not self._told_queue:
            return
        queue, self._told_queue = self._told_queue, []
        opt = self._native_opt
        if isinstance(opt, _RandomOptimizer):
            for x, y in queue:
                opt.tell(x, y)
        elif len(queue) == 1:
            opt.tell(queue[0][0], queue[0][1], fit=fit)
        else:
            opt.tell([x for x, _ in queue], [y for _, y in queue], fit=fit)

    to_native = staticmethod(to_x)

    @classmethod
    def from_native(cls, space: Space, native: Sequence[Any]) -> dict[str, Any]:
        return from_x(space, native)

    @classmethod
    def option_names(cls, estimator: str = "GP", **_: Any) -> set[str]:
        if estimator == "random":  # dummy_minimize has nothing to tune
            return set()
        names = keyword_names(Optimizer, skip=("dimensions", "base_estimator", "random_state"))
        names |= {"batch_asks"}  # ours: ask as BayesSearchCV does (see __init__)
        return names | {"noise"} if estimator == "GP" else names

    def _native(self, x: Any) -> Point:
        return [v.item() if hasattr(v, "item") else v for v in x]

    @_one_thread
    def ask(self) -> tuple[Point, dict[str, Any]]:
        if self._pending and self._modelled():
            x = self._ask_with_lies()  # every pending point weighs on a model's proposal
        elif self._batch_asks and not self._pending:
            x = self._native(self.optimizer.ask(n_points=1)[0])
        else:
            x = self._native(self.optimizer.ask())
            if x in self._pending and self.optimizer.yi and \
                    not isinstance(self._native_opt, _RandomOptimizer):
                x = self._ask_with_lies()  # a start-up draw already pending
        self._pending.append(x)
        return x, from_x(self.space, x)

    def _modelled(self) -> bool:
        """Whether skopt's next proposal comes from its model: it has been told (or has
        queued) its ``n_initial_points``."""
        opt = self._native_opt
        return not isinstance(opt, _RandomOptimizer) and opt.base_estimator_ is not None \
            and len(opt.Xi) + len(self._told_queue) >= max(opt.n_initial_points_, 1)

    def _ask_with_lies(self) -> Point:
        """skopt's constant liar (``ask(n_points, "cl_min")``) for points asked one at a time:
        a copy of the optimizer told the history and every pending point at the lowest loss
        told, asked once. What ``Optimizer.copy`` builds, told in one call: one model fit per
        ask instead of copy's two (its own refit, then the lies); the queued tells go in that
        one fit too (skopt is told them at the next ask without pending points)."""
        opt = cast(Optimizer, self._native_opt)  # a random search has no model to lie to
        liar = Optimizer(
            opt.space.dimensions, opt.base_estimator_, n_initial_points=opt.n_initial_points_,
            initial_point_generator=self._initial_points, acq_func=opt.acq_func,
            acq_optimizer=opt.acq_optimizer, acq_func_kwargs=opt.acq_func_kwargs,
            acq_optimizer_kwargs=opt.acq_optimizer_kwargs, random_state=opt.rng,
        )
        xs = list(opt.Xi) + [x for x, _ in self._told_queue]
        ys = list(opt.yi) + [y for _, y in self._told_queue]
        lie = min(ys)
        liar.tell(xs + list(self._pending), ys + [lie] * len(self._pending))
        return self._native(liar.ask())

    @_one_thread
    def ask_batch(self, n: int) -> list[tuple[Point, dict[str, Any]]]:
        if self._pending or n == 1:
            return super().ask_batch(n)
        xs = [self._native(x) for x in self.optimizer.ask(n_points=n, strategy="cl_min")]
        self._pending.extend(xs)
        return [(x, from_x(self.space, x)) for x in xs]

    def ask_fixed(self, point: Mapping[str, Any]) -> Point:
        x = to_x(self.space, point)
        self._pending.append(x)
        return x

    @property
    def startup(self) -> int:
        """The optimizer's ``n_initial_points`` (0 for ``skopt:random``)."""
        opt = self._native_opt
        return 0 if isinstance(opt, _RandomOptimizer) else int(opt.n_initial_points_)

    def withdraw(self, handle: Point) -> None:
        """No longer pending: the next asks lie about it no more."""
        if handle in self._pending:
            self._pending.remove(handle)

    def tell(self, handle: Point, told: Told) -> None:
        """Queued: skopt is told at the next ask (``_flush``), with the stand-ins of the
        policy above computed now, over every loss told so far."""
        if handle in self._pending:
            self._pending.remove(handle)
        value = told.loss
        stand_in = _stand_in(value)
        if stand_in is None:
            self._told_queue.append((handle, float(cast(float, value))))
        elif self._told_losses():
            self._told_queue.append((handle, self._told(stand_in)))
            return
        else:
            self._deferred.append((handle, stand_in))
            return
        for x, kind in self._deferred:
            self._told_queue.append((x, self._told(kind)))
        self._deferred.clear()

    @_one_thread
    def tell_many(self, trials: Sequence[tuple[Mapping[str, Any], Told]]) -> None:
        """Trials run elsewhere, told in one ``Optimizer.tell``: one model fit, not one each.

        Stand-ins follow :meth:`tell`'s policy, taken over every loss told (so far and in this
        batch); with no ordinary loss yet, they wait as in :meth:`tell`.
        """
        if len(trials) < 2 or isinstance(self._native_opt, _RandomOptimizer):
            return super().tell_many(trials)
        self._flush(fit=False)  # told with this batch, in its one fit
        xs, ys = [], []
        waiting = list(self._deferred)
        for point, outcome in trials:
            loss = outcome.loss
            kind = _stand_in(loss)
            if kind is None:
                xs.append(to_x(self.space, point))
                ys.append(float(cast(float, loss)))
            else:
                waiting.append((to_x(self.space, point), kind))
        told = list(self.optimizer.yi) + ys
        if not told:
            self._deferred = waiting
            return
        for x, kind in waiting:
            xs.append(x)
            ys.append(max(told) if kind == "worst" else min(told))
        self._deferred = []
        self.optimizer.tell(xs, ys)

    def _told_losses(self) -> list[float]:
        """Every loss told so far: skopt's (``Optimizer`` or ``_Random``) and the queue's."""
        yi: list[float] = self._native_opt.yi
        return yi + [y for _, y in self._told_queue]

    def _told(self, kind: str) -> float:
        yi = self._told_losses()
        return max(yi) if kind == "worst" else min(yi)


def _stand_in(loss: float | None) -> str | None:
    """What the model is told instead of ``loss``: ``None`` (the loss itself), ``"worst"`` or
    ``"best"`` loss told so far. A failure, ``+inf`` or a loss above ``_LARGEST`` is the worst;
    ``-inf`` or a loss below ``-_LARGEST`` the best (sklearn refuses infinities, and the GP's
    ``normalize_y`` overflows to NaN on values near the float limit)."""
    if loss is None or math.isnan(loss):
        return "worst"
    if abs(loss) <= _LARGEST:
        return None
    return "worst" if loss > 0 else "best"
