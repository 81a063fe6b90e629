"""The journal on real adapters: Redis stream -> SQL, on SQLite + emulated Redis and PostgreSQL + Redis."""

from __future__ import annotations

from sqlalchemy import func, select

from callcenter.storage.models import Call, CallEventRecord
from tests.support.events import abandoned_call, answered_call

T0 = 1_800_000_000.0


def count(container, model) -> int:
    with container.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)))


def test_events_appended_to_the_stream_end_up_in_sql_with_call_summaries(container):
    container.journal.append_many(answered_call("c1", T0) + abandoned_call("c2", T0))
    assert container.journal.backlog() == 10
    assert container.journal_writer.drain_all() == 10
    assert container.journal.backlog() == 0
    with container.sessions() as session:
        c1, c2 = session.get(Call, "c1"), session.get(Call, "c2")
    assert (c1.outcome, c1.wait_seconds, c1.talk_seconds, c1.operator) == ("answered", 12, 60, "anna")
    assert (c2.outcome, c2.wait_seconds, c2.channel) == ("abandoned", 30, "sip")
    assert c1.event_count == 7


def test_replaying_the_same_events_writes_no_duplicate(container):
    events = answered_call("c1", T0)
    container.journal.append_many(events)
    container.journal_writer.drain_all()
    container.journal.append_many(events)  # a replay: the same event ids again
    assert container.journal_writer.drain_all() == 0
    assert count(container, CallEventRecord) == 7
    assert count(container, Call) == 1


def test_a_crash_between_commit_and_ack_replays_without_duplicates(container, monkeypatch):
    container.journal.append_many(answered_call("c1", T0))
    journal = container.journal
    real_ack = journal.ack

    def crash(_ids):
        raise ConnectionError("worker died before XACK")

    monkeypatch.setattr(journal, "ack", crash)
    try:
        container.journal_writer.drain_once()
    except ConnectionError:
        pass
    assert count(container, CallEventRecord) == 7  # committed, but still pending in the stream
    assert journal.backlog() == 7
    monkeypatch.setattr(journal, "ack", real_ack)
    assert container.journal_writer.drain_all() == 0
    assert journal.backlog() == 0
    assert count(container, CallEventRecord) == 7


def test_late_events_update_the_call_summary(container):
    events = answered_call("c1", T0)
    container.journal.append_many(events[:4])
    container.journal_writer.drain_all()
    with container.sessions() as session:
        assert session.get(Call, "c1").outcome == "in_progress"
    container.journal.append_many(events[4:])
    container.journal_writer.drain_all()
    with container.sessions() as session:
        assert session.get(Call, "c1").outcome == "answered"


def test_consumer_creates_its_group_on_a_fresh_redis_without_errors(container):
    # No stream and no group yet (a fresh server): reading must create both, not fail.
    assert container.journal_writer.drain_once().read == 0
    container.journal.append_many(answered_call("c1", T0))
    assert container.journal_writer.drain_all() == 7
