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

# page and marker text of each block marked as a fragment (update together with the marker in the page);
# keyed by the marker's words, not its line, so an edit elsewhere on the page does not break the list
FRAGMENTS = {
    ("README.md", "needs your model and closure; docs/torch.md runs the whole loop"),
    ("docs/ranking-session.md", "interactive (s.run reads your answers from the terminal)"),
    ("docs/expensive-black-boxes.md", "needs a Ray cluster (and your simulator and x0)"),
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
            mark = MARK.match(lines[i - 1]) if i > 0 else None
            fragment = (str(page.relative_to(ROOT)), mark.group(1)) if mark else None
            out.append((name, "\n".join(lines[i + 1 : j]), fragment))
            i = j
        i += 1
    return out


ALL = [b for page in PAGES for b in _blocks(page)]
RUN_PAGES = sorted({name.rsplit(":", 1)[0] for name, _, frag in ALL if not frag})


def test_the_fragments_are_the_listed_ones():
    assert {frag for _, _, frag in ALL if frag} == FRAGMENTS


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
