"""Drive ``hyperopt.{tpe,rand,anneal}.suggest`` one ask at a time, as ``fmin`` does.

hyperopt has no ask/tell. ``fmin`` keeps a ``Trials`` object of documents and, per trial,
calls ``algo(new_ids, domain, trials, rstate.integers(2**31 - 1))``, inserts the new document,
evaluates it and marks it done. This adapter does exactly that, split into ``ask`` and
``tell``, so a seeded run proposes what ``fmin(..., rstate=np.random.default_rng(seed))``
proposes. Pending documents stay in ``JOB_STATE_NEW`` and are handled by hyperopt's own policy;
failed trials get ``status: fail``; pruned trials are told their last reported loss.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from hyperopt import JOB_STATE_DONE, STATUS_FAIL, STATUS_OK, Domain, Trials, anneal, rand, tpe

from hpo_bridge.backends.base import Adapter, Told, keyword_names
from hpo_bridge.backends.hyperopt.translate import from_vals, to_hp, to_vals
from hpo_bridge.space import Space

#: A hyperopt trial document: the handle of a pending trial (told by updating it in place).
Doc = dict[str, Any]

_ALGOS = {"tpe": tpe.suggest, "random": rand.suggest, "anneal": anneal.suggest}


def _never_called(_: Any) -> float:
    raise RuntimeError("hpo_bridge evaluates trials itself")


class HyperoptAdapter(Adapter):
    """hyperopt's ``algo`` behind ask/tell. Options: ``algo`` and the algorithm's kwargs."""

    def __init__(self, space: Space, seed: int | None, algo: str = "tpe", **algo_kwargs: Any):
        super().__init__(space, seed)
        suggest = _ALGOS[algo]
        self._algo = functools.partial(suggest, **algo_kwargs) if algo_kwargs else suggest
        param = inspect.signature(suggest).parameters.get("n_startup_jobs")
        self._startup = 0 if param is None else int(algo_kwargs.get("n_startup_jobs",
                                                                     param.default))
        self._rstate = np.random.default_rng(seed)
        self._domain = Domain(_never_called, to_hp(space))
        self.trials = Trials()

    to_native = staticmethod(to_vals)

    @classmethod
    def from_native(cls, space: Space, native: Mapping[str, list[Any]]) -> dict[str, Any]:
        return from_vals(space, native)

    @classmethod
    def option_names(cls, algo: str = "tpe", **_: Any) -> set[str]:
        # anneal.suggest passes its keywords on to AnnealingAlgo.
        target = anneal.AnnealingAlgo.__init__ if algo == "anneal" else _ALGOS[algo]
        return keyword_names(target, skip=("new_ids", "domain", "trials", "seed"))

    def ask(self) -> tuple[Doc, dict[str, Any]]:
        trials = self.trials
        new_ids = trials.new_trial_ids(1)
        trials.refresh()
        docs = self._algo(new_ids, self._domain, trials, self._rstate.integers(2**31 - 1))
        trials.insert_trial_docs(docs)
        trials.refresh()
        doc: Doc = trials.trials[-1]
        return doc, from_vals(self.space, doc["misc"]["vals"])

    def _doc(self, tid: int, point: Mapping[str, Any], result: dict[str, Any]) -> Doc:
        vals = to_vals(self.space, point)
        idxs = {label: [tid] if v else [] for label, v in vals.items()}
        misc = {"tid": tid, "cmd": ("domain_attachment", "FMinIter_Domain"), "workdir": None,
                "idxs": idxs, "vals": vals}
        doc: Doc = self.trials.new_trial_docs([tid], [None], [result], [misc])[0]
        return doc

    def ask_fixed(self, point: Mapping[str, Any]) -> Doc:
        trials = self.trials
        (tid,) = trials.new_trial_ids(1)
        trials.insert_trial_docs([self._doc(tid, point, {"status": "new"})])
        trials.refresh()
        doc: Doc = trials.trials[-1]
        return doc

    def tell_many(self, trials: Sequence[tuple[Mapping[str, Any], Told]]) -> None:
        """Trials run elsewhere, inserted as finished documents with one ``refresh`` (what
        ``ask_fixed`` and ``tell`` each would give, without a refresh per trial: ParEGO
        tells the whole history before every proposal)."""
        if not trials:
            return
        tids = self.trials.new_trial_ids(len(trials))
        docs = []
        for tid, (point, told) in zip(tids, trials, strict=True):
            doc = self._doc(tid, point, _result(told.loss))
            doc["state"] = JOB_STATE_DONE
            docs.append(doc)
        self.trials.insert_trial_docs(docs)
        self.trials.refresh()

    @property
    def startup(self) -> int:
        """TPE's ``n_startup_jobs`` (0 for ``random`` and ``anneal``)."""
        return self._startup

    def withdraw(self, handle: Doc) -> None:
        """The document taken out of the trials: TPE gives every document without a loss
        (a pending one) an infinite loss, so it would count as a bad result."""
        self.trials._dynamic_trials.remove(handle)
        self.trials.refresh()

    def tell(self, handle: Doc, told: Told) -> None:
        handle["state"] = JOB_STATE_DONE
        handle["result"] = _result(told.loss)
        self.trials.refresh()


def _result(loss: float | None) -> dict[str, Any]:
    return {"status": STATUS_FAIL} if loss is None else {"loss": float(loss), "status": STATUS_OK}
