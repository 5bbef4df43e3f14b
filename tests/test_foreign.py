"""Spaces written for hyperopt, Optuna, skopt, scipy.stats and ConfigSpace (issue 13)."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hpo_bridge as hb
from conftest import CONTINUOUS
from strategies import integers, logs, uniforms

ConfigSpace = pytest.importorskip("ConfigSpace")  # the configspace extra; CI installs it


# -- one space per source, each with what the objective must receive -------------------------

def hyperopt_space() -> dict:
    from hyperopt import hp

    return {
        "x": hp.uniform("x", -2.0, 2.0),
        "lr": hp.loguniform("lr", math.log(1e-4), math.log(1e-1)),
        "opt": hp.choice("opt", [
            {"type": "adam", "beta": hp.uniform("beta", 0.8, 0.99)},
            {"type": "sgd", "momentum": hp.uniform("momentum", 0.0, 0.9)},
        ]),
        "n": hp.randint("n", 1, 9),
        "layers": [64, hp.choice("act", ["relu", "tanh"])],
    }


def optuna_space() -> dict:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    return {"x": FloatDistribution(-2.0, 2.0), "lr": FloatDistribution(1e-4, 1e-1, log=True),
            "s": FloatDistribution(0.0, 1.0, step=0.25), "n": IntDistribution(1, 8),
            "m": IntDistribution(2, 64, log=True), "act": CategoricalDistribution(["relu", None])}


def skopt_space() -> list:
    from skopt.space import Categorical, Integer, Real

    return [Real(-2.0, 2.0, name="x"), Real(1e-4, 1e-1, prior="log-uniform", name="lr"),
            Integer(1, 8, name="n"), Categorical(["relu", "tanh"], name="act")]


def scipy_space() -> dict:
    from scipy import stats

    return {"x": stats.uniform(-2.0, 4.0), "lr": stats.loguniform(1e-4, 1e-1),
            "n": stats.randint(1, 9), "z": stats.norm(0.0, 1.0), "w": stats.lognorm(0.5),
            "act": hb.choice(["relu", "tanh"])}


def configspace_space():
    cs = ConfigSpace.ConfigurationSpace(seed=0)
    cs.add([ConfigSpace.Float("x", (-2.0, 2.0)), ConfigSpace.Float("lr", (1e-4, 1e-1), log=True),
            ConfigSpace.Integer("n", (1, 8)), ConfigSpace.Categorical("opt", ["adam", "sgd", "no"]),
            ConfigSpace.Float("momentum", (0.0, 0.9)), ConfigSpace.Constant("k", "kept")])
    cs.add(ConfigSpace.EqualsCondition(cs["momentum"], cs["opt"], "sgd"))
    cs.add(ConfigSpace.ForbiddenEqualsClause(cs["opt"], "no"))
    return cs


def check_hyperopt(c: dict) -> None:
    assert type(c["x"]) is float and -2.0 <= c["x"] <= 2.0
    assert type(c["lr"]) is float and 1e-4 <= c["lr"] <= 1e-1
    assert type(c["n"]) is int and 1 <= c["n"] <= 8
    opt = c["opt"]
    key = {"adam": "beta", "sgd": "momentum"}[opt["type"]]
    assert set(opt) == {"type", key} and type(opt[key]) is float
    assert c["layers"][0] == 64 and c["layers"][1] in ("relu", "tanh")
    assert isinstance(c["layers"], tuple)  # hyperopt hands lists back as tuples


def check_optuna(c: dict) -> None:
    assert type(c["x"]) is float and -2.0 <= c["x"] <= 2.0
    assert type(c["s"]) is float and c["s"] in (0.0, 0.25, 0.5, 0.75, 1.0)
    assert type(c["n"]) is int and 1 <= c["n"] <= 8
    assert type(c["m"]) is int and 2 <= c["m"] <= 64
    assert c["act"] in ("relu", None)


def check_skopt(c: dict) -> None:
    assert set(c) == {"x", "lr", "n", "act"}
    assert type(c["lr"]) is float and 1e-4 <= c["lr"] <= 1e-1
    assert type(c["n"]) is int and 1 <= c["n"] <= 8 and type(c["act"]) is str


def check_scipy(c: dict) -> None:
    assert type(c["x"]) is float and -2.0 <= c["x"] <= 2.0
    assert type(c["n"]) is int and 1 <= c["n"] <= 8
    assert type(c["z"]) is float and type(c["w"]) is float and c["w"] > 0


def check_configspace(c: dict) -> None:
    expected = {"x", "lr", "n", "opt", "k"} | ({"momentum"} if c["opt"] == "sgd" else set())
    assert set(c) == expected and c["k"] == "kept" and c["opt"] in ("adam", "sgd")
    assert type(c["n"]) is int and type(c["x"]) is float and type(c["opt"]) is str


SOURCES = {
    "hyperopt": (hyperopt_space, check_hyperopt),
    "optuna": (optuna_space, check_optuna),
    "skopt": (skopt_space, check_skopt),
    "scipy": (scipy_space, check_scipy),
    "configspace": (configspace_space, check_configspace),
}


@pytest.mark.parametrize("source", list(SOURCES))
@pytest.mark.parametrize("backend", CONTINUOUS)
def test_every_source_runs_under_every_backend(source: str, backend: str) -> None:
    make, check = SOURCES[source]
    seen: list = []

    def objective(c: dict) -> float:
        check(c)
        seen.append(c)
        return c["x"] ** 2 if "x" in c else c["lr"]

    result = hb.minimize(objective, make(), backend=backend, max_evals=6, seed=1,
                         progress=False)
    assert len(seen) == 6 and result.best_params in seen


def test_grid_runs_a_discrete_foreign_space() -> None:
    from optuna.distributions import CategoricalDistribution, IntDistribution

    space = {"n": IntDistribution(1, 3), "act": CategoricalDistribution(["a", "b"])}
    result = hb.minimize(lambda c: c["n"], space, backend="optuna:grid", seed=0, progress=False)
    assert sorted((r.params["n"], r.params["act"]) for r in result.records) == [
        (n, a) for n in (1, 2, 3) for a in ("a", "b")]


# -- fidelity: an imported hyperopt space proposes exactly what fmin proposes ----------------

def fidelity_space() -> dict:
    from hyperopt import hp

    return {
        "x": hp.uniform("x", -5.0, 10.0),
        "lr": hp.loguniform("lr", math.log(1e-4), 0.0),
        "noise": hp.normal("noise", 0.0, 1.0),
        "opt": hp.choice("opt", [
            {"type": "adam", "scale": hp.lognormal("scale", 0.0, 0.5)},
            {"type": "sgd", "momentum": hp.uniform("momentum", 0.0, 0.9)},
            "none",
        ]),
        "act": hp.choice("act", ["relu", "tanh", "gelu"]),
        "pair": [1, hp.uniform("z", 0.0, 1.0)],
    }


def fidelity_objective(c: dict) -> float:
    opt = c["opt"]
    extra = opt.get("scale", opt.get("momentum", 0.0)) if isinstance(opt, dict) else 0.5
    return (c["x"] - 1) ** 2 + abs(math.log10(c["lr"]) + 2) + c["noise"] ** 2 + extra + \
        c["pair"][1] + ["relu", "tanh", "gelu"].index(c["act"])


@pytest.mark.parametrize("algo,n", [("tpe", 25), ("random", 10), ("anneal", 15)])
@pytest.mark.parametrize("seed", [0, 7])
def test_imported_hyperopt_space_proposes_what_fmin_proposes(algo: str, n: int,
                                                              seed: int) -> None:
    from hyperopt import anneal, fmin, rand, tpe

    suggest = {"tpe": tpe.suggest, "random": rand.suggest, "anneal": anneal.suggest}[algo]
    expected: list = []
    fmin(lambda c: (expected.append(c), fidelity_objective(c))[1], fidelity_space(),
         algo=suggest, max_evals=n, rstate=np.random.default_rng(seed), show_progressbar=False)
    result = hb.minimize(fidelity_objective, fidelity_space(), backend=f"hyperopt:{algo}",
                         max_evals=n, seed=seed, progress=False)
    got = [r.params for r in sorted(result.records, key=lambda r: r.trial_id)]
    assert got == expected


def test_hyperopt_labels_become_the_names() -> None:
    space = hb.as_space(fidelity_space())
    assert space.names == ["x", "lr", "noise", "opt", "scale", "momentum", "act", "z"]
    assert space["scale"].condition == ("opt", 0)
    assert space["lr"].param == hb.loguniform(1e-4, 1.0)


# -- the q* policy: a warning naming the parameter, or exact when it is exact -----------------

def test_uniformint_warns_about_its_end_points_and_becomes_an_integer() -> None:
    from hyperopt import hp
    from hyperopt.pyll import scope

    with pytest.warns(hb.ConversionWarning, match="'k'.*end points 1 and 5"):
        space = hb.as_space({"k": hp.uniformint("k", 1, 5)})
    assert space["k"].param == hb.integer(1, 5)
    with pytest.warns(hb.ConversionWarning, match="'q'"):
        assert hb.as_space({"q": hp.quniform("q", 0, 1, 0.25)})["q"].param == hb.uniform(
            0.0, 1.0, step=0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # half a step outside the grid: equal weights, exact
        widened = hb.as_space({"k": scope.int(hp.quniform("k", 0.5, 5.5, 1))})
    assert widened["k"].param == hb.integer(1, 5)


def _hyperopt_draws(expr, n: int = 4000) -> np.ndarray:
    from hyperopt.pyll.stochastic import sample

    rng = np.random.default_rng(0)
    return np.array([sample(expr, rng=rng) for _ in range(n)])


def test_qloguniform_that_draws_zero_is_refused_with_its_share_of_zeros() -> None:
    """Issue 26, D12: qloguniform(log(0.1), ..., 1) became integer(1, ..., log=True), losing
    hyperopt's 0 (round(exp(U)) < 0.5), and the warning spoke of end points 0 and 10."""
    from hyperopt import hp

    expr = hp.qloguniform("a", math.log(0.1), math.log(10), 1)
    with pytest.raises(hb.SpaceError) as err:
        hb.as_space({"a": expr})
    message = str(err.value)
    assert "'a'" in message and "is 0 whenever exp(U) < 0.5" in message
    assert "log(0.5) = -0.693147" in message  # the fix
    share = float(re.search(r"([\d.]+)% of its draws", message).group(1)) / 100
    zeros = float(np.mean(_hyperopt_draws(expr) == 0))  # hyperopt's own draws
    assert abs(share - zeros) < 0.03, (share, zeros)
    assert abs(share - math.log(5) / math.log(100)) < 1e-3
    with pytest.raises(hb.SpaceError, match="100.0% of its draws"):  # only ever 0
        hb.as_space({"a": hp.qloguniform("a", math.log(0.1), math.log(0.4), 1)})


