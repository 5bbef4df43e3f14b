"""hpo_bridge: one search space and one objective (or several) under every optimizer.

hyperopt, Optuna, scikit-optimize and nevergrad, behind one ask/tell protocol.

Example:
    >>> import hpo_bridge as hb
    >>> space = {"lr": hb.loguniform(1e-4, 1e-1), "act": hb.choice(["relu", "tanh"])}
    >>> result = hb.minimize(lambda c: c["lr"], space, backend="optuna:random",
    ...                      max_evals=5, seed=0, progress=False)
    >>> sorted(result.best_params)
    ['act', 'lr']

Importing ``hpo_bridge`` imports no backend library, no pandas, no matplotlib and no
scikit-learn (``hb.SearchCV`` imports it on first access).
"""

from typing import TYPE_CHECKING

from hpo_bridge import stop
from hpo_bridge.backends.registry import BackendInfo, backends
from hpo_bridge.callbacks import Callback, StopRun
from hpo_bridge.compare import compare
from hpo_bridge.convert import as_space, to_hyperopt, to_optuna, to_skopt
from hpo_bridge.errors import (
    BackendError,
    CallbackError,
    MissingBackendError,
    NoSuccessfulTrialError,
    ObjectiveError,
    SpaceError,
    StorageError,
    TrialPruned,
    UnsupportedError,
)
from hpo_bridge.fidelity import Fidelity, fidelity
from hpo_bridge.foreign import (
    ConversionWarning,
    from_configspace,
    from_hyperopt,
    from_optuna,
    from_scipy,
    from_skopt,
)
from hpo_bridge.optimizer import Optimizer, Trial
from hpo_bridge.plots import plot_convergence, plot_pareto_front
from hpo_bridge.results import Result, TrialRecord
from hpo_bridge.run import maximize, minimize
from hpo_bridge.space import (
    Space,
    choice,
    integer,
    lognormal,
    loguniform,
    normal,
    uniform,
)
from hpo_bridge.storage import load
from hpo_bridge.version import __version__ as __version__

if TYPE_CHECKING:
    from hpo_bridge.integrations.sklearn import SearchCV


def __getattr__(name: str) -> object:
    """Public names that import a heavy library, resolved on first access (PEP 562)."""
    if name == "SearchCV":  # scikit-learn
        from hpo_bridge.integrations.sklearn import SearchCV

        return SearchCV
    raise AttributeError(f"module 'hpo_bridge' has no attribute {name!r}")


__all__ = [
    "BackendError",
    "BackendInfo",
    "Callback",
    "CallbackError",
    "ConversionWarning",
    "Fidelity",
    "MissingBackendError",
    "NoSuccessfulTrialError",
    "ObjectiveError",
    "Optimizer",
    "Result",
    "SearchCV",
    "Space",
    "SpaceError",
    "StopRun",
    "StorageError",
    "Trial",
    "TrialPruned",
    "TrialRecord",
    "UnsupportedError",
    "as_space",
    "backends",
    "choice",
    "compare",
    "fidelity",
    "from_configspace",
    "from_hyperopt",
    "from_optuna",
    "from_scipy",
    "from_skopt",
    "integer",
    "load",
    "lognormal",
    "loguniform",
    "maximize",
    "minimize",
    "normal",
    "plot_convergence",
    "plot_pareto_front",
    "to_hyperopt",
    "stop",
    "to_optuna",
    "to_skopt",
    "uniform",
]
