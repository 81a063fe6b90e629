"""A call's summary (what the calls table holds), derived only from its events.

Deriving, not accumulating, makes the summary independent of the order and the repetition in which events
reach SQL: the journal may replay, the channels may report late, and the summary still comes out the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from callcenter.domain.events import CallEvent, EventType

E = EventType

# The outcome of a call that never reached an operator, by the event that ended its stay (latest wins).
_UNANSWERED_OUTCOME: Mapping[EventType, str] = {
    E.IVR_EXIT: "ivr",
    E.ABANDONED: "abandoned",
    E.EXIT_TIMEOUT: "timeout",
    E.EXIT_EMPTY: "no_operators",
    E.CALLBACK_REQUESTED: "callback",
    E.VOICEMAIL: "voicemail",
}
_COMPLETIONS = (E.COMPLETED_BY_CALLER, E.COMPLETED_BY_OPERATOR)


@dataclass(frozen=True)
class CallSummary:
    """The derived row of the calls table (times in epoch seconds)."""

    call_id: str
    channel: str = ""
    caller: str = ""
    caller_name: str = ""
    called: str = ""
    language: str = ""
    topic: str = ""
    ivr_path: tuple[str, ...] = ()
    queue: str = ""
    final_queue: str = ""
    operator: str = ""
    outcome: str = "in_progress"
    started_at: float | None = None
    enqueued_at: float | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    hold_seconds: float | None = None
    wrapup_seconds: float | None = None
    missed_offers: int = 0
    transferred: bool = False
    escalated: bool = False
    callback_requested: bool = False
    recording_url: str = ""
    survey_score: int | None = None
    event_count: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)


def summarize(call_id: str, events: Iterable[CallEvent]) -> CallSummary:
    """Fold a call's events (any order, duplicates allowed) into its summary."""
    unique = {e.id: e for e in events if e.call_id == call_id}
    ordered = sorted(unique.values(), key=lambda e: (e.ts, e.id))
    if not ordered:
        return CallSummary(call_id=call_id)
    first_of = _first_by_type(ordered)
    answered = first_of.get(E.CONNECTED)
    enqueued = first_of.get(E.ENTER_QUEUE)
    completion = _last(ordered, _COMPLETIONS)
    started = first_of.get(E.CALL_STARTED)
    start_data = started.data if started else {}
    return CallSummary(
        call_id=call_id,
        channel=_last_value(ordered, "channel"),
        caller=str(start_data.get("from", "")),
        caller_name=str(start_data.get("caller_name", "")),
        called=str(start_data.get("to", "")),
        language=_last_data(ordered, "language"),
        topic=_last_data(ordered, "topic"),
        ivr_path=tuple(_ivr_step(e) for e in ordered if e.type is E.IVR_INPUT),
        queue=enqueued.queue if enqueued else "",
        final_queue=_last_value([e for e in ordered if e.queue], "queue"),
        operator=_last_connected_operator(ordered),
        outcome=_outcome(ordered, answered),
        started_at=(started or ordered[0]).ts,
        enqueued_at=enqueued.ts if enqueued else None,
        answered_at=answered.ts if answered else None,
        ended_at=_ended_at(ordered, completion),
        wait_seconds=_wait(ordered, enqueued, answered),
        talk_seconds=_talk(ordered),
        hold_seconds=_hold(ordered),
        wrapup_seconds=_wrapup(ordered, completion),
        missed_offers=sum(1 for e in ordered if e.type is E.RING_NO_ANSWER),
        transferred=E.TRANSFERRED in first_of,
        escalated=E.ESCALATED in first_of,
        callback_requested=E.CALLBACK_REQUESTED in first_of,
        recording_url=_last_data(ordered, "recording_url"),
        survey_score=_survey_score(ordered),
        event_count=len(ordered),
    )


def _first_by_type(ordered: list[CallEvent]) -> dict[EventType, CallEvent]:
    first: dict[EventType, CallEvent] = {}
    for event in ordered:
        first.setdefault(event.type, event)
    return first


