"""The adapter of the outside backend: plain random search with ``random.Random(seed)`` that
takes one trial at a time (``batch=False``). Its library is the standard library's ``random``;
a real plugin imports its library here, never in ``hpo_outside/__init__.py``."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any

from hpo_bridge.backends.base import Adapter, Told
from hpo_bridge.space import Choice, Integer, LogUniform, Normal, Space
from hpo_bridge.space.transforms import from_unit


class OneByOne(Adapter):
    """Samples every active parameter with ``random.Random(seed)``."""

    def __init__(self, space: Space, seed: int | None) -> None:
        super().__init__(space, seed)
        self.rng = random.Random(seed)

    @classmethod
    def option_names(cls, **_: Any) -> set[str]:
        return set()

    @staticmethod
    def to_native(space: Space, point: Mapping[str, Any]) -> dict[str, Any]:
        return dict(point)

    @staticmethod
    def from_native(space: Space, native: Any) -> dict[str, Any]:
        return dict(native)

    def _value(self, p: Any) -> Any:
        if isinstance(p, Choice):
            return self.rng.randrange(len(p.options))
        if p.indexed:
            return p.value_at(self.rng.randrange(p.size))
        if isinstance(p, Integer):
            return self.rng.randint(p.low, p.high)
        if isinstance(p, Normal):
            return from_unit(p, self.rng.random())
        if isinstance(p, LogUniform):
            return p.canonical(math.exp(self.rng.uniform(math.log(p.low), math.log(p.high))))
        return p.canonical(self.rng.uniform(p.low, p.high))

    def ask(self) -> tuple[Any, dict[str, Any]]:
        point: dict[str, Any] = {}
        for dim in self.space.dims:
            if self.space.is_active(dim, point):
                point[dim.name] = self._value(dim.param)
        return None, point

    def ask_fixed(self, point: Mapping[str, Any]) -> Any:
        return None

    def tell(self, handle: Any, told: Told) -> None:
        pass

