"""REST API v1: tickets (list, get, history, notes, disposition, escalate, send back, resolve, close, reopen)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from callcenter.ticket_views import TicketFilter
from callcenter.web import services
from callcenter.web.api_schemas import (
    DispositionIn,
    DispositionListOut,
    DispositionOut,
    HistoryListOut,
    HistoryOut,
    NoteIn,
    OptionalReasonIn,
    ReasonIn,
    ResolveIn,
    SearchHitOut,
    SearchOut,
    TicketOut,
    TicketPageOut,
    TicketQuery,
)
from callcenter.web.app import container
from callcenter.web.auth import current_principal
from callcenter.web.openapi import endpoint

bp = Blueprint("api_v1_tickets", __name__, url_prefix="/api/v1")
TAG = "tickets"


@bp.get("/tickets")
@endpoint("Tickets I may see, newest activity first", query=TicketQuery, response=TicketPageOut, tag=TAG)
def list_tickets(query: TicketQuery) -> Any:
    values = query.model_dump()
    values["status"] = tuple(s for s in query.status.split(",") if s)
    return services.tickets().find(current_principal(), TicketFilter(**values))


@bp.get("/tickets/<int:ticket_id>")
@endpoint("One ticket", response=TicketOut, tag=TAG)
def get_ticket(ticket_id: int) -> Any:
    return services.tickets().get(current_principal(), ticket_id)


@bp.get("/tickets/<int:ticket_id>/history")
@endpoint("Every change of a ticket (who, when, what)", response=HistoryListOut, tag=TAG)
def ticket_history(ticket_id: int) -> Any:
    entries = services.tickets().history(current_principal(), ticket_id)
    return HistoryListOut(items=[HistoryOut.model_validate(e) for e in entries])


@bp.post("/tickets/<int:ticket_id>/notes")
@endpoint("Add a note", body=NoteIn, response=TicketOut, tag=TAG)
def add_note(ticket_id: int, body: NoteIn) -> Any:
    return services.tickets().add_note(current_principal(), ticket_id, body.text)


@bp.post("/tickets/<int:ticket_id>/disposition")
@endpoint("Set the disposition (a code of GET /dispositions)", body=DispositionIn, response=TicketOut, tag=TAG)
def set_disposition(ticket_id: int, body: DispositionIn) -> Any:
    return services.tickets().set_disposition(current_principal(), ticket_id, body.code)


@bp.post("/tickets/<int:ticket_id>/escalate")
@endpoint("Escalate to second level (moves a caller still on the line)", body=ReasonIn, response=TicketOut, tag=TAG)
def escalate(ticket_id: int, body: ReasonIn) -> Any:
    return services.tickets().escalate(current_principal(), ticket_id, body.reason)


@bp.post("/tickets/<int:ticket_id>/send-back")
@endpoint("Second level sends the ticket back to first level", body=OptionalReasonIn, response=TicketOut, tag=TAG)
def send_back(ticket_id: int, body: OptionalReasonIn) -> Any:
    return services.tickets().send_back(current_principal(), ticket_id, body.reason)


@bp.post("/tickets/<int:ticket_id>/resolve")
@endpoint("Resolve (needs a disposition; may name the solving article)", body=ResolveIn, response=TicketOut, tag=TAG)
def resolve(ticket_id: int, body: ResolveIn) -> Any:
    return services.tickets().resolve(current_principal(), ticket_id, body.article_id)


@bp.post("/tickets/<int:ticket_id>/close")
@endpoint("Close a resolved ticket", response=TicketOut, tag=TAG)
def close(ticket_id: int) -> Any:
    return services.tickets().close(current_principal(), ticket_id)


@bp.post("/tickets/<int:ticket_id>/reopen")
@endpoint(
    "Reopen a resolved ticket, or a closed one within 30 days", body=OptionalReasonIn, response=TicketOut, tag=TAG
)
def reopen(ticket_id: int, body: OptionalReasonIn) -> Any:
    return services.tickets().reopen(current_principal(), ticket_id, body.reason)


@bp.get("/tickets/<int:ticket_id>/suggestions")
@endpoint("Knowledge-base articles for this ticket (IVR topic and notes)", response=SearchOut, tag=TAG)
def suggestions(ticket_id: int) -> Any:
    hits = services.kb().suggest_for_ticket(current_principal(), ticket_id)
    return SearchOut(items=[SearchHitOut.model_validate(h) for h in hits])


@bp.get("/dispositions")
@endpoint("Disposition codes of the hotline file", response=DispositionListOut, tag=TAG)
def dispositions() -> Any:
    codes = container().hotline.tickets.dispositions
    return DispositionListOut(items=[DispositionOut.model_validate(d) for d in codes])
