"""SQL records (SQLAlchemy 2 typed models). Schema changes are Alembic migrations in callcenter/migrations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a real BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")
UtcDateTime = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UtcDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Operator(Base):
    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default="operator")
    team: Mapped[str] = mapped_column(String(64), default="first-level")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    softphone: Mapped[str] = mapped_column(String(255), default="")
    languages: Mapped[list[Any]] = mapped_column(default=list)
    skills: Mapped[dict[str, Any]] = mapped_column(default=dict)
    queues: Mapped[list[Any]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime | None]  # 0002
    last_used_at: Mapped[dt.datetime | None]  # 0002


class QueueRecord(Base):
    __tablename__ = "queues"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[dict[str, Any]] = mapped_column(default=dict)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[dt.datetime]


class CallEventRecord(Base):
    """The call event log, written idempotently from the Redis journal (event_id is unique)."""

    __tablename__ = "call_events"
    __table_args__ = (Index("ix_call_events_type_ts", "type", "ts"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    ts: Mapped[dt.datetime] = mapped_column(index=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True, default="")
    channel: Mapped[str] = mapped_column(String(16), default="")
    queue: Mapped[str] = mapped_column(String(64), default="")
    operator: Mapped[str] = mapped_column(String(64), default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Call(Base):
    """One call's summary, derived from its events (never written by anything else)."""

    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_queue_started", "queue", "started_at"),
        Index("ix_calls_enqueued_at", "enqueued_at"),  # 0003: KPI periods
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), default="")
    caller: Mapped[str] = mapped_column(String(64), default="", index=True)
    caller_name: Mapped[str] = mapped_column(String(200), default="")
    called: Mapped[str] = mapped_column(String(64), default="")
    language: Mapped[str] = mapped_column(String(8), default="")
    topic: Mapped[str] = mapped_column(String(64), default="")
    ivr_path: Mapped[list[Any]] = mapped_column(default=list)
    queue: Mapped[str] = mapped_column(String(64), default="")
    final_queue: Mapped[str] = mapped_column(String(64), default="")
    operator: Mapped[str] = mapped_column(String(64), default="", index=True)
    outcome: Mapped[str] = mapped_column(String(32), default="in_progress")
    started_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    enqueued_at: Mapped[dt.datetime | None]
    answered_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    wait_seconds: Mapped[float | None] = mapped_column(Float)
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    hold_seconds: Mapped[float | None] = mapped_column(Float)
    wrapup_seconds: Mapped[float | None] = mapped_column(Float)
    missed_offers: Mapped[int] = mapped_column(Integer, default=0)
    transferred: Mapped[bool] = mapped_column(Boolean, default=False)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    callback_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    recording_url: Mapped[str] = mapped_column(String(500), default="")
    survey_score: Mapped[int | None] = mapped_column(Integer)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime]


class KpiRollup(Base):
    """0004: the KPI totals of the calls that entered a queue in one 15-minute UTC bucket, per queue.

    Derived from ``calls`` by ``callcenter.kpi.rollup`` (never written by anything else); the counts that
    depend on the conventions were taken with the threshold T and short-abandon threshold stored in the row.
    """

    __tablename__ = "kpi_rollup"

    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)  # epoch, 900 s
    queue: Mapped[str] = mapped_column(String(64), primary_key=True)
    threshold_seconds: Mapped[int] = mapped_column(Integer)
    short_abandon_seconds: Mapped[int] = mapped_column(Integer)
    offered: Mapped[int] = mapped_column(Integer)
    answered: Mapped[int] = mapped_column(Integer)
    abandoned: Mapped[int] = mapped_column(Integer)
    short_abandoned: Mapped[int] = mapped_column(Integer)
    answered_within: Mapped[int] = mapped_column(Integer)
    answered_wait_seconds: Mapped[float] = mapped_column(Float)
    handled: Mapped[int] = mapped_column(Integer)
    handle_seconds: Mapped[float] = mapped_column(Float)
    max_wait_seconds: Mapped[float] = mapped_column(Float)
    csat_responses: Mapped[int] = mapped_column(Integer)
    csat_satisfied: Mapped[int] = mapped_column(Integer)


