"""Backends from outside the package: the entry-point group ``hpo_bridge.backends``, read lazily
by the registry, duplicates refused, a broken entry point skipped with a warning, and the
conformance kit run on an outside backend's adapter class alone.

The outside backend is a package of its own, ``tests/outside_backend/`` (``hpo_outside``:
its declaration, its adapter, its ``pyproject.toml``), loaded by path. Its entry points are
declared with a temporary ``*.dist-info`` directory on ``sys.path`` (what ``pip install``
writes, read by ``importlib.metadata``), in a fresh interpreter: the registry reads the group
once per process, and nothing is installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import hpo_bridge as hb
from hpo_bridge import BackendInfo
from hpo_bridge.testing import BackendSuite

OUTSIDE = Path(__file__).resolve().parent / "outside_backend"
sys.path.insert(0, str(OUTSIDE))  # loaded by path, as the plugin's own tests would load it
from hpo_outside import CAPABILITIES  # noqa: E402
from hpo_outside.adapter import OneByOne  # noqa: E402

GROUP = "hpo_bridge.backends"
ROOT = Path(hb.__file__).resolve().parent.parent


def run_with_entry_points(tmp_path: Path, entry_points: dict[str, str], code: str,
                          modules: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter that sees the distribution ``hpo-outside`` declaring
    ``entry_points`` (``{name: "module:attr"}``) and the extra ``modules`` (``{name: source}``)."""
    site = tmp_path / "site"
    info = site / "hpo_outside-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hpo-outside\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        f"[{GROUP}]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items()))
    for name, source in (modules or {}).items():
        (site / f"{name}.py").write_text(textwrap.dedent(source))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(OUTSIDE), str(site)])}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=env, timeout=300)


