"""The Optuna backend: a define-by-run walk of the space over ``study.ask``/``study.tell``."""
