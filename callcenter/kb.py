"""KbService: the knowledge base operators search while on a call, leads curate, and the IVR reads from.

Who may do what: everyone searches and reads published articles; operators may write drafts (their own);
leads and admins publish, archive and edit any article; only admins delete. A resolved ticket can be turned
into a pre-filled draft, and a ticket records which article solved it (``solve_count``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from callcenter.domain.access import Principal, can_work_on, require, require_role
from callcenter.domain.kb import ArticleStatus, check_article, query_terms, suggestion_terms
from callcenter.domain.ticket import TicketStatus
from callcenter.hotline import Hotline
from callcenter.storage.kb_search import KbSearch, RawHit, snippet_html
from callcenter.storage.models import KbArticle, Operator, Ticket
from callcenter.ticket_views import aware, scope_of
from callcenter.tickets import NoSuchArticleError, NoSuchTicketError

logger = logging.getLogger(__name__)

A = ArticleStatus
EDITORS = ("lead", "admin")
_FIELDS = ("title", "body", "tags", "language", "status", "ivr_topic", "ivr_text")


class TicketNotResolvedError(Exception):
    """Only a resolved (or closed) ticket can be turned into an article."""


@dataclass(frozen=True)
class ArticleView:
    id: int
    title: str
    body: str
    tags: list[str]
    language: str
    status: str
    ivr_topic: str
    ivr_text: str
    author: str
    source_ticket_id: int | None
    solve_count: int
    solved_ticket_ids: list[int]
    created_at: dt.datetime | None
    updated_at: dt.datetime | None


@dataclass(frozen=True)
class SearchHit:
    id: int
    title: str
    language: str
    status: str
    tags: list[str]
    rank: float
    snippet_html: str
    solve_count: int


@dataclass(frozen=True)
class ArticleInput:
    """Fields of a new article or of an update (None: unchanged on update, default on create)."""

    title: str | None = None
    body: str | None = None
    tags: list[str] | None = None
    language: str | None = None
    status: str | None = None
    ivr_topic: str | None = None
    ivr_text: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class KbService:
    def __init__(self, sessions: sessionmaker[Session], hotline: Hotline, clock: Callable[[], float]):
        self._sessions = sessions
        self._languages = hotline.hotline.languages
        self._default_language = hotline.hotline.default_language
        self._clock = clock
        self._search = KbSearch(sessions.kw["bind"])

    # -- search ------------------------------------------------------------------------------------------
    def search(
        self,
        who: Principal,
        query: str,
        language: str | None = None,
        status: str | None = "published",
        limit: int = 10,
    ) -> list[SearchHit]:
        """Ranked, diacritic-insensitive search with snippets; only editors may search beyond published."""
        if status != A.PUBLISHED:
            require_role(who, *EDITORS)
        with self._sessions() as session:
            raw = self._search.search(
                session,
                query_terms(query),
                any_term=False,
                status=status,
                language=language or None,
                limit=min(limit, 50),
            )
            return self._hits(session, raw)

    def suggest_for_ticket(self, who: Principal, ticket_id: int, limit: int = 5) -> list[SearchHit]:
        """Published articles matching the ticket's IVR topic and notes (any of their words), best first."""
        with self._sessions() as session:
            ticket = _ticket_for(session, who, ticket_id)
            terms = suggestion_terms(ticket.topic, f"{ticket.notes} {ticket.escalation_reason}")
            raw = self._search.search(
                session, terms, any_term=True, status=A.PUBLISHED, language=None, limit=min(limit, 20)
            )
            return self._hits(session, raw)

    def message_for(self, topic: str, language: str) -> str | None:
        """The IVR self-service text of the newest published article marked for ``topic`` in ``language``."""
        with self._sessions() as session:
            article = session.scalars(
                select(KbArticle)
                .where(KbArticle.ivr_topic == topic, KbArticle.language == language, KbArticle.status == A.PUBLISHED)
                .order_by(KbArticle.updated_at.desc(), KbArticle.id.desc())
                .limit(1)
            ).first()
            if article is None:
                return None
            return (article.ivr_text or article.body).strip() or None

    # -- reading and writing -------------------------------------------------------------------------------
    def get(self, who: Principal, article_id: int) -> ArticleView:
        """An article: published ones for everyone, others for editors and their author."""
        with self._sessions() as session:
            article = self._readable(session, who, article_id)
            return _view(session, article)

    def browse(self, who: Principal, status: str | None = None, tag: str = "", limit: int = 100) -> list[ArticleView]:
        """Articles newest first; non-editors see published ones and their own drafts."""
        with self._sessions() as session:
            query = select(KbArticle).order_by(KbArticle.updated_at.desc(), KbArticle.id.desc()).limit(limit)
            if status:
                query = query.where(KbArticle.status == status)
            rows = [a for a in session.scalars(query) if _may_read(who, a)]
            return [_view(session, a) for a in rows if not tag or tag in (a.tags or [])]

    def create(self, who: Principal, data: ArticleInput) -> ArticleView:
        """A new article; operators may only write drafts."""
        status = data.status or A.DRAFT
        if status != A.DRAFT:
            require_role(who, *EDITORS)
        now = self._now()
        article = KbArticle(
            title=data.title or "",
            body=data.body or "",
            tags=list(data.tags or []),
            language=data.language or self._default_language,
            status=status,
            ivr_topic=data.ivr_topic or "",
            ivr_text=data.ivr_text or "",
            author=who.username,
            created_at=now,
            updated_at=now,
        )
        check_article(article.status, article.language, self._languages, article.ivr_topic)
        with self._sessions.begin() as session:
            session.add(article)
            session.flush()
            logger.info("article %s created by %s (%s)", article.id, who.username, article.status)
            return _view(session, article)

    def update(self, who: Principal, article_id: int, data: ArticleInput) -> ArticleView:
        """Change an article; status changes and others' articles need a lead or admin."""
        with self._sessions.begin() as session:
            article = self._readable(session, who, article_id)
            if article.author != who.username or (data.status and data.status != article.status):
                require_role(who, *EDITORS)
            for name in _FIELDS:
                value = getattr(data, name)
                if value is not None:
                    setattr(article, name, list(value) if name == "tags" else value)
            check_article(article.status, article.language, self._languages, article.ivr_topic)
            article.updated_at = self._now()
            return _view(session, article)

    def delete(self, who: Principal, article_id: int) -> None:
        """Remove an article (admins only); tickets it solved keep their history but lose the link."""
        require_role(who, "admin")
        with self._sessions.begin() as session:
            article = _article(session, article_id)
            for ticket in session.scalars(select(Ticket).where(Ticket.solved_by_article_id == article_id)):
                ticket.solved_by_article_id = None
            session.delete(article)

    def draft_from_ticket(self, who: Principal, ticket_id: int) -> ArticleView:
        """Turn a resolved ticket into a draft pre-filled with its subject, topic, notes and disposition."""
        with self._sessions() as session:
            ticket = _ticket_for(session, who, ticket_id)
            if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
                raise TicketNotResolvedError(f"ticket {ticket_id} is {ticket.status}; resolve it first")
            body = f"{ticket.notes}\n\n({ticket.disposition})".strip()
            data = ArticleInput(
                title=ticket.subject or f"Ticket {ticket.id}",
                body=body,
                tags=[ticket.topic] if ticket.topic else [],
                language=ticket.language or None,
            )
        article = self.create(who, data)
        with self._sessions.begin() as session:
            stored = _article(session, article.id)
            stored.source_ticket_id = ticket_id
            return _view(session, stored)

    # -- helpers -------------------------------------------------------------------------------------------
    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._clock(), dt.UTC)

    def _readable(self, session: Session, who: Principal, article_id: int) -> KbArticle:
        article = _article(session, article_id)
        require(_may_read(who, article), f"article {article_id} is not published")
        return article

    def _hits(self, session: Session, raw: list[RawHit]) -> list[SearchHit]:
        articles = {
            a.id: a for a in session.scalars(select(KbArticle).where(KbArticle.id.in_([h.article_id for h in raw])))
        }
        counts = _solve_counts(session, list(articles))
        return [
            SearchHit(
                id=h.article_id,
                title=articles[h.article_id].title,
                language=articles[h.article_id].language,
                status=articles[h.article_id].status,
                tags=list(articles[h.article_id].tags or []),
                rank=round(abs(h.rank), 6),
                snippet_html=snippet_html(h.snippet),
                solve_count=counts.get(h.article_id, 0),
            )
            for h in raw
            if h.article_id in articles
        ]


