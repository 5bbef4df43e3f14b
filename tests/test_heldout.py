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
