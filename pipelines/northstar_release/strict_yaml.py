"""Strict YAML loading for every configuration file the release engine reads.

Why not plain ``yaml.safe_load``: it keeps the *last* of two duplicate keys without a word, so a second ``prod:`` block
silently replaced the first one and dropped its approval and freeze checks from the plan; and a file that is not
UTF-8 ended in a Python traceback. Control configuration must fail loudly instead: every problem is a
``ConfigError`` (exit 2) naming the file, the line and the rule, and nothing is written before it is raised.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node

from northstar_release.errors import ConfigError

_MERGE_TAG = "tag:yaml.org,2002:merge"


class DuplicateKeyError(yaml.MarkedYAMLError):
    """A mapping names the same key twice (YAML 1.2 forbids it; PyYAML would keep the last one silently)."""


class _StrictLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses duplicate mapping keys (merge keys ``<<`` may still be overridden, as YAML allows)."""


def _construct_mapping(loader: _StrictLoader, node: Node, deep: bool = False) -> Any:
    if isinstance(node, MappingNode):
        seen: dict[Any, int] = {}
        for key_node, _value in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = loader.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:
                continue  # unhashable key: SafeConstructor reports it with its own mark below
            if first is not None:
                raise DuplicateKeyError(
                    "while constructing a mapping", node.start_mark,
                    f"key {key!r} appears again (first on line {first + 1}); each key may appear only once",
                    key_node.start_mark)
            seen[key] = key_node.start_mark.line
    return SafeConstructor.construct_mapping(loader, node, deep)  # type: ignore[arg-type]


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _line_of(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column of byte ``offset``."""
    before = data[:offset]
    return before.count(b"\n") + 1, offset - (before.rfind(b"\n") + 1) + 1


def loads(data: bytes, path: Path | str, what: str = "configuration") -> Any:
    """Decode ``data`` as UTF-8 and parse it as one YAML document, strictly; ``path`` is only used in messages."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _line_of(data, exc.start)
        bad = data[exc.start:exc.end].hex()
        raise ConfigError(f"{path}: {what} is not valid UTF-8",
                          [f"{path}: (document) line {line} column {column}: byte 0x{bad} is not UTF-8 (rule: config files "
                           "must be UTF-8 text)"]) from exc
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - _StrictLoader is a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"(document) line {mark.line + 1} column {mark.column + 1}" if mark is not None else "(document)"
        rule = "duplicate key" if isinstance(exc, DuplicateKeyError) else "malformed YAML"
        problem = exc.problem or str(exc)
        raise ConfigError(f"{path}: {what} is not valid YAML ({rule})",
                          [f"{path}: {where}: {rule}: {problem}"]) from exc
    except yaml.reader.ReaderError as exc:
        # Characters YAML forbids (NUL, most C0 controls): ``position`` is a character index into ``text``.
        line = text.count("\n", 0, exc.position) + 1
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        raise ConfigError(f"{path}: {what} is not valid YAML (forbidden character)",
                          [f"{path}: (document) line {line}: forbidden character U+{char:04X} (rule: YAML allows only "
                           "printable characters)"]) from exc
    except (yaml.YAMLError, RecursionError) as exc:
        raise ConfigError(f"{path}: {what} is not valid YAML", [f"{path}: (document): {exc}"]) from exc


def load_file(path: Path, what: str = "configuration") -> Any:
    """Read and strictly parse the YAML file at ``path`` (see ``loads``); an unreadable file is a ConfigError too."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what}: {exc.strerror}",
                          [f"{path}: cannot read: {exc.strerror}"]) from exc
    return loads(data, path, what)
