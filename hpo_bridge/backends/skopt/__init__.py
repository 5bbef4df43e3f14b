"""The scikit-optimize backend: dimensions and an ``skopt.Optimizer`` built as its minimizers do."""
