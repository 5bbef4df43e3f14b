"""The held-out set of ``auto`` (issue 27 item 1) and the AutoSampler-rule baseline (item 3)."""

from __future__ import annotations

import pytest

from hpo_bridge.backends.features import space_features
from hpo_bridge.bench.problems import get_problem
from hpo_bridge.bench.problems.heldout import HELDOUT, HELDOUT_MINIMIZERS, SUITE

#: Problems earlier held-out checks used (README, "Held out, and what it changed").
EARLIER = {"rosenbrock", "sklearn-knn-wine", "sklearn-svm-diabetes", "sklearn-linear-diabetes",
           "fcnet-protein-structure", "hpobench-mlp-kc1"}


def test_heldout_set_is_apart_from_the_suite_and_earlier_checks() -> None:
    assert len(set(HELDOUT)) == len(HELDOUT) == 10
    assert not set(HELDOUT) & (set(SUITE) | EARLIER)
    kinds = [space_features(get_problem(name).space).kind for name in HELDOUT]
    for kind in {space_features(get_problem(name).space).kind for name in SUITE}:
        assert kinds.count(kind) == 2, kind  # two problems of each class the suite has


@pytest.mark.parametrize("name", sorted(HELDOUT_MINIMIZERS))
def test_synthetic_heldout_minimizers_reach_the_optimum(name: str) -> None:
    problem = get_problem(name)
    assert problem.optimum is not None
    assert problem.objective(HELDOUT_MINIMIZERS[name]) == pytest.approx(problem.optimum, abs=3e-4)


def test_autosampler_rule_follows_its_published_description() -> None:
    """optunahub's AutoSampler: TPE with a categorical or conditional parameter; else the GP
    for 250 trials, then CMA-ES (TPE with constraints); several objectives: the GP (TPE with a
    categorical parameter or 4+ objectives), then NSGA-II (NSGA-III from 4 objectives)."""
    import hpo_bridge as hb
    from hpo_bridge.bench.baselines import autosampler_rule

    def rule(space: dict, **kw: object) -> list[tuple[str, int]]:
        return autosampler_rule(space_features(space), **kw)  # type: ignore[arg-type]

    numeric = {"x": hb.uniform(0.0, 1.0), "n": hb.integer(1, 5)}
    cat = {**numeric, "c": hb.choice(["a", "b"])}
    cond = {"m": hb.choice(["none", {"k": hb.uniform(0.0, 1.0)}])}
    assert rule(numeric) == [("optuna:gp", 0), ("optuna:cmaes", 250)]
    assert rule(numeric, constraints=True) == [("optuna:gp", 0), ("optuna:tpe", 250)]
    assert rule(cat) == rule(cond) == [("optuna:tpe", 0)]
    assert rule(numeric, n_objectives=2) == [("optuna:gp", 0), ("optuna:nsga2", 250)]
    assert rule(cat, n_objectives=2) == [("optuna:tpe", 0), ("optuna:nsga2", 250)]
    assert rule(numeric, n_objectives=4) == [("optuna:tpe", 0), ("optuna:nsga3", 250)]
    assert rule(cond, n_objectives=2) == [("optuna:tpe", 0)]


def test_heldout_set_2_is_apart_from_every_earlier_evidence() -> None:
    from hpo_bridge.bench.problems.heldout2 import HELDOUT2

    assert len(set(HELDOUT2)) == len(HELDOUT2) == 13
    assert not set(HELDOUT2) & (set(SUITE) | EARLIER | set(HELDOUT))
    kinds = [space_features(get_problem(name).space).kind for name in HELDOUT2]
    for kind in {space_features(get_problem(name).space).kind for name in SUITE}:
        assert kinds.count(kind) >= 2, kind


def test_heldout_set_3_is_apart_from_every_earlier_evidence() -> None:
    from hpo_bridge.bench.problems.heldout2 import HELDOUT2
    from hpo_bridge.bench.problems.heldout3 import HELDOUT3

    assert len(set(HELDOUT3)) == len(HELDOUT3) == 15
    assert not set(HELDOUT3) & (set(SUITE) | EARLIER | set(HELDOUT) | set(HELDOUT2))
    kinds = [space_features(get_problem(name).space).kind for name in HELDOUT3]
    for kind in {space_features(get_problem(name).space).kind for name in SUITE}:
        assert kinds.count(kind) >= 2, kind
    # where this round's candidate change acts (spaces of floats), a learning problem too
    floats = [n for n in HELDOUT3 if space_features(get_problem(n).space).continuous
              == space_features(get_problem(n).space).dims]
    assert {"sklearn-svc-moons", "sklearn-gpr-friedman2"} <= set(floats)


def test_synthetic_heldout_3_minimizers_reach_the_optimum() -> None:
    from hpo_bridge.bench.problems.heldout3 import HELDOUT3_MINIMIZERS

    for name, point in HELDOUT3_MINIMIZERS.items():
        problem = get_problem(name)
        assert problem.optimum is not None
        assert problem.objective(point) == pytest.approx(problem.optimum, abs=1e-9), name


def test_synthetic_heldout_2_minimizers_reach_the_optimum() -> None:
    from hpo_bridge.bench.problems.heldout2 import HELDOUT2_MINIMIZERS

    for name, point in HELDOUT2_MINIMIZERS.items():
        problem = get_problem(name)
        assert problem.optimum is not None
        assert problem.objective(point) == pytest.approx(problem.optimum, abs=1e-9), name
