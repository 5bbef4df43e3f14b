"""Every notebook in notebooks/ runs top to bottom in a fresh kernel, without a cell error.

The notebooks are executed from a temporary copy (the committed files, with their outputs, are
left alone), with the notebooks' folder as working directory, like ``notebooks/execute.py``, and
with ``HPO_BRIDGE_SMOKE_TEST=1``: the notebooks that read it run the same cells at fewer trials,
seeds or training samples (CI time); ``notebooks/execute.py`` runs them at full size.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
EXPECTED = {"01_quickstart.ipynb", "02_compare_backends.ipynb", "03_pytorch_tuning.ipynb",
            "04_multiobjective.ipynb", "05_multifidelity.ipynb", "06_sklearn.ipynb"}
CELL_TIMEOUT_S = 300


def test_the_notebooks_are_there() -> None:
    assert EXPECTED <= {p.name for p in NOTEBOOKS}, f"missing notebooks in {NOTEBOOKS_DIR}"


def test_the_notebooks_run_smaller_in_the_tests_are_those_the_docs_name() -> None:
    """The notebooks that read ``HPO_BRIDGE_SMOKE_TEST`` (CI time), as docs/notebooks.md says;
    06 (scikit-learn, 22 s of the suite at full size) is one of them."""
    smaller = {p.name[:2] for p in NOTEBOOKS if "HPO_BRIDGE_SMOKE_TEST" in p.read_text()}
    assert smaller == {"01", "02", "03", "06"}
    docs = " ".join((NOTEBOOKS_DIR.parent / "docs" / "notebooks.md").read_text().split())
    assert "notebooks 01-03 and 06 then run the same cells" in docs


def _outputs(nb, kind: str) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if kind in o.get("data", {})]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HPO_BRIDGE_SMOKE_TEST", "1")  # the kernel inherits it
    copy = tmp_path / path.name
    shutil.copyfile(path, copy)
    nb = nbformat.read(copy, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS_DIR)}})
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    nbformat.write(nb, copy)

    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert _outputs(nb, "image/png"), f"{path.name} shows no plot"
    if path.name == "01_quickstart.ipynb":
        # The Result display renders as HTML in Jupyter ...
        html = [o["data"]["text/html"] for o in _outputs(nb, "text/html")]
        assert any("hpo_bridge Result" in h for h in html), "Result._repr_html_ not rendered"
        # ... and progress=True shows tqdm's notebook widget, finished, with the best value.
        bars = _outputs(nb, "application/vnd.jupyter.widget-view+json")
        assert bars, "no progress bar widget"
        state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
        done = [m["state"] for m in state.values() if m["model_name"] == "FloatProgressModel"]
        assert done and all(s["value"] == s["max"] for s in done)
        texts = [m["state"].get("value", "") for m in state.values()
                 if m["model_name"] == "HTMLModel"]
        assert any("best=" in t for t in texts)
    if path.name == "04_multiobjective.ipynb":
        # The three backends' fronts overlaid in one figure, and each backend's hypervolume
        # at one reference point.
        assert len(_outputs(nb, "image/png")) == 1
        last = [o["data"]["text/plain"] for o in _outputs(nb, "text/plain")][-1]
        assert all(b in last for b in ("optuna:tpe", "optuna:nsga2", "hyperopt:tpe"))
