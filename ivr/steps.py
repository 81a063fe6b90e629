"""What the IVR engine hands to a channel: steps to perform, the call context, and journal facts.

Both channels (Twilio as TwiML, SIP over RTP) render the same steps, so one flow behaves the same whichever
way the call came in. Everything here is plain, immutable data; the context round-trips through
``to_dict``/``from_dict`` so a channel can keep it between webhooks (Redis, a signed URL parameter).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from callcenter.domain.events import EventType


@dataclass(frozen=True)
class Say:
    """Speak ``text`` with a voice of ``language`` (channels map ``hu`` to hu-HU and so on)."""

    text: str
    language: str


@dataclass(frozen=True)
class Play:
    """Play a recorded prompt; ``text`` is its transcript (SIP synthesises it when the file is missing)."""

    url: str
    language: str
    text: str = ""


Prompt = Say | Play


@dataclass(frozen=True)
class Gather:
    """Play ``prompts`` while listening for input, then call ``advance`` with ``node`` and what came.

    ``speech_language`` is None when the node takes digits only. ``hints`` are the phrases the node
    understands (Twilio's ``hints``). No input within ``timeout_seconds`` is ``NoInput()``.
    """

    node: str
    num_digits: int
    timeout_seconds: int
    prompts: tuple[Prompt, ...] = ()
    speech_language: str | None = None
    hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Enqueue:
    """Put the caller into our ACD queue; ``callback_key`` pressed while waiting requests a callback.

    ``language`` is the caller's (announcements, operator choice, whisper, survey); ``topic`` what for.
    """

    queue: str
    priority: int = 0
    skills: Mapping[str, int] = field(default_factory=dict)
    callback_key: str | None = None
    language: str = ""
    topic: str | None = None


@dataclass(frozen=True)
class RequestCallback:
    """Register a callback in ``queue``: the caller keeps a place and is dialled when their turn comes."""

    queue: str
    priority: int = 0
    skills: Mapping[str, int] = field(default_factory=dict)
    language: str = ""
    topic: str | None = None


@dataclass(frozen=True)
class Record:
    """Record a voicemail for ``queue`` (empty: the hotline's default); the channel hangs up afterwards."""

    max_seconds: int
    queue: str = ""


@dataclass(frozen=True)
class Transfer:
    """Hand the call to a second-level ``queue`` or to an external ``number`` (exactly one is set)."""

    queue: str | None = None
    number: str | None = None
    priority: int = 0
    skills: Mapping[str, int] = field(default_factory=dict)
    language: str = ""
    topic: str | None = None


@dataclass(frozen=True)
class Hangup:
    """End the call."""


Step = Say | Play | Gather | Enqueue | RequestCallback | Record | Transfer | Hangup
TERMINAL_STEPS = (Enqueue, Record, Transfer, Hangup)


@dataclass(frozen=True)
class Digits:
    """DTMF keys the caller pressed."""

    digits: str


@dataclass(frozen=True)
class Speech:
    """What the speech recogniser heard (Twilio ``SpeechResult``)."""

    text: str
    confidence: float | None = None


@dataclass(frozen=True)
class NoInput:
    """The gather timed out with nothing pressed or said."""


UserInput = Digits | Speech | NoInput


@dataclass(frozen=True)
class CallContext:
    """What the IVR has learnt about the call; it follows the call to the queue, whisper and survey.

    ``path`` lists the nodes visited in order (the ticket's IVR path); ``retries`` counts failed attempts
    at the node now waiting for input; ``after_hours`` is set once a business-hours node found us closed.
    """

    language: str
    topic: str | None = None
    skill: str | None = None
    priority: int = 0
    path: tuple[str, ...] = ()
    retries: int = 0
    after_hours: bool = False

    def visit(self, node: str) -> CallContext:
        """The context after entering ``node`` (a new node starts with no failed attempts)."""
        return replace(self, path=(*self.path, node), retries=0)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict for keeping the context between requests."""
        return {
            "language": self.language,
            "topic": self.topic,
            "skill": self.skill,
            "priority": self.priority,
            "path": list(self.path),
            "retries": self.retries,
            "after_hours": self.after_hours,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CallContext:
        """Inverse of ``to_dict``; unknown keys are ignored so old stored contexts still load."""
        return cls(
            language=str(data["language"]),
            topic=data.get("topic"),
            skill=data.get("skill"),
            priority=int(data.get("priority") or 0),
            path=tuple(data.get("path") or ()),
            retries=int(data.get("retries") or 0),
            after_hours=bool(data.get("after_hours", False)),
        )


class Fact(NamedTuple):
    """A journal event for the channel to append (it adds id, time, call id and channel)."""

    type: EventType
    data: dict[str, Any]


@dataclass(frozen=True)
class Result:
    """The engine's answer: steps in order, the new context, and the facts to journal.

    ``waiting_at`` names the node whose Gather is pending (None once the IVR is finished).
    """

    steps: tuple[Step, ...]
    context: CallContext
    facts: tuple[Fact, ...] = ()
    waiting_at: str | None = None

    @property
    def finished(self) -> bool:
        """True when the caller has left the IVR (queued, transferred, recording or hung up)."""
        return self.waiting_at is None
