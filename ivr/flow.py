"""The IVR flow language: the ``ivr:`` section of the hotline file, typed and validated on load.

``validate_hotline_flow`` is called by ``callcenter.hotline.parse_hotline`` (and so by
``callcenter config check``); it raises one ConfigError listing every problem as ``file:line: path:
problem``. ``flow_from_hotline`` gives the channels the typed flow of an already validated hotline.
The language itself is documented with examples in the README's IVR chapter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from callcenter.yamlsrc import ConfigError, YamlSource
from ivr.flowcheck import check_graph
from ivr.flowparse import Catalogue, FlowReader, ParsedFlow
from ivr.hours import parse_hours
from ivr.nodes import (
    Assignment,
    BusinessHoursNode,
    CallbackNode,
    Choice,
    EnqueueNode,
    Flow,
    HangupNode,
    MenuNode,
    MessageNode,
    Node,
    SelfServiceNode,
    SetNode,
    Text,
    TransferNode,
    VoicemailNode,
    successors,
)
from ivr.problems import Problem

if TYPE_CHECKING:
    from callcenter.hotline import Hotline

__all__ = [
    "Assignment",
    "BusinessHoursNode",
    "CallbackNode",
    "Choice",
    "EnqueueNode",
    "Flow",
    "HangupNode",
    "MenuNode",
    "MessageNode",
    "Node",
    "Problem",
    "SelfServiceNode",
    "SetNode",
    "Text",
    "TransferNode",
    "VoicemailNode",
    "check_flow",
    "flow_from_hotline",
    "successors",
    "validate_hotline_flow",
]


def check_flow(hotline: Hotline) -> tuple[Flow | None, list[Problem]]:
    """Read and check the hotline's ``ivr`` section; the flow is None when problems were found."""
    problems: list[Problem] = []
    hours = parse_hours(hotline.business_hours.model_dump(), ("business_hours",), problems)
    catalogue = Catalogue(
        languages=tuple(hotline.hotline.languages),
        default_language=hotline.hotline.default_language,
        queues={name: queue.second_level for name, queue in hotline.queues.items()},
        skills=frozenset(hotline.skills),
        hours=hours,
    )
    parsed = _read(hotline.ivr, catalogue)
    problems += parsed.problems + check_graph(parsed)
    return (parsed.flow if not problems else None), problems


def validate_hotline_flow(hotline: Hotline, source: YamlSource) -> Flow | None:
    """Check the flow; raise ConfigError with one ``file:line: path: problem`` line per problem.

    A hotline without an ``ivr`` section has no flow (None): calls then go straight to the first queue.
    """
    if not hotline.ivr:
        return None
    flow, problems = check_flow(hotline)
    if problems:
        raise ConfigError("\n".join(f"{source.where(p.path)}: {p.message}" for p in _in_file_order(problems, source)))
    return flow


def flow_from_hotline(hotline: Hotline) -> Flow | None:
    """The typed flow of a validated hotline (None when it has no ``ivr`` section)."""
    if not hotline.ivr:
        return None
    flow, problems = check_flow(hotline)
    if problems:
        raise ConfigError("\n".join(f"{'.'.join(map(str, p.path))}: {p.message}" for p in problems))
    return flow


def _read(raw: dict[str, Any], catalogue: Catalogue) -> ParsedFlow:
    return FlowReader(catalogue).read(raw)


def _in_file_order(problems: list[Problem], source: YamlSource) -> list[Problem]:
    return sorted(problems, key=lambda p: source.line_of(p.path) or 0)
