"""One validation finding, and the error that carries all of them: file, key, line, rule, message."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    key: str
    line: int | None
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: [{self.rule}] {self.message}"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class CatalogError(Exception):
    """The catalog is invalid; ``problems`` lists every finding (not just the first)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
