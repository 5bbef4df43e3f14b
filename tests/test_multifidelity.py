"""Multi-fidelity (issue 21): hb.fidelity, Hyperband / SHA / ASHA, one proposer per rung."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hpo_bridge as hb
from hpo_bridge.backends.base import Adapter, Told
from hpo_bridge.backends.rungs import RungAdapter
from hpo_bridge.fidelity import hyperband_brackets

SPACE = {"x": hb.uniform(0.0, 1.0)}
#: Every single-objective backend that can run here, but the grids (refused: see below).
PROPOSING = [b.name for b in hb.backends() if b.available and not b.capabilities.finite]
GRIDS = [b.name for b in hb.backends() if b.available and b.capabilities.finite]


def curve(config):
    """A learning curve: the loss falls with the budget, towards (x - 0.3) ** 2."""
    return (config["x"] - 0.3) ** 2 + 1.0 / config["epochs"]


def run(objective=curve, **kwargs):
    kwargs.setdefault("backend", "optuna:random")
    kwargs.setdefault("seed", 0)
    kwargs.setdefault("progress", False)
    kwargs.setdefault("space", SPACE)
    space = kwargs.pop("space")
    return hb.minimize(objective, space, **kwargs)


def budgets(result):
    return [r.budget for r in sorted(result.records, key=lambda r: r.trial_id)]


# -- hb.fidelity ----------------------------------------------------------------------------
def test_fidelity_is_frozen_with_a_repr_like_the_call():
    f = hb.fidelity("epochs", 1, 81, eta=3)
    assert repr(f) == "fidelity('epochs', 1, 81, eta=3)"
    assert f.rungs == (1, 3, 9, 27, 81) and all(type(b) is int for b in f.rungs)
    assert hb.fidelity("frac", 0.1, 1.0, eta=2).rungs == pytest.approx((0.125, 0.25, 0.5, 1.0))
    assert all(type(b) is float for b in hb.fidelity("frac", 0.1, 1.0).rungs)
    with pytest.raises(AttributeError):
        f.high = 3  # type: ignore[misc]


@pytest.mark.parametrize("args, words", [
    (("epochs", 9, 9), ["low must be < high", "low=9", "high=9"]),
    (("epochs", 10, 1), ["low must be < high"]),
    (("epochs", 0, 9), ["low must be > 0"]),
    (("epochs", -1, 9), ["low must be > 0"]),
    (("epochs", 1, 9, 1), ["eta must be an int >= 2", "eta=1"]),
    (("epochs", 1, 9, 2.5), ["eta must be an int >= 2"]),
    (("epochs", 1, float("inf")), ["high must be a finite number"]),
    (("", 1, 9), ["name must be a non-empty string"]),
    (("epochs", 1, 2), ["high / low must be at least eta", "one rung", "lower low or eta"]),
    (("frac", 0.5, 1.0, 3), ["high / low must be at least eta"]),
])
def test_fidelity_refuses_bad_bounds(args, words):
    with pytest.raises(ValueError) as info:
        hb.fidelity(*args)
    for word in words:
        assert word in str(info.value)


@settings(max_examples=25, deadline=None)
@given(low=st.integers(1, 50), factor=st.integers(5, 400), eta=st.integers(2, 5),
       kind=st.sampled_from([np.int64, np.int32, np.uint16]))
def test_fidelity_takes_numpy_integers_as_ints(low, factor, eta, kind):
    """A bound or eta read from an array (``np.int64(1)``) was refused as "not a finite
    number"; it is the same fidelity as the Python ints, with int budgets."""
    high = low * factor
    plain = hb.fidelity("epochs", low, high, eta=eta)
    numpy = hb.fidelity("epochs", kind(low), kind(high), eta=kind(eta))
    assert numpy == plain and repr(numpy) == repr(plain)
    assert numpy.rungs == plain.rungs and all(type(b) is int for b in numpy.rungs)
    assert all(low <= b <= high for b in plain.rungs)
    assert list(plain.rungs) == sorted(set(plain.rungs))  # distinct, increasing


