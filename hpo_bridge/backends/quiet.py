"""The backends' libraries' own INFO log lines, quiet while hpo_bridge drives them.

Optuna logs "A new study created in memory ..." for every study an adapter makes, and a line
or two per trial (Optuna's "Trial 3 finished with value ...", hyperopt's
"build_posterior_wrapper took ..." and "TPE using 3/3 trials ..."). A run (``minimize``,
``compare``) is quiet for its whole length; an adapter or the pruner making a study by hand
(``hb.Optimizer``, ``backend="auto"`` switching) is quiet for that call. Here, in the backends
layer, so that the adapters, the pruner and the optimizer use the one mechanism;
:mod:`hpo_bridge.progress` gives the same names.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

__all__ = ["QUIETED", "quiet_libraries"]

#: The loggers of the backends' libraries that log a line or two per trial at INFO (Optuna's
#: "Trial 3 finished with value ...", hyperopt's "build_posterior_wrapper took ..." and "TPE
#: using 3/3 trials ..."): raised to WARNING while a run goes, where the progress bar and
#: ``result.trials`` say it.
QUIETED = ("optuna", "hyperopt")
_quiet_lock = threading.Lock()
_quiet_depth = 0
_saved: dict[str, int] = {}


@contextlib.contextmanager
def quiet_libraries() -> Iterator[None]:
    """Quiet :data:`QUIETED` for the ``with`` body and put their levels back after it.

    Only a logger at INFO is quieted (a user who asked for DEBUG keeps it; WARNING and above
    are never hidden). Runs inside runs (``compare``, threads) share one quieting: the levels
    are put back when the last run ends. Global logging configuration is left as it was."""
    global _quiet_depth
    try:  # Optuna sets its logger to INFO when first imported: import it first
        import optuna  # noqa: F401 - a core dependency
    except ImportError:  # pragma: no cover
        pass
    with _quiet_lock:
        if _quiet_depth == 0:
            _saved.clear()
            for name in QUIETED:
                logger = logging.getLogger(name)
                if logger.getEffectiveLevel() == logging.INFO:
                    _saved[name] = logger.level
                    logger.setLevel(logging.WARNING)
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                for name, level in _saved.items():
                    logger = logging.getLogger(name)
                    if logger.level == logging.WARNING:  # not changed by the user meanwhile
                        logger.setLevel(level)
                _saved.clear()
