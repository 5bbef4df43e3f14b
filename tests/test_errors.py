"""The error tree is true: what ``errors.py`` draws is what is raised."""

from __future__ import annotations

import pytest

import hpo_bridge as hb
from hpo_bridge.errors import map_errors

SPACE = {"x": hb.uniform(0.0, 1.0)}


def _objective(config: dict) -> float:
    return config["x"]


INVALID = {
    "uniform low > high": lambda: hb.uniform(1.0, 0.0),
    "empty choice": lambda: hb.choice([]),
    "empty space": lambda: hb.as_space({}),
    "foreign: scipy uniform with a negative scale": lambda: hb.as_space(
        {"x": __import__("scipy.stats").stats.uniform(0, -1)}),
    "direction": lambda: hb.Optimizer(SPACE, direction="up"),
    "seed": lambda: hb.Optimizer(SPACE, seed=-1),
    "ask(n)": lambda: hb.Optimizer(SPACE, backend="optuna:random").ask(0),
    "max_evals": lambda: hb.minimize(_objective, SPACE, max_evals=0, progress=False),
    "catch": lambda: hb.minimize(_objective, SPACE, catch=3, progress=False),
    "pruner": lambda: hb.minimize(lambda c, t: 0.0, SPACE, pruner="bogus", progress=False),
    "executor": lambda: hb.minimize(_objective, SPACE, executor=5, progress=False),
    "compare seeds": lambda: hb.compare(_objective, SPACE, backends=["optuna:random"], seeds=[]),
    "unknown backend": lambda: hb.Optimizer(SPACE, backend="nope"),
}


@pytest.mark.parametrize("make", list(INVALID.values()), ids=list(INVALID))
def test_every_invalid_space_or_argument_is_a_space_error(make) -> None:
    with pytest.raises(hb.SpaceError):
        make()


def test_an_option_value_the_library_refuses_names_the_backend_and_chains_it() -> None:
    with pytest.raises(hb.SpaceError, match=r"skopt:gp refused its options \(acq_func='bogus'\)"
                       ) as info:
        hb.Optimizer(SPACE, backend="skopt:gp", seed=0, acq_func="bogus")
    assert isinstance(info.value.__cause__, ValueError)
    assert "gp_hedge" in str(info.value)  # the library's own message is kept


def test_map_errors_wraps_a_libraries_error_and_lets_the_bridges_own_pass() -> None:
    def wrap(exc: Exception) -> hb.StorageError:
        return hb.StorageError(f"wrapped: {exc}")

    with pytest.raises(hb.StorageError, match="wrapped") as info:
        with map_errors((KeyError,), wrap):
            {}["x"]
    assert isinstance(info.value.__cause__, KeyError)
    with pytest.raises(hb.SpaceError, match="mine"):  # a SpaceError is a ValueError: not wrapped
        with map_errors((ValueError,), wrap):
            raise hb.SpaceError("mine")