# -- Hyperband's arithmetic, by hand ---------------------------------------------------------
def test_hyperband_brackets_are_li_et_al_table():
    """Li et al. 2018, Table 1 (R = 81, eta = 3): (n_i, r_i) per bracket."""
    f = hb.fidelity("epochs", 1, 81, eta=3)
    table = [[(n, f.rungs[k]) for n, k in b.rungs] for b in hyperband_brackets(f)]
    assert table == [
        [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
        [(34, 3), (11, 9), (3, 27), (1, 81)],
        [(15, 9), (5, 27), (1, 81)],
        [(8, 27), (2, 81)],
        [(5, 81)],
    ]


# 1..9, eta 3: brackets s=2: 9@1, 3@3, 1@9 (27); s=1: ceil(3*3/2)=5@3, 1@9 (24); s=0: 3@9 (27)
HYPERBAND_9 = [1] * 9 + [3] * 3 + [9] + [3] * 5 + [9] + [9] * 3


def test_hyperband_runs_exactly_its_rungs_and_promotes_the_best_third():
    r = run(fidelity=hb.fidelity("epochs", 1, 9, eta=3), max_budget=78)
    assert budgets(r) == HYPERBAND_9
    assert r.budget_spent == 78 and type(r.budget_spent) is int
    rec = sorted(r.records, key=lambda t: t.trial_id)
    first, second, top = rec[:9], rec[9:12], rec[12]
    best3 = sorted(first, key=lambda t: t.value)[:3]
    assert [t.config_id for t in second] == [t.config_id for t in best3]
    assert [t.params["x"] for t in second] == [t.params["x"] for t in best3]
    assert top.config_id == min(second, key=lambda t: t.value).config_id
    # the second bracket starts new configurations at budget 3; the third at 9
    assert len({t.config_id for t in rec[13:18]} | {t.config_id for t in rec[:13]}) == 14
    assert all(t.params["epochs"] == t.budget for t in rec)


def test_sha_repeats_the_most_exploratory_bracket():
    r = run(fidelity=hb.fidelity("epochs", 1, 9, eta=3), max_budget=59, scheduler="sha")
    one = [1] * 9 + [3] * 3 + [9]
    assert budgets(r) == one + one + [1] * 5  # the 6th new one would take 60 > 59
    assert r.budget_spent == 59


def test_the_run_stops_before_an_evaluation_that_would_pass_max_budget():
    r = run(fidelity=hb.fidelity("epochs", 1, 9, eta=3), max_budget=50)
    # 9@1, 3@3, 1@9 = 27; then 3@3 x5 = 42; the next is 1@9: 51 > 50
    assert budgets(r) == HYPERBAND_9[:18]
    assert r.budget_spent == 42 and r.stopped is None


def test_max_evals_and_timeout_still_bound_a_multi_fidelity_run():
    r = run(fidelity=hb.fidelity("epochs", 1, 9, eta=3), max_evals=7)
    assert budgets(r) == [1] * 7
    import time

    def slow(config):
        time.sleep(0.05)
        return curve(config)

    r = run(slow, fidelity=hb.fidelity("epochs", 1, 9, eta=3), timeout=0.01)
    assert len(r.records) == 1 and r.stopped == "timeout"


def test_best_is_the_best_at_the_highest_budget_reached():
    """Here a low budget gives lower losses; best_* is still taken at the top budget."""
    r = run(lambda c: c["x"] * c["epochs"], fidelity=hb.fidelity("epochs", 1, 9, eta=3),
            max_budget=27)
    assert min(t.value for t in r.completed) < r.best_value
    assert r.best_trial.budget == 9 and r.best_params["epochs"] == 9
    curve = r.best_so_far()
    assert curve[-1] == r.best_value and curve[9] > curve[8]  # budget 3 replaces budget 1
    table = r.trials
    assert list(table["budget"]) == [1] * 9 + [3] * 3 + [9]
    assert table["config_id"].tolist()[:9] == list(range(9))
    assert table.columns.tolist()[:7] == ["trial_id", "state", "value", "duration_s", "error",
                                          "budget", "config_id"]


def test_maximize_promotes_the_highest_values():
    r = hb.maximize(lambda c: c["x"] + c["epochs"], SPACE, backend="optuna:random", seed=1,
                    fidelity=hb.fidelity("epochs", 1, 9, eta=3), max_budget=27,
                    progress=False)
    rec = sorted(r.records, key=lambda t: t.trial_id)
    best3 = sorted(rec[:9], key=lambda t: -t.value)[:3]
    assert [t.config_id for t in rec[9:12]] == [t.config_id for t in best3]
    assert r.best_trial is rec[12]


def test_budgets_are_floats_for_float_bounds():
    seen = []
    run(lambda c: seen.append(c["frac"]) or c["x"], fidelity=hb.fidelity("frac", 0.25, 1.0,
        eta=2), max_budget=3.0)
    assert seen and all(type(b) is float for b in seen) and set(seen) <= {0.25, 0.5, 1.0}


# -- a continuing objective -------------------------------------------------------------------
def test_a_continuing_objective_gets_budget_reached_and_its_checkpoint_dir():
    calls = []

    def train(config, trial):
        path = os.path.join(trial.checkpoint_dir, "epochs.txt")
        done = 0
        if trial.budget_reached is not None:
            with open(path) as fh:
                done = int(fh.read())
        calls.append((trial.config_id, trial.budget_reached, done, config["epochs"],
                      trial.checkpoint_dir))
        with open(path, "w") as fh:
            fh.write(str(config["epochs"]))
        return curve(config)

    r = run(train, fidelity=hb.fidelity("epochs", 1, 9, eta=3), max_budget=78)
    last: dict[int, int] = {}
    dirs: dict[int, str] = {}
    for config_id, reached, done, epochs, where in calls:
        assert reached == last.get(config_id) and done == (reached or 0)
        assert dirs.setdefault(config_id, where) == where
        last[config_id] = epochs
    assert len(set(dirs.values())) == len(dirs) == len({t.config_id for t in r.records})
    assert any(reached is not None for _, reached, *_ in calls)
    assert not any(os.path.exists(d) for d in dirs.values())  # removed at the end of the run


def test_an_objective_of_the_config_alone_retrains():
    seen = []
    run(lambda c: seen.append(dict(c)) or curve(c),
        fidelity=hb.fidelity("epochs", 1, 3, eta=3), max_budget=12)
    assert [c["epochs"] for c in seen] == [1, 1, 1, 3, 3, 3]


# -- model-based: one proposer per rung (BOHB's rule) -----------------------------------------
class Recording(Adapter):
    """Proposes 0.1, 0.2, ... and records what it is told."""

    def __init__(self, space, seed, name, startup=0):
        super().__init__(space, seed)
        self.name, self.asked, self.told, self.n = name, [], [], 0
        self.withdrawn, self._startup = [], startup

    @property
    def startup(self):
        return self._startup

    def withdraw(self, handle):
        self.withdrawn.append(handle)

    def ask(self):
        self.n += 1
        point = {"x": round(0.1 * self.n + (0.01 if self.name else 0), 3)}
        handle = (self.name, self.n)
        self.asked.append(handle)
        return handle, point

    def ask_fixed(self, point):
        return ("fixed", dict(point))

    def tell(self, handle, told):
        self.told.append((handle, told.budget))


def test_each_rung_proposer_is_told_only_its_budget_and_asked_by_bohb_rule():
    space = hb.as_space(SPACE)  # d = 1: n_min = 2
    made = {}

    def factory(i, seed, history):
        made[i] = Recording(space, seed, i)
        return made[i]

    stack = RungAdapter(space, 7, budgets=(1, 3), factory=factory)
    assert stack.n_min == {1: 2, 3: 2} and stack.asking == 1
    h = [stack.ask() for _ in range(3)]  # rung 0's proposer
    for (handle, _point), loss in zip(h, (0.3, 0.1, 0.2), strict=True):
        stack.tell(handle, Told("complete", (loss,), budget=1))
    assert [b for _, b in made[0].told] == [1, 1, 1] and made[1].told == []
    fixed = stack.ask_fixed(h[1][1])  # promotion of the second to budget 3
    stack.tell(fixed, Told("complete", (0.05,), budget=3))
    assert made[1].told == [(("fixed", h[1][1]), 3)] and stack.asking == 1  # 1 < n_min
    stack.tell(stack.ask_fixed(h[2][1]), Told("complete", (0.07,), budget=3))
    assert stack.asking == 3  # 2 complete results at budget 3
    handle, point = stack.ask()  # asked of rung 3's proposer, run at budget 1
    assert made[1].asked == [(1, 1)]
    stack.tell(handle, Told("complete", (0.2,), budget=1))
    assert made[0].told[-1] == (("fixed", point), 1)  # budget 1 told it as a history
    assert made[1].withdrawn == [(1, 1)]  # not a trial at budget 3: no longer pending there
    stack.tell(stack.ask_fixed(point), Told("complete", (0.01,), budget=3))
    assert made[1].told[-1] == (("fixed", point), 3)  # promoted: told like any other
    assert [b for _, b in made[0].told] == [1] * 4 and [b for _, b in made[1].told] == [3] * 3
    assert [t.budget for _, t in stack.histories[3]] == [3, 3, 3]
    failed = stack.ask_fixed({"x": 0.5})
    stack.tell(failed, Told("failed", None, budget=3))
    assert stack.complete == {1: 4, 3: 3}
    with pytest.raises(ValueError, match="not a rung"):
        stack.tell(stack.ask_fixed({"x": 0.5}), Told("complete", (1.0,), budget=2))


def test_a_rung_whose_proposer_is_still_in_its_random_startup_does_not_take_over():
    # BOHB's N_min = d + 1 is the fewest points its KDE takes; a backend's model needs its
    # own start-up (TPE 10, hyperopt 20, GP 10): before that, the higher rung's proposer
    # would only draw at random where the lower rung's model is already fitted.
    space = hb.as_space(SPACE)  # d = 1
    made = {}

    def factory(i, seed, history):
        made[i] = Recording(space, seed, i, startup=4)
        return made[i]

    stack = RungAdapter(space, 7, budgets=(1, 3), factory=factory)
    assert stack.n_min == {1: 4, 3: 4}
    for k in range(6):
        stack.tell(stack.ask_fixed({"x": k / 10}), Told("complete", (k,), budget=1))
    for k in range(3):
        stack.tell(stack.ask_fixed({"x": k / 10}), Told("complete", (k,), budget=3))
    assert stack.asking == 1  # 3 results at budget 3: its proposer is still random
    stack.tell(stack.ask_fixed({"x": 0.5}), Told("complete", (0.5,), budget=3))
    assert stack.asking == 3


def test_bohbs_random_fraction_draws_that_share_of_new_configurations_at_random():
    space = hb.as_space(SPACE)
    made = {}

    def factory(i, seed, history):
        made[i] = Recording(space, seed, i)
        return made[i]

    stack = RungAdapter(space, 7, budgets=(1, 3), factory=factory, random_fraction=0.5)
    for _ in range(2):  # no model yet: the proposer's own start, never a random draw
        handle, point = stack.ask()
        stack.tell(handle, Told("complete", (point["x"],), budget=1))
    assert len(made[0].asked) == 2
    for _ in range(200):
        handle, point = stack.ask()
        stack.tell(handle, Told("complete", (point["x"],), budget=1))
    assert 70 <= 200 - (len(made[0].asked) - 2) <= 130  # about half drawn at random
    again = RungAdapter(space, 7, budgets=(1, 3), factory=factory, random_fraction=0.5)
    for _ in range(30):  # seeded: the same draws
        handle, point = again.ask()
        again.tell(handle, Told("complete", (point["x"],), budget=1))
    assert [p for p, _ in again.histories[1]] == [p for p, _ in stack.histories[1][:30]]


class Repeating(Adapter):
    """Proposes the values of ``cycle`` in turn, forever; records what is withdrawn."""

    def __init__(self, space, seed, cycle):
        super().__init__(space, seed)
        self.cycle, self.n, self.withdrawn = cycle, 0, []

    def ask(self):
        self.n += 1
        return self.n, {"x": self.cycle[(self.n - 1) % len(self.cycle)]}

    def ask_fixed(self, point):
        return ("fixed", dict(point))

    def withdraw(self, handle):
        self.withdrawn.append(handle)

    def tell(self, handle, told):
        pass


def test_a_configuration_the_run_has_started_is_not_started_again():
    # On a space of choices a model proposes its favourite again and again (optuna:tpe:
    # 205 distinct rows in 973 new configurations of a gb-breast-cancer run at 150 full
    # evaluations): each repeat spent budget on a result the run had, and a good one was
    # promoted twice. A repeat is withdrawn and replaced by a random configuration not
    # started yet; only a space with nothing new left runs a configuration again.
    space = hb.as_space({"x": hb.choice(list(range(9)))})  # a point holds the index
    made = {}

    def factory(i, seed, history):
        made[i] = Repeating(space, seed, [1, 1, 4, 2])
        return made[i]

    stack = RungAdapter(space, 7, budgets=(1, 3), factory=factory)
    stack.ask_fixed({"x": 4})  # e.g. points_to_evaluate: started, not proposed again
    asked = [stack.ask() for _ in range(3)]
    points = [p["x"] for _, p in asked]
    assert points[0] == 1 and asked[0][0].budget == 1  # the proposer's
    assert made[0].withdrawn == [2, 3]  # its repeats of 1 and 4
    assert [h.budget for h, _ in asked[1:]] == [None, None]  # drawn at random instead
    assert len({4, *points}) == 4
    rest = [stack.ask()[1]["x"] for _ in range(5)]
    assert sorted([4, *points, *rest]) == list(range(9))  # each once
    n, withdrawn = made[0].n, list(made[0].withdrawn)
    handle, point = stack.ask()  # all 9 started: the proposal runs as it is
    assert handle.budget == 1 and made[0].n == n + 1 and made[0].withdrawn == withdrawn


def test_a_model_based_run_on_a_table_of_choices_starts_each_configuration_once():
    space = {"a": hb.choice(list(range(7))), "b": hb.choice(list(range(7)))}

    def table(config):  # a tabulated problem: one value per row and budget
        return (config["a"] - 4) ** 2 + (config["b"] - 2) ** 2 + 3.0 / config["epochs"]

    r = run(table, space=space, backend="optuna:tpe", seed=1,
            fidelity=hb.fidelity("epochs", 1, 9, eta=3), max_budget=9 * 14)
    first = r.trials.drop_duplicates("config_id")
    assert 30 <= len(first) <= 49  # new configurations, fewer than the table's rows
    assert not first.duplicated(["params.a", "params.b"]).any()


def test_without_a_random_fraction_no_random_proposer_is_built(monkeypatch):
    """BOHB's rho at its default (0): every new configuration comes from a rung's proposer,
    and the random-draw proposer (an Optuna RandomSampler) is never built."""
    from hpo_bridge.backends.optuna import adapter as optuna_adapter

    def refuse(*args, **kwargs):
        raise AssertionError("a random proposer was built with random_fraction 0")

    monkeypatch.setattr(optuna_adapter, "OptunaAdapter", refuse)
    space = hb.as_space(SPACE)
    made = {}

    def factory(i, seed, history):
        made[i] = Recording(space, seed, i)
        return made[i]

    stack = RungAdapter(space, 7, budgets=(1, 3), factory=factory)
    for _ in range(20):  # past n_min at budget 1: its model proposes every one
        handle, point = stack.ask()
        stack.tell(handle, Told("complete", (point["x"],), budget=1))
    assert len(made[0].asked) == 20


def _pending(adapter):
    """What the library still holds as pending trials, read where it is public (hyperopt's
    Trials, Optuna's study; behind ParEGO's gate: ``inner``); None: not inspected here."""
    native = adapter.inner if isinstance(getattr(adapter, "inner", None), Adapter) else adapter
    trials = getattr(native, "trials", None)
    if trials is not None and hasattr(trials, "trials"):  # hyperopt
        return [d for d in trials.trials if d["result"].get("status") != "ok"]
    study = getattr(native, "study", None)
    if study is not None:  # optuna
        return [t for t in study.trials if t.state.name == "RUNNING"]
    return None


@pytest.mark.parametrize("backend", PROPOSING)
def test_a_configuration_run_below_its_proposers_budget_is_withdrawn_from_it(backend):
    # A bracket starts at its lowest rung: a configuration proposed by budget 3's proposer
    # runs at budget 1 first. Left pending there, it weighed on that proposer's later
    # proposals (hyperopt's TPE counts a pending trial as infinitely bad, skopt lies about
    # it, Optuna's GP sampler conditions on it). Every backend takes the withdrawal.
    from hpo_bridge.backends.base import RunSetup
    from hpo_bridge.backends.stack import Backend, build_stack

    space = hb.as_space({"x": hb.uniform(0.0, 1.0), "y": hb.uniform(0.0, 1.0)})
    chosen = Backend.checked(backend, {}, hb.minimize)

    def factory(i, seed, history):  # as the stack's: the backend's stack for one rung
        return build_stack(chosen, space, seed, RunSetup(max_evals=40, history=history,
                                                         rung=True))

    stack = RungAdapter(space, 0, budgets=(1, 3), factory=factory, n_min=3)
    for k in range(3):
        handle, point = stack.ask()
        stack.tell(handle, Told("complete", (float(k),), budget=1))
        stack.tell(stack.ask_fixed(point), Told("complete", (k / 2,), budget=3))
    assert stack.asking == 3
    top = stack.proposers[3]
    for k in range(2):
        handle, point = stack.ask()  # asked of budget 3's proposer, run at budget 1
        stack.tell(handle, Told("complete", (0.1 * k,), budget=1))
    stack.tell(stack.ask_fixed(point), Told("complete", (0.2,), budget=3))  # promoted
    assert [t.budget for _, t in stack.histories[3]] == [3] * 4
    pending = _pending(top)
    assert pending in (None, []), pending
    handle, point = stack.ask()  # and it still proposes
    assert set(point) == {"x", "y"}


@pytest.mark.parametrize("backend", PROPOSING)
def test_every_single_objective_backend_runs_under_hyperband(backend):
    # 1..3, eta 3: s=1: 3@1, 1@3; s=0: 2@3 (12), twice: the second cycle asks budget 3's
    # proposer (3 results >= n_min = 2) for configurations run at budget 1 when the backend
    # has no start-up (n_min = max(d + 1, startup)); the higher rung's proposer with each
    # backend: test_a_configuration_run_below_its_proposers_budget_is_withdrawn_from_it.
    r = run(backend=backend, fidelity=hb.fidelity("epochs", 1, 3, eta=3), max_budget=24)
    assert budgets(r) == [1, 1, 1, 3, 3, 3] * 2 and r.budget_spent == 24
    assert all(t.state == "complete" for t in r.records)
    assert r.best_trial.budget == 3


def test_a_seeded_run_repeats_exactly():
    kwargs = dict(backend="optuna:tpe", seed=3, fidelity=hb.fidelity("epochs", 1, 9, eta=3),
                  max_budget=78)
    a, b = run(**kwargs), run(**kwargs)
    key = [(t.trial_id, t.config_id, t.budget, t.params, t.value) for t in a.records]
    assert key == [(t.trial_id, t.config_id, t.budget, t.params, t.value) for t in b.records]
    other = run(**{**kwargs, "seed": 4})
    assert [t.params for t in other.records] != [t.params for t in a.records]


# -- ASHA ---------------------------------------------------------------------------------------
def test_asha_promotes_only_from_the_top_third_of_what_finished():
    r = run(fidelity=hb.fidelity("epochs", 1, 9, eta=3), scheduler="asha", max_budget=60)
    rec = sorted(r.records, key=lambda t: t.trial_id)
    for i, t in enumerate(rec):
        if t.budget == 1:
            continue
        lower = {3: 1, 9: 3}[t.budget]
        done = [u for u in rec[:i] if u.budget == lower]
        top = sorted(done, key=lambda u: (u.value, u.config_id))[: len(done) // 3]
        assert t.config_id in {u.config_id for u in top}
    assert budgets(r)[:3] == [1, 1, 1] and budgets(r)[3] == 3  # 3 finished: the best goes on
    assert 9 in budgets(r) and r.budget_spent <= 60


def slow_curve(config):  # module level: pickled to worker processes
    return (config["x"] - 0.3) ** 2 + 1.0 / config["epochs"]


def test_asha_with_two_workers_completes_within_its_budget():
    r = run(slow_curve, fidelity=hb.fidelity("epochs", 1, 9, eta=3), scheduler="asha",
            max_budget=40, n_jobs=2)
    assert r.budget_spent <= 40 and r.budget_spent > 40 - 9
    assert all(t.state == "complete" for t in r.records)
    assert set(budgets(r)) <= {1, 3, 9} and 3 in budgets(r)


def test_hyperband_with_two_workers_waits_for_each_rung():
    """Synchronous: the same rungs and promotions as serially, whatever finishes first."""
    serial = run(fidelity=hb.fidelity("epochs", 1, 9, eta=3), max_budget=78)
    pooled = run(fidelity=hb.fidelity("epochs", 1, 9, eta=3), max_budget=78, n_jobs=2,
                 executor="threads")
    assert budgets(pooled) == HYPERBAND_9 and pooled.budget_spent == 78

    def books(result):
        return sorted((t.trial_id, t.config_id, t.budget, t.params["x"])
                      for t in result.records)

    assert books(pooled) == books(serial)


def hangs_at_the_top_once(config, trial):  # module level: pickled to worker processes
    if config["epochs"] == 9 and trial.config_id == 0:
        import time

        time.sleep(60)
    return ranked(config, trial)


def test_asha_with_two_workers_a_trial_timeout_and_storage(tmp_path):
    """n_jobs=2 (worker processes), trial_timeout and a stored study, together: the evaluation
    over its time limit is failed (its budget counted), never promoted, and the study holds
    every evaluation's budget."""
    url = str(tmp_path / "mf.log")
    r = run(hangs_at_the_top_once, fidelity=F9, scheduler="asha", max_budget=40, n_jobs=2,
            trial_timeout=2.0, storage=url, study_name="mf", points_to_evaluate=[{"x": 0.3}])
    assert 40 - 9 < r.budget_spent <= 40 and set(budgets(r)) <= {1, 3, 9}
    failed = [t for t in r.records if t.state == "failed"]
    assert [(t.config_id, t.budget) for t in failed] == [(0, 9)] and "timed out" in failed[0].error
    assert all(t.state == "complete" for t in r.records if t not in failed)
    seen = [(t.config_id, t.budget) for t in r.records]
    assert len(seen) == len(set(seen))
    assert books(hb.load(url, "mf")) == books(r)


def test_hyperband_on_a_dask_cluster_runs_the_serial_rungs():
    distributed = pytest.importorskip("distributed")
    serial = run(ranked, fidelity=F9, max_budget=78)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        pooled = run(ranked, fidelity=F9, max_budget=78, n_jobs=2, executor=client)
    assert books(pooled) == books(serial) and pooled.budget_spent == 78


def test_points_to_evaluate_are_the_first_new_configurations():
    r = run(fidelity=hb.fidelity("epochs", 1, 9, eta=3), max_budget=9,
            points_to_evaluate=[{"x": 0.3}, {"x": 0.9}])
    rec = sorted(r.records, key=lambda t: t.trial_id)
    assert [t.params for t in rec[:2]] == [{"x": 0.3, "epochs": 1}, {"x": 0.9, "epochs": 1}]
    assert [t.config_id for t in rec[:2]] == [0, 1]


# -- bad input, before the first evaluation ---------------------------------------------------
def never(config):
    raise AssertionError("no evaluation may run")


F = hb.fidelity("epochs", 1, 81, eta=3)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(fidelity=F, max_budget=80), hb.SpaceError, ["max_budget=80", "below one full",
                                                      "epochs=81"]),
    (dict(fidelity=hb.fidelity("x", 1, 9), max_budget=90), hb.SpaceError,
     ["'x' is also a parameter", "rename"]),
    (dict(fidelity=F, max_budget=810, objectives=["a", "b"]), hb.UnsupportedError,
     ["several objectives"]),
    (dict(fidelity=F, max_budget=810, pruner="median"), hb.SpaceError, ["pass one"]),
    (dict(fidelity=F, max_budget=810, scheduler="bohb"), hb.SpaceError,
     ["scheduler must be one of"]),
    (dict(max_budget=810), hb.SpaceError, ["max_budget= goes with fidelity="]),
    (dict(scheduler="asha", max_evals=5), hb.SpaceError, ["scheduler= goes with fidelity="]),
    (dict(fidelity=F), hb.SpaceError, ["fidelity= needs a budget", "max_budget="]),
    (dict(fidelity=("epochs", 1, 81), max_budget=810), hb.SpaceError,
     ["made by hb.fidelity"]),
    (dict(fidelity=F, max_budget=810, space=[hb.uniform(0, 1)]), hb.SpaceError,
     ["the space must be a dict"]),
    (dict(fidelity=F, max_budget=810, points_to_evaluate=[{"x": 0.3, "epochs": 3}]),
     hb.SpaceError, ["points_to_evaluate", "holds the budget 'epochs'", "leave it out"]),
    # was a ValueError from the rung proposers: "told a trial at budget None"
    (dict(fidelity=F, max_budget=810,
          warm_start=pd.DataFrame({"state": ["complete"], "value": [0.5], "params.x": [0.2]})),
     hb.SpaceError, ["warm_start= with fidelity=", "drop warm_start="]),
])
@pytest.mark.filterwarnings("ignore:pruner. the objective takes only")
def test_bad_input_is_refused_before_the_first_evaluation(kwargs, error, words):
    with pytest.raises(error) as info:
        run(never, **kwargs)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("backend", GRIDS)
