"""Backends from outside the package: the entry-point group ``hpo_bridge.backends``, read lazily
by the registry, duplicates refused, and the conformance kit run on such a backend."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from importlib import metadata

import pytest

import hpo_bridge as hb
from hpo_bridge.backends import registry
from hpo_bridge.testing import BackendSuite

GROUP = "hpo_bridge.backends"


def _entry_point(name: str, value: str) -> metadata.EntryPoint:
    return metadata.EntryPoint(name=name, value=value, group=GROUP)


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch):
    """The built-in backends only, with the entry points not read yet; returns a function that
    sets which entry points are installed."""
    builtin = {n: i for n, i in registry._REGISTRY.items()
               if registry._ORIGIN[n] == "hpo_bridge (built in)"}
    monkeypatch.setattr(registry, "_REGISTRY", builtin)
    monkeypatch.setattr(registry, "_ORIGIN", {n: registry._ORIGIN[n] for n in builtin})
    monkeypatch.setattr(registry, "_entry_points_read", False)

    def install(*eps: metadata.EntryPoint) -> None:
        def entry_points(group: str) -> list[metadata.EntryPoint]:
            assert group == GROUP
            return list(eps)
        monkeypatch.setattr(registry.metadata, "entry_points", entry_points)
    return install


def test_an_entry_point_registers_its_backends_on_first_use(fresh_registry) -> None:
    fresh_registry(_entry_point("fake", "fake_backend:BACKENDS"))
    assert "fake:onebyone" not in registry._REGISTRY  # not read yet
    info = registry.resolve("FAKE:OneByOne")  # first use reads the group
    assert info.name == "fake:onebyone" and not info.capabilities.batch
    assert [b.name for b in hb.backends()][-1] == "fake:onebyone"
    result = hb.minimize(lambda c: c["x"], {"x": hb.uniform(0.0, 1.0)}, backend="fake:onebyone",
                         max_evals=3, seed=0, progress=False)
    assert len(result.records) == 3


def test_a_duplicate_name_is_refused_naming_both_origins(fresh_registry) -> None:
    fresh_registry(_entry_point("one", "fake_backend:BACKENDS"),
                   _entry_point("two", "fake_backend:BACKENDS"))
    with pytest.raises(ValueError, match=r"'fake:onebyone' is declared twice: by entry point "
                                         r"'one' \(fake_backend:BACKENDS\).*and by entry point "
                                         r"'two' \(fake_backend:BACKENDS\)"):
        hb.backends()


def test_an_entry_point_may_not_take_a_built_in_name(fresh_registry, monkeypatch) -> None:
    import fake_backend

    clash = replace(fake_backend.BACKENDS[0], name="optuna:tpe")
    monkeypatch.setattr(fake_backend, "CLASH", clash, raising=False)
    fresh_registry(_entry_point("clash", "fake_backend:CLASH"))
    with pytest.raises(ValueError, match=r"'optuna:tpe' is declared twice: by hpo_bridge "
                                         r"\(built in\) and by entry point 'clash'"):
        hb.backends()


def test_an_entry_point_that_cannot_load_names_itself(fresh_registry) -> None:
    fresh_registry(_entry_point("broken", "no_such_module_xyz:BACKENDS"))
    with pytest.raises(ImportError, match="entry point 'broken'.*cannot be loaded"):
        hb.backends()


def test_importing_hpo_bridge_reads_no_entry_point_and_imports_no_test_library() -> None:
    code = ("import sys, hpo_bridge; "
            "print(sorted({'pytest', 'hypothesis', 'nevergrad', 'hpo_bridge.testing', "
            "'hpo_bridge.backends.nevergrad'} & set(sys.modules))); "
            "hpo_bridge.backends(); "
            "print(sorted({'pytest', 'hypothesis', 'nevergrad'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "[]"]


class TestABackendFromOutside(BackendSuite):
    """The kit on a backend that only an entry point declares (and that takes one trial at a
    time, so the kit checks the refusals ``batch=False`` implies)."""

    @pytest.fixture
    def backend(self, fresh_registry) -> str:
        fresh_registry(_entry_point("fake", "fake_backend:BACKENDS"))
        return "fake:onebyone"
