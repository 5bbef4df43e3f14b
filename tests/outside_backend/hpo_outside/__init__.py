"""An hpo_bridge backend written outside the package, as a plugin author writes one: this
module declares the backends (and imports no library), ``adapter.py`` runs them, and
``pyproject.toml`` names this list in the entry-point group ``hpo_bridge.backends``.

``outside:onebyone`` runs; ``outside:fast`` needs a library that is not installed (its
install hint is this package's own extra, ``pip install 'hpo-outside[fast]'``).
"""

from hpo_bridge import BackendInfo
from hpo_bridge.backends.base import Capabilities

CAPABILITIES = Capabilities(batch=False, failures="penalty")

BACKENDS = [
    BackendInfo(name="outside:onebyone", library="outside", algorithm="onebyone",
                runs="random.Random", target="hpo_outside.adapter:OneByOne", requires=(),
                extra="", capabilities=CAPABILITIES),
    BackendInfo(name="outside:fast", library="outside", algorithm="fast",
                runs="hpo_outside_fastlib (not installed)",
                target="hpo_outside.adapter:OneByOne", requires=("hpo_outside_fastlib",),
                extra="fast", capabilities=CAPABILITIES),
]
