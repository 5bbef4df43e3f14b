"""hpo_bridge inside other libraries' tools: :mod:`hpo_bridge.integrations.sklearn` (``hb.SearchCV``).

Each module here imports its library when it is imported, so ``import hpo_bridge`` imports
none of them: ``hpo_bridge.SearchCV`` is resolved on first access.
"""
