"""Retention (GDPR): after ``privacy.retention_days`` a call's personal data and recordings are erased.

What goes: the caller's number and name on the call, its legs, its ticket (once the ticket's last contact is
past the period too) and in its logged events; the recording URLs and, where a channel keeps the files, the
files. What stays: everything the KPIs and reports count (times, queues, operators, outcomes, survey scores).
Each purged call gets one ``DATA_PURGED`` event in the event log, written in the same transaction as the
erasure, so the purge is auditable and never done twice. Runs daily as a chain of scheduled jobs (as the
tickets' auto-close does) and as ``callcenter privacy purge``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callcenter.domain.events import EventType
from callcenter.storage.models import Call, CallEventRecord, CallLeg, Ticket

logger = logging.getLogger(__name__)

PURGE_EVERY = 86400
JOB = "callcenter.retention.purge_personal_data"
PERSONAL_KEYS = ("from", "to", "caller", "caller_name", "number", "recording_url", "recording_sid")

RecordingDeleter = Callable[[str], None]
"""Deletes a recording file at the channel by its SID (Twilio: ``TwilioRest.delete_recording``)."""


def purge_event_id(call_id: str) -> str:
    return f"purge:{call_id}"


class RetentionService:
    """Erase personal data of calls older than the retention period, once per call."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Callable[[], float],
        days: int,
        delete_recording: RecordingDeleter | None = None,
    ):
        self.sessions, self.clock, self.days = sessions, clock, days
        self.delete_recording = delete_recording

    def purge(self, limit: int = 500) -> int:
        """Erase the calls started before now minus ``days`` not purged yet; returns how many were purged."""
        now = dt.datetime.fromtimestamp(self.clock(), dt.UTC)
        cutoff = now - dt.timedelta(days=self.days)
        purged = select(CallEventRecord.call_id).where(CallEventRecord.type == EventType.DATA_PURGED.value)
        with self.sessions.begin() as session:
            due = session.scalars(
                select(Call).where(Call.started_at < cutoff, Call.id.not_in(purged)).order_by(Call.id).limit(limit)
            ).all()
            for call in due:
                self._purge_call(session, call, cutoff, now)
        logger.info("retention: %d calls purged (older than %d days)", len(due), self.days)
        return len(due)

    def _purge_call(self, session: Session, call: Call, cutoff: dt.datetime, now: dt.datetime) -> None:
        recordings = self._purge_legs(session, call.id)
        call.caller, call.caller_name, call.called, call.recording_url = "", "", "", ""
        ticket = session.get(Ticket, call.ticket_id) if call.ticket_id is not None else None
        if ticket is not None and _last_contact_before(ticket, cutoff):
            ticket.caller, ticket.caller_name, ticket.recording_url = "", "", ""
        for record in session.scalars(select(CallEventRecord).where(CallEventRecord.call_id == call.id)):
            if any(key in record.data for key in PERSONAL_KEYS):
                record.data = {k: v for k, v in record.data.items() if k not in PERSONAL_KEYS}
        data = {"retention_days": self.days, "recordings": recordings}
        session.add(CallEventRecord(event_id=purge_event_id(call.id), type=EventType.DATA_PURGED.value, ts=now,
                                    call_id=call.id, channel=call.channel, data=data))  # fmt: skip
        logger.info("call %s: personal data purged (%d recordings)", call.id, recordings)

    def _purge_legs(self, session: Session, call_id: str) -> int:
        """Clear the legs' addresses and recordings; the files go first, so a failure leaves the URL to retry."""
        deleted = 0
        for leg in session.scalars(select(CallLeg).where(CallLeg.call_id == call_id)):
            if leg.recording_sid and self.delete_recording is not None:
                self.delete_recording(leg.recording_sid)
            deleted += bool(leg.recording_sid or leg.recording_url)
            leg.from_addr, leg.to_addr, leg.recording_sid, leg.recording_url = "", "", "", ""
        return deleted


def _last_contact_before(ticket: Ticket, cutoff: dt.datetime) -> bool:
    """A ticket keeps the caller while any of its contacts is within the period (a repeat caller's ticket)."""
    last = ticket.last_contact_at or ticket.created_at
    if last.tzinfo is None:  # SQLite hands back naive UTC
        last = last.replace(tzinfo=dt.UTC)
    return last < cutoff


def recording_deleter(container: Any) -> RecordingDeleter | None:
    """Twilio's recordings are deleted through its REST port when an account is configured."""
    if not container.settings.twilio.account_sid:
        return None
    from webhooks.twilio_rest import TwilioRest  # the channel adapter, only where Twilio is used

    return TwilioRest(container.settings.twilio).delete_recording


def retention_service(container: Any) -> RetentionService:
    days = container.hotline.privacy.retention_days
    return RetentionService(container.sessions, container.clock, days, recording_deleter(container))


def schedule_purge(container: Any, every: int = PURGE_EVERY) -> str:
    """Schedule the next purge run (idempotent: the job id is the hotline tag and the time slot)."""
    from callcenter.ticket_jobs import schedule_in_next_slot

    return schedule_in_next_slot(container, JOB, "privacy-purge", every)


def purge_personal_data(tag: str, every: int = PURGE_EVERY) -> int:
    """Erase personal data past ``privacy.retention_days`` (all of it, in batches), then schedule the next run."""
    from callcenter.ticket_jobs import container_for

    container = container_for(tag)
    service, total = retention_service(container), 0
    while (count := service.purge()) > 0:
        total += count
    if every > 0:
        schedule_purge(container, every)
    return total