def test_an_entry_point_registers_its_backends_on_first_use(tmp_path: Path) -> None:
    out = run_with_entry_points(tmp_path, {"outside": "hpo_outside:BACKENDS"}, """
        import sys
        import hpo_bridge as hb
        from hpo_bridge.backends.registry import resolve
        print("hpo_outside" in sys.modules)  # not read yet
        info = resolve("OUTSIDE:OneByOne")  # first use reads the group
        print(info.name, info.capabilities.batch, info.package)
        print([b.name for b in hb.backends()][-2:])
        result = hb.minimize(lambda c: c["x"], {"x": hb.uniform(0.0, 1.0)},
                             backend="outside:onebyone", max_evals=3, seed=0, progress=False)
        print(len(result.records), result.backend)
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "False", "outside:onebyone False hpo-outside", "['outside:onebyone', 'outside:fast']",
        "3 outside:onebyone"]


def test_a_plugins_missing_library_names_the_plugins_own_package(tmp_path: Path) -> None:
    out = run_with_entry_points(tmp_path, {"outside": "hpo_outside:BACKENDS"}, """
        import hpo_bridge as hb
        try:
            hb.minimize(lambda c: c["x"], {"x": hb.uniform(0.0, 1.0)}, backend="outside:fast",
                        max_evals=2, progress=False)
        except hb.MissingBackendError as exc:
            print(exc)
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ("backend 'outside:fast' (from hpo-outside) needs "
                                  "hpo_outside_fastlib: pip install 'hpo-outside[fast]'")


def test_a_duplicate_name_is_refused_naming_both_origins(tmp_path: Path) -> None:
    out = run_with_entry_points(
        tmp_path, {"one": "hpo_outside:BACKENDS", "two": "hpo_outside:BACKENDS"},
        "import hpo_bridge as hb; hb.backends()")
    assert out.returncode != 0
    assert ("ValueError: backend 'outside:onebyone' is declared twice: by entry point 'one' "
            "(hpo_outside:BACKENDS) of hpo-outside and by entry point 'two' "
            "(hpo_outside:BACKENDS) of hpo-outside") in out.stderr


def test_an_entry_point_may_not_take_a_built_in_name(tmp_path: Path) -> None:
    clash = """
        from dataclasses import replace
        from hpo_outside import BACKENDS
        CLASH = replace(BACKENDS[0], name="optuna:tpe")
    """
    out = run_with_entry_points(tmp_path, {"clash": "clash:CLASH"},
                                "import hpo_bridge as hb; hb.backends()", {"clash": clash})
    assert out.returncode != 0
    assert ("'optuna:tpe' is declared twice: by hpo_bridge (built in) and by entry point "
            "'clash'") in out.stderr


def test_a_broken_entry_point_warns_naming_itself_and_the_others_keep_working(
        tmp_path: Path) -> None:
    out = run_with_entry_points(tmp_path, {
        "broken": "no_such_module_xyz:BACKENDS",         # a module that is not there
        "notinfo": "hpo_outside.adapter:OneByOne",       # not a BackendInfo (nor a function)
        "outside": "hpo_outside:BACKENDS",
    }, """
        import warnings
        import hpo_bridge as hb
        from hpo_bridge.backends.registry import resolve
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            names = [b.name for b in hb.backends()]
        for w in caught:
            print(f"{w.category.__name__}: {w.message}")
        print("optuna:tpe" in names, "outside:onebyone" in names, resolve("tpe").name)
        result = hb.minimize(lambda c: c["x"], {"x": hb.uniform(0.0, 1.0)},
                             backend="optuna:random", max_evals=2, seed=0, progress=False)
        print(len(result.records))
    """)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 4, out.stdout
    assert lines[0].startswith(
        "RuntimeWarning: entry point 'broken' (no_such_module_xyz:BACKENDS) of hpo-outside in "
        "group 'hpo_bridge.backends' cannot be loaded (ModuleNotFoundError: No module named "
        "'no_such_module_xyz'); its backends are skipped. Fix or uninstall hpo-outside.")
    assert lines[1].startswith("RuntimeWarning: entry point 'notinfo' "
                               "(hpo_outside.adapter:OneByOne) of hpo-outside")
    assert lines[2:] == ["True True optuna:tpe", "2"]


def test_importing_hpo_bridge_reads_no_entry_point_and_imports_no_test_library() -> None:
    code = ("import sys, hpo_bridge; "
            "print(sorted({'pytest', 'hypothesis', 'nevergrad', 'hpo_bridge.testing', "
            "'hpo_bridge.backends.nevergrad'} & set(sys.modules))); "
            "hpo_bridge.backends(); "
            "print(sorted({'pytest', 'hypothesis', 'nevergrad'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "[]"]


def test_a_backend_info_runs_its_adapter_class_registered_nowhere() -> None:
    info = BackendInfo.for_adapter(OneByOne, "outside:unregistered", capabilities=CAPABILITIES)
    assert info.name not in [b.name for b in hb.backends()]
    result = hb.minimize(lambda c: c["x"], {"x": hb.uniform(0.0, 1.0)}, backend=info,
                         max_evals=3, seed=0, progress=False)
    assert result.backend == "outside:unregistered" and len(result.records) == 3


class TestABackendFromOutside(BackendSuite):
    """The kit on the outside backend's adapter class alone: not installed, no entry point,
    registered nowhere (and it takes one trial at a time, so the kit checks the refusals
    ``batch=False`` implies)."""

    @pytest.fixture
    def backend(self) -> BackendInfo:
        return BackendInfo.for_adapter(OneByOne, "outside:onebyone", capabilities=CAPABILITIES)


def readme_example() -> dict:
    """The first Python block of docs/writing-a-backend.md, run."""
    page = (ROOT / "docs" / "writing-a-backend.md").read_text()
    code = page[page.index("```python\n") + len("```python\n"):]
    code = code[:code.index("```\n")]
    namespace: dict = {}
    exec(compile(code, "docs/writing-a-backend.md", "exec"), namespace)
    return namespace


README_EXAMPLE = readme_example()


def test_the_readme_example_runs() -> None:
    result = README_EXAMPLE["result"]
    assert result.backend == "coin:random" and len(result.records) == 10


class TestTheReadmeExample(BackendSuite):
    """The docs' smallest adapter passes the kit, from its class alone."""

    @pytest.fixture
    def backend(self) -> BackendInfo:
        return README_EXAMPLE["coin"]
