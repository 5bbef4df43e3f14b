"""The hyperopt backend: ``hp.*`` translation and an ask/tell driver of ``algo(new_ids, ...)``."""
