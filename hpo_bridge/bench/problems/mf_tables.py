"""Multi-fidelity problems with real learning curves, offline (issue 21, item 5).

* ``mlp-digits-tab``: the PyTorch MLP of ``mlp-digits`` over a full grid of 504 configurations,
  every epoch up to 27 (fidelity ``epochs``, 1..27, eta 3); loss: validation error.
* ``gb-breast-cancer-tab``, ``gb-wine-tab``: scikit-learn's GradientBoostingClassifier over a
  full grid of 540 configurations, every number of trees up to 81 from one fit per
  configuration (``staged_predict_proba``; fidelity ``n_trees``, 1..81, eta 3); loss:
  validation log-loss.
* ``hartmann6-mf``: the multi-fidelity Hartmann 6-D function of Kandasamy et al. (BOCA, ICML
  2017): ``alpha(z) = alpha - 0.1 (1 - z)`` at fidelity ``z = budget / 27`` (``budget``,
  1..27, eta 3), cost ``0.05 + 0.95 z ** 1.5`` seconds; no table.

The tables are recorded by ``benchmarks/make_mf_tables.py`` (seed 0, torch single-threaded) and
shipped in ``hpo_bridge/bench/data/`` as compressed ``.npz`` files of numeric and fixed-width
text arrays, read with ``np.load(allow_pickle=False)``: nothing is unpickled. Each row holds one
configuration's curve and the recorded wall time of each step, which the simulator
(:mod:`hpo_bridge.bench.simulate`) replays on a virtual clock.

A table problem is registered when its file is shipped (a checkout where
``benchmarks/make_mf_tables.py`` has not run lacks it). Every parameter is a ``choice`` of the
grid's values, so every proposal is a row of the table.
A problem's ``optimum`` is the minimum of the loss at the full budget over the whole table (by
enumeration; a test checks the constants).
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpo_bridge.bench.problems.base import Problem
from hpo_bridge.bench.problems.synthetic import hartmann6_shifted
from hpo_bridge.fidelity import Fidelity, fidelity
from hpo_bridge.space import choice, uniform

DATA = Path(__file__).resolve().parents[1] / "data"

#: The MLP of ``mlp-digits`` over a full grid (504 configurations), 27 epochs each.
MLP_GRID: dict[str, list[Any]] = {
    "lr": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1],
    "batch_size": [64, 128],
    "hidden_units": [16, 64, 256],
    "n_layers": [1, 2, 3],
    "dropout": [0.0, 0.25],
    "optimizer": ["adam", "sgd"],
}
MLP_EPOCHS = 27
MLP_FILE = "mlp_digits_curves.npz"

#: GradientBoostingClassifier over a full grid (540 configurations), 81 trees each.
GB_GRID: dict[str, list[Any]] = {
    "learning_rate": [0.01, 0.03, 0.1, 0.3, 1.0],
    "max_depth": [1, 2, 3, 5],
    "subsample": [0.5, 0.75, 1.0],
    "max_features": [0.25, 0.5, 1.0],
    "min_samples_leaf": [1, 5, 20],
}
GB_TREES = 81
GB_DATASETS = ("breast_cancer", "wine")
GB_FILE = "gb_{dataset}_curves.npz"

#: The optimizer settings behind the grid's two optimizer names (mlp-digits' nested space).
_OPTIMIZERS: dict[str, dict[str, Any]] = {
    "adam": {"name": "adam", "beta1": 0.9, "weight_decay": 0.0},
    "sgd": {"name": "sgd", "momentum": 0.9, "nesterov": True},
}


def mlp_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A configuration of the MLP grid as a configuration of ``mlp-digits``' model."""
    return {**config, "optimizer": dict(_OPTIMIZERS[config["optimizer"]])}


@functools.cache
def gb_split(dataset: str) -> tuple[Any, Any, Any, Any]:
    """A bundled scikit-learn dataset, split 75 % / 25 % (stratified, ``random_state=0``)."""
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    x, y = getattr(datasets, f"load_{dataset}")(return_X_y=True)
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    return x_tr, x_va, y_tr, y_va


