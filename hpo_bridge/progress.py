"""A progress bar showing the best value so far: tqdm, notebook-aware, off when not wanted.

Beside ``best=`` it counts the failed and pruned trials. While a text bar is shown,
``print()`` in the objective (serial or threads) goes through ``tqdm.write`` so the bar stays
whole; a worker process prints on its own.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any, cast

from hpo_bridge.backends.quiet import QUIETED, quiet_libraries

__all__ = ["ProgressBar", "want_progress", "quiet_libraries", "QUIETED"]


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
    """``with ProgressBar(total, enabled) as bar: bar.update(best, state)``."""

    def __init__(self, total: int | None, enabled: bool, desc: str = "",
                 unit: str = "trial") -> None:
        self._bar: Any = None
        self._redirect = contextlib.ExitStack()
        self.counts = {"failed": 0, "pruned": 0}
        if enabled:
            kwargs: dict[str, Any] = {"total": total, "desc": desc, "unit": unit,
                                      "dynamic_ncols": True}
            if _in_notebook():
                try:
                    from tqdm.notebook import tqdm as notebook_tqdm

                    self._bar = notebook_tqdm(**kwargs)
                except ImportError:  # no ipywidgets: the text bar still works in Jupyter
                    pass
            if self._bar is None:
                from tqdm import tqdm
                from tqdm.contrib import DummyTqdmFile

                # The bar writes to the real stderr; print() goes above it via tqdm.write.
                self._bar = tqdm(file=sys.stderr, **kwargs)
                self._redirect.enter_context(
                    contextlib.redirect_stdout(cast(Any, DummyTqdmFile(sys.stdout))))

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._redirect.close()
        if self._bar is not None:
            self._bar.close()

    def update(self, best: float | None, state: str = "complete", n: int = 1,
               note: str | None = None) -> None:
        """Count ``n`` more done; ``note`` (e.g. the run that just finished) leads the postfix."""
        if state in self.counts:
            self.counts[state] += n
        if self._bar is None:
            return
        parts = [] if note is None else [note]
        parts += [] if best is None else [f"best={best:.6g}"]
        parts += [f"{k}={v}" for k, v in self.counts.items() if v]
        if parts:
            self._bar.set_postfix_str(" ".join(parts), refresh=False)
        self._bar.update(n)

    def write(self, message: str) -> None:
        """A line above the bar (nothing when the bar is off: the log has it)."""
        if self._bar is not None:
            self._bar.write(message)
