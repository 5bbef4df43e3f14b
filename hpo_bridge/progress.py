"""A progress bar showing the best value so far: tqdm, notebook-aware, off when not wanted."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["ProgressBar", "want_progress"]


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython() if hasattr(shell, "get_ipython") else None
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def want_progress(progress: bool | None) -> bool:
    """``progress=None`` means on in a terminal or a notebook, off otherwise (CI, logs)."""
    if progress is not None:
        return bool(progress)
    return _in_notebook() or (hasattr(sys.stderr, "isatty") and sys.stderr.isatty())


class ProgressBar:
    """``with ProgressBar(total, enabled) as bar: bar.update(best)``."""

    def __init__(self, total: int | None, enabled: bool, desc: str = "") -> None:
        self._bar: Any = None
        if enabled:
            kwargs = {"total": total, "desc": desc, "unit": "trial", "dynamic_ncols": True}
            if _in_notebook():
                try:
                    from tqdm.notebook import tqdm as notebook_tqdm

                    self._bar = notebook_tqdm(**kwargs)
                except ImportError:  # no ipywidgets: the text bar still works in Jupyter
                    pass
            if self._bar is None:
                from tqdm import tqdm

                self._bar = tqdm(**kwargs)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.close()

    def update(self, best: float | None, n: int = 1) -> None:
        if self._bar is None:
            return
        if best is not None:
            self._bar.set_postfix_str(f"best={best:.6g}", refresh=False)
        self._bar.update(n)

    def write(self, message: str) -> None:
        """A line above the bar (nothing when the bar is off: the log has it)."""
        if self._bar is not None:
            self._bar.write(message)
