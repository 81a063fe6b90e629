"""Assertions shared by the Twilio scenarios: staffing the ACD, reading the call record and its ticket."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from callcenter.bootstrap import Container
from callcenter.storage.models import Call, CallLeg, Ticket


def staff(container: Container, *available: str, on_break: tuple[str, ...] = ()) -> None:
    """Load the hotline's queues into the ACD and log operators in (some of them straight onto a break)."""
    acd, now = container.acd, container.clock()
    acd.sync_config(now)
    names = (*available, *on_break)
    for i, name in enumerate(names):
        acd.login(name, now - len(names) + i)  # the first named has been idle longest
    for name in on_break:
        acd.set_state(name, "break", now, reason="lunch")


def operator_state(container: Container, name: str) -> str:
    return str(container.acd.snapshot(container.clock())["operators"][name]["state"])


def waiting(container: Container, queue: str) -> int:
    return int(container.acd.snapshot(container.clock())["queues"][queue]["waiting"])


def call_record(container: Container, call_id: str) -> Call:
    """The calls row after the journal is drained into SQL (the ticket projection runs in the same step)."""
    container.journal_writer.drain_all()
    with container.sessions() as session:
        call = session.get(Call, call_id)
        assert call is not None, f"no call record for {call_id}"
        return call


def ticket_of(container: Container, call: Call) -> Ticket:
    with container.sessions() as session:
        assert call.ticket_id is not None, "the call has no ticket"
        ticket = session.get(Ticket, call.ticket_id)
        assert ticket is not None
        return ticket


def legs(container: Container, call_id: str) -> dict[str, Any]:
    with container.sessions() as session:
        rows = session.scalars(select(CallLeg).where(CallLeg.call_id == call_id)).all()
        return {row.leg_sid: row for row in rows}
