"""Recordings and tickets are reachable only by authorised roles: a call's recording URL and the caller's
number are in the API's ticket for the operator who handled it, their team's lead and admins; another operator,
or the lead of another team, gets 403 on the ticket and its history and does not find it in the list."""

from __future__ import annotations

import pytest

from callcenter.domain.events import EventType
from tests.support.api import bearer, make_token, seed_operators
from tests.support.events import answered_call, event

T0 = 1_800_000_000.0
URL = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"


@pytest.fixture
def recorded_ticket(container) -> int:
    """anna (operator, first-level) answered a recorded call; its ticket carries the recording URL."""
    ids = seed_operators(container)
    for name in ids:
        make_token(container, ids[name], f"tok-{name}")
    recording = event(EventType.RECORDING, "c1", T0 + 200, channel="twilio", data={"recording_url": URL})
    container.journal.append_many([*answered_call("c1", T0), recording])
    container.journal_writer.drain_all()
    return 1


def get(client, who: str, path: str):
    return client.get(path, headers=bearer(f"tok-{who}"))


def test_the_recording_url_is_shown_to_the_handling_operator_and_admins(client, recorded_ticket):
    for who in ("anna", "admin"):
        ticket = get(client, who, f"/api/v1/tickets/{recorded_ticket}")
        assert ticket.status_code == 200 and ticket.json["recording_url"] == URL, who


@pytest.mark.parametrize("who", ["bela", "csilla"])  # another operator; the lead of another team
def test_another_operator_or_another_teams_lead_cannot_read_the_ticket_or_its_recording(client, recorded_ticket, who):
    for path in (f"/api/v1/tickets/{recorded_ticket}", f"/api/v1/tickets/{recorded_ticket}/history"):
        response = get(client, who, path)
        assert response.status_code == 403 and URL not in response.get_data(as_text=True), path
    listed = get(client, who, "/api/v1/tickets?caller=%2B36301234567")
    assert listed.status_code == 200 and URL not in listed.get_data(as_text=True)
    assert listed.json["items"] == []