@dataclass(frozen=True)
class CurveData:
    """One loaded table: the grid, ``curves[metric]`` (rows x steps) and ``time`` (seconds of
    each step), row ``i`` being the ``i``-th configuration of ``itertools.product`` over the
    grid (the last parameter fastest)."""

    grid: dict[str, list[Any]]
    curves: dict[str, Any]
    time: Any
    meta: dict[str, Any]

    @property
    def steps(self) -> int:
        return int(self.time.shape[1])

    def row(self, config: Mapping[str, Any]) -> int:
        """The row of ``config`` (every parameter one of the grid's values)."""
        row = 0
        for name, values in self.grid.items():
            row = row * len(values) + _index(values, config[name], name)
        return row

    def step(self, config: Mapping[str, Any], budget: str) -> int:
        """``config[budget]``, a step of the table (from 1; the last when it is missing)."""
        step = config.get(budget, self.steps)
        if (isinstance(step, bool) or not isinstance(step, (int, float))
                or not float(step).is_integer() or not 1 <= step <= self.steps):
            raise ValueError(f"{budget} must be an int from 1 to {self.steps} (a step of the "
                             f"table), got {step!r}")
        return int(step)

    def loss(self, config: Mapping[str, Any], metric: str, budget: str) -> float:
        """The recorded ``metric`` of ``config`` after ``config[budget]`` steps."""
        return float(self.curves[metric][self.row(config), self.step(config, budget) - 1])

    def cost(self, config: Mapping[str, Any], budget: str, reached: float | None = None
             ) -> float:
        """The recorded seconds to reach ``config[budget]``: the steps after ``reached`` (a
        continued training) or, with ``reached=None``, every step from the first."""
        first = 0 if reached is None else int(reached)
        times = self.time[self.row(config), first:self.step(config, budget)]
        return math.fsum(float(t) for t in times)


def _index(values: list[Any], value: Any, name: str) -> int:
    for i, option in enumerate(values):
        if isinstance(option, float) and isinstance(value, (int, float)):
            if math.isclose(option, value, rel_tol=1e-9):
                return i
        elif option == value and type(option) is type(value):
            return i
    raise ValueError(f"parameter {name!r}: {value!r} is not in the table; it holds only the "
                     f"grid values {values}")


def load_curves(path: str | Path, grid: Mapping[str, list[Any]]) -> CurveData:
    """Read a table written by ``benchmarks/make_mf_tables.py`` (never unpickling: a file
    holding Python objects is refused), checking that its rows are ``grid``'s product."""
    import numpy as np

    with np.load(path, allow_pickle=False) as z:
        arrays = {key: z[key] for key in z.files}
    n = math.prod(len(v) for v in grid.values())
    for i, config in enumerate(itertools.product(*grid.values())):
        if i % 97 and i != n - 1:
            continue  # a sample of rows is enough to catch a table of another grid
        for name, value in zip(grid, config, strict=True):
            if arrays[f"param_{name}"][i] != value:
                raise ValueError(f"{path}: row {i} holds {name}={arrays[f'param_{name}'][i]!r}, "
                                 f"not {value!r}: the table was made for another grid")
    metrics = {k: v for k, v in arrays.items() if not k.startswith("param_")
               and k not in ("time", "meta")}
    if arrays["time"].shape[0] != n or any(v.shape != arrays["time"].shape
                                           for v in metrics.values()):
        raise ValueError(f"{path}: expected {n} rows of equal shape, got "
                         f"{ {k: v.shape for k, v in arrays.items()} }")
    return CurveData(dict(grid), metrics, arrays["time"], json.loads(str(arrays["meta"])))


@functools.cache
def table(key: str) -> CurveData:
    """The shipped table ``"mlp"``, ``"gb-breast_cancer"`` or ``"gb-wine"`` (loaded once)."""
    if key == "mlp":
        return load_curves(DATA / MLP_FILE, MLP_GRID)
    dataset = key.removeprefix("gb-")
    if key.startswith("gb-") and dataset in GB_DATASETS:
        return load_curves(DATA / GB_FILE.format(dataset=dataset), GB_GRID)
    raise ValueError(f"table must be 'mlp' or one of {[f'gb-{d}' for d in GB_DATASETS]}, "
                     f"got {key!r}")


@dataclass(frozen=True)
class CurveObjective:
    """Look up a configuration's recorded loss at its budget ``config[fidelity.name]`` (a
    step of the table, counted from 1); picklable.

    Example:
        >>> objective = CurveObjective("gb-wine", "val_loss", "n_trees")
        >>> config = {"learning_rate": 0.1, "max_depth": 2, "subsample": 1.0,
        ...           "max_features": 0.5, "min_samples_leaf": 5, "n_trees": 81}
        >>> 0.0 <= objective(config) < 1.0
        True
    """

    table: str
    metric: str
    budget: str

    def __call__(self, config: Mapping[str, Any]) -> float:
        return table(self.table).loss(config, self.metric, self.budget)

    def cost(self, config: Mapping[str, Any], reached: float | None = None) -> float:
        """The recorded seconds of this evaluation (see :meth:`CurveData.cost`)."""
        return table(self.table).cost(config, self.budget, reached)

    @property
    def table_file(self) -> str:
        """The file of the table in ``hpo_bridge/bench/data``."""
        return MLP_FILE if self.table == "mlp" else GB_FILE.format(
            dataset=self.table.removeprefix("gb-"))

    @property
    def grid(self) -> dict[str, list[Any]]:
        """The table's grid (the problem's space: a choice of these values per parameter)."""
        return MLP_GRID if self.table == "mlp" else GB_GRID

    def full_fidelity_optimum(self) -> float:
        """The minimum over the table at the last step (by enumeration)."""
        return float(table(self.table).curves[self.metric][:, -1].min())


