"""JournalWriter with in-memory fakes of its ports: ack only after a commit, dead letters, retries."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm import sessionmaker

from callcenter.domain.events import CallEvent, EventType
from callcenter.journal import JournalWriter
from tests.support.events import answered_call


class FakeSource:
    def __init__(self, events: list[CallEvent]):
        self.pending = [(f"{i}-0", e.to_fields()) for i, e in enumerate(events)]
        self.acked: list[str] = []
        self.dead: list[tuple[str, str]] = []

    def add_raw(self, entry_id: str, fields: dict[str, str]) -> None:
        self.pending.append((entry_id, fields))

    def read(self, count, block_ms=None):
        return [p for p in self.pending if p[0] not in self.acked][:count]

    def ack(self, entry_ids):
        self.acked.extend(entry_ids)

    def dead_letter(self, entry_id, fields, reason):
        self.dead.append((entry_id, reason))
        self.acked.append(entry_id)

    def backlog(self):
        return len(self.pending) - len(self.acked)


class FakeStore:
    def __init__(self):
        self.rows: dict[str, CallEvent] = {}
        self.fail = False

    def store(self, events, session):
        if self.fail:
            raise OperationalError("INSERT", {}, Exception("connection refused"))
        new = [e for e in events if e.id not in self.rows]
        self.rows.update({e.id: e for e in new})
        return new


@pytest.fixture
def sessions():
    return sessionmaker(create_engine("sqlite://"))


def test_batch_is_acked_only_after_the_store_committed(sessions):
    events = answered_call("c1", 1000.0)
    source, store = FakeSource(events), FakeStore()
    writer = JournalWriter(source, store, sessions, batch_size=3)
    assert writer.drain_once().written == 3
    assert len(source.acked) == 3
    assert writer.drain_all() == 4
    assert set(store.rows) == {e.id for e in events}


def test_database_error_leaves_the_batch_pending_for_a_retry(sessions):
    events = answered_call("c1", 1000.0)
    source, store = FakeSource(events), FakeStore()
    writer = JournalWriter(source, store, sessions)
    store.fail = True
    with pytest.raises(OperationalError):
        writer.drain_once()
    assert source.acked == [] and source.backlog() == len(events)
    store.fail = False
    assert writer.drain_all() == len(events)


def test_malformed_entry_goes_to_dead_letters_and_does_not_block_the_rest(sessions):
    source, store = FakeSource(answered_call("c1", 1000.0)), FakeStore()
    source.add_raw("99-0", {"type": "NOT_A_TYPE", "id": "x", "ts": "1"})
    source.add_raw("100-0", {"type": EventType.ABANDONED.value, "ts": "1"})
    writer = JournalWriter(source, store, sessions)
    writer.drain_all()
    assert [d[0] for d in source.dead] == ["99-0", "100-0"]
    assert "lacks 'id'" in source.dead[1][1]
    assert len(store.rows) == 7


def test_projections_see_only_new_events(sessions):
    events = answered_call("c1", 1000.0)
    source, store = FakeSource(events + events), FakeStore()
    seen: list[str] = []

    class Recorder:
        def apply(self, new_events, session):
            seen.extend(e.id for e in new_events)

    JournalWriter(source, store, sessions, projections=[Recorder()]).drain_all()
    assert sorted(seen) == sorted(e.id for e in events)


class RefusingStore(FakeStore):
    """Refuses (as a database DataError) any batch holding the event of ``bad_call``."""

    def __init__(self, bad_call: str):
        super().__init__()
        self.bad_call = bad_call

    def store(self, events, session):
        if any(e.call_id == self.bad_call for e in events):
            raise DataError("COPY", {}, Exception("value too long for type character varying(64)"))
        return super().store(events, session)


def test_a_batch_refused_as_data_is_split_and_only_the_bad_event_is_dead_lettered(sessions):
    bad = CallEvent(id="bad", type=EventType.ENTER_QUEUE, ts=1000.0, call_id="c2", queue="q" * 100)
    events = answered_call("c1", 1000.0) + [bad] + answered_call("c3", 1000.0)
    source = FakeSource(events)
    source.add_raw("99-0", bad.to_fields())  # the same event again (a replay) in the same batch
    store = RefusingStore("c2")
    writer = JournalWriter(source, store, sessions, batch_size=100)
    result = writer.drain_once()
    assert (result.written, result.refused) == (14, 1)
    assert sorted(entry for entry, _reason in source.dead) == ["7-0", "99-0"]
    assert "refused by the database" in source.dead[0][1]
    assert source.backlog() == 0
    assert writer.drain_once().read == 0
    assert len(store.rows) == 14


class VanishingStore(FakeStore):
    """Refuses the whole batch as data, then is unreachable while the batch is written event by event."""

    def store(self, events, session):
        if len(events) > 1:
            raise DataError("COPY", {}, Exception("value too long"))
        raise OperationalError("INSERT", {}, Exception("connection refused"))


def test_an_unreachable_database_during_the_split_leaves_the_batch_pending(sessions):
    source = FakeSource(answered_call("c1", 1000.0))
    writer = JournalWriter(source, VanishingStore(), sessions)
    with pytest.raises(OperationalError):
        writer.drain_once()
    assert source.dead == []
    assert source.backlog() == 7
