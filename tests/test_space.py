"""The DSL: validation at construction, reprs, names, decode/encode."""

from __future__ import annotations

import math
import pickle
import sys
import subprocess
import warnings

import pytest

import hpo_bridge as hb
from hpo_bridge import as_space


@pytest.mark.parametrize("make,match", [
    (lambda: hb.uniform(1.0, 1.0), "low must be < high"),
    (lambda: hb.uniform(2.0, 1.0), "low must be < high"),
    (lambda: hb.uniform(0.0, math.inf), "high must be finite"),
    (lambda: hb.uniform(math.nan, 1.0), "low must be finite"),
    (lambda: hb.uniform(0.0, 1.0, step=0.0), "step must be > 0"),
    (lambda: hb.uniform(0.0, 1.0, step=-0.5), "step must be > 0"),
    (lambda: hb.uniform(0.0, 1.0, step=0.3), "step must divide high - low"),
    (lambda: hb.uniform(0.0, 1.0, step=2.0), "step must divide"),
    (lambda: hb.uniform("a", 1.0), "low must be a real number"),
    (lambda: hb.loguniform(0.0, 1.0), "low must be > 0"),
    (lambda: hb.loguniform(-1.0, 1.0), "low must be > 0"),
    (lambda: hb.loguniform(1.0, 0.1), "low must be < high"),
    (lambda: hb.integer(1, 1), "low must be < high"),
    (lambda: hb.integer(1.5, 3), "low must be an int"),
    (lambda: hb.integer(0, 10, step=3), "step must divide"),
    (lambda: hb.integer(0, 10, log=True), "log=True needs low > 0"),
    (lambda: hb.integer(1, 9, step=2, log=True), "log=True needs step == 1"),
    (lambda: hb.choice([]), "options must not be empty"),
    (lambda: hb.choice("abc"), "options must be a list or tuple"),
    (lambda: hb.choice([None, 1, None]), "option 2 repeats option 0"),
    (lambda: hb.choice([{"a": 1}, {"a": 1}]), "option 1 repeats option 0"),
    (lambda: hb.normal(0.0, 0.0), "sigma must be > 0"),
    (lambda: hb.lognormal(0.0, -1.0), "sigma must be > 0"),
    (lambda: hb.normal(math.inf, 1.0), "mu must be finite"),
])
def test_invalid_parameters_fail_at_construction(make, match) -> None:
    with pytest.raises(hb.SpaceError, match=match):
        make()


def test_reprs_read_like_the_calls_that_made_them() -> None:
    assert repr(hb.loguniform(1e-5, 0.1)) == "loguniform(1e-05, 0.1)"
    assert repr(hb.uniform(0.0, 1.0, step=0.25)) == "uniform(0.0, 1.0, step=0.25)"
    assert repr(hb.integer(16, 256, log=True)) == "integer(16, 256, log=True)"
    assert repr(hb.integer(0, 10, step=2)) == "integer(0, 10, step=2)"
    assert repr(hb.choice(["a", None])) == "choice(['a', None])"
    assert repr(hb.lognormal(0.0, 1.0)) == "lognormal(0.0, 1.0)"
    p = hb.uniform(0.0, 1.0)
    with pytest.raises(AttributeError):
        p.low = 3.0  # frozen
    assert p == hb.uniform(0.0, 1.0) and pickle.loads(pickle.dumps(p)) == p


def test_names_are_keys_dotted_paths_and_branch_labels() -> None:
    space = as_space({
        "lr": hb.loguniform(1e-4, 1e-1),
        "model": {"depth": hb.integer(1, 4), "layers": [hb.integer(8, 64), 3]},
        "optimizer": hb.choice([{"name": "adam", "b1": hb.uniform(0.8, 0.99)},
                                {"name": "sgd", "momentum": hb.uniform(0.0, 0.9)}]),
        "act": hb.choice([math.sin, {"f": math.cos, "scale": hb.uniform(1.0, 2.0)}]),
    })
    assert space.names == ["lr", "model.depth", "model.layers.0", "optimizer",
                           "optimizer[adam].b1", "optimizer[sgd].momentum", "act",
                           "act[1].scale"]
    assert space["optimizer[sgd].momentum"].condition == ("optimizer", 1)
    assert as_space(hb.uniform(0.0, 1.0)).names == ["x"]


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(hb.SpaceError, match="duplicate parameter name 'a.b'"):
        as_space({"a.b": hb.uniform(0.0, 1.0), "a": {"b": hb.uniform(0.0, 1.0)}})
    with pytest.raises(hb.SpaceError, match="no parameter"):
        as_space({"a": 1})


