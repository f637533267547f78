"""Every Python block of README.md and docs/ runs (issue #10, item 10).

The blocks of one page run in order in one namespace (as a reader would paste them), in a fresh folder. A
block that is deliberately a fragment (it needs the reader's own objects, or it is interactive) carries the
line ``<!-- fragment: why -->`` right above its fence; it is compiled (so it is valid Python) but not run, and
the fragments are listed by name in FRAGMENTS below, so marking one more is a visible change.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```python\s*$")
MARK = re.compile(r"^<!--\s*fragment:\s*(.+?)\s*-->\s*$")

# page:line of each block marked as a fragment (update together with the marker in the page)
FRAGMENTS = {
    "README.md:93",  # zoo.torch in one line: needs the reader's model and closure (docs/torch.md runs it)
    "docs/ranking-session.md:142",  # the interactive loop reads the terminal
    "docs/expensive-black-boxes.md:38",  # needs a Ray cluster
}


def _blocks(page: Path) -> list[tuple[str, str, bool]]:
    lines = page.read_text().split("\n")
    out, i = [], 0
    while i < len(lines):
        if FENCE.match(lines[i]):
            j = i + 1
            while lines[j].strip() != "```":
                j += 1
            name = f"{page.relative_to(ROOT)}:{i + 1}"
            fragment = i > 0 and bool(MARK.match(lines[i - 1]))
            out.append((name, "\n".join(lines[i + 1 : j]), fragment))
            i = j
        i += 1
    return out


ALL = [b for page in PAGES for b in _blocks(page)]
RUN_PAGES = sorted({name.rsplit(":", 1)[0] for name, _, frag in ALL if not frag})


def test_the_fragments_are_the_listed_ones():
    assert {name for name, _, frag in ALL if frag} == FRAGMENTS


@pytest.mark.parametrize("name", sorted(n for n, _, f in ALL))
def test_every_block_is_valid_python(name):
    code = next(c for n, c, _ in ALL if n == name)
    compile(code, name, "exec")


@pytest.mark.parametrize("page", RUN_PAGES)
def test_the_blocks_of_a_page_run(page, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    from zoo.core import registry

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(registry, "_METHODS", dict(registry._METHODS))  # a page may register a method
    module = types.ModuleType("docs_page")  # a real module, so dataclasses defined in a block resolve
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for name, code, fragment in ALL:
        if name.rsplit(":", 1)[0] == page and not fragment:
            exec(compile(code, name, "exec"), module.__dict__)  # noqa: S102 - the docs are the code under test