def test_a_grid_backend_is_refused(backend):
    with pytest.raises(hb.UnsupportedError, match="enumerates a grid"):
        run(never, backend=backend, space={"x": hb.integer(0, 3)}, fidelity=F,
            max_budget=810)


# -- storage: a resumed study, or another worker, continues the brackets ----------------------
F9 = hb.fidelity("epochs", 1, 9, eta=3)


def ranked(config, trial):
    """A loss fixed by the configuration's id (whatever the backend proposed) and the budget:
    the same promotions under every backend."""
    return (trial.config_id * 7919) % 101 / 100 + 1.0 / config["epochs"]


def books(result):
    return [(t.trial_id, t.config_id, t.budget, t.state)
            for t in sorted(result.records, key=lambda t: t.trial_id)]


@pytest.mark.parametrize("scheduler", ["hyperband", "sha"])
def test_a_resumed_study_continues_its_brackets_under_another_backend(tmp_path, scheduler):
    url = str(tmp_path / "mf.log")
    whole = run(ranked, fidelity=F9, scheduler=scheduler, max_budget=60)
    first = run(ranked, fidelity=F9, scheduler=scheduler, max_budget=14, storage=url,
                study_name="mf")  # 9 at 1, 1 of 3 at 3: it stops inside the second rung
    assert budgets(first) == [1] * 9 + [3]
    resumed = run(ranked, backend="optuna:tpe", fidelity=F9, scheduler=scheduler,
                  max_budget=60, storage=url, study_name="mf")
    assert "resuming study 'mf'" in resumed.resumed
    # The same evaluations, in the same order, as one run that was never stopped: the
    # brackets went on where the first run stopped (mid-rung), not from their start.
    assert books(resumed) == books(whole)
    assert books(resumed)[:len(first.records)] == books(first)
    assert resumed.budget_spent == whole.budget_spent <= 60
    promoted = {t.config_id for t in resumed.records[len(first.records):] if t.budget > 1}
    assert promoted & {t.config_id for t in first.records}  # configurations of the first run
    loaded = hb.load(url, "mf")
    assert books(loaded) == books(whole)
    assert all(t.params["epochs"] == t.budget for t in loaded.records)


