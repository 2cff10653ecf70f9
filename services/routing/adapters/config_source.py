"""YAML with positions: every value remembers its file and line, so that a broken
configuration is refused with the exact file, line and field that are wrong."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from services.routing.domain.city import Loc

# libyaml's parser is an order of magnitude faster and keeps the same marks.
_Loader = yaml.CSafeLoader | yaml.SafeLoader
_LOADER: type[_Loader] = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
_STR = "tag:yaml.org,2002:str"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the configuration, and where."""

    file: Path
    line: int | None
    column: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = str(self.file)
        if self.line is not None:
            where += f":{self.line}:{self.column}"
        return f"{where}: {self.field or '(document)'}: {self.message}"


class ConfigError(ValueError):
    """The configuration is refused; `problems` says every place that is wrong."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        listed = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"invalid configuration ({len(self.problems)} problems):\n{listed}")


def field_path(loc: Loc) -> str:
    """("offices", 3, "region") → "offices[3].region"; a bad key reads "duties.x[key]"."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part == "[key]":
            text += part
        else:
            text += f".{part}" if text else part
    return text


class SourceMap:
    """Reads YAML files into plain data and remembers where each value came from."""

    def __init__(self) -> None:
        self._positions: dict[Loc, tuple[Path, int, int]] = {}
        self._files: dict[Loc, Path] = {}
        self.problems: list[Problem] = []

    def read(self, path: Path, prefix: Loc) -> Any:
        """The document in `path`, placed at `prefix` in the whole configuration."""
        self._files[prefix] = path
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            self.problems.append(Problem(path, None, None, field_path(prefix), str(error)))
            return None
        loader = _LOADER(text)
        try:
            node = loader.get_single_node()
            if node is None:
                self._positions[prefix] = (path, 1, 1)
                return None
            data = loader.construct_document(node)
            self._walk(loader, node, prefix, path)
            return data
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
            message = str(error.problem or error.context or "cannot parse YAML")
            self.problems.append(Problem(path, line, column, field_path(prefix), message))
            return None
        finally:
            loader.dispose()

    def _walk(self, loader: _Loader, node: yaml.Node, loc: Loc, path: Path) -> None:
        self._positions[loc] = (path, node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _STR:
                    key = key_node.value  # the common case, without the constructor's cost
                else:
                    key = loader.construct_object(key_node, deep=True)
                if not isinstance(key, str | int):
                    continue
                key_loc = (*loc, key)
                if key in seen:
                    mark = key_node.start_mark
                    self.problems.append(
                        Problem(
                            path,
                            mark.line + 1,
                            mark.column + 1,
                            field_path(key_loc),
                            "duplicate key (YAML would silently keep only the last one)",
                        )
                    )
                seen.add(key)
                key_mark = key_node.start_mark
                self._positions[(*key_loc, "[key]")] = (
                    path,
                    key_mark.line + 1,
                    key_mark.column + 1,
                )
                self._walk(loader, value_node, key_loc, path)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._walk(loader, item, (*loc, index), path)

    def problem(self, loc: Loc, message: str) -> Problem:
        """A problem at `loc`, placed at the deepest value of that path the files hold."""
        known: Loc = ()
        for part in loc:
            if (*known, part) in self._positions:
                known = (*known, part)
        if known in self._positions:
            path, line, column = self._positions[known]
            return Problem(path, line, column, field_path(loc), message)
        file = self._files.get(loc[:1], Path("(configuration)"))
        return Problem(file, None, None, field_path(loc), message)

    def validation_problems(self, error: ValidationError) -> list[Problem]:
        return [self.problem(tuple(detail["loc"]), _message(detail)) for detail in error.errors()]

    def problems_at(self, found: Iterable[tuple[Loc, str]]) -> list[Problem]:
        return [self.problem(loc, message) for loc, message in found]


def _message(detail: Any) -> str:
    message = str(detail["msg"])
    value = detail.get("input")
    if isinstance(value, str | int | float | bool) and detail["type"] != "missing":
        message += f" (got {value!r})"
    return message
