"""Execute the notebooks in place, so they are committed with their outputs.

    python notebooks/execute.py                      # every notebook in notebooks/
    python notebooks/execute.py 02_compare_backends  # only those whose name contains a word

Each notebook runs top to bottom in a fresh ``python3`` kernel of this interpreter's
environment (nbclient), with the notebook's folder as working directory; the time each took is
printed. A cell error stops that notebook and leaves the file unchanged. The notebooks run at
full size: ``HPO_BRIDGE_SMOKE_TEST`` (set by tests/test_notebooks.py for fewer trials) is
removed from the kernel's environment.
"""

from __future__ import annotations

import html
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
CELL_TIMEOUT_S = 300


def notebooks(words: list[str] | None = None) -> list[Path]:
    paths = sorted(HERE.glob("*.ipynb"))
    if words:
        paths = [p for p in paths if any(w in p.name for w in words)]
    return paths


def execute(path: Path, out: Path | None = None) -> float:
    """Run ``path`` in a fresh kernel and write it (with outputs) to ``out`` (default: itself).

    Returns the wall time in seconds; raises ``nbclient.exceptions.CellExecutionError`` on a
    cell error.
    """
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(HERE)}})
    t0 = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - t0
    _final_bar_text(nb)
    nbformat.write(nb, out or path)
    return elapsed


def _final_bar_text(nb) -> None:
    """Give each notebook progress bar (a tqdm widget) the plain-text form of its final state.

    A widget output's ``text/plain`` is what tqdm printed when the bar was created (0 %); viewers
    without widgets (GitHub, nbviewer) show that. Jupyter renders the stored widget state.
    """
    state = nb.metadata.get("widgets", {}).get(
        "application/vnd.jupyter.widget-state+json", {}).get("state", {})
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get("application/vnd.jupyter.widget-view+json")
            text = view and _bar_text(state, view.get("model_id"))
            if text:
                output["data"]["text/plain"] = text


def _bar_text(state: dict, model_id: str | None) -> str | None:
    box = state.get(model_id or "")
    if not box or box.get("model_name") != "HBoxModel":
        return None
    parts = []
    for ref in box["state"].get("children", []):
        model = state.get(str(ref).removeprefix("IPY_MODEL_"))
        if model is None:
            return None
        s = model["state"]
        if model["model_name"] == "HTMLModel":
            parts.append(html.unescape(s.get("value", "")).replace("\u2007", " "))
        elif model["model_name"] == "FloatProgressModel":
            frac = s.get("value", 0) / s["max"] if s.get("max") else 0.0
            filled = round(10 * min(max(frac, 0.0), 1.0))
            parts.append("|" + "\u2588" * filled + " " * (10 - filled) + "|")
    return "".join(parts) or None


def main(argv: list[str]) -> int:
    os.environ.pop("HPO_BRIDGE_SMOKE_TEST", None)  # committed outputs are full runs
    paths = notebooks(argv)
    if not paths:
        print(f"no notebook in {HERE} matches {argv}", file=sys.stderr)
        return 1
    for path in paths:
        print(f"{path.name}: running ...", flush=True)
        print(f"{path.name}: {execute(path):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
