"""``python -m hpo_bridge``: the ``hpo-bridge`` command."""

from hpo_bridge.cli import main

raise SystemExit(main())
