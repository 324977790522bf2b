"""A strict YAML reader for configuration files: UTF-8 only, no duplicate keys, and line numbers for every key.

Why: ``yaml.safe_load`` silently keeps the *last* of two duplicate keys and accepts any encoding PyYAML can sniff,
so a copy-pasted pipeline block or a Latin-1 file changes meaning without a word. Configuration that gates releases
must fail loudly instead, naming the file and line. Also used by the release engine for its own YAML.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]


class StrictYamlError(ValueError):
    """Unreadable configuration: ``file:line: rule: message``."""

    def __init__(self, file: str, line: int | None, rule: str, message: str) -> None:
        self.file, self.line, self.rule, self.message = file, line, rule, message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {rule}: {message}")


@dataclass
class YamlDocument:
    """The parsed data plus the 1-based line of every mapping key and sequence item, by key path."""

    file: str
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line_of(self, path: KeyPath) -> int | None:
        """The line of ``path`` or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())


def _decode(raw: bytes, file: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise StrictYamlError(file, line, "encoding", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None


def _walk(node: yaml.Node, path: KeyPath, doc: YamlDocument) -> None:
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Hashable, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise StrictYamlError(doc.file, line, "duplicate-key",
                                      f"key '{key}' appears twice in the same mapping (first on line {seen[key]})")
            seen[key] = line
            doc.lines[(*path, key)] = line
            _walk(value_node, (*path, key), doc)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), doc)


def loads(text: str | bytes, file: str = "<string>") -> YamlDocument:
    """Parse one YAML document strictly; raises StrictYamlError naming ``file`` and the line."""
    source = _decode(text, file) if isinstance(text, bytes) else text
    try:
        node = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise StrictYamlError(file, line, "syntax", str(exc.problem or exc)) from None
    doc = YamlDocument(file, None)
    if node is None:
        return doc
    _walk(node, (), doc)
    loader = yaml.SafeLoader(source)
    try:
        doc.data = loader.construct_document(node)
    finally:
        loader.dispose()
    return doc


def load(path: Path, display: str | None = None) -> YamlDocument:
    """Read and parse ``path``; ``display`` is the name used in errors (e.g. the repo-relative path)."""
    name = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise StrictYamlError(name, None, "unreadable", exc.strerror or str(exc)) from None
    return loads(raw, name)
