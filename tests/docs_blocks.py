"""The fenced code blocks of the README and the guide pages, for the tests that run them.

A page's blocks are read in order. A block whose previous non-blank line is
``<!-- not-run: REASON -->`` is not run (REASON says why); every other ``python`` block is. A
block in any other language than ``python`` or ``text`` (output, plain text) must carry that
marker: a shell command or a TOML file is shown, not run, and the marker says so.

Used by tests/test_docs.py (every page, each in one namespace), and by the tests that run one
section's example and then check what it left (:func:`section_blocks`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: Languages shown without a marker: ``python`` runs, ``text`` is output or plain text.
RUN, PLAIN = "python", "text"

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_NOT_RUN = re.compile(r"^\s*<!--\s*not-run:(?P<reason>.*?)-->\s*$")
_HEADING = re.compile(r"^(?P<level>#{1,6})\s+(?P<title>.+?)\s*#*\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block of a page."""

    page: Path
    line: int  # 1-based line of the opening fence
    lang: str  # first word of the info string ("" when there is none)
    code: str  # its text, the fence's indentation removed
    not_run: str | None  # the marker's reason (stripped; "" if empty), None without a marker
    heading: str  # the title of the nearest heading above it ("" before the first)

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT) if self.page.is_relative_to(ROOT) else self.page}" \
               f":{self.line}"

    @property
    def runs(self) -> bool:
        return self.lang == RUN and self.not_run is None


def blocks(page: Path) -> list[Block]:
    """Every fenced block of ``page``, in order (a block inside a list item too)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    heading = ""
    previous = ""  # the previous non-blank line outside a block
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            h = _HEADING.match(lines[i])
            if h:
                heading = h["title"]
            if lines[i].strip():
                previous = lines[i]
            i += 1
            continue
        fence, indent = m["fence"], len(m["indent"])
        closing = re.compile(rf"^ *{fence[0]}{{{len(fence)},}}\s*$")
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            line = lines[j]
            strip = min(indent, len(line) - len(line.lstrip(" ")))
            body.append(line[strip:])
            j += 1
        marker = _NOT_RUN.match(previous)
        info = m["info"].strip().lstrip("{").lstrip(".")
        found.append(Block(page=page, line=i + 1, lang=(info.split() or [""])[0].rstrip("}"),
                           code="\n".join(body) + "\n",
                           not_run=marker["reason"].strip() if marker else None,
                           heading=heading))
        previous = ""
        i = j + 1
    return found


def guide_pages() -> list[Path]:
    """The README and the guide pages (``docs/*.md``: not docs/reports/, not docs/api/)."""
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def problems(page: Path) -> list[str]:
    """What is wrong with the blocks' markers of ``page``: one message per block, naming it."""
    wrong = []
    for b in blocks(page):
        if b.not_run == "":
            wrong.append(f"{b.where}: <!-- not-run: --> gives no reason; say why the block "
                         "is not run (<!-- not-run: REASON -->)")
        elif b.not_run is None and b.lang not in (RUN, PLAIN):
            shown = f"```{b.lang}" if b.lang else "``` (no language)"
            wrong.append(f"{b.where}: a {shown} block is neither run nor marked; put "
                         "<!-- not-run: REASON --> on the line above it, or label it ```text "
                         "if it is output or plain text")
    return wrong


def section_blocks(heading: str, pages: list[Path] | None = None) -> list[Block]:
    """The Python blocks (run or not) under the first heading starting with ``heading``
    of the README or a guide page, up to the next heading: one section's example, wherever
    the section lives."""
    for page in pages if pages is not None else guide_pages():
        chosen = [b for b in blocks(page) if b.lang == RUN and b.heading.startswith(heading)]
        if chosen:
            return chosen
    raise LookupError(f"no Python block under a heading {heading!r} in the README or docs/*.md")
