"""The hook protocol: what storage and pruning are built on, open to any hook."""

from __future__ import annotations

import pickle

import pytest

import hpo_bridge as hb
from hpo_bridge.hooks import Hook

SPACE = {"x": hb.uniform(0.0, 1.0)}


class StopAtTwo(Hook):
    """Stops every trial at step 2; records what it sees."""

    wants_reports = True

    def __init__(self) -> None:
        self.seen: list[tuple[str, int, object]] = []

    def on_report(self, opt, trial, value, step) -> bool:
        self.seen.append(("report", trial.trial_id, step))
        return step >= 2

    def on_tell(self, opt, record, handle) -> None:
        self.seen.append(("tell", record.trial_id, record.state))

    def on_restore(self, opt, records) -> None:
        self.seen.append(("restore", len(records), None))


def test_a_hook_that_wants_reports_can_stop_a_trial_and_sees_its_tell() -> None:
    opt = hb.Optimizer(SPACE, backend="optuna:random", seed=0)
    hook = StopAtTwo()
    opt.add_hook(hook)
    trial = opt.ask()
    trial.report(0.5, 0)
    trial.report(0.4, 1)
    with pytest.raises(hb.TrialPruned):
        trial.report(0.3, 2)
    opt.tell(trial, pruned=True)
    assert hook.seen == [("report", 0, 0), ("report", 0, 1), ("report", 0, 2),
                         ("tell", 0, "pruned")]
    opt.restore([r for r in opt.records])  # e.g. trials finished elsewhere
    assert hook.seen[-1] == ("restore", 1, None)


def test_without_a_hook_that_wants_reports_a_trial_reports_only_to_itself() -> None:
    opt = hb.Optimizer(SPACE, backend="optuna:random", seed=0)
    hook = StopAtTwo()
    hook.wants_reports = False
    opt.add_hook(hook)
    trial = opt.ask()
    for step in range(4):
        trial.report(0.5, step)  # never stopped
    assert trial.intermediate == {0: 0.5, 1: 0.5, 2: 0.5, 3: 0.5}
    assert hook.seen == []
    copy = pickle.loads(pickle.dumps(trial))  # carries nothing of the driver
    copy.report(0.1, 4)
    assert not copy.should_prune()


def test_storage_and_pruning_are_hooks_of_the_optimizer(tmp_path) -> None:
    from hpo_bridge.pruning import PrunerHook, attach_pruner
    from hpo_bridge.storage import StudyHook, attach_storage

    opt = hb.Optimizer(SPACE, backend="hyperopt:tpe", seed=0)
    store = attach_storage(opt, str(tmp_path / "s.db"), "s")
    pruner = attach_pruner(opt, "median")
    assert [type(h) for h in opt.hooks] == [StudyHook, PrunerHook]
    assert opt.hooks == [store, pruner]
    store.close(opt)
