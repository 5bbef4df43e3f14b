"""The kit's Hypothesis strategies, under the name the tests import them by."""

from hpo_bridge.testing.strategies import SPACES, integers, logs, uniforms

__all__ = ["SPACES", "integers", "logs", "uniforms"]
