"""The benchmark suite: problems, runs, scores and the report of ``hpo-bridge bench``.

* :mod:`hpo_bridge.bench.problems` — the problems (``get_problem``, ``list_problems``).
* :func:`run_bench` — run problems x backends x seeds into a folder, skipping finished runs,
  and write ``results.csv``, ``report.md`` and PNG plots.
* :mod:`hpo_bridge.bench.scoring` — Bayesmark's normalized score, ranks, tests against
  random search; :mod:`hpo_bridge.bench.mo_scoring` the same on the hypervolume gap for
  problems with several objectives (:mod:`hpo_bridge.bench.pareto`, fronts in
  :mod:`hpo_bridge.bench.report_mo`).
* :mod:`hpo_bridge.bench.meta` — library versions and sampler settings kept with every run.

Example:
    >>> from hpo_bridge.bench import run_bench
    >>> info = run_bench(["branin"], ["optuna:tpe", "skopt:gp"], seeds=3, max_evals=20,
    ...                  out="results/branin")  # doctest: +SKIP
"""

from hpo_bridge.bench.runner import Plan, plan_bench, run_bench

__all__ = ["Plan", "plan_bench", "run_bench"]
