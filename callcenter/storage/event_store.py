"""SQL side of the journal: idempotent event inserts and call summaries derived from the stored events."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import String, Table, Text, cast, select, text
from sqlalchemy.orm import Session, sessionmaker

from callcenter.domain.call_summary import CallSummary, summarize
from callcenter.domain.events import CallEvent, EventType
from callcenter.storage.bulk import insert_new, upsert_rows
from callcenter.storage.event_store_sql import upsert as upsert
from callcenter.storage.models import Call, CallEventRecord


def utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


def epoch(value: dt.datetime) -> float:
    """Epoch seconds of a stored time (SQLite returns naive datetimes; they are UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


class SqlEventStore:
    """Writes journal batches: new events inserted once, summaries of touched calls re-derived."""

    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions

    def store(self, events: Sequence[CallEvent], session: Session) -> list[CallEvent]:
        """Insert events not stored yet and re-derive their calls' summaries; returns the new events."""
        if not events:
            return []
        events = [storable(e) for e in events]
        rows = [_event_row(e) for e in events]
        new_ids = insert_new(session.connection(), EVENTS_TABLE, "event_id", rows)
        new_events = [e for e in events if e.id in new_ids]
        call_ids = sorted({e.call_id for e in new_events if e.call_id})
        if call_ids:
            self._resummarize(session, call_ids, {e.id: e for e in events})
        return new_events

    def _resummarize(self, session: Session, call_ids: list[str], known: dict[str, CallEvent]) -> None:
        """Re-derive the touched calls from all their stored events (events of this batch are not re-parsed)."""
        by_call: dict[str, list[CallEvent]] = defaultdict(list)
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            # Several consumers may write events of one call at once; each would derive the summary from the
            # events it can see (its own, not the other's uncommitted ones) and the last commit would lose the
            # other's. Holding a per-call lock until commit makes the later writer read the earlier's events.
            connection.execute(_LOCK_CALLS, {"ids": call_ids})
        for row in connection.execute(_EVENT_COLUMNS.where(CallEventRecord.call_id.in_(call_ids))):
            by_call[row.call_id].append(known.get(row.event_id) or _event_of(row))
        now = dt.datetime.now(dt.UTC)
        rows = [_fitted(_call_row(summarize(cid, evs), now)) for cid, evs in by_call.items()]
        upsert_rows(connection, CALLS_TABLE, "id", rows)


def storable(event: CallEvent) -> CallEvent:
    """The event without NUL characters in any of its strings (PostgreSQL text and JSON cannot hold them;
    SQLite could, and both databases get the same record). Twilio's fields are cleaned at the webhook already;
    this covers every other way into the journal (SIP, the API, an old entry)."""
    fields = {"id": event.id, "call_id": event.call_id, "channel": event.channel, "queue": event.queue,
              "operator": event.operator, "data": dict(event.data)}  # fmt: skip
    if not _has_nul(fields):
        return event
    return replace(event, **_no_nul(fields))


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _no_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_no_nul(k): _no_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nul(v) for v in value]
    return value


# Sorted (call_ids are), so two consumers take their locks in the same order and never deadlock.
_LOCK_CALLS = text(
    "SELECT count(pg_advisory_xact_lock(7311, hashtext(x)))"
    " FROM (SELECT unnest(CAST(:ids AS text[])) AS x ORDER BY 1) AS s"
)


def _event_row(event: CallEvent) -> dict[str, Any]:
    return {
        "event_id": event.id,
        "type": event.type.value,
        "ts": utc(event.ts),
        "call_id": event.call_id,
        "channel": event.channel,
        "queue": event.queue,
        "operator": event.operator,
        "data": dict(event.data),
    }


EVENTS_TABLE: Table = CallEventRecord.__table__  # type: ignore[assignment]
CALLS_TABLE: Table = Call.__table__  # type: ignore[assignment]
_TEXT_LIMITS: dict[str, int] = {
    c.name: c.type.length
    for c in CALLS_TABLE.columns
    if isinstance(c.type, String) and c.type.length and c.name != "id"  # an id too long is refused, not cut
}

_EVENT_COLUMNS = select(
    CallEventRecord.event_id,
    CallEventRecord.type,
    CallEventRecord.ts,
    CallEventRecord.call_id,
    CallEventRecord.channel,
    CallEventRecord.queue,
    CallEventRecord.operator,
    # As text: the JSON is parsed only for events that are not already in memory.
    cast(CallEventRecord.data, Text).label("data"),
)


def _event_of(record: Any) -> CallEvent:
    """A stored event row (Core row or ORM record) as a domain event."""
    return CallEvent(
        id=record.event_id,
        type=EventType(record.type),
        ts=epoch(record.ts),
        call_id=record.call_id,
        channel=record.channel,
        queue=record.queue,
        operator=record.operator,
        data=json.loads(record.data) if isinstance(record.data, str) else (record.data or {}),
    )


def _fitted(row: dict[str, Any]) -> dict[str, Any]:
    """The call row with its texts cut to their columns' lengths (PostgreSQL refuses longer ones, SQLite
    would keep them): a caller number or name from a channel, however long, never keeps the call from SQL."""
    for name, limit in _TEXT_LIMITS.items():
        value = row.get(name)
        if isinstance(value, str) and len(value) > limit:
            row[name] = value[:limit]
    return row


def _call_row(summary: CallSummary, now: dt.datetime) -> dict[str, Any]:
    def when(ts: float | None) -> dt.datetime | None:
        return utc(ts) if ts is not None else None

    return {
        "id": summary.call_id,
        "channel": summary.channel,
        "caller": summary.caller,
        "caller_name": summary.caller_name,
        "called": summary.called,
        "language": summary.language,
        "topic": summary.topic,
        "ivr_path": list(summary.ivr_path),
        "queue": summary.queue,
        "final_queue": summary.final_queue,
        "operator": summary.operator,
        "outcome": summary.outcome,
        "started_at": when(summary.started_at),
        "enqueued_at": when(summary.enqueued_at),
        "answered_at": when(summary.answered_at),
        "ended_at": when(summary.ended_at),
        "wait_seconds": summary.wait_seconds,
        "talk_seconds": summary.talk_seconds,
        "hold_seconds": summary.hold_seconds,
        "wrapup_seconds": summary.wrapup_seconds,
        "missed_offers": summary.missed_offers,
        "transferred": summary.transferred,
        "escalated": summary.escalated,
        "callback_requested": summary.callback_requested,
        "recording_url": summary.recording_url,
        "survey_score": summary.survey_score,
        "event_count": summary.event_count,
        "updated_at": now,
    }
