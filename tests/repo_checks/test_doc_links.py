"""Every relative link in docs/design.md resolves to a file of the repository.

Why: the design document's promise is that each claim links to the code, test or benchmark that shows it. A link
that no longer resolves (a file renamed or removed) silently breaks that promise; this test makes it fail instead.
External links (http, https, mailto) and in-page anchors are not checked; a link's ``#anchor`` part is ignored.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = ("docs/design.md",)
LINK = re.compile(r"\]\(([^)\s]+)\)")
EXTERNAL = ("http://", "https://", "mailto:", "#")


def relative_links(doc: Path) -> list[tuple[int, str]]:
    """(line number, target) of every relative Markdown link in ``doc``, outside fenced code blocks."""
    out, fenced = [], False
    for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), start=1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            out += [(number, t) for t in LINK.findall(line) if not t.startswith(EXTERNAL)]
    return out


def broken_links(doc: Path, root: Path) -> list[str]:
    problems = []
    for number, target in relative_links(doc):
        path = (doc.parent / target.split("#", 1)[0]).resolve()
        if not path.is_relative_to(root.resolve()):
            problems.append(f"{doc.relative_to(root)}:{number}: {target} points outside the repository")
        elif not path.is_file():
            problems.append(f"{doc.relative_to(root)}:{number}: {target} does not exist")
    return problems


@pytest.mark.parametrize("name", DOCS)
def test_every_relative_link_resolves(name: str) -> None:
    doc = REPO / name
    assert len(relative_links(doc)) > 50, "the design document links its claims to code, tests and benchmarks"
    assert broken_links(doc, REPO) == []


def test_a_broken_link_is_reported_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "real.py").write_text("")
    doc = tmp_path / "docs" / "d.md"
    doc.write_text("[ok](../real.py) [web](https://x.example)\n```\n[in code](nope.py)\n```\n[gone](../gone.py#L3)\n"
                   "[out](../../etc/passwd)\n")
    assert broken_links(doc, tmp_path) == ["docs/d.md:5: ../gone.py#L3 does not exist",
                                           "docs/d.md:6: ../../etc/passwd points outside the repository"]
