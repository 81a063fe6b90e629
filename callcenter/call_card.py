"""The call card an operator sees when a call is offered: who calls, what they did in the IVR, how long they
waited, their ticket (a repeat caller's open one) and their recent tickets."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from callcenter.domain.access import Principal
from callcenter.storage.models import Call
from callcenter.ticket_views import TicketView, epoch_or_none
from callcenter.tickets import TicketService


@dataclass(frozen=True)
class CallCard:
    call_id: str
    state: str
    caller: str
    caller_name: str
    channel: str
    language: str
    topic: str
    queue: str
    ivr_path: list[str]
    waited_seconds: float | None
    ticket: TicketView | None
    history: list[TicketView]


class CallCardService:
    def __init__(self, sessions: sessionmaker[Session], tickets: TicketService):
        self._sessions = sessions
        self._tickets = tickets

    def card(self, who: Principal, call_id: str, state: str, now: float) -> CallCard:
        """The card of the call ringing at or connected to ``who`` (figures from the journal; a call not yet
        written to SQL shows what is known, and the console asks again)."""
        with self._sessions() as session:
            call = session.get(Call, call_id) or Call(
                id=call_id, caller="", caller_name="", channel="", language="", topic="", queue="", ivr_path=[]
            )
            enqueued, answered = epoch_or_none(call.enqueued_at), epoch_or_none(call.answered_at)
        ticket = self._tickets.for_call(who, call_id)
        history = [t for t in self._tickets.for_caller(who, call.caller) if ticket is None or t.id != ticket.id]
        return CallCard(
            call_id=call_id,
            state=state,
            caller=call.caller or "",
            caller_name=call.caller_name or "",
            channel=call.channel or "",
            language=call.language or "",
            topic=call.topic or "",
            queue=call.final_queue or call.queue or "",
            ivr_path=list(call.ivr_path or []),
            waited_seconds=round((answered or now) - enqueued, 1) if enqueued is not None else None,
            ticket=ticket,
            history=history,
        )