def test_max_budget_is_the_study_total(tmp_path):
    url = str(tmp_path / "mf.log")
    first = run(ranked, fidelity=F9, max_budget=60, storage=url, study_name="mf")
    with pytest.warns(UserWarning, match="max_budget=60"):
        again = run(ranked, fidelity=F9, max_budget=60, storage=url, study_name="mf")
    assert books(again) == books(first)  # nothing more was run
    more = run(ranked, fidelity=F9, max_budget=80, storage=url, study_name="mf")
    assert 80 - 9 < more.budget_spent <= 80


def test_a_resumed_asha_study_promotes_the_stored_configurations(tmp_path):
    url = str(tmp_path / "mf.log")
    first = run(ranked, fidelity=F9, scheduler="asha", max_budget=40, storage=url,
                study_name="mf")
    resumed = run(ranked, backend="hyperopt:tpe", fidelity=F9, scheduler="asha",
                  max_budget=70, storage=url, study_name="mf")
    assert 70 - 9 < resumed.budget_spent <= 70
    rec = sorted(resumed.records, key=lambda t: t.trial_id)
    seen = [(t.config_id, t.budget) for t in rec]
    assert len(seen) == len(set(seen))  # no configuration evaluated twice at a budget
    later = rec[len(first.records):]
    assert {t.config_id for t in later if t.budget > 1} & {t.config_id for t in first.records}
    for i, t in enumerate(rec):  # a promotion only of the best 1/eta of what had finished
        if t.budget > 1:
            below = [u for u in rec[:i] if u.budget == t.budget / 3]
            top = sorted(below, key=lambda u: (u.value, u.config_id))[: len(below) // 3]
            assert t.config_id in {u.config_id for u in top}


def test_a_resumed_evaluation_starts_without_a_checkpoint(tmp_path):
    url = str(tmp_path / "mf.log")
    calls = []

    def objective(config, trial):
        calls.append((trial.config_id, trial.budget_reached))
        return ranked(config, trial)

    run(objective, fidelity=F9, max_budget=12, storage=url, study_name="mf")
    assert calls[-1] == (0, 1)  # 9 at 1, then the best (0) at 3, from its checkpoint
    calls.clear()
    run(objective, fidelity=F9, max_budget=15, storage=url, study_name="mf")
    assert calls == [(5, None)]  # its evaluation at 1 ran in the first run: no checkpoint here


@pytest.mark.parametrize("kwargs, stored, words", [
    (dict(fidelity=hb.fidelity("epochs", 1, 27, eta=3)), dict(fidelity=F9),
     ["fidelity=hb.fidelity('epochs', 1, 9, eta=3)", "27", "would not continue"]),
    (dict(fidelity=F9, scheduler="asha"), dict(fidelity=F9), ["scheduler='hyperband'"]),
    (dict(max_evals=5), dict(fidelity=F9), ["stored by a multi-fidelity run",
                                            "pass the same fidelity="]),
    (dict(fidelity=F9), dict(max_evals=3), ["stored without fidelity="]),
])
def test_a_study_is_resumed_only_with_its_fidelity_and_scheduler(tmp_path, kwargs, stored,
                                                                 words):
    url = str(tmp_path / "mf.log")
    run(ranked if "fidelity" in stored else (lambda c: c["x"]), max_budget=20 if stored.get("fidelity")
        else None, storage=url, study_name="mf", **stored)
    with pytest.raises(ValueError) as info:
        run(never, max_budget=40 if kwargs.get("fidelity") else None, storage=url,
            study_name="mf", **kwargs)
    for word in words:
        assert word in str(info.value)
    assert len(hb.load(url, "mf").records) == len(hb.load(url, "mf").records)


_SHARED = """
import os, sys, time
import hpo_bridge as hb

def main(storage, seed, folder):
    mine = []

    def objective(config, trial):
        mine.append(trial.trial_id)
        if len(mine) == 1:  # both workers are in an evaluation before either goes on
            open(os.path.join(folder, f"started-{seed}"), "w").close()
            deadline = time.monotonic() + 120  # a hang guard only
            while not all(os.path.exists(os.path.join(folder, f"started-{i}")) for i in (0, 1)):
                assert time.monotonic() < deadline, "the other worker never started"
                time.sleep(0.01)
        return (trial.config_id * 7919) % 101 / 100 + 1.0 / config["epochs"]

    hb.minimize(objective, {"x": hb.uniform(0.0, 1.0)}, backend="optuna:random", seed=seed,
                fidelity=hb.fidelity("epochs", 1, 9, eta=3), max_budget=78, storage=storage,
                study_name="shared", progress=False)
    print("ran", len(mine))

if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
"""


def test_two_workers_sharing_a_study_run_one_set_of_brackets(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "worker.py"
    script.write_text(_SHARED)
    url = str(tmp_path / "shared.log")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [os.path.dirname(os.path.dirname(hb.__file__)), os.environ.get("PYTHONPATH", "")])}
    procs = [subprocess.Popen([sys.executable, str(script), url, str(i), str(tmp_path)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env) for i in (0, 1)]
    outs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    ran = [int(out.split("ran ")[1]) for out, _ in outs]
    assert min(ran) >= 1
    shared = hb.load(url, "shared")
    whole = run(ranked, fidelity=F9, max_budget=78)
    # One set of brackets across both workers: what one worker alone would have run.
    assert [b[1:] for b in books(shared)] == [b[1:] for b in books(whole)]
    assert sum(ran) == len(whole.records) and shared.budget_spent == whole.budget_spent


def test_the_readme_example_runs_as_written(capsys):
    """docs/multi-fidelity.md: its first code block, run; it continues from its checkpoints."""
    import pathlib

    page = (pathlib.Path(__file__).parents[1] / "docs" / "multi-fidelity.md").read_text()
    code = page[page.index("```python\n") + len("```python\n"):]
    code = code[:code.index("```\n")]
    namespace: dict = {}
    exec(compile(code, "docs/multi-fidelity.md", "exec"), namespace)
    r = namespace["r"]
    assert 81 * 10 - 81 < r.budget_spent <= 81 * 10
    assert r.best_trial.budget == 81 and r.best_params["epochs"] == 81
    assert set(r.trials["budget"]) == {1, 3, 9, 27, 81}
    assert "config_id" in capsys.readouterr().out


def test_the_progress_bar_shows_the_best_at_the_highest_budget_reached():
    from hpo_bridge.loop import RunBooks, run_serial
    from hpo_bridge.schedulers import make_scheduler

    f = hb.fidelity("epochs", 1, 9, eta=3)
    opt = hb.Optimizer(SPACE, backend="optuna:random", seed=0)
    opt.configure(budgets=f.rungs)
    books = RunBooks(lambda c: c["x"] * c["epochs"], opt, max_evals=None, timeout=None,
                     points=[], n_jobs=1, executor=None, catch=(Exception,), progress=False,
                     scheduler=make_scheduler("hyperband", f), max_budget=27)
    shown = []

    class Bar:
        def update(self, best, state):
            shown.append(best)

    run_serial(books, Bar())
    result = books.result()
    assert len(shown) == 13 and shown[-1] == result.best_value
    assert shown[9] > shown[8]  # the first value at budget 3 is shown, worse or not


class OneAtATime(Adapter):
    def ask(self):
        return None, {"x": 0.5}

    def ask_fixed(self, point):
        return None

    def tell(self, handle, told):
        pass


def test_a_backend_without_batch_is_refused():
    from hpo_bridge.backends.base import Capabilities

    info = hb.BackendInfo.for_adapter(OneAtATime, "one:at-a-time",
                                      capabilities=Capabilities(batch=False))
    with pytest.raises(hb.UnsupportedError, match="one pending trial at a time"):
        run(never, backend=info, fidelity=F, max_budget=810)


def hangs_at_full_budget(config):  # module level: runs in a worker process
    if config["epochs"] == 9:
        import time

        time.sleep(60)
    return slow_curve(config)


def test_trial_timeout_fails_the_evaluation_and_the_run_goes_on():
    r = run(hangs_at_full_budget, fidelity=hb.fidelity("epochs", 1, 9, eta=3), max_budget=42,
            trial_timeout=1.0)
    # 9@1, 3@3, 1@9 (timed out: failed, its budget counted), then 5@3 in the next bracket
    assert budgets(r) == HYPERBAND_9[:18] and r.budget_spent == 42
    top = [t for t in r.records if t.budget == 9]
    assert [t.state for t in top] == ["failed"] and "timed out" in top[0].error
    assert r.best_trial.budget == 3  # no complete evaluation at 9


@pytest.mark.parametrize("scheduler", ["hyperband", "sha", "asha"])
def test_a_failed_evaluation_is_never_promoted(scheduler):
    def flaky(config):
        if config["x"] > 0.6:
            raise RuntimeError("diverged")
        return curve(config)

    r = run(flaky, fidelity=hb.fidelity("epochs", 1, 9, eta=3), max_budget=120,
            scheduler=scheduler)
    failed = {t.config_id for t in r.records if t.state == "failed"}
    assert failed  # some did fail
    for t in r.records:
        if t.config_id in failed:
            assert t.budget == min(u.budget for u in r.records if u.config_id == t.config_id)
    evaluations: dict[int, list] = {}
    for t in sorted(r.records, key=lambda t: t.trial_id):
        evaluations.setdefault(t.config_id, []).append(t.budget)
    rungs = (1, 3, 9)
    for seen in evaluations.values():  # each configuration climbs the rungs one at a time
        start = rungs.index(seen[0])
        assert seen == list(rungs[start:start + len(seen)])


def test_plot_convergence_draws_a_multi_fidelity_run_against_cumulative_budget():
    r = run(fidelity=hb.fidelity("epochs", 1, 9, eta=3), max_budget=78)
    fig = r.plot_convergence()
    ax = fig.axes[0]
    line = ax.get_lines()[0]
    x, y = line.get_xdata(), line.get_ydata()
    assert ax.get_xlabel() == "cumulative budget"
    assert x[0] == 1 and x[-1] == r.budget_spent == 78
    assert y[-1] == r.best_value
    spent = 0
    for t, best in zip(sorted(r.records, key=lambda t: t.trial_id), r.best_so_far(), strict=False):
        spent += t.budget
        assert y[list(x).index(spent)] == best
    plain = hb.minimize(curve, {"x": hb.uniform(0.0, 1.0), "epochs": hb.integer(1, 9)},
                        backend="optuna:random", max_evals=3, seed=0, progress=False)
    assert plain.plot_convergence().axes[0].get_xlabel() == "trial"


def test_compare_runs_multi_fidelity_and_checks_it_before_any_run():
    df = hb.compare(curve, SPACE, ["optuna:random", "optuna:qmc"], seeds=range(2),
                    max_evals=100, fidelity=hb.fidelity("epochs", 1, 9, eta=3), max_budget=27)
    for _, run_rows in df.groupby(["backend", "seed"]):
        assert run_rows.sort_values("trial_id")["budget"].tolist() == HYPERBAND_9[:13]
        assert run_rows["best_value"].iloc[-1] == run_rows[run_rows.budget == 9]["value"].min()
    ax = hb.plot_convergence(df).axes[0]
    assert ax.get_xlabel() == "cumulative budget"
    assert [line.get_xdata()[-1] for line in ax.get_lines()] == [27, 27]
    with pytest.raises(hb.SpaceError, match="below one full evaluation"):
        hb.compare(never, SPACE, ["optuna:random"], seeds=range(1), max_evals=5,
                   fidelity=F, max_budget=10)


def drive(scheduler, n, loss, first=0):
    """Start and finish ``n`` jobs one at a time, trial ids from ``first``:
    ``[(config_id, budget), ...]``."""
    out = []
    for trial_id in range(first, first + n):
        job = scheduler.next_job()
        config_id = scheduler.start(job, trial_id, {"x": trial_id})
        out.append((config_id, job.budget))
        scheduler.finish(trial_id, loss(config_id, job.budget))
    return out


def test_hyperband_scheduler_runs_li_et_al_cycle_for_81_then_starts_again():
    from hpo_bridge.schedulers import make_scheduler

    f = hb.fidelity("epochs", 1, 81, eta=3)
    table = [[(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)], [(34, 3), (11, 9), (3, 27), (1, 81)],
             [(15, 9), (5, 27), (1, 81)], [(8, 27), (2, 81)], [(5, 81)]]
    expected = [b for bracket in table for n, b in bracket for _ in range(n)]
    assert len(expected) == 206 and sum(expected) == 405 + 363 + 351 + 378 + 405
    losses = {}

    def loss(config_id, budget):  # a fixed, shuffled quality per configuration
        return losses.setdefault(config_id, (config_id * 7919) % 101 / budget)

    seen = drive(make_scheduler("hyperband", f), 206 + 3, loss)
    assert [b for _, b in seen] == expected + [1, 1, 1]
    start = 0
    for bracket in table:  # each rung goes on with the best of the rung before, in order
        rungs = []
        for n, _ in bracket:
            rungs.append([c for c, _ in seen[start:start + n]])
            start += n
        for below, above in zip(rungs, rungs[1:], strict=False):
            ranked = sorted(below, key=lambda c: (losses[c], c))
            assert above == ranked[:len(above)]


def test_asha_scheduler_promotes_as_soon_as_a_rung_allows():
    from hpo_bridge.schedulers import make_scheduler

    f = hb.fidelity("epochs", 1, 9, eta=3)
    seen = drive(make_scheduler("asha", f), 9, lambda c, b: 1.0 / (c + 1))  # later is better
    # by hand: a rung promotes its best once floor(finished / 3) >= 1 and that best is new
    assert seen == [(0, 1), (1, 1), (2, 1), (2, 3),  # 3 finished at 1: the best (2) goes on
                    (3, 1), (3, 3),  # 4 finished: the top 1 is now 3
                    (4, 1), (4, 3),  # 5 finished: 4
                    (4, 9)]  # 3 finished at 3 (2, 3, 4): the best, 4, goes to 9
    seen = drive(make_scheduler("asha", f), 9, lambda c, b: float(c))  # earlier is better
    assert seen == [(0, 1), (1, 1), (2, 1), (0, 3),  # the best of 3 is 0
                    (3, 1), (4, 1), (5, 1),  # 0 is the top of 4, 5, 6 finished: nobody new
                    (1, 3),  # 6 finished: the top 2 are 0 and 1
                    (6, 1)]


# -- backend="auto" with fidelity= ---------------------------------------------------------------
@pytest.mark.parametrize("space", [SPACE, {"x": hb.integer(0, 3), "y": hb.choice(["a", "b"])}],
                         ids=["numeric (else optuna:gp)", "a small grid (else optuna:grid)"])
def test_auto_takes_tpe_for_every_rung_and_says_why(space, caplog):
    import logging

    def objective(config):
        return float(config["x"]) + 1.0 / config["epochs"]

    with caplog.at_level(logging.INFO, logger="hpo_bridge"):
        r = run(objective, backend="auto", space=space, fidelity=F9, max_budget=78,
                max_evals=60)
    assert r.backend == "auto(optuna:tpe, per rung: multi-fidelity)"
    assert budgets(r) == HYPERBAND_9 and r.budget_spent == 78
    said = [m for m in caplog.messages if m.startswith("backend auto:")]
    assert said and all("multi-fidelity: a model per rung" in m for m in said)
    assert all("as in BOHB" in m for m in said)


# -- the Optuna view ----------------------------------------------------------------------------
def test_auto_under_fidelity_runs_exactly_what_optuna_tpe_runs():
    # What the benchmark's --mf-same auto=optuna:tpe relies on.
    kwargs = dict(seed=2, fidelity=hb.fidelity("epochs", 1, 9, eta=3), max_budget=180)
    a, t = run(backend="auto", **kwargs), run(backend="optuna:tpe", **kwargs)
    assert [(r.budget, r.params, r.value) for r in a.records] == [
        (r.budget, r.params, r.value) for r in t.records]


def test_the_optuna_view_has_each_evaluations_budget_and_configuration(tmp_path):
    url = str(tmp_path / "mf.log")
    for result in (run(ranked, fidelity=F9, max_budget=27),
                   run(ranked, fidelity=F9, max_budget=27, storage=url, study_name="mf")):
        study = result.to_optuna()
        trials = sorted(study.trials, key=lambda t: t.number)
        assert [(t.user_attrs["budget"], t.user_attrs["config_id"]) for t in trials] == [
            (r.budget, r.config_id) for r in sorted(result.records, key=lambda r: r.trial_id)]
        frame = study.trials_dataframe()
        assert list(frame["user_attrs_budget"]) == budgets(result)


def test_a_stored_trial_that_died_before_its_budget_was_written_is_left_out(tmp_path):
    """A worker killed between creating its trial and writing its budget: the trial is failed
    (interrupted) without a budget; a resumed run goes on without it."""
    import optuna

    from hpo_bridge.storage import open_engine

    url = str(tmp_path / "mf.log")
    first = run(ranked, fidelity=F9, max_budget=12, storage=url, study_name="mf")
    study = optuna.load_study(study_name="mf", storage=open_engine(url).storage)
    trial = study.ask()  # created with its point, as a worker does; it dies before its budget
    trial.suggest_float("x", 0.0, 1.0)
    trial.set_user_attr("error", "interrupted: process died")
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    resumed = run(ranked, fidelity=F9, max_budget=78, storage=url, study_name="mf")
    scheduled = [t for t in resumed.records if t.budget is not None]
    assert [b[1:] for b in books(resumed) if b[2] is not None] == [
        b[1:] for b in books(run(ranked, fidelity=F9, max_budget=78))]
    assert len(scheduled) > len(first.records)
    assert [t.state for t in resumed.records if t.budget is None] == ["failed"]


@pytest.mark.parametrize("name", ["hyperband", "sha", "asha"])
@pytest.mark.parametrize("cut", [5, 10, 40])
def test_a_scheduler_shown_the_stored_evaluations_continues_as_the_one_that_ran_them(name, cut):
    """Scheduler.observe: a new scheduler shown the first ``cut`` evaluations (in any order,
    the last ones still running) makes the same next choices as the scheduler that ran them."""
    from hpo_bridge.schedulers import Observed, make_scheduler

    f = hb.fidelity("epochs", 1, 27, eta=3)

    def loss(config_id, budget):
        return (config_id * 7919) % 101 / budget

    ran = make_scheduler(name, f)
    done = drive(ran, cut, loss)
    running = []
    for k in range(2):  # two evaluations still running
        job = ran.next_job()
        if job is not None:
            ran.start(job, cut + k, {"x": cut + k})
        running.append(job)
    fresh = make_scheduler(name, f)
    shown = [Observed(i, c, b, True, loss(c, b), {"x": i}) for i, (c, b) in enumerate(done)]
    shown += [Observed(cut + k, job.config_id, job.budget, False)
              for k, job in enumerate(running) if job is not None]
    fresh.observe(shown[::-1])  # the order they are read in does not matter
    assert fresh.spent == ran.spent and set(fresh.running) == set(ran.running)
    for k, job in enumerate(running):  # the running ones finish, then both go on alike
        if job is not None:
            for s in (ran, fresh):
                s.finish(cut + k, loss(job.config_id, job.budget))
    assert drive(fresh, 30, loss, first=cut + 2) == drive(ran, 30, loss, first=cut + 2)


# -- hb.stop under fidelity= ------------------------------------------------------------------
def test_stop_no_improvement_counts_only_evaluations_at_the_full_budget():
    # Hyperband on 1..9: 9 configurations at 1, 3 at 3, 1 at 9, then 5 at 3, 1 at 9, then 3
    # at 9. Nothing ever improves: counting every evaluation would stop inside the first rung.
    r = run(lambda c: 1.0, fidelity=hb.fidelity("epochs", 1, 9), max_evals=60,
            callbacks=[hb.stop.no_improvement(3)])
    full = [x for x in r.records if x.budget == 9]
    assert [x.budget for x in r.records][:13] == [1] * 9 + [3] * 3 + [9]
    assert len(full) == 4 and r.records[-1] is full[-1]  # the best, then 3 without a gain
    assert r.stopped == (f"no improvement: best 1 (trial {full[0].trial_id}) not improved by "
                         "more than 0 in 3 evaluations at the full budget (9)")
    assert r.best_trial.trial_id == full[0].trial_id


def test_stop_target_is_reached_only_at_the_full_budget():
    # 1 / epochs: 0.33 at epochs=3 is below the target, but result.best_value is at 9
    r = run(lambda c: 1.0 / c["epochs"], fidelity=hb.fidelity("epochs", 1, 9), max_evals=60,
            callbacks=[hb.stop.target(0.5)])
    assert r.records[-1].budget == 9 and len(r.records) == 13
    assert r.stopped == (f"target reached: trial {r.records[-1].trial_id} value 0.111111 <= "
                         "0.5 at the full budget (9)")
    assert r.best_value <= 0.5
