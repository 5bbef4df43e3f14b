"""A griffe extension (mkdocs.yml, mkdocstrings' ``extensions``): the docstrings' reST bits in
Markdown.

The docstrings are Google style with Sphinx roles (``:class:`~hpo_bridge.Result```), which
Markdown shows as they are typed. Before the docstrings are parsed, each role becomes a
cross-reference to the object when the API reference documents it (else its name in code
font), and an ``Example:`` section heading becomes ``Examples:``, the section griffe shows as
code (it reads a singular ``Example:`` as a note, whose ``>>>`` lines would be quotes).
"""

from __future__ import annotations

import html
import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|exc|data|obj|const):`(?P<target>[^`]+)`")
EXAMPLE = re.compile(r"^(?P<indent>[ \t]*)Example:[ \t]*$", re.MULTILINE)


def _path(obj: griffe.Object, name: str) -> str:
    """The full path of ``name`` as written in ``obj``'s docstring (itself when unknown)."""
    if name.startswith("hpo_bridge"):
        return name
    head, _, rest = name.partition(".")
    try:
        resolved = obj.resolve(head)
    except Exception:  # any name griffe cannot place stays as written
        return name
    return f"{resolved}.{rest}" if rest else resolved


def markdown(obj: griffe.Object, text: str) -> str:
    def role(m: re.Match[str]) -> str:
        target = m["target"].strip()
        short = target.startswith("~")
        name = target.lstrip("~.").removesuffix("()")
        shown = name.rsplit(".", 1)[-1] if short else name
        return (f'<autoref identifier="{html.escape(_path(obj, name))}" optional>'
                f"<code>{html.escape(shown)}</code></autoref>")

    return EXAMPLE.sub(r"\g<indent>Examples:", ROLE.sub(role, text))


class SphinxRolesToMarkdown(griffe.Extension):
    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        stack: list[griffe.Object] = [pkg]
        while stack:
            obj = stack.pop()
            if obj.docstring is not None:
                obj.docstring.value = markdown(obj, obj.docstring.value)
            stack.extend(m for m in obj.members.values() if not m.is_alias)
