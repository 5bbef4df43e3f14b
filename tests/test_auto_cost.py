"""backend="auto", aware of cost (issue 27 item 2): a GP whose proposals take longer than the
objective hands over to TPE. Every time here comes from a fake clock: nothing depends on how
fast this machine is."""

from __future__ import annotations

import pytest
from optuna.trial import TrialState

import hpo_bridge as hb
from hpo_bridge.backends import auto, cost
from hpo_bridge.backends.cost import CostMonitor, is_checkpoint

SPACE = {"x": hb.uniform(-2.0, 2.0), "y": hb.uniform(-2.0, 2.0), "z": hb.uniform(-1.0, 1.0),
         "w": hb.integer(-1, 1)}  # 4-D, numeric with an integer: the rule gives optuna:gp


class FakeClock:
    """Each read advances ``step`` seconds (an ask reads twice, a tell twice: a proposal costs
    two steps, the objective one); ``sleep`` is an objective's own time."""

    def __init__(self, step: float) -> None:
        self.now, self.step, self.reads = 0.0, step, 0

    def __call__(self) -> float:
        self.now += self.step
        self.reads += 1
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    clock = FakeClock(0.010)
    monkeypatch.setattr(auto, "clock", clock)
    return clock


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machinery on a cheap stand-in: random search chosen and watched as a GP is, so
    that a test does not wait for a GP's proposals."""
    monkeypatch.setattr(auto, "choose", lambda f, **b: ([("optuna:random", 0)], "test plan"))
    monkeypatch.setattr(auto, "EXPENSIVE", frozenset({"optuna:random"}))


def _objective(clock: FakeClock, seconds: float = 0.0):
    def objective(c: dict) -> float:
        clock.sleep(seconds)
        return (c["x"] - 0.5) ** 2 + c["y"] ** 2 + c["z"] ** 2 + c["w"] ** 2
    return objective


def _run(objective, max_evals: int, **kw) -> hb.Result:
    kw.setdefault("cost", "measured")  # seeded: the monitor only when asked for
    return hb.minimize(objective, SPACE, backend="auto", max_evals=max_evals, seed=3,
                       progress=False, **kw)


