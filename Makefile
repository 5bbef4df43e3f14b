# Each target builds its own environment in .venv on first use (Python >= 3.10).
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The CPU build of torch first: the extras' "torch>=2.0" is then already satisfied and
	# pip never pulls a CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[all]'
	touch $@

.PHONY: install demo test docs bench-quick bench-full
install: $(VENV)/.installed

## The main job: a taste of the benchmark in a few minutes (report in results/demo/report.md):
## one problem per class of space, the cheap backends of each family, 5 seeds, 30 trials.
demo: $(VENV)/.installed
	$(VENV)/bin/hpo-bridge bench --demo --out results/demo

## The strict type check, the linter, the docs site built with --strict (a broken link or
## cross-reference fails), then the test suite (notebooks and the docs' code blocks included).
test: $(VENV)/.installed
	$(PY) -m mypy --strict hpo_bridge && $(VENV)/bin/ruff check hpo_bridge tests docs benchmarks \
		&& NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet --site-dir site \
		&& $(PY) -m pytest -q --durations=15

## The docs site (docs/, mkdocs.yml) on http://127.0.0.1:8000, rebuilt as files change.
docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve -a 127.0.0.1:8000

## The quick benchmark: 7 quick problems, every available backend, 5 seeds, 30 trials.
bench-quick: $(VENV)/.installed
	$(VENV)/bin/hpo-bridge bench --quick --out results/quick

bench-full: $(VENV)/.installed
	$(VENV)/bin/hpo-bridge bench --problems branin,hartmann6,six-hump-camel,mixed \
		--backends hyperopt:tpe,optuna:tpe,optuna:gp,skopt:gp,optuna:cmaes,optuna:random --seeds 10 --max-evals 50 \
		--n-jobs 2 --out results/full