def test_decode_keeps_option_identity_constants_and_drops_inactive() -> None:
    options = [{"name": "adam", "lr": hb.loguniform(1e-4, 1e-1)}, None, (1, 2), math.sin]
    space = as_space({"opt": hb.choice(options), "c": "const", "t": (hb.integer(1, 3), 9)})
    config = space.decode({"opt": 3, "t.0": 2})
    assert config["opt"] is math.sin and config == {"opt": math.sin, "c": "const", "t": (2, 9)}
    assert space.decode({"opt": 2, "t.0": 1})["opt"] is options[2]
    assert space.decode({"opt": 0, "opt[adam].lr": 0.01, "t.0": 1})["opt"] == {
        "name": "adam", "lr": 0.01}
    assert space.encode(config) == {"opt": 3, "t.0": 2}


def test_encode_refuses_a_configuration_not_in_the_space_naming_the_parameter() -> None:
    space = as_space({"n": hb.integer(1, 3), "act": hb.choice(["relu", "tanh"]),
                      "s": hb.uniform(0.0, 1.0, step=0.5)})
    with pytest.raises(hb.SpaceError, match="parameter 'n': 7"):
        space.encode({"n": 7, "act": "relu", "s": 0.5})
    with pytest.raises(ValueError, match="parameter 'act'"):
        space.encode({"n": 1, "act": "elu", "s": 0.5})
    with pytest.raises(ValueError, match="parameter 's'"):
        space.encode({"n": 1, "act": "relu", "s": 0.3})
    with pytest.raises(ValueError, match="keys"):
        space.encode({"n": 1})


def test_stepped_grid_values_are_clean_decimals() -> None:
    assert hb.uniform(0.0, 1.0, step=0.1).values()[3] == 0.3
    assert hb.integer(0, 10, step=5).values() == [0, 5, 10]
    assert hb.uniform(0.1, 0.9, step=0.2).values() == [0.1, 0.3, 0.5, 0.7, 0.9]


def test_a_grid_through_zero_gives_zero_and_takes_its_ends_as_floats_compute_them() -> None:
    # issue 26, D5: -0.3 + 3 * 0.1 is 5.55e-17 in floats; the grid's value there is 0.0
    grid = hb.uniform(-0.3, 0.3, step=0.1)
    assert [repr(v) for v in grid.values()] == ["-0.3", "-0.2", "-0.1", "0.0", "0.1", "0.2", "0.3"]
    assert repr(grid.canonical(-0.3 + 3 * 0.1)) == "0.0" and grid.contains(-0.3 + 3 * 0.1)
    assert hb.uniform(-0.7, 0.5, step=0.1).values()[7] == 0.0
    # the ends as floats compute them: -0.1 + 3 * 0.1 is 0.20000000000000004, past high
    end = hb.uniform(-0.1, 0.2, step=0.1)
    assert end.contains(-0.1 + 3 * 0.1) and end.canonical(-0.1 + 3 * 0.1) == 0.2
    assert not end.contains(0.21) and not end.contains(-0.11) and not end.contains(0.15)
    assert not end.contains(math.inf) and not end.contains(math.nan)


def test_large_integer_grids_are_exact() -> None:
    p = hb.integer(1, 1 + 7 * 10**12, step=7)
    assert p.size == 10**12 + 1
    assert p.value_at(123456789012) == 1 + 7 * 123456789012
    assert p.canonical(7 * 10**12 - 5) == 7 * 10**12 - 6  # nearest grid value, exactly
    huge = hb.integer(0, 3 * 10**20, step=3)  # past 2**53: no float on the way
    assert huge.value_at(10**20 - 1) == 3 * 10**20 - 3 and huge.contains(huge.value_at(7))