# -- multi-fidelity Hartmann 6-D (Kandasamy et al., ICML 2017, BOCA) -----------------------
HARTMANN_MF_HIGH = 27


@dataclass(frozen=True)
class HartmannMF:
    """Hartmann 6-D at fidelity ``z = config[budget] / 27``: ``alpha_i(z) = alpha_i - 0.1 (1
    - z)``. A lower fidelity is never below the full one (``f_z(x) = f(x) + 0.1 (1 - z)
    sum_i exp(...)``), so the full-fidelity optimum is the known ``-3.32237``.

    Example:
        >>> from hpo_bridge.bench.problems.synthetic import MINIMIZERS
        >>> f = HartmannMF()
        >>> round(f({**MINIMIZERS["hartmann6"], "budget": 27}), 5)
        -3.32237
    """

    budget: str = "budget"

    def __call__(self, config: Mapping[str, Any]) -> float:
        z = float(config.get(self.budget, HARTMANN_MF_HIGH)) / HARTMANN_MF_HIGH
        return hartmann6_shifted([float(config[f"x{i}"]) for i in range(1, 7)], 0.1 * (1.0 - z))

    def cost(self, config: Mapping[str, Any], reached: float | None = None) -> float:
        """``0.05 + 0.95 z ** 1.5`` seconds (BOCA's cost model), a fresh evaluation each time."""
        z = float(config.get(self.budget, HARTMANN_MF_HIGH)) / HARTMANN_MF_HIGH
        return 0.05 + 0.95 * math.pow(z, 1.5)


#: The full-fidelity optimum of each table, by enumeration (tests check them).
OPTIMA: dict[str, float] = {
    "mlp": 0.015555555932223797,
    "gb-breast_cancer": 0.12216291576623917,
    "gb-wine": 1.1810686373792123e-05,
}


def _problem(name: str, key: str, metric: str, fid: Fidelity, text: str) -> Problem:
    grid = MLP_GRID if key == "mlp" else GB_GRID
    return Problem(
        name=name, space={n: choice(list(v)) for n, v in grid.items()},
        objective=CurveObjective(key, metric, fid.name), optimum=OPTIMA.get(key), cost="cheap",
        quick=False, description=text, fidelity=fid)


MLP_FIDELITY = fidelity("epochs", 1, MLP_EPOCHS, eta=3)
GB_FIDELITY = fidelity("n_trees", 1, GB_TREES, eta=3)
HARTMANN_FIDELITY = fidelity("budget", 1, HARTMANN_MF_HIGH, eta=3)

def _shipped(file: str) -> bool:
    return (DATA / file).is_file()


PROBLEMS = (
    *((_problem("mlp-digits-tab", "mlp", "val_error", MLP_FIDELITY,
                "Tabulated learning curves of mlp-digits' PyTorch MLP on sklearn's digits: a "
                "grid of 504 configurations (lr, batch size, hidden units, layers, dropout, "
                "adam|sgd), every epoch 1-27 with its recorded time; loss: validation error. "
                "Fidelity epochs 1..27."),) if _shipped(MLP_FILE) else ()),
    *(_problem(f"gb-{d.replace('_', '-')}-tab", f"gb-{d}", "val_loss", GB_FIDELITY,
               f"Tabulated curves of sklearn's GradientBoostingClassifier on load_{d}: a grid "
               "of 540 configurations, validation log-loss after every tree 1-81 of one fit "
               "(staged_predict_proba) with its recorded time. Fidelity n_trees 1..81.")
      for d in GB_DATASETS if _shipped(GB_FILE.format(dataset=d))),
    Problem(
        name="hartmann6-mf",
        space={f"x{i}": uniform(0.0, 1.0) for i in range(1, 7)},
        objective=HartmannMF(), optimum=-3.322368011415515, cost="cheap", quick=False,
        description=("Multi-fidelity Hartmann 6-D (Kandasamy et al., BOCA, ICML 2017): alpha - "
                     "0.1 (1 - z) at z = budget/27; cost 0.05 + 0.95 z^1.5 s. Fidelity budget "
                     "1..27; the optimum is Hartmann 6-D's, at the full budget."),
        fidelity=HARTMANN_FIDELITY),
)
