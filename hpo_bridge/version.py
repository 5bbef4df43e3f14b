"""The version of hpo_bridge (stored with every study it writes)."""

__version__ = "0.1.0"
