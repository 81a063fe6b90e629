"""Call legs in SQL from Twilio's status and recording callbacks: idempotent, and state only moves forward.

Callbacks may arrive out of order and more than once: a leg's status is replaced only by a later one
(by lifecycle rank, then ``SequenceNumber``), so a late ``ringing`` never overwrites ``completed``.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from callcenter.storage.models import CallLeg

logger = logging.getLogger(__name__)

RANK = {"queued": 0, "initiated": 1, "ringing": 2, "in-progress": 3, "answered": 3}
FINAL = ("completed", "busy", "failed", "no-answer", "canceled")


def rank(status: str) -> int:
    return 4 if status in FINAL else RANK.get(status, -1)


def is_later(status: str, seq: int, old_status: str, old_seq: int) -> bool:
    """True when (status, seq) comes after what the leg holds: state only moves forward."""
    return (rank(status), seq) > (rank(old_status), old_seq)


class LegRecorder:
    """Writes what Twilio reported about a leg (called from jobs: webhooks never wait on SQL)."""

    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    def status(self, leg: dict[str, Any]) -> bool:
        """Apply one status callback; False when it was older than what is stored (or a repeat)."""
        for _attempt in range(2):
            try:
                with self.sessions.begin() as session:
                    return self._apply(session, leg)
            except IntegrityError:
                continue  # a concurrent first insert of the same leg won; apply on top of it
        return False

    def recording(self, call_id: str, leg_sid: str, recording_sid: str, url: str) -> None:
        """Link a finished recording to its leg (repeats set the same values)."""
        for _attempt in range(2):
            try:
                with self.sessions.begin() as session:
                    row = self._row(session, call_id, leg_sid)
                    row.recording_sid, row.recording_url = recording_sid, url
                return
            except IntegrityError:
                continue

    def _apply(self, session: Session, leg: dict[str, Any]) -> bool:
        row = self._row(session, leg["call_id"], leg["leg_sid"])
        status, seq = str(leg["status"]), int(leg.get("seq", -1))
        for name in ("kind", "operator", "from_addr", "to_addr"):
            if leg.get(name) and not getattr(row, name):
                setattr(row, name, leg[name])
        self._fill_times(row, status, leg)  # a late callback still tells when its phase happened
        if not is_later(status, seq, row.status, row.status_seq):
            return False
        row.status, row.status_seq = status, seq
        return True

    @staticmethod
    def _fill_times(row: CallLeg, status: str, leg: dict[str, Any]) -> None:
        at = dt.datetime.fromtimestamp(float(leg["ts"]), tz=dt.UTC)
        if rank(status) <= 2 and row.started_at is None:
            row.started_at = at
        elif rank(status) == 3 and row.answered_at is None:
            row.answered_at = at
        elif status in FINAL and row.ended_at is None:
            row.ended_at = at
            if leg.get("duration") not in (None, ""):
                row.duration_seconds = float(leg["duration"])

    def _row(self, session: Session, call_id: str, leg_sid: str) -> CallLeg:
        row = session.scalars(select(CallLeg).where(CallLeg.leg_sid == leg_sid)).first()
        if row is None:
            # kind="" (not the column's default "caller"): the first status callback names it (an operator's
            # leg was stored as "caller" because the default filled the field before _apply could).
            row = CallLeg(call_id=call_id, leg_sid=leg_sid, channel="twilio", kind="", status="", status_seq=-1)
            session.add(row)
            session.flush()
        return row
