"""YAML that remembers where each value came from, so configuration errors can name the line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml


class ConfigError(Exception):
    """A configuration problem, worded for the person who wrote the file or set the variable."""


Path = tuple[str | int, ...]


@dataclass
class YamlSource:
    """Parsed YAML data plus a map from each value's path to its line (1-based)."""

    filename: str
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """Line of the value at ``path``, or of its closest ancestor that exists in the file."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), None)

    def where(self, path: Sequence[str | int]) -> str:
        """``file:line: a.b.c`` prefix for an error message."""
        line = self.line_of(path)
        dotted = ".".join(str(p) for p in path) or "(top level)"
        return f"{self.filename}:{line}: {dotted}" if line else f"{self.filename}: {dotted}"


def load_yaml(text: str, filename: str) -> YamlSource:
    """Parse YAML text; a syntax error becomes a ConfigError naming file and line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{filename}:{mark.line + 1}" if mark is not None else filename
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: malformed YAML: {problem}") from exc
    source = YamlSource(filename=filename, data=None)
    if node is None:
        source.data = {}
        return source
    source.data = _convert(node, (), source.lines, filename)
    return source


def _convert(node: yaml.Node, path: Path, lines: dict[Path, int], filename: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _convert(key_node, path, {}, filename)
            if key in result:
                raise ConfigError(f"{filename}:{key_node.start_mark.line + 1}: duplicate key {key!r}")
            result[key] = _convert(value_node, (*path, key), lines, filename)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), lines, filename) for i, item in enumerate(node.value)]
    loader = yaml.SafeLoader(text_stream_dummy())
    try:
        return loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: e.g. an impossible date such as 2026-02-30
        raise ConfigError(f"{filename}:{node.start_mark.line + 1}: {node.value!r} is not valid: {exc}") from exc


def text_stream_dummy() -> str:
    """SafeLoader needs a stream even when used only to construct scalars."""
    return ""
