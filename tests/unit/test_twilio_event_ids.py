"""The Twilio channel's event ids are uuid5 of the event's parts, computed without the UUID object."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from webhooks.channel import _EVENT_NS, event_id


@given(st.lists(st.one_of(st.text(), st.integers()), min_size=1, max_size=5))
def test_event_id_is_the_uuid5_of_its_parts(parts: list[object]) -> None:
    assert event_id(*parts) == uuid.uuid5(_EVENT_NS, "|".join(map(str, parts))).hex


def test_the_same_webhook_gives_the_same_id_and_another_another() -> None:
    sid = "CA" + "1" * 32
    assert event_id(sid, "CALL_STARTED", "start") == event_id(sid, "CALL_STARTED", "start")
    assert event_id(sid, "CALL_STARTED", "start") != event_id(sid, "CALL_STARTED", "again")
