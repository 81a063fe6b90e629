"""Tickets from the journal (TicketProjection) and the ticket use cases, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from callcenter.domain.access import SYSTEM, PermissionDeniedError, Principal
from callcenter.domain.events import EventType
from callcenter.domain.ticket import (
    DispositionRequiredError,
    IllegalTicketTransitionError,
    ReopenWindowClosedError,
    UnknownDispositionError,
)
from callcenter.operators import OperatorService
from callcenter.storage.models import Call, Ticket, TicketHistory
from callcenter.ticket_projection import TicketProjection
from callcenter.tickets import NoSuchTicketError, TicketService
from tests.support.events import abandoned_call, answered_call, event

T0 = 1_800_000_000.0
DAY = 86_400.0
ANNA = Principal("anna", "operator", "first-level", ("general", "technical"))
BELA = Principal("bela", "operator", "first-level", ("general", "technical"))
CSILLA = Principal("csilla", "lead", "second-level", ("level2", "technical"))


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(container):
    clock = Clock(T0 + 3600)
    [tickets] = [p for p in container.journal_writer.projections if isinstance(p, TicketProjection)]
    tickets._clock = clock  # the projection dates the tickets it creates by the test's clock
    OperatorService(container.sessions).seed_from_hotline(container.hotline)
    return clock


@pytest.fixture
def service(container, clock):
    return TicketService(container.sessions, container.hotline, clock)


def feed(container, events) -> None:
    container.journal.append_many(events)
    container.journal_writer.drain_all()


def ticket_of(container, call_id: str) -> Ticket:
    with container.sessions() as session:
        call = session.get(Call, call_id)
        assert call is not None and call.ticket_id is not None
        ticket = session.get(Ticket, call.ticket_id)
        assert ticket is not None
        return ticket


def test_answered_call_creates_an_open_ticket_with_the_call_figures(container, clock):
    feed(container, answered_call("c1", T0, wait=12, talk=60, wrap=15))
    ticket = ticket_of(container, "c1")
    assert (ticket.status, ticket.caller, ticket.channel, ticket.topic) == ("open", "+36301234567", "twilio", "billing")
    assert (ticket.operator, ticket.operators, ticket.queue) == ("anna", ["anna"], "general")
    assert (ticket.wait_seconds, ticket.talk_seconds, ticket.wrapup_seconds) == (12, 60, 15)
    assert ticket.ivr_path == ["main:1"] and ticket.first_call_id == "c1" and ticket.contact_count == 1


def test_replayed_events_change_nothing(container, clock):
    events = answered_call("c1", T0)
    feed(container, events)
    feed(container, events)
    with container.sessions() as session:
        assert len(session.scalars(select(Ticket)).all()) == 1
        assert len(session.scalars(select(TicketHistory)).all()) == 2  # created, open


def test_events_arriving_in_two_batches_update_the_same_ticket(container, clock):
    events = answered_call("c1", T0)
    feed(container, events[:3])
    assert ticket_of(container, "c1").status == "new"
    feed(container, events[3:])
    ticket = ticket_of(container, "c1")
    assert ticket.status == "open" and ticket.talk_seconds == 60


def test_repeat_caller_within_the_window_is_linked_to_the_open_ticket(container, clock):
    feed(container, answered_call("c1", T0))
    feed(container, answered_call("c2", T0 + 3 * DAY, operator="bela"))
    first, second = ticket_of(container, "c1"), ticket_of(container, "c2")
    assert first.id == second.id
    assert second.contact_count == 2 and second.operators == ["anna", "bela"] and second.talk_seconds == 120
    with container.sessions() as session:
        actions = [h.action for h in session.scalars(select(TicketHistory).order_by(TicketHistory.id))]
    assert "repeat_call" in actions


def test_repeat_caller_after_the_window_gets_a_new_ticket(container, clock):
    feed(container, answered_call("c1", T0))
    feed(container, answered_call("c2", T0 + 8 * DAY))
    assert ticket_of(container, "c1").id != ticket_of(container, "c2").id


def test_repeat_call_reopens_a_resolved_ticket(container, clock, service):
    feed(container, answered_call("c1", T0))
    ticket_id = ticket_of(container, "c1").id
    service.set_disposition(ANNA, ticket_id, "solved")
    service.resolve(ANNA, ticket_id)
    feed(container, answered_call("c2", T0 + DAY))
    ticket = ticket_of(container, "c2")
    assert ticket.id == ticket_id and ticket.status == "open" and ticket.reopened_count == 1


def test_abandoned_call_makes_a_new_ticket_for_a_callback_worklist(container, clock):
    feed(container, abandoned_call("a1", T0))
    ticket = ticket_of(container, "a1")
    assert (ticket.status, ticket.caller, ticket.channel, ticket.wait_seconds) == ("new", "+36209876543", "sip", 30)


def test_call_escalated_by_the_acd_escalates_its_ticket(container, clock):
    events = answered_call("c1", T0)[:5]
    escalated = event(EventType.ESCALATED, "c1", T0 + 40, channel="twilio", queue="level2", operator="anna")
    feed(container, [*events, escalated])
    ticket = ticket_of(container, "c1")
    assert (ticket.status, ticket.escalated, ticket.assigned_group) == ("escalated", True, "level2")


def test_survey_answer_and_recording_reach_the_ticket(container, clock):
    extra = [
        event(EventType.RECORDING, "c1", T0 + 100, data={"recording_url": "https://rec.example/1.mp3"}),
        event(EventType.SURVEY_ANSWERED, "c1", T0 + 110, data={"question": "satisfaction", "answer": 5}),
    ]
    feed(container, [*answered_call("c1", T0), *extra])
    ticket = ticket_of(container, "c1")
    assert (ticket.recording_url, ticket.survey_score) == ("https://rec.example/1.mp3", 5)


def test_resolve_needs_a_disposition_and_records_the_history(container, clock, service):
    feed(container, answered_call("c1", T0))
    ticket_id = ticket_of(container, "c1").id
    with pytest.raises(DispositionRequiredError):
        service.resolve(ANNA, ticket_id)
    with pytest.raises(UnknownDispositionError):
        service.set_disposition(ANNA, ticket_id, "made-up")
    service.add_note(ANNA, ticket_id, "Jelszó visszaállítva")
    service.set_disposition(ANNA, ticket_id, "solved")
    view = service.resolve(ANNA, ticket_id)
    assert view.status == "resolved" and "Jelszó visszaállítva" in view.notes
    history = service.history(ANNA, ticket_id)
    assert [h.action for h in history][-3:] == ["note", "disposition", "resolve"]
    assert history[-1].actor == "anna" and (history[-1].from_status, history[-1].to_status) == ("open", "resolved")


def test_escalation_goes_to_second_level_who_can_send_it_back(container, clock, service):
    feed(container, answered_call("c1", T0))
    ticket_id = ticket_of(container, "c1").id
    with pytest.raises(PermissionDeniedError):
        service.get(CSILLA, ticket_id)
    view = service.escalate(ANNA, ticket_id, "needs a technician")
    assert (view.status, view.assigned_group, view.escalation_reason) == ("escalated", "level2", "needs a technician")
    assert service.get(CSILLA, ticket_id).status == "escalated"
    back = service.send_back(CSILLA, ticket_id, "customer side problem")
    assert (back.status, back.assigned_group, back.escalated) == ("open", "first-level", True)


def test_escalation_moves_a_caller_still_on_the_line(container, clock):
    moved: list[tuple[str, str]] = []

    class Transfer:
        def transfer_to_queue(self, call_id: str, queue: str, reason: str) -> bool:
            moved.append((call_id, queue))
            return True

    service = TicketService(container.sessions, container.hotline, clock, transfer=Transfer())
    feed(container, answered_call("c1", T0)[:5])  # connected, not ended
    service.escalate(ANNA, ticket_of(container, "c1").id, "router broken")
    assert moved == [("c1", "level2")]


def test_illegal_transitions_are_refused_with_the_reason(container, clock, service):
    feed(container, answered_call("c1", T0))
    ticket_id = ticket_of(container, "c1").id
    with pytest.raises(IllegalTicketTransitionError, match="cannot close a ticket that is open"):
        service.close(ANNA, ticket_id)
    with pytest.raises(IllegalTicketTransitionError):
        service.send_back(ANNA, ticket_id, "x")


def test_closed_ticket_reopens_only_within_the_window(container, clock, service):
    feed(container, answered_call("c1", T0))
    ticket_id = ticket_of(container, "c1").id
    service.set_disposition(ANNA, ticket_id, "solved")
    service.resolve(ANNA, ticket_id)
    service.close(ANNA, ticket_id)
    clock.now += 31 * DAY
    with pytest.raises(ReopenWindowClosedError):
        service.reopen(ANNA, ticket_id, "still broken")
    clock.now -= 2 * DAY
    assert service.reopen(ANNA, ticket_id, "still broken").status == "open"


def test_operator_sees_only_their_tickets_and_lead_sees_the_team(container, clock, service):
    from callcenter.ticket_views import TicketFilter

    feed(container, answered_call("c1", T0) + abandoned_call("a1", T0))
    assert [t.operator for t in service.find(ANNA, TicketFilter()).items] == ["anna"]
    assert service.find(BELA, TicketFilter()).total == 0
    assert service.find(SYSTEM, TicketFilter()).total == 2
    with pytest.raises(NoSuchTicketError):
        service.get(ANNA, 999)
    lead = Principal("lead1", "lead", "first-level")
    assert service.find(lead, TicketFilter()).total == 1


def test_operator_still_sees_a_ticket_a_colleague_took_over(container, clock, service):
    from callcenter.ticket_views import TicketFilter

    feed(container, answered_call("c1", T0))
    feed(container, answered_call("c2", T0 + DAY, operator="bela"))
    assert [t.operator for t in service.find(ANNA, TicketFilter()).items] == ["bela"]
    assert service.find(Principal("an", "operator"), TicketFilter()).total == 0  # no substring match


def test_resolved_tickets_close_automatically_after_the_configured_days(container, clock, service):
    feed(container, answered_call("c1", T0))
    ticket_id = ticket_of(container, "c1").id
    service.set_disposition(ANNA, ticket_id, "solved")
    service.resolve(ANNA, ticket_id)
    clock.now += 2 * DAY
    assert service.auto_close_resolved() == 0
    clock.now += 1 * DAY + 1
    assert service.auto_close_resolved() == 1
    assert service.get(ANNA, ticket_id).status == "closed"
    assert service.history(ANNA, ticket_id)[-1].action == "auto_close"


def test_auto_close_job_closes_due_tickets_and_schedules_its_next_run(container, clock, service):
    from rq import SimpleWorker

    from callcenter import ticket_jobs

    container.clock = clock
    ticket_jobs.register(container)
    feed(container, answered_call("c1", T0))
    ticket_id = ticket_of(container, "c1").id
    service.set_disposition(ANNA, ticket_id, "solved")
    service.resolve(ANNA, ticket_id)
    clock.now += 4 * DAY
    container.jobs.enqueue(ticket_jobs.JOB, container.keys.tag, 3600)
    SimpleWorker([container.jobs.queue], connection=container.redis.raw).work(burst=True)
    assert service.get(ANNA, ticket_id).status == "closed"
    scheduled = container.jobs.queue.scheduled_job_registry.get_job_ids()
    assert scheduled == [f"ticket-auto-close-{container.keys.tag}-{(int(clock.now) // 3600 + 1) * 3600}"]
    ticket_jobs.schedule_auto_close(container)
    assert len(container.jobs.queue.scheduled_job_registry.get_job_ids()) == 1