def _last(ordered: list[CallEvent], types: tuple[EventType, ...]) -> CallEvent | None:
    return next((e for e in reversed(ordered) if e.type in types), None)


def _last_value(ordered: list[CallEvent], attr: str) -> str:
    return next((str(getattr(e, attr)) for e in reversed(ordered) if getattr(e, attr)), "")


def _last_data(ordered: list[CallEvent], key: str) -> str:
    return next((str(e.data[key]) for e in reversed(ordered) if e.data.get(key)), "")


def _ivr_step(event: CallEvent) -> str:
    node = str(event.data.get("node", ""))
    value = event.data.get("input", "")
    return f"{node}:{value}" if value != "" else node


def _last_connected_operator(ordered: list[CallEvent]) -> str:
    return next((e.operator for e in reversed(ordered) if e.type is E.CONNECTED), "")


def _outcome(ordered: list[CallEvent], answered: CallEvent | None) -> str:
    if answered is not None:
        return "answered"
    last = _last(ordered, tuple(_UNANSWERED_OUTCOME))
    if last is not None:
        return _UNANSWERED_OUTCOME[last.type]
    return "ended" if _last(ordered, (E.CALL_ENDED,)) else "in_progress"


def _ended_at(ordered: list[CallEvent], completion: CallEvent | None) -> float | None:
    ended = _last(ordered, (E.CALL_ENDED,))
    if ended is not None:
        return ended.ts
    if completion is not None:
        return completion.ts
    terminal = _last(ordered, tuple(_UNANSWERED_OUTCOME))
    return terminal.ts if terminal is not None and terminal.type is not E.CALLBACK_REQUESTED else None


def _wait(ordered: list[CallEvent], enqueued: CallEvent | None, answered: CallEvent | None) -> float | None:
    """Time from first entering a queue to being answered, or to leaving the queue unanswered."""
    if enqueued is None:
        return None
    if answered is not None:
        return max(0.0, answered.ts - enqueued.ts)
    left = _last(ordered, (E.ABANDONED, E.EXIT_TIMEOUT, E.EXIT_EMPTY, E.VOICEMAIL, E.CALLBACK_DIALLED))
    return max(0.0, left.ts - enqueued.ts) if left is not None else None


def _spans(ordered: list[CallEvent], opens: tuple[EventType, ...], closes: tuple[EventType, ...]) -> float:
    total, opened = 0.0, None
    for event in ordered:
        if event.type in opens and opened is None:
            opened = event.ts
        elif event.type in closes and opened is not None:
            total += event.ts - opened
            opened = None
    return total


def _hold(ordered: list[CallEvent]) -> float | None:
    if not any(e.type is E.HOLD for e in ordered):
        return 0.0 if any(e.type is E.CONNECTED for e in ordered) else None
    return _spans(ordered, (E.HOLD,), (E.UNHOLD, *_COMPLETIONS))


def _talk(ordered: list[CallEvent]) -> float | None:
    """Connected time (all connected segments, e.g. before and after a transfer) minus hold."""
    if not any(e.type is E.CONNECTED for e in ordered):
        return None
    ends = (*_COMPLETIONS, E.TRANSFERRED, E.ESCALATED, E.CALL_ENDED)
    connected = _spans(ordered, (E.CONNECTED,), ends)
    return max(0.0, connected - (_hold(ordered) or 0.0))


def _wrapup(ordered: list[CallEvent], completion: CallEvent | None) -> float | None:
    done = _last(ordered, (E.WRAPUP_DONE,))
    if done is None or completion is None:
        return None
    if "seconds" in done.data:
        return float(done.data["seconds"])
    return max(0.0, done.ts - completion.ts)


def _survey_score(ordered: list[CallEvent]) -> int | None:
    for event in reversed(ordered):
        if event.type is E.SURVEY_ANSWERED and event.data.get("question", "satisfaction") == "satisfaction":
            return int(event.data["answer"])
    return None
