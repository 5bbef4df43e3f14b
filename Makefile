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

.PHONY: install demo test bench-quick bench-full
install: $(VENV)/.installed

## The main job: a taste of the benchmark in a few minutes (report in results/demo/report.md):
## one problem per class of space, the cheap backends of each family, 5 seeds, 30 trials.
demo: $(VENV)/.installed
	$(VENV)/bin/hpo-bridge bench --demo --out results/demo

## The strict type check, the linter, then the test suite (notebooks included).
test: $(VENV)/.installed
	$(PY) -m mypy --strict hpo_bridge && $(VENV)/bin/ruff check hpo_bridge tests benchmarks && $(PY) -m pytest -q

## The quick benchmark: 7 quick problems, every available backend, 5 seeds, 30 trials.
bench-quick: $(VENV)/.installed
	$(VENV)/bin/hpo-bridge bench --quick --out results/quick

bench-full: $(VENV)/.installed
	$(VENV)/bin/hpo-bridge bench --problems branin,hartmann6,six-hump-camel,mixed \
		--backends hyperopt:tpe,optuna:tpe,optuna:gp,skopt:gp,optuna:cmaes,optuna:random --seeds 10 --max-evals 50 \
		--n-jobs 2 --out results/full
