"""MkDocs hooks (mkdocs.yml ``hooks:``).

- A line ``<!-- hb:backends-table -->`` in a page becomes the table of ``hpo-bridge backends``,
  built by the same function (:func:`hpo_bridge.cli.backends_rows`), so the site, the command
  and the registry cannot differ.
- A generated benchmark report (docs/reports/, or a ``*_report.md``, ``auto_proof*.md`` or
  ``multifidelity*.md`` page) links the PNG files the benchmark wrote beside it, which the
  repository does not keep: such a link to a file that is not in docs/ becomes its text, so
  that ``mkdocs build --strict`` holds every guide page's links to be right and still builds
  the reports as they were generated.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from pathlib import Path
from typing import Any

from hpo_bridge.cli import backends_rows, markdown_table

BACKENDS_MARKER = "<!-- hb:backends-table -->"


def backends_markdown() -> str:
    """Every registered backend (the built-in ones and those of installed entry points)."""
    return (markdown_table(backends_rows(here=False)) + "\n\n"
            "*extra*: `pip install 'hpo_bridge[EXTRA]'` installs what the backend needs. "
            "This table is generated from the registry when the site is built; "
            "`hpo-bridge backends` prints it for your machine (`--long`: every capability).")


GENERATED = ("reports/*", "*_report.md", "auto_proof*.md", "multifidelity*.md")
_LINK = re.compile(r"(?P<image>!?)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)\)")


def unkept_links_as_text(markdown: str, src_uri: str, docs_dir: Path) -> str:
    """``markdown`` (the page ``src_uri``) with each relative link or image to a file missing
    from ``docs_dir`` replaced by its text (an image: its text and file name, in italics)."""
    def replace(m: re.Match[str]) -> str:
        target = m["target"].split("#")[0]
        if not target or "://" in target or target.startswith(("/", "mailto:")):
            return m[0]
        path = posixpath.normpath(posixpath.join(posixpath.dirname(src_uri), target))
        if (docs_dir / path).exists():
            return m[0]
        return f"*{m['text']} ({target}, not kept)*" if m["image"] else m["text"]

    return _LINK.sub(replace, markdown)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if BACKENDS_MARKER in markdown:
        markdown = markdown.replace(BACKENDS_MARKER, backends_markdown())
    if page is not None and any(fnmatch.fnmatch(page.file.src_uri, g) for g in GENERATED):
        markdown = unkept_links_as_text(markdown, page.file.src_uri, Path(config["docs_dir"]))
    return markdown