def tpe_finished_at_first_sample(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Finished trials in TPE's study each time it samples (Optuna's public sampler API)."""
    import optuna

    seen: list[int] = []
    original = optuna.samplers.TPESampler.sample_relative

    def spy(self, study, trial, search_space):
        seen.append(len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))))
        return original(self, study, trial, search_space)
    monkeypatch.setattr(optuna.samplers.TPESampler, "sample_relative", spy)
    return seen


def test_the_rule_reads_medians_at_checkpoints_only() -> None:
    assert [n for n in range(500) if is_checkpoint(n)] == [15, 30, 60, 120, 240, 480]
    m = CostMonitor()
    for _ in range(cost.WINDOW - 1):
        m.finished(proposal_s=0.040, objective_s=0.002)
    assert m.decide(15) is None                       # fewer than WINDOW trials measured
    m.finished(proposal_s=5.0, objective_s=0.002)     # one slow proposal: the median holds
    verdict = m.decide(15)
    assert verdict is not None and str(verdict) == "proposals 40 ms vs objective 2 ms"
    assert m.decide(16) is None and m.decide(29) is None  # not checkpoints
    for _ in range(cost.WINDOW):
        m.finished(proposal_s=0.040, objective_s=0.041)  # the objective costs more: keep
    assert m.decide(30) is None
    two = CostMonitor(n_jobs=2)                        # two workers run objectives meanwhile
    for _ in range(cost.WINDOW):
        two.finished(proposal_s=0.030, objective_s=0.050)
    assert str(two.decide(60)) == "proposals 30 ms vs objective 50 ms / 2 workers"
    two.restart()
    assert two.decide(120) is None                     # a new backend: its own times


def test_a_gp_whose_proposals_dominate_hands_over_to_tpe_told_every_trial(
        fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = tpe_finished_at_first_sample(monkeypatch)
    result = _run(_objective(fake_clock), 16)
    assert result.backend == ("auto(optuna:gp → optuna:tpe at trial 15: proposals 20 ms vs "
                              "objective 10 ms)")
    assert len(result.records) == 16 and seen == [15]  # TPE starts with the GP's 15 trials


def test_before_the_hand_over_auto_runs_what_it_chose(fake_clock: FakeClock, stand_in: None
                                                      ) -> None:
    result = _run(_objective(fake_clock), 20)
    assert result.backend == ("auto(optuna:random → optuna:tpe at trial 15: proposals 20 ms "
                              "vs objective 10 ms)")
    alone = hb.minimize(_objective(fake_clock), SPACE, backend="optuna:random", max_evals=15,
                        seed=3, progress=False)
    assert [r.params for r in alone.records] == [r.params for r in result.records[:15]]


def test_the_same_seed_and_timings_give_the_same_run(fake_clock: FakeClock, stand_in: None
                                                     ) -> None:
    first = _run(_objective(fake_clock), 20)
    again = _run(_objective(fake_clock), 20)
    assert again.backend == first.backend and "at trial 15" in first.backend
    assert [r.params for r in again.records] == [r.params for r in first.records]


def test_an_objective_slower_than_the_proposals_keeps_the_gp(fake_clock: FakeClock,
                                                             stand_in: None) -> None:
    result = _run(_objective(fake_clock, 0.050), 31)  # objective 60 ms, proposals 20 ms
    assert result.backend == "auto(optuna:random)"


def test_cost_ignore_reads_no_clock(fake_clock: FakeClock, stand_in: None) -> None:
    result = _run(_objective(fake_clock), 31, cost="ignore")
    assert result.backend == "auto(optuna:random)" and fake_clock.reads == 0


def test_a_batch_stops_at_the_checkpoint_and_parallel_objectives_count(
        fake_clock: FakeClock, stand_in: None) -> None:
    opt = hb.Optimizer(SPACE, backend="auto", seed=0, cost="measured")
    opt.configure(max_evals=40, n_jobs=3)
    for _ in range(7):  # trials 0-13, asked two at a time, told in order
        for t in opt.ask(2):
            opt.tell(t, t.params["x"] ** 2)
    batch = opt.ask(2)  # trial 14 from the watched backend; the checkpoint; 15 from TPE
    assert [t.trial_id for t in batch] == [14, 15]
    # a batch's ask (10 ms) is shared by its 2 trials; each tell costs 10 ms: 15 ms of
    # proposal per trial. From the ask to its tell, a first trial waits 10 ms, a second
    # 30 ms (the first's tell): median 30 ms over 3 workers, 10 ms per trial. 15 > 10.
    assert opt.adapter.describe() == ("auto(optuna:random → optuna:tpe at trial 15: "
                                      "proposals 15 ms vs objective 30 ms / 3 workers)")


def test_a_bad_cost_is_refused_before_any_trial() -> None:
    calls: list[dict] = []
    with pytest.raises(hb.SpaceError, match="cost must be 'measured'.*or 'ignore'.*got 'off'"):
        hb.minimize(calls.append, SPACE, backend="auto", cost="off", max_evals=3,
                    progress=False)
    assert calls == []
    with pytest.raises(hb.SpaceError, match="backend 'auto' takes cost"):
        hb.minimize(calls.append, SPACE, backend="auto", costs="ignore", max_evals=3,
                    progress=False)



def test_the_suite_scores_auto_per_trial_without_its_cost_monitor(
        fake_clock: FakeClock, stand_in: None) -> None:
    """The suite's objectives stand in for expensive ones and it scores regret per trial: its
    runs of auto ignore the microseconds they take (``cost="ignore"``, shown in the
    settings). Measured, the stand-in would hand over at trial 15."""
    from hpo_bridge.bench.meta import sampler_settings
    from hpo_bridge.bench.runner import backend_options

    options = backend_options("auto")
    assert options == {"cost": "ignore"} and backend_options("optuna:tpe") == {}
    assert sampler_settings("auto", **options)["cost"] == "ignore"
    assert _run(_objective(fake_clock), 16, **options).backend == "auto(optuna:random)"
    assert "at trial 15" in _run(_objective(fake_clock), 16).backend


def test_deterministic_runs_read_no_clock(fake_clock: FakeClock, stand_in: None) -> None:
    """``deterministic=True``, the promise that a seed repeats the run, turns the monitor
    off; asking for both is refused before any trial."""
    result = hb.minimize(_objective(fake_clock), SPACE, backend="auto", max_evals=16,
                         deterministic=True, progress=False)  # no seed: only this turns it off
    assert result.backend == "auto(optuna:random)" and fake_clock.reads == 0
    calls: list[dict] = []
    with pytest.raises(hb.SpaceError, match="cost='measured'.*deterministic=True rules out"):
        hb.minimize(calls.append, SPACE, backend="auto", cost="measured", deterministic=True,
                    max_evals=3, progress=False)
    assert calls == []


def test_the_hand_over_keeps_several_objectives_and_constraints(fake_clock: FakeClock,
                                                                 stand_in: None) -> None:
    """TPE takes what the GP took: several objectives and constraints, natively."""
    def objective(c: dict) -> dict:
        return {"a": c["x"], "b": -c["x"] + c["y"] ** 2, "constraints": c["y"] - 1.0}

    result = hb.minimize(objective, SPACE, backend="auto", max_evals=18, seed=0,
                         cost="measured", objectives=["a", "b"], progress=False)
    assert "→ optuna:tpe at trial 15" in result.backend and len(result.records) == 18
    front = result.pareto_front()
    assert len(front) and all(r.feasible for r in result.records
                              if r.trial_id in set(front["trial_id"]))


def test_a_seed_keeps_the_rule_alone_unless_the_monitor_is_asked_for(
        fake_clock: FakeClock, stand_in: None) -> None:
    """A seed promises a run that repeats on any machine: by default, no clock decides it."""
    seeded = hb.minimize(_objective(fake_clock), SPACE, backend="auto", max_evals=20, seed=3,
                         progress=False)
    assert seeded.backend == "auto(optuna:random)" and fake_clock.reads == 0
    unseeded = hb.minimize(_objective(fake_clock), SPACE, backend="auto", max_evals=20,
                           progress=False)
    assert "→ optuna:tpe at trial 15" in unseeded.backend and fake_clock.reads > 0


def test_an_option_of_another_backend_says_what_auto_is() -> None:
    """The registry's description of ``auto`` reads right in the option error (it said
    "from one of the above", the backends table's wording)."""
    with pytest.raises(hb.SpaceError) as info:
        hb.minimize(lambda c: 0.0, SPACE, backend="auto", n_startup_trials=3, max_evals=3,
                    progress=False)
    assert "backend 'auto' takes cost (from hpo_bridge.backends.auto, which picks a " \
           "built-in backend and its options by the space" in str(info.value)
    assert "above" not in str(info.value)
