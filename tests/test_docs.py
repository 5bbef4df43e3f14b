"""Docs that cannot rot (issue 24): the code of the README and the guide pages runs, the API
reference names everything public, the backends' tables are the registry's.

Each page is one test: its ``python`` blocks run in order in one namespace (as a reader would
type them into one session), in a fresh temporary directory, with matplotlib's Agg backend.
A block preceded by ``<!-- not-run: REASON -->`` is skipped; any block neither ``python`` nor
``text`` must carry that marker (see tests/docs_blocks.py).
"""

from __future__ import annotations

import re
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

import hpo_bridge as hb
from docs_blocks import DOCS, ROOT, blocks, guide_pages, problems

PAGES = guide_pages()


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_the_code_of_the_page_runs(page: Path, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = problems(page)
    assert not wrong, "\n".join(wrong)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    if "matplotlib" in sys.modules:
        sys.modules["matplotlib"].use("Agg")
    namespace: dict[str, object] = {"__name__": "__main__"}
    start = time.perf_counter()
    with warnings.catch_warnings():  # a page's warnings filters stay in its test
        for block in blocks(page):
            if not block.runs:
                continue
            try:
                exec(compile(block.code, block.where, "exec"), namespace)
            except Exception as exc:
                raise AssertionError(f"the block at {block.where} raised {exc!r}") from exc
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    print(f"{page.name}: {time.perf_counter() - start:.1f} s")


def test_a_block_neither_run_nor_marked_is_named() -> None:
    """The marker rules fail a page with the line of each wrong block."""
    page = Path(__file__).parent / "docs_blocks_example.md"
    assert problems(page) == [
        "tests/docs_blocks_example.md:9: a ```bash block is neither run nor marked; put <!-- not-run: REASON --> "
        "on the line above it, or label it ```text if it is output or plain text",
        "tests/docs_blocks_example.md:14: <!-- not-run: --> gives no reason; say why the block is not run "
        "(<!-- not-run: REASON -->)",
    ]
    found = blocks(page)
    assert [(b.line, b.lang, b.runs, b.heading) for b in found] == [
        (3, "python", True, "Example"), (9, "bash", False, "Example"),
        (14, "python", False, "Example"), (20, "python", False, "Shown"),
        (24, "toml", False, "Shown"), (28, "text", False, "Shown"),
        (32, "python", True, "Shown")]
    assert found[3].not_run == "it needs a GPU" and found[6].code == "y = x + 1\n"


def api_pages_text() -> str:
    return "\n".join(p.read_text() for p in sorted((DOCS / "api").glob("*.md")))


def test_the_api_reference_names_everything_public() -> None:
    text = api_pages_text()
    documented = set(re.findall(r"^::: hpo_bridge\.(\w+)\s*$", text, flags=re.MULTILINE))
    assert sorted(set(hb.__all__) - documented) == []
    assert sorted(documented - set(hb.__all__)) == []


def first_column(text: str) -> list[str]:
    """The names in the first column of the first Markdown table of ``text``, below its header:
    the names in backticks of each cell (a cell may list several), else the cell's text; what
    is in parentheses is a note, not a name."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next((i for i, line in enumerate(lines[start:]) if not line.startswith("|")), None)
    rows = lines[start:start + end] if end is not None else lines[start:]
    cells = [re.sub(r"\(.*?\)", "", row.split("|")[1]).strip() for row in rows[2:]]  # no (notes)
    return [name for cell in cells for name in re.findall(r"`([^`]+)`", cell) or [cell]]


def test_the_readme_lists_every_backend_of_the_registry() -> None:
    """The README's "Backends" section: a table whose first column names every backend of the
    registry once (in backticks, one or several to a row)."""
    readme = (ROOT / "README.md").read_text()
    heading = re.search(r"^## Backends.*$", readme, re.MULTILINE)
    assert heading, "the README has no '## Backends' section"
    assert sorted(first_column(readme[heading.end():])) == sorted(b.name for b in hb.backends())


def load_hooks() -> Any:
    """docs/hooks.py, the site's MkDocs hooks."""
    sys.path.insert(0, str(DOCS))
    try:
        import hooks
    finally:
        sys.path.remove(str(DOCS))
    return hooks


def test_the_site_backends_table_is_the_clis() -> None:
    """docs/hooks.py puts the table of ``hpo-bridge backends`` where backends.md asks for it."""
    hooks = load_hooks()
    page = (DOCS / "backends.md").read_text()
    assert page.count(hooks.BACKENDS_MARKER) == 1
    out = hooks.on_page_markdown(page, page=None, config=None, files=None)
    assert hooks.BACKENDS_MARKER not in out
    assert first_column(out[page.index(hooks.BACKENDS_MARKER):]) == \
        [b.name for b in hb.backends()]


def test_the_site_reads_offline() -> None:
    """Nothing is fetched to build or read the site: no web fonts, the search index built in
    (``offline``), the Web Worker shim search needs under file:// served from docs/."""
    import yaml  # mkdocs's own dependency

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert config["theme"]["font"] is False and config["strict"] is True
    plugins = [p if isinstance(p, str) else next(iter(p)) for p in config["plugins"]]
    assert {"search", "offline"} <= set(plugins)
    for script in config["extra"]["polyfills"]:
        assert "://" not in script and (DOCS / script).is_file()


def test_links_out_of_docs_point_at_the_sites_copy_of_the_file() -> None:
    """A link to a repository file outside docs/ is served from the site's repo/ copy; a link to
    a missing file is left for --strict to report; in a generated report, a missing image's
    link becomes text."""
    hooks = load_hooks()
    text = ("[nb](../notebooks/01_quickstart.ipynb#top) [gone](../notebooks/none.ipynb) "
            "[page](running.md) ![img](img/none.png)")
    assert hooks.repository_links_in_site(text, "notebooks.md", DOCS) == (
        "[nb](repo/notebooks/01_quickstart.ipynb#top) [gone](../notebooks/none.ipynb) "
        "[page](running.md) ![img](img/none.png)")
    assert hooks.unkept_links_as_text("![curve](convergence_x.png) [report](../results.md)",
                                      "reports/full_report.md", DOCS) == \
        "*curve (convergence_x.png, not kept)* [report](../results.md)"
