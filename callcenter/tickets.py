"""TicketService: the use cases of a ticket after a call created it (notes, disposition, escalation to second
level, send back, resolve, close, reopen, auto-close), each recorded in the ticket's history (who, when, what).

Access: every method takes the acting :class:`Principal` and refuses what is not theirs (domain.access).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import ColumnElement, String, and_, cast, false, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from callcenter.domain import ticket as rules
from callcenter.domain.access import Principal, can_work_on, require
from callcenter.domain.ticket import TicketStatus
from callcenter.hotline import Hotline
from callcenter.storage.models import Call, KbArticle, Operator, Ticket, TicketHistory
from callcenter.ticket_views import (
    MAX_PAGE_SIZE,
    HistoryEntry,
    Page,
    TicketFilter,
    TicketView,
    epoch_or_none,
    history_entry,
    scope_of,
    ticket_view,
)

logger = logging.getLogger(__name__)

S = TicketStatus
FIRST_LEVEL = "first-level"
MAX_NOTE_CHARS = 10_000


class NoSuchTicketError(LookupError):
    """No ticket with this id."""


class NoSuchArticleError(LookupError):
    """No knowledge-base article with this id."""


class CallTransfer(Protocol):
    """Moves a caller who is still on the line to another queue (Twilio redirect, SIP REFER/bridge); the
    channels implement it. Returns False when the call is no longer there to move."""

    def transfer_to_queue(self, call_id: str, queue: str, reason: str) -> bool: ...


class NoCallTransfer:
    """Used until a channel provides a transfer: the ticket is escalated, the caller is not moved."""

    def transfer_to_queue(self, call_id: str, queue: str, reason: str) -> bool:
        return False


def second_level_queue(hotline: Hotline) -> str:
    """The queue marked ``second_level: true`` in the hotline file (``level2`` when none is)."""
    return next((name for name, q in hotline.queues.items() if q.second_level), "level2")


def record(session: Session, ticket: Ticket, actor: str, action: str, at: dt.datetime, **detail: Any) -> None:
    """Append one history row; ``from``/``to`` status are filled when the action changed it."""
    before = detail.pop("from_status", ticket.status)
    session.add(
        TicketHistory(
            ticket_id=ticket.id,
            at=at,
            actor=actor,
            action=action,
            from_status=before,
            to_status=ticket.status,
            detail=detail,
        )
    )


class TicketService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        hotline: Hotline,
        clock: Callable[[], float],
        transfer: CallTransfer | None = None,
    ):
        self._sessions = sessions
        self._hotline = hotline
        self._clock = clock
        self._transfer = transfer or NoCallTransfer()
        self._dispositions = {d.code: d.resolves for d in hotline.tickets.dispositions}
        self.second_level = second_level_queue(hotline)

    # -- reading -------------------------------------------------------------------------------------------
    def get(self, who: Principal, ticket_id: int) -> TicketView:
        """A ticket, if it is the principal's to see."""
        with self._sessions() as session:
            return ticket_view(self._load(session, who, ticket_id))

    def history(self, who: Principal, ticket_id: int) -> list[HistoryEntry]:
        """Every change of a ticket, oldest first."""
        with self._sessions() as session:
            self._load(session, who, ticket_id)
            rows = session.scalars(
                select(TicketHistory).where(TicketHistory.ticket_id == ticket_id).order_by(TicketHistory.id)
            )
            return [history_entry(row) for row in rows]

    def find(self, who: Principal, query: TicketFilter) -> Page:
        """Tickets the principal may see, newest activity first, filtered and paged."""
        per_page = max(1, min(query.per_page, MAX_PAGE_SIZE))
        page = max(1, query.page)
        with self._sessions() as session:
            where = [self._visible(session, who), *_filters(query)]
            total = session.scalar(select(func.count()).select_from(Ticket).where(*where)) or 0
            rows = session.scalars(
                select(Ticket)
                .where(*where)
                .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
                .offset((page - 1) * per_page)
                .limit(per_page)
            )
            return Page([ticket_view(t) for t in rows], total, page, per_page)

    def for_caller(self, who: Principal, caller: str, limit: int = 10) -> list[TicketView]:
        """The caller's recent tickets the principal may see (the call card's history)."""
        if not caller:
            return []
        return self.find(who, TicketFilter(caller=caller, per_page=limit)).items

    def for_call(self, who: Principal, call_id: str) -> TicketView | None:
        """The ticket a call is linked to (None until the journal has created it)."""
        with self._sessions() as session:
            call = session.get(Call, call_id)
            if call is None or call.ticket_id is None:
                return None
            return ticket_view(self._load(session, who, call.ticket_id))

    # -- working a ticket ----------------------------------------------------------------------------------
    def add_note(self, who: Principal, ticket_id: int, text: str) -> TicketView:
        """Append a signed, timestamped note; the first work on a new ticket opens it."""
        text = text.strip()
        if not text:
            raise rules.MissingTextError("a note cannot be empty")
        with self._sessions.begin() as session:
            ticket, now = self._load(session, who, ticket_id), self._now()
            stamp = now.strftime("%Y-%m-%d %H:%M")
            ticket.notes = (ticket.notes + "\n\n" if ticket.notes else "") + f"[{stamp} {who.username}] {text}"
            self._open_if_new(session, ticket, who, now)
            record(session, ticket, who.username, "note", now, text=text[:MAX_NOTE_CHARS])
            return self._touch(ticket, now)

    def set_disposition(self, who: Principal, ticket_id: int, code: str) -> TicketView:
        """Record the disposition (a code from the hotline file); required before resolving or wrap-up."""
        rules.check_disposition(code, self._dispositions)
        with self._sessions.begin() as session:
            ticket, now = self._load(session, who, ticket_id), self._now()
            previous, ticket.disposition = ticket.disposition, code
            self._open_if_new(session, ticket, who, now)
            record(session, ticket, who.username, "disposition", now, code=code, previous=previous)
            return self._touch(ticket, now)

    def escalate(self, who: Principal, ticket_id: int, reason: str) -> TicketView:
        """Hand the ticket to the second-level queue with a reason; a caller still on the line is moved there
        (after the commit, so a refused escalation never moves anybody)."""
        reason = reason.strip()
        if not reason:
            raise rules.MissingTextError("an escalation needs a reason")
        with self._sessions.begin() as session:
            ticket, now = self._load(session, who, ticket_id), self._now()
            self._move(session, ticket, S.ESCALATED, who, "escalate", now, reason=reason)
            ticket.escalated, ticket.escalation_reason, ticket.escalated_at = True, reason, now
            ticket.assigned_group = self.second_level
            live_call, view = _live_call(session, ticket), self._touch(ticket, now)
        moved = live_call is not None and self._transfer.transfer_to_queue(live_call, self.second_level, reason)
        if moved:
            with self._sessions.begin() as session:
                record(
                    session,
                    session.get_one(Ticket, ticket_id),
                    who.username,
                    "caller_transferred",
                    now,
                    call_id=live_call,
                )
        logger.info(
            "ticket %s escalated to %s by %s (caller moved: %s)", ticket_id, self.second_level, who.username, moved
        )
        return view

    def send_back(self, who: Principal, ticket_id: int, reason: str) -> TicketView:
        """Second level returns an escalated ticket to first level (it stays marked as escalated)."""
        with self._sessions.begin() as session:
            ticket, now = self._load(session, who, ticket_id), self._now()
            self._move(session, ticket, S.OPEN, who, "send_back", now, reason=reason.strip())
            ticket.assigned_group = FIRST_LEVEL
            return self._touch(ticket, now)

    def resolve(self, who: Principal, ticket_id: int, article_id: int | None = None) -> TicketView:
        """Resolve a ticket that has a disposition, optionally recording the KB article that solved it."""
        with self._sessions.begin() as session:
            ticket, now = self._load(session, who, ticket_id), self._now()
            rules.check_resolvable(ticket.id, S(ticket.status), ticket.disposition)
            if article_id is not None and session.get(KbArticle, article_id) is None:
                raise NoSuchArticleError(f"no article {article_id}")
            ticket.solved_by_article_id = article_id if article_id is not None else ticket.solved_by_article_id
            self._move(session, ticket, S.RESOLVED, who, "resolve", now, article_id=article_id)
            ticket.resolved_at = now
            return self._touch(ticket, now)

    def close(self, who: Principal, ticket_id: int) -> TicketView:
        """Close a resolved ticket (the auto-close job does this after N days)."""
        with self._sessions.begin() as session:
            ticket, now = self._load(session, who, ticket_id), self._now()
            self._move(session, ticket, S.CLOSED, who, "close", now)
            ticket.closed_at = now
            return self._touch(ticket, now)

    def reopen(self, who: Principal, ticket_id: int, reason: str) -> TicketView:
        """Reopen a resolved ticket, or a closed one within the reopen window."""
        with self._sessions.begin() as session:
            ticket, now = self._load(session, who, ticket_id), self._now()
            rules.check_reopen(ticket.id, S(ticket.status), epoch_or_none(ticket.closed_at), now.timestamp())
            self._move(session, ticket, S.OPEN, who, "reopen", now, reason=reason.strip())
            ticket.reopened_count += 1
            ticket.resolved_at = ticket.closed_at = None
            return self._touch(ticket, now)

    def check_wrap_up(self, who: Principal, call_id: str) -> None:
        """Wrap-up ends only when the call's ticket has a disposition."""
        ticket = self.for_call(who, call_id)
        if ticket is not None and not ticket.disposition:
            raise rules.DispositionRequiredError(f"ticket {ticket.id}: choose a disposition to finish wrap-up")

    def auto_close_resolved(self, limit: int = 500) -> int:
        """Close tickets resolved more than ``tickets.auto_close_resolved_after_days`` ago; returns how many."""
        days = self._hotline.tickets.auto_close_resolved_after_days
        if days <= 0:
            return 0
        now = self._now()
        cutoff = now - dt.timedelta(days=days)
        with self._sessions.begin() as session:
            due = session.scalars(
                select(Ticket).where(Ticket.status == S.RESOLVED, Ticket.resolved_at <= cutoff).limit(limit)
            ).all()
            for ticket in due:
                ticket.status, ticket.closed_at, ticket.updated_at = S.CLOSED, now, now
                record(session, ticket, "system", "auto_close", now, from_status=S.RESOLVED, after_days=days)
        logger.info("auto-closed %d resolved tickets (after %d days)", len(due), days)
        return len(due)

    # -- guards and helpers --------------------------------------------------------------------------------
    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._clock(), dt.UTC)

    def _load(self, session: Session, who: Principal, ticket_id: int) -> Ticket:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            raise NoSuchTicketError(f"no ticket {ticket_id}")
        members = _team_members(session, who) if who.is_lead else frozenset()
        require(can_work_on(who, scope_of(ticket), members), f"ticket {ticket_id} is not yours to work on")
        return ticket

    def _move(
        self,
        session: Session,
        ticket: Ticket,
        target: TicketStatus,
        who: Principal,
        action: str,
        now: dt.datetime,
        **detail: Any,
    ) -> None:
        before = S(ticket.status)
        rules.check_transition(ticket.id, before, target, action.replace("_", " "))
        ticket.status = target.value
        record(session, ticket, who.username, action, now, from_status=before.value, **detail)

    def _open_if_new(self, session: Session, ticket: Ticket, who: Principal, now: dt.datetime) -> None:
        if ticket.status == S.NEW:
            self._move(session, ticket, S.OPEN, who, "open", now)
            if not ticket.operator and who.role == "operator":
                ticket.operator = who.username

    @staticmethod
    def _touch(ticket: Ticket, now: dt.datetime) -> TicketView:
        ticket.updated_at = now
        return ticket_view(ticket)

    def _visible(self, session: Session, who: Principal) -> ColumnElement[bool]:
        """The SQL twin of domain.access.can_work_on."""
        if who.is_admin:
            return Ticket.id.is_not(None)
        pool = and_(Ticket.status == S.ESCALATED, Ticket.assigned_group.in_(who.queues)) if who.queues else false()
        people = {who.username} | (set(_team_members(session, who)) if who.is_lead else set())
        return or_(pool, *(_handled_by(name) for name in sorted(people)))


