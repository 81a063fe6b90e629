"""The typed flow: one frozen dataclass per node type, and the Flow that holds them.

Built from the hotline file's ``ivr:`` section by ``ivr.flow``; read by the engine. See the README's IVR chapter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ivr.hours import Hours


@dataclass(frozen=True)
class Text:
    """A prompt in every hotline language; ``audio`` optionally names a recording per language."""

    texts: Mapping[str, str]
    audio: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Assignment:
    """What a ``set`` node or a menu choice records about the call (None: leave as it is)."""

    language: str | None = None
    topic: str | None = None
    skill: str | None = None
    priority: int | None = None


@dataclass(frozen=True)
class Choice:
    """One menu option: its key, where it leads, what it sets, and the words that also select it."""

    key: str
    next: str
    assign: Assignment = Assignment()
    speech: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class MenuNode:
    """Ask, listen for a key or a phrase; after ``retries`` repeated failures go to ``on_failure``.

    ``all_languages`` (the ``language`` node type) speaks the prompt in every language, each in its own
    voice, since the caller has not chosen yet.
    """

    id: str
    prompt: Text
    choices: tuple[Choice, ...]
    on_failure: str
    timeout_seconds: int = 5
    retries: int = 2
    invalid: Text | None = None
    no_input: Text | None = None
    all_languages: bool = False


@dataclass(frozen=True)
class BusinessHoursNode:
    """Branch on the clock: ``open``, ``closed`` or (when given) ``holiday``."""

    id: str
    open: str
    closed: str
    hours: Hours
    holiday: str | None = None


@dataclass(frozen=True)
class SetNode:
    """Record language, topic, skill or priority, then go on."""

    id: str
    assign: Assignment
    next: str


@dataclass(frozen=True)
class MessageNode:
    """Say something; then ``next``, or hang up (IVR_EXIT with ``reason``) when there is none."""

    id: str
    prompt: Text
    next: str | None = None
    reason: str = "self_served"


@dataclass(frozen=True)
class SelfServiceNode:
    """Read the knowledge base's published IVR message for ``topic`` (else the call's topic).

    With a message: say it and go to ``after`` (or ``next``); without one: fall through to ``next``.
    """

    id: str
    next: str
    topic: str | None = None
    after: str | None = None


@dataclass(frozen=True)
class EnqueueNode:
    """Queue the call in our ACD. Priority None means the call's own; skills add to the call's skill."""

    id: str
    queue: str
    priority: int | None = None
    skills: Mapping[str, int] = field(default_factory=dict)
    callback_key: str | None = None
    prompt: Text | None = None


@dataclass(frozen=True)
class CallbackNode:
    """Register a callback in ``queue``, confirm it to the caller and hang up."""

    id: str
    queue: str
    priority: int | None = None
    skills: Mapping[str, int] = field(default_factory=dict)
    prompt: Text | None = None


@dataclass(frozen=True)
class VoicemailNode:
    """Say the prompt and record a message of at most ``max_seconds``."""

    id: str
    max_seconds: int = 120
    queue: str = ""
    prompt: Text | None = None


@dataclass(frozen=True)
class TransferNode:
    """Hand the call to a second-level queue or to an external number."""

    id: str
    queue: str | None = None
    number: str | None = None
    priority: int | None = None
    skills: Mapping[str, int] = field(default_factory=dict)
    prompt: Text | None = None


@dataclass(frozen=True)
class HangupNode:
    """Say goodbye (optional) and end the call; ``reason`` goes to IVR_EXIT."""

    id: str
    prompt: Text | None = None
    reason: str = "hangup"


Node = (
    MenuNode
    | BusinessHoursNode
    | SetNode
    | MessageNode
    | SelfServiceNode
    | EnqueueNode
    | CallbackNode
    | VoicemailNode
    | TransferNode
    | HangupNode
)
TERMINAL_NODES = (EnqueueNode, CallbackNode, VoicemailNode, TransferNode, HangupNode)
INPUT_NODES = (MenuNode,)


@dataclass(frozen=True)
class Flow:
    """A validated IVR flow: nodes by id, where calls start, and the hotline's languages."""

    start: str
    nodes: Mapping[str, Node]
    languages: tuple[str, ...] = ("hu", "en")
    default_language: str = "hu"


def successors(node: Node) -> tuple[str, ...]:
    """Every node id ``node`` can lead to."""
    if isinstance(node, MenuNode):
        return (*(c.next for c in node.choices), node.on_failure)
    if isinstance(node, BusinessHoursNode):
        return tuple(t for t in (node.open, node.closed, node.holiday) if t is not None)
    if isinstance(node, SelfServiceNode):
        return tuple(t for t in (node.after, node.next) if t is not None)
    if isinstance(node, SetNode | MessageNode):
        return (node.next,) if node.next is not None else ()
    return ()


def is_exit(node: Node) -> bool:
    """True for nodes where the caller leaves the IVR (a message without ``next`` hangs up)."""
    return isinstance(node, TERMINAL_NODES) or (isinstance(node, MessageNode) and node.next is None)
