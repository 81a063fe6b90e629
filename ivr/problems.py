"""Problems found while reading a flow: each knows the YAML path it concerns, so errors can name the line."""

from __future__ import annotations

from typing import NamedTuple

YamlPath = tuple[str | int, ...]


class Problem(NamedTuple):
    """One thing wrong with the hotline file, at ``path`` (e.g. ``("ivr", "nodes", "main", "retries")``)."""

    path: YamlPath
    message: str
