"""One event SQL cannot store never stalls the journal: NULs are made storable, anything else the database
refuses as data is moved to the dead letters, and every other call record is written exactly once."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from callcenter.domain.events import EventType
from callcenter.storage.models import Call, CallEventRecord
from tests.support.events import answered_call, event

T0 = 1_800_000_000.0


def count(container, model) -> int:
    with container.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)))


def test_a_nul_in_an_event_is_removed_and_the_whole_journal_drains(container):
    poison = answered_call("c\x00x", T0, caller="+3630\x001234567", operator="an\x00na")
    poison[1] = event(EventType.IVR_INPUT, "c\x00x", T0 + 3, data={"input": "1\x00", "n\x00": ["\x00"]})
    container.journal.append_many(answered_call("before", T0) + poison + answered_call("after", T0))
    assert container.journal_writer.drain_all() == 21
    assert container.journal.backlog() == 0
    assert container.redis.live.xlen(container.keys.journal_dead) == 0
    with container.sessions() as session:
        call = session.get(Call, "cx")
        stored = session.scalars(select(CallEventRecord).where(CallEventRecord.call_id == "cx")).all()
        assert {session.get(Call, "before").outcome, session.get(Call, "after").outcome} == {"answered"}
    assert (call.caller, call.operator, call.outcome) == ("+36301234567", "anna", "answered")
    assert "\\u0000" not in json.dumps([r.data for r in stored])


def test_an_event_the_database_refuses_is_dead_lettered_and_the_others_are_written_once(container):
    refused = event(EventType.ENTER_QUEUE, "c2", T0 + 5, channel="twilio", queue="q" * 5000)
    container.journal.append_many(answered_call("c1", T0) + [refused] + answered_call("c3", T0))
    container.journal_writer.drain_all()
    assert container.journal.backlog() == 0
    dead = container.redis.live.xlen(container.keys.journal_dead)
    stored = count(container, CallEventRecord)
    # PostgreSQL refuses a queue name longer than its column; SQLite stores it.
    assert (dead, stored) in ((1, 14), (0, 15))
    assert {c for (c,) in _call_ids(container)} >= {"c1", "c3"}
    container.journal.append_many(answered_call("c4", T0))
    container.journal_writer.drain_all()
    assert count(container, CallEventRecord) == stored + 7


def _call_ids(container):
    with container.sessions() as session:
        return session.execute(select(Call.id)).all()


def test_a_caller_longer_than_its_column_is_cut_and_the_call_is_stored_whole(container):
    container.journal.append_many(answered_call("c1", T0, caller="+" + "3" * 500))
    assert container.journal_writer.drain_all() == 7
    assert container.redis.live.xlen(container.keys.journal_dead) == 0
    with container.sessions() as session:
        call = session.get(Call, "c1")
    assert (call.caller, call.outcome, call.event_count) == ("+" + "3" * 63, "answered", 7)