def test_importing_hpo_bridge_imports_no_backend_pandas_or_matplotlib() -> None:
    code = ("import sys, hpo_bridge; heavy = {'hyperopt', 'optuna', 'skopt', 'pandas', "
            "'matplotlib', 'torch', 'sklearn'}; print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_backend_lists_the_valid_names() -> None:
    with pytest.raises(ValueError, match="valid names are .*optuna:tpe"):
        hb.Optimizer({"x": hb.uniform(0.0, 1.0)}, backend="nevergrad:oneplusone")


def test_backends_report_availability_and_capabilities() -> None:
    infos = {b.name: b for b in hb.backends()}
    assert {"hyperopt:tpe", "optuna:gp", "skopt:et", "optuna:grid"} <= set(infos)
    assert infos["skopt:gp"].capabilities.conditional == "encoded"
    assert infos["hyperopt:tpe"].available


def test_missing_library_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "torch" else real(name, *a))
    with pytest.raises(hb.MissingBackendError, match=r"hpo_bridge\[torch\]"):
        hb.Optimizer({"x": hb.uniform(0.0, 1.0)}, backend="optuna:gp")


@pytest.mark.parametrize("kwargs,match", [
    ({"max_evals": 0}, "max_evals must be a positive int"),
    ({"timeout": -1}, "timeout must be a positive float"),
    ({"n_jobs": 0}, "n_jobs must be a positive int"),
    ({"seed": -3}, "seed must be None or an int"),
    ({"catch": "oops"}, "catch must be an exception type"),
    ({"points_to_evaluate": [{"x": 5.0}]}, "parameter 'x'"),
])
def test_bad_arguments_fail_before_any_trial(kwargs, match) -> None:
    calls = []
    with pytest.raises(ValueError, match=match):
        hb.minimize(lambda c: calls.append(c) or 0.0, {"x": hb.uniform(0.0, 1.0)},
                    progress=False, **kwargs)
    assert calls == []


def test_a_choice_between_a_list_and_a_tuple_encodes_each_to_its_own_option() -> None:
    # Found by the conformance kit's Hypothesis test: {'p': (x,)} was encoded as the list
    # option, so decode(encode(config)) gave {'p': [x]}.
    space = hb.as_space({"b": hb.choice([{"p": [hb.loguniform(1.0, 10.0)]},
                                         {"p": (hb.loguniform(1.0, 10.0),)}])})
    for config in ({"b": {"p": [2.5]}}, {"b": {"p": (2.5,)}}):
        assert space.decode(space.encode(config)) == config
        assert type(space.decode(space.encode(config))["b"]["p"]) is type(config["b"]["p"])


# -- a scikit-learn param_distributions dict handed over as a space (issue 26, also found) ----

def test_a_scikit_learn_parameter_dict_warns_naming_its_option_lists() -> None:
    from scipy import stats

    sklearn_dict = {"C": stats.loguniform(1e-3, 1e3), "kernel": ["rbf", "poly"]}
    with pytest.warns(UserWarning, match=r"space: 'kernel' is a list of plain values, "
                      r"\['rbf', 'poly'\].*hb\.choice\(\['rbf', 'poly'\]\).*hb\.from_scipy"):
        result = hb.minimize(lambda c: 0.0, sklearn_dict, backend="optuna:random",
                             max_evals=1, progress=False)
    assert result.best_params["kernel"] == ["rbf", "poly"]  # still the constant: it warns only
    with pytest.warns(UserWarning, match=r"'gamma' \(and 'degree'\) is a list"):
        as_space({"gamma": ["scale", "auto"], "degree": [2, 3, 4], "C": hb.uniform(0.1, 10.0)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert hb.from_scipy(sklearn_dict)["kernel"].param == hb.choice(["rbf", "poly"])


@pytest.mark.parametrize("space", [
    {"model": {"layers": [64, 32]}, "lr": hb.uniform(0.0, 1.0)},  # nested deeper
    {"layers": (64, 32), "lr": hb.uniform(0.0, 1.0)},  # a tuple: a constant
    {"layers": [64, 32], "epochs": 10, "lr": hb.uniform(0.0, 1.0)},  # not a sklearn dict
    {"layers": [64, 32], "opt": {"lr": hb.uniform(0.0, 1.0)}},
    {"sizes": [hb.integer(1, 4), hb.integer(1, 4)]},  # parameters in a list
    {"one": [3], "lr": hb.uniform(0.0, 1.0)},  # nothing to choose from
    {"pair": [[1, 2], [3, 4]], "lr": hb.uniform(0.0, 1.0)},  # not plain values
    [["a", "b"], hb.uniform(0.0, 1.0)],  # not a dict
])
def test_constant_lists_that_are_not_option_lists_do_not_warn(space) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        as_space(space)