def _handled_by(username: str) -> ColumnElement[bool]:
    """The operator handles or handled the ticket (``operators`` is a JSON list; its text holds '"name"')."""
    listed = cast(Ticket.operators, String).contains(f'"{username}"', autoescape=True)
    return or_(Ticket.operator == username, listed)


def _team_members(session: Session, who: Principal) -> frozenset[str]:
    rows = session.scalars(select(Operator.username).where(Operator.team == who.team))
    return frozenset(rows)


def _filters(query: TicketFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if query.status:
        where.append(Ticket.status.in_(query.status))
    for column, value in (
        (Ticket.queue, query.queue),
        (Ticket.operator, query.operator),
        (Ticket.caller, query.caller),
        (Ticket.assigned_group, query.assigned_group),
    ):
        if value:
            where.append(column == value)
    if query.escalated is not None:
        where.append(Ticket.escalated.is_(query.escalated))
    if query.created_from is not None:
        where.append(Ticket.created_at >= query.created_from)
    if query.created_to is not None:
        where.append(Ticket.created_at < query.created_to)
    return where


def _live_call(session: Session, ticket: Ticket) -> str | None:
    """The ticket's last call if the caller is still connected (answered, not ended)."""
    if not ticket.last_call_id:
        return None
    call = session.get(Call, ticket.last_call_id)
    if call is None or call.answered_at is None or call.ended_at is not None:
        return None
    return call.id
