"""Call legs of the SIP channel in the call_legs table (one row per leg, Twilio's status words).

A failing database must not drop a call: errors are logged and the call goes on (the journal, not this
table, is the record the summaries and KPIs are derived from).
"""

from __future__ import annotations

import logging
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callcenter.storage.event_store import epoch, utc
from callcenter.storage.models import CallLeg

logger = logging.getLogger(__name__)

FINAL = ("completed", "busy", "no-answer", "failed", "canceled")
SEQUENCE = {"initiated": 0, "ringing": 1, "in-progress": 2, **{s: 3 for s in FINAL}}


class LegRecorder(Protocol):
    def record(
        self, leg_sid: str, call_id: str, status: str, at: float, *, kind: str = "caller", operator: str = "",
        from_addr: str = "", to_addr: str = "",
    ) -> None: ...  # fmt: skip


class SqlLegRecorder:
    """Upserts call_legs rows by leg_sid (the SIP Call-ID) as a leg moves through its statuses."""

    def __init__(self, sessions: sessionmaker[Session], channel: str = "sip"):
        self._sessions = sessions
        self._channel = channel

    def record(
        self, leg_sid: str, call_id: str, status: str, at: float, *, kind: str = "caller", operator: str = "",
        from_addr: str = "", to_addr: str = "",
    ) -> None:  # fmt: skip
        """Move the leg to ``status`` at time ``at`` (a final status sets the end and the duration)."""
        try:
            with self._sessions.begin() as session:
                leg = session.scalars(select(CallLeg).where(CallLeg.leg_sid == leg_sid)).first()
                if leg is None:
                    leg = CallLeg(leg_sid=leg_sid, call_id=call_id, kind=kind, channel=self._channel, status_seq=-1)
                    leg.operator, leg.from_addr, leg.to_addr, leg.started_at = operator, from_addr, to_addr, utc(at)
                    session.add(leg)
                _advance(leg, status, at)
        except Exception:
            logger.exception("call %s: could not record leg %s as %s", call_id, leg_sid, status)


def _advance(leg: CallLeg, status: str, at: float) -> None:
    seq = SEQUENCE.get(status, 0)
    if leg.status in FINAL and leg.status_seq >= 3:
        return
    leg.status, leg.status_seq = status, max(seq, leg.status_seq)
    if status == "in-progress" and leg.answered_at is None:
        leg.answered_at = utc(at)
    if status in FINAL:
        leg.ended_at = utc(at)
        if leg.answered_at is not None:
            leg.duration_seconds = round(at - epoch(leg.answered_at), 3)