class CallLeg(Base):
    """One leg of a call on its channel: the caller's, an operator's, a callback's."""

    __tablename__ = "call_legs"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    leg_sid: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="caller")
    channel: Mapped[str] = mapped_column(String(16), default="")
    operator: Mapped[str] = mapped_column(String(64), default="")
    from_addr: Mapped[str] = mapped_column(String(255), default="")
    to_addr: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(16), default="initiated")
    status_seq: Mapped[int] = mapped_column(Integer, default=-1)
    started_at: Mapped[dt.datetime | None]
    answered_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    recording_sid: Mapped[str] = mapped_column(String(64), default="")
    recording_url: Mapped[str] = mapped_column(String(500), default="")


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_updated", "status", "updated_at"),
        Index("ix_tickets_resolved_at", "resolved_at"),  # 0003: KPI periods
        Index("ix_tickets_closed_at", "closed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    caller: Mapped[str] = mapped_column(String(64), default="", index=True)
    caller_name: Mapped[str] = mapped_column(String(200), default="")
    channel: Mapped[str] = mapped_column(String(16), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    topic: Mapped[str] = mapped_column(String(64), default="")
    language: Mapped[str] = mapped_column(String(8), default="")
    status: Mapped[str] = mapped_column(String(16), default="new")
    queue: Mapped[str] = mapped_column(String(64), default="")
    assigned_group: Mapped[str] = mapped_column(String(64), default="first-level")
    operator: Mapped[str] = mapped_column(String(64), default="")
    disposition: Mapped[str] = mapped_column(String(64), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    escalation_reason: Mapped[str] = mapped_column(Text, default="")
    solved_by_article_id: Mapped[int | None] = mapped_column(ForeignKey("kb_articles.id"))
    first_call_id: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    resolved_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    # 0002: what the calls of the ticket brought (TicketProjection), and the repeat-contact link.
    operators: Mapped[list[Any]] = mapped_column(default=list)
    ivr_path: Mapped[list[Any]] = mapped_column(default=list)
    last_call_id: Mapped[str] = mapped_column(String(64), default="")
    contact_count: Mapped[int] = mapped_column(Integer, default=0)
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    last_contact_at: Mapped[dt.datetime | None]
    escalated_at: Mapped[dt.datetime | None]
    wait_seconds: Mapped[float | None] = mapped_column(Float)
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    hold_seconds: Mapped[float | None] = mapped_column(Float)
    wrapup_seconds: Mapped[float | None] = mapped_column(Float)
    recording_url: Mapped[str] = mapped_column(String(500), default="")
    survey_score: Mapped[int | None] = mapped_column(Integer)


class TicketHistory(Base):
    __tablename__ = "ticket_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(64), default="system")
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str] = mapped_column(String(16), default="")
    to_status: Mapped[str] = mapped_column(String(16), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SurveyResponse(Base):
    __tablename__ = "survey_responses"
    __table_args__ = (UniqueConstraint("call_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    operator: Mapped[str] = mapped_column(String(64), default="")
    queue: Mapped[str] = mapped_column(String(64), default="")
    question_id: Mapped[str] = mapped_column(String(64))
    answer: Mapped[int] = mapped_column(Integer)
    via: Mapped[str] = mapped_column(String(8), default="voice")
    answered_at: Mapped[dt.datetime]


class KbArticle(Base):
    __tablename__ = "kb_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[Any]] = mapped_column(default=list)
    language: Mapped[str] = mapped_column(String(8), default="hu")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    ivr_topic: Mapped[str] = mapped_column(String(64), default="")
    author: Mapped[str] = mapped_column(String(64), default="")
    source_ticket_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    ivr_text: Mapped[str] = mapped_column(Text, default="")  # 0002: what the IVR reads out (else the body)


# 0002: indexes of the ticket worklists, article links and IVR self-service look-ups.
Index("ix_tickets_operator", Ticket.operator)
Index("ix_tickets_assigned_group", Ticket.assigned_group)
Index("ix_tickets_solved_by_article_id", Ticket.solved_by_article_id)
Index("ix_kb_articles_ivr_topic", KbArticle.ivr_topic)
