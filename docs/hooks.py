"""MkDocs hooks (mkdocs.yml ``hooks:``).

- A line ``<!-- hb:backends-table -->`` in a page becomes the table of ``hpo-bridge backends``,
  built by the same function (:func:`hpo_bridge.cli.backends_rows`), so the site, the command
  and the registry cannot differ.
- A generated benchmark report (docs/reports/, or a ``*_report.md``, ``auto_proof*.md`` or
  ``multifidelity*.md`` page) links the PNG files the benchmark wrote beside it, which the
  repository does not keep: such a link to a file that is not in docs/ becomes its text, so
  that ``mkdocs build --strict`` holds every guide page's links to be right and still builds
  the reports as they were generated.
- A page's link to a file of the repository outside docs/ (``../notebooks/01_quickstart.ipynb``,
  right on GitHub) is served by the site too: the file is copied to ``repo/<its path>`` and the
  link points there. A link to a file that does not exist stays as it is, and fails --strict.
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


REPO_DIR = "repo"  # where the site serves the repository's files that pages link to


def _outside(src_uri: str, target: str, docs_dir: Path) -> Path | None:
    """The repository file (relative to the repository) that the link ``target`` of page
    ``src_uri`` names outside docs/, if it exists; else None."""
    target = target.split("#")[0]
    if not target or "://" in target or target.startswith(("/", "mailto:")):
        return None
    path = (docs_dir / posixpath.dirname(src_uri) / target).resolve()
    root = docs_dir.resolve().parent
    if path.is_relative_to(docs_dir.resolve()) or not path.is_relative_to(root):
        return None
    return path.relative_to(root) if path.is_file() else None


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    docs_dir = Path(config["docs_dir"])
    wanted: set[Path] = set()
    for page in files.documentation_pages():
        for m in _LINK.finditer(page.content_string):
            if (rel := _outside(page.src_uri, m["target"], docs_dir)) is not None:
                wanted.add(rel)
    for rel in sorted(wanted):
        files.append(File.generated(config, f"{REPO_DIR}/{rel.as_posix()}",
                                    abs_src_path=str(docs_dir.resolve().parent / rel)))
    return files


def repository_links_in_site(markdown: str, src_uri: str, docs_dir: Path) -> str:
    """``markdown`` with each link to a repository file outside docs/ pointing at its copy."""
    def replace(m: re.Match[str]) -> str:
        rel = _outside(src_uri, m["target"], docs_dir)
        if rel is None:
            return m[0]
        anchor = m["target"][len(m["target"].split("#")[0]):]
        site = posixpath.relpath(f"{REPO_DIR}/{rel.as_posix()}", posixpath.dirname(src_uri) or ".")
        return f"{m['image']}[{m['text']}]({site}{anchor})"

    return _LINK.sub(replace, markdown)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if BACKENDS_MARKER in markdown:
        markdown = markdown.replace(BACKENDS_MARKER, backends_markdown())
    if page is not None and any(fnmatch.fnmatch(page.file.src_uri, g) for g in GENERATED):
        markdown = unkept_links_as_text(markdown, page.file.src_uri, Path(config["docs_dir"]))
    if page is not None:
        markdown = repository_links_in_site(markdown, page.file.src_uri, Path(config["docs_dir"]))
    return markdown
