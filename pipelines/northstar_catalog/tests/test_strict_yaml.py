"""The strict YAML reader: duplicate keys, encodings and syntax errors name the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from northstar_catalog.strict_yaml import StrictYamlError, load, loads


def test_lines_are_recorded_per_key_and_item() -> None:
    doc = loads("a: 1\nitems:\n  - id: x\n    sla: {batch_minutes: 3}\n", "f.yaml")
    assert doc.data == {"a": 1, "items": [{"id": "x", "sla": {"batch_minutes": 3}}]}
    assert doc.line_of(("items", 0, "sla", "batch_minutes")) == 4
    assert doc.line_of(("items", 0, "missing")) == 3


@pytest.mark.parametrize(
    ("text", "line", "rule", "fragment"),
    [
        (b"a: 1\nb: 2\na: 3\n", 3, "duplicate-key", "key 'a' appears twice in the same mapping (first on line 1)"),
        (b"p:\n  - id: x\n    kind: a\n    kind: b\n", 4, "duplicate-key", "key 'kind'"),
        (b"a: ok\nb: caf\xe9\n", 2, "encoding", "not valid UTF-8"),
        (b"a: [1, 2\n", 2, "syntax", "expected ','"),
    ],
)
def test_bad_yaml_names_file_line_and_rule(text: bytes, line: int, rule: str, fragment: str) -> None:
    with pytest.raises(StrictYamlError) as info:
        loads(text, "pipelines/catalog/pipelines/x.yaml")
    err = info.value
    assert (err.file, err.line, err.rule) == ("pipelines/catalog/pipelines/x.yaml", line, rule)
    assert fragment in err.message
    assert str(err).startswith(f"pipelines/catalog/pipelines/x.yaml:{line}: {rule}: ")


def test_same_key_in_different_mappings_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("- id: a\n- id: b\n")
    assert load(path, "ok.yaml").data == [{"id": "a"}, {"id": "b"}]


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StrictYamlError, match="unreadable"):
        load(tmp_path / "nope.yaml", "nope.yaml")