def _may_read(who: Principal, article: KbArticle) -> bool:
    return article.status == A.PUBLISHED or who.role in EDITORS or article.author == who.username


def _article(session: Session, article_id: int) -> KbArticle:
    article = session.get(KbArticle, article_id)
    if article is None:
        raise NoSuchArticleError(f"no article {article_id}")
    return article


def _ticket_for(session: Session, who: Principal, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NoSuchTicketError(f"no ticket {ticket_id}")
    team = (
        frozenset(session.scalars(select(Operator.username).where(Operator.team == who.team)))
        if who.is_lead
        else frozenset()
    )
    require(can_work_on(who, scope_of(ticket), team), f"ticket {ticket_id} is not yours to work on")
    return ticket


def _solve_counts(session: Session, article_ids: list[int]) -> dict[int, int]:
    if not article_ids:
        return {}
    rows = session.execute(
        select(Ticket.solved_by_article_id, func.count())
        .where(Ticket.solved_by_article_id.in_(article_ids))
        .group_by(Ticket.solved_by_article_id)
    )
    return {int(article_id or 0): int(count) for article_id, count in rows}


def _view(session: Session, article: KbArticle) -> ArticleView:
    solved = session.scalars(
        select(Ticket.id).where(Ticket.solved_by_article_id == article.id).order_by(Ticket.id.desc()).limit(20)
    ).all()
    return ArticleView(
        id=article.id,
        title=article.title,
        body=article.body,
        tags=list(article.tags or []),
        language=article.language,
        status=article.status,
        ivr_topic=article.ivr_topic,
        ivr_text=article.ivr_text,
        author=article.author,
        source_ticket_id=article.source_ticket_id,
        solve_count=_solve_counts(session, [article.id]).get(article.id, 0),
        solved_ticket_ids=list(solved),
        created_at=aware(article.created_at),
        updated_at=aware(article.updated_at),
    )
