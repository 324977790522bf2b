"""Every relative link in the project's Markdown resolves to a file of the repository, and every test a doc names
(`test_name`, `file.py::test_name`) is defined where the doc says.

Why: docs/design.md and docs/auditor-guide.md promise that each claim links to the code, test or benchmark that
shows it. A link that no longer resolves (a file renamed or removed), or a test cited by a name it no longer has,
silently breaks that promise; this test makes it fail instead. External links (http, https, mailto) and in-page
anchors are not checked; a link's ``#anchor`` part is ignored. The files come from ``//:doc_link_targets`` (broad
globs, so a new link needs no BUILD edit); a named test is looked up in the test files linked in the same paragraph,
list item or table row, else in every test file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOC_GLOBS = ("README.md", "docs/**/*.md", "pipelines/**/*.md", "infra/*.md", "airflow/*.md", "dbt/*.md",
             "spark/*.md", "pants-plugins/*.md", "legacy/*.md", "tests/*.md")
LINK = re.compile(r"\]\(([^)\s]+)\)")
TEST_NAME = re.compile(r"`(?:([\w/.-]*test_\w+\.py)::)?(test_\w+)`")
EXTERNAL = ("http://", "https://", "mailto:", "#")


def docs(root: Path) -> list[Path]:
    return sorted({p for pattern in DOC_GLOBS for p in root.glob(pattern) if p.is_file()})


def blocks(doc: Path) -> list[tuple[int, str]]:
    """(first line number, text) of each paragraph, list item and table row, outside fenced code blocks."""
    out: list[tuple[int, str]] = []
    current: list[str] = []
    start, fenced = 0, False

    def close() -> None:
        if current:
            out.append((start, "\n".join(current)))
            current.clear()

    for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), start=1):
        if line.lstrip().startswith("```"):
            close()
            fenced = not fenced
            continue
        if fenced:
            continue
        if not line.strip() or line.lstrip().startswith("|") or re.match(r"\s*([-*]|\d+\.)\s", line):
            close()
            if line.lstrip().startswith("|"):
                out.append((number, line))
                continue
        if line.strip():
            if not current:
                start = number
            current.append(line)
    close()
    return out


def relative_links(doc: Path) -> list[tuple[int, str]]:
    """(line number of its block, target) of every relative Markdown link in ``doc``, outside fenced code blocks."""
    return [(number, t) for number, text in blocks(doc) for t in LINK.findall(text) if not t.startswith(EXTERNAL)]


def defines(path: Path, name: str) -> bool:
    return bool(re.search(rf"^\s*(async\s+)?def {re.escape(name)}\(", path.read_text(encoding="utf-8"), re.MULTILINE))


def broken_links(doc: Path, root: Path) -> list[str]:
    problems = []
    test_files = sorted(root.glob("**/test_*.py"))
    for number, text in blocks(doc):
        linked_tests = []
        for target in LINK.findall(text):
            if target.startswith(EXTERNAL):
                continue
            path = (doc.parent / target.split("#", 1)[0]).resolve()
            if not path.is_relative_to(root.resolve()):
                problems.append(f"{doc.relative_to(root)}:{number}: {target} points outside the repository")
            elif not path.exists():
                problems.append(f"{doc.relative_to(root)}:{number}: {target} does not exist")
            elif path.name.startswith("test_") and path.suffix == ".py":
                linked_tests.append(path)
        for file_part, name in TEST_NAME.findall(text):
            named = [p for p in test_files if file_part and p.name == Path(file_part).name]
            candidates = named if file_part else (linked_tests or test_files)
            if not any(defines(p, name) for p in candidates):
                where = ", ".join(p.name for p in candidates[:3]) if (file_part or linked_tests) else "any test file"
                problems.append(f"{doc.relative_to(root)}:{number}: `{name}` is not defined in {where}")
    return problems


@pytest.mark.parametrize("name", [str(p.relative_to(REPO)) for p in docs(REPO)])
def test_every_relative_link_and_named_test_resolves(name: str) -> None:
    assert broken_links(REPO / name, REPO) == []


def test_the_design_document_and_the_auditors_guide_link_their_claims() -> None:
    assert len(relative_links(REPO / "docs" / "design.md")) > 100
    assert len(relative_links(REPO / "docs" / "auditor-guide.md")) > 30
    assert {"docs/design.md", "docs/auditor-guide.md", "docs/runbooks/hotfix.md", "README.md"} <= {
        str(p.relative_to(REPO)) for p in docs(REPO)}


def test_a_broken_link_and_a_missing_test_are_reported_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "real.py").write_text("")
    (tmp_path / "test_x.py").write_text("def test_real():\n    pass\n")
    doc = tmp_path / "docs" / "d.md"
    doc.write_text("[ok](../real.py) [web](https://x.example)\n```\n[in code](nope.py)\n```\n[gone](../gone.py#L3)\n\n"
                   "[out](../../etc/passwd)\n\n"
                   "See [x](../test_x.py): `test_real`, `test_gone`.\n"
                   "| row | `test_x.py::test_real` | `test_x.py::test_other` |\n")
    assert broken_links(doc, tmp_path) == ["docs/d.md:5: ../gone.py#L3 does not exist",
                                           "docs/d.md:7: ../../etc/passwd points outside the repository",
                                           "docs/d.md:9: `test_gone` is not defined in test_x.py",
                                           "docs/d.md:10: `test_other` is not defined in test_x.py"]
