"""Every ``>>>`` example in the package's docstrings runs and prints what it shows (the API
reference renders them, so they are documentation that must not rot). A pareto example had
said 4.0 for a hypervolume of 5.0 since it was written: nothing ran it."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import hpo_bridge

MODULES = sorted(m.name for m in pkgutil.walk_packages(hpo_bridge.__path__, "hpo_bridge.")
                 if not m.name.endswith("__main__"))


def test_the_package_has_examples_to_run() -> None:
    finder = doctest.DocTestFinder()
    examples = sum(len(t.examples) for name in MODULES
                   for t in finder.find(importlib.import_module(name)))
    assert examples > 100


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # an example that writes a file writes it here
    result = doctest.testmod(importlib.import_module(name), verbose=False, report=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples fail: " \
        f"python -m pytest --doctest-modules {name.replace('.', '/')}.py shows them"