@pytest.mark.parametrize("low, high, lighter", [
    (0.5, 10.5, []),           # half a step outside both ends: what to_hyperopt writes
    (0.5, 10.0, ["10"]),
    (0.7, 10.5, ["1"]),        # 1 gets log(1.5 / 0.7), the DSL log(1.5 / 0.5)
    (2.3, 20.0, ["2", "20"]),
])
def test_qloguniform_keeps_every_value_hyperopt_draws_and_names_the_lighter_ends(
        low: float, high: float, lighter: list) -> None:
    from hyperopt import hp
    from hyperopt.pyll import scope

    expr = scope.int(hp.qloguniform("a", math.log(low), math.log(high), 1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        param = hb.as_space({"a": expr})["a"].param
    draws = set(_hyperopt_draws(expr).tolist())
    assert draws <= set(param.values()) and {min(draws), max(draws)} == {param.low, param.high}
    messages = [str(w.message) for w in caught if issubclass(w.category, hb.ConversionWarning)]
    if not lighter:
        assert messages == []
    else:
        (message,) = messages
        ends = " and ".join(lighter)
        assert f"end point{'s' if len(lighter) > 1 else ''} {ends} less weight" in message


@pytest.mark.parametrize("make,match", [
    (lambda hp: hp.qnormal("a", 0, 1, 1), "qnormal"),
    (lambda hp: hp.qloguniform("a", 0, 3, 2), "qloguniform"),
    (lambda hp: hp.pchoice("a", [(0.2, "x"), (0.8, "y")]), "pchoice"),
    (lambda hp: hp.uniform("a", 0, 1) + 1, "'add'"),
])
def test_hyperopt_without_a_dsl_equivalent_is_refused_by_name(make, match) -> None:
    from hyperopt import hp

    with pytest.raises(hb.SpaceError, match=rf"\ba'?: .*{match}"):
        hb.as_space({"a": make(hp)})


# -- refusals: never a silent constant --------------------------------------------------------

def test_unsupported_scipy_distributions_are_refused_with_what_is_supported() -> None:
    from scipy import stats

    for dist, why in [(stats.expon(), "unbounded"), (stats.beta(2, 3), "neither uniform"),
                      (stats.binom(3, 0.5), "unequal weights"),
                      (stats.loguniform(1, 10, loc=1), "loc=1")]:
        with pytest.raises(hb.SpaceError, match=f"parameter 'p'.*{why}.*supported are"):
            hb.as_space({"p": dist})


def test_scipy_finite_support_maps_when_faithful() -> None:
    from scipy import stats

    space = hb.as_space({"a": stats.beta(1, 1), "b": stats.bernoulli(0.5),
                         "c": stats.reciprocal(1, 10, scale=2), "d": stats.lognorm(0.5,
                                                                                   scale=math.e)})
    assert [d.param for d in space] == [hb.uniform(0.0, 1.0), hb.integer(0, 1),
                                        hb.loguniform(2.0, 20.0), hb.lognormal(1.0, 0.5)]


def test_from_scipy_reads_lists_as_randomizedsearchcv_does() -> None:
    from scipy import stats

    space = hb.from_scipy({"C": stats.loguniform(1e-3, 1e3), "kernel": ["rbf", "linear"],
                           "g": np.linspace(0.0, 1.0, 3)})
    assert [d.param for d in space] == [hb.loguniform(1e-3, 1e3), hb.choice(["rbf", "linear"]),
                                        hb.choice([0.0, 0.5, 1.0])]
    two = hb.from_scipy([{"kernel": ["linear"]}, {"kernel": ["rbf"], "g": stats.uniform()}])
    assert two.names == ["x", "x[0].kernel", "x[1].kernel", "x[1].g"]


def test_foreign_objects_that_do_not_map_are_refused() -> None:
    from optuna.distributions import CategoricalDistribution
    from skopt.space import Categorical, Real

    with pytest.raises(hb.SpaceError, match="unequal prior"):
        hb.as_space({"c": Categorical(["a", "b"], prior=[0.9, 0.1])})
    with pytest.raises(hb.SpaceError, match="have no name.*from_skopt"):
        hb.as_space([Real(0.0, 1.0)])
    with pytest.raises(hb.SpaceError, match="'c'.*distinct"):
        hb.as_space({"c": CategoricalDistribution(["a", "a"])})
    cs = ConfigSpace.ConfigurationSpace()
    cs.add([ConfigSpace.Float("a", (0.0, 1.0)), ConfigSpace.Float("b", (0.0, 1.0))])
    cs.add(ConfigSpace.GreaterThanCondition(cs["b"], cs["a"], 0.5))
    with pytest.raises(hb.SpaceError, match="condition b \\| a > 0.5"):
        hb.as_space(cs)
    with pytest.raises(hb.SpaceError, match="'n'.*NormalFloat"):
        hb.as_space(ConfigSpace.ConfigurationSpace(space={"n": ConfigSpace.Float(
            "n", (0.0, 1.0), distribution=ConfigSpace.Normal(mu=0.5, sigma=0.1))}))


def test_distributions_inside_dsl_choices_are_converted() -> None:
    from optuna.distributions import FloatDistribution
    from scipy import stats

    space = hb.as_space({"m": hb.choice([{"name": "a", "lr": stats.loguniform(1e-3, 1)},
                                         {"name": "b", "w": FloatDistribution(0, 1)}])})
    assert space.names == ["m", "m[a].lr", "m[b].w"]


def test_from_skopt_names_and_skopt_space() -> None:
    from skopt.space import Integer, Real, Space

    assert hb.from_skopt([Real(0, 1), Integer(1, 3)], names=["a", "b"]).names == ["a", "b"]
    assert hb.as_space(Space([Real(0, 1, name="u")])).names == ["u"]


def test_configspace_conditions_and_forbidden_clauses() -> None:
    space = hb.as_space(configspace_space())
    assert [d.name for d in space] == ["lr", "n", "opt", "momentum", "x"]  # ConfigSpace's order
    assert space["momentum"].condition == ("opt", 1)
    config = space.decode({"x": 0.0, "lr": 0.01, "n": 2, "opt": 1, "momentum": 0.5})
    assert config == {"x": 0.0, "lr": 0.01, "n": 2, "opt": "sgd", "momentum": 0.5, "k": "kept"}
    assert space.encode(config) == {"x": 0.0, "lr": 0.01, "n": 2, "opt": 1, "momentum": 0.5}


def test_a_foreign_space_resumes_from_storage(tmp_path) -> None:
    path = str(tmp_path / "study.db")
    hb.minimize(fidelity_objective, fidelity_space(), backend="hyperopt:random", max_evals=3,
                seed=0, progress=False, storage=path)
    loaded = hb.load(path)
    assert len(loaded.records) == 3 and "scale" in hb.as_space(fidelity_space()).names


# -- round trip: DSL -> each library's native form -> DSL ------------------------------------

PLAIN = st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=3, unique=True)
LOG_INTS = st.builds(lambda lo, n: hb.integer(lo, lo + n, log=True), st.integers(1, 20),
                     st.integers(1, 300))
STEP_INTS = integers().filter(lambda p: p.step == 1)
COMMON = st.one_of(uniforms().filter(lambda p: p.step is None), logs(), STEP_INTS, LOG_INTS,
                   PLAIN.map(hb.choice))
NATIVE = {  # what each native form keeps as it is (the rest is encoded: see the translators)
    "hyperopt": st.one_of(COMMON, st.builds(hb.normal, st.floats(-5, 5), st.floats(0.1, 3)),
                          st.builds(hb.lognormal, st.floats(-2, 2), st.floats(0.1, 1))),
    "optuna": st.one_of(COMMON, uniforms(), integers()),
    "skopt": COMMON,
}


def same_param(a, b) -> bool:
    if isinstance(a, hb.space.LogUniform) and isinstance(b, hb.space.LogUniform):
        # hyperopt keeps log-bounds: exp(log(x)) may come back a few ulps off (the error
        # grows with |log x|), never more.
        return math.isclose(a.low, b.low, rel_tol=1e-13) and math.isclose(a.high, b.high,
                                                                         rel_tol=1e-13)
    return a == b


@pytest.mark.parametrize("library", list(NATIVE))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip_through_each_native_form_keeps_the_space(library: str, data) -> None:
    params = data.draw(st.dictionaries(st.sampled_from(list("abcdef")), NATIVE[library],
                                       min_size=1, max_size=4))
    space = hb.as_space(params)
    native = {"hyperopt": space.to_hyperopt, "optuna": space.to_optuna,
              "skopt": space.to_skopt}[library]()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the translators' native forms convert exactly
        back = hb.as_space(native)
    assert back.names == space.names
    assert all(same_param(a.param, b.param) for a, b in zip(space, back, strict=True))


def test_round_trip_of_a_conditional_space_through_hyperopt() -> None:
    from conftest import conditional_space

    space = hb.as_space(conditional_space())
    back = hb.as_space(space.to_hyperopt())
    assert [(d.name, d.condition) for d in back] == [(d.name, d.condition) for d in space]
    assert all(same_param(a.param, b.param) for a, b in zip(space, back, strict=True)
               if not isinstance(a.param, hb.space.Choice))



def test_the_native_forms_are_free_functions_and_the_space_methods_are_the_same() -> None:
    """``hb.to_hyperopt(space)`` etc. (hpo_bridge.convert, above the translators) take any
    space form; ``Space.to_*()`` are the same views (the space layer imports no translator)."""
    from conftest import conditional_space

    space = hb.as_space(conditional_space())
    assert hb.to_optuna(conditional_space()) == space.to_optuna()
    assert [d.name for d in hb.to_skopt(space)] == [d.name for d in space.to_skopt()]
    assert hb.as_space(hb.to_hyperopt(space)).names == hb.as_space(space.to_hyperopt()).names
    with pytest.raises(hb.SpaceError, match="another library's distribution"):
        hb.space.compile_space({"lr": hb.to_optuna({"lr": hb.uniform(0.0, 1.0)})["lr"]})


# -- equal sampled prior: the converted parameter draws what the library draws ---------------

def bridge_samples(space, n: int = 2000) -> list:
    opt = hb.Optimizer(space, backend="optuna:random", seed=0)
    return [opt.ask().params for _ in range(n)]


def test_scipy_and_hyperopt_priors_match_the_library_samples() -> None:
    from hyperopt import hp
    from hyperopt.pyll.stochastic import sample
    from scipy import stats

    dists = {"u": stats.uniform(1, 2), "l": stats.loguniform(1e-3, 10), "z": stats.norm(1, 2),
             "w": stats.lognorm(0.7, scale=2.0)}
    got = bridge_samples(dists)
    for key, dist in dists.items():
        assert stats.kstest([c[key] for c in got], dist.cdf).pvalue > 1e-3, key
    rng = np.random.default_rng(0)
    lo = hp.loguniform("lo", -3.0, 1.0)
    native = [sample(lo, rng=rng) for _ in range(2000)]
    ours = [c["lo"] for c in bridge_samples({"lo": lo})]
    assert stats.ks_2samp(native, ours).pvalue > 1e-3
    counts = np.bincount([c["n"] for c in bridge_samples({"n": stats.randint(0, 5)})])
    assert stats.chisquare(counts).pvalue > 1e-3


def test_importing_hpo_bridge_still_imports_no_foreign_library() -> None:
    import subprocess
    import sys

    code = ("import sys, hpo_bridge; heavy = {'hyperopt', 'optuna', 'skopt', 'scipy', "
            "'ConfigSpace'}; print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
