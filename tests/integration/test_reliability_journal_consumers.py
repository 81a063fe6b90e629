"""Several journal consumers (one per `callcenter worker`) write events of the same call at the same time: the
call's summary must come out of all of them, whichever transaction commits last."""

from __future__ import annotations

import threading
import time

import pytest

from callcenter.bootstrap import Container
from callcenter.storage.event_store import SqlEventStore
from callcenter.storage.models import Call
from tests.support.events import answered_call

pytestmark = [pytest.mark.real, pytest.mark.parametrize("backend", ["real"], indirect=True)]
T0 = 1_800_000_000.0


def test_two_consumers_writing_one_call_at_once_leave_a_complete_summary(container: Container) -> None:
    events = answered_call("CAshared", T0)
    first, second = events[:5], events[5:]  # ...CONNECTED | COMPLETED_BY_OPERATOR, WRAPUP_DONE
    store = SqlEventStore(container.sessions)
    stored = threading.Event()
    failures: list[BaseException] = []

    def slow_consumer() -> None:
        try:
            with container.sessions.begin() as session:
                store.store(first, session)
                stored.set()
                time.sleep(0.5)  # the other consumer writes and commits meanwhile
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)
            stored.set()

    thread = threading.Thread(target=slow_consumer)
    thread.start()
    assert stored.wait(10)
    with container.sessions.begin() as session:
        store.store(second, session)
    thread.join(10)
    assert failures == []
    with container.sessions() as session:
        call = session.get(Call, "CAshared")
        assert call is not None
        assert (call.event_count, call.outcome, call.answered_at is not None, call.ended_at is not None) == (
            7, "answered", True, True,
        )  # fmt: skip
