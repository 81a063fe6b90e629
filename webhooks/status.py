"""Status and recording callbacks: the ACD learns at once that a caller left; SQL is written by a job."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from callcenter.domain.events import EventType
from callcenter.domain.operator import AcdError
from webhooks.channel import TwilioChannel
from webhooks.ivr_calls import IvrCalls
from webhooks.legs import FINAL
from webhooks.waiting import Waiting

logger = logging.getLogger(__name__)

UNANSWERED = ("no-answer", "busy", "failed")
CALLBACK_OPERATOR_LEG = "operator-callback"  # an operator rung first for a callback (no Dial action reports it)


class StatusCallbacks:
    """What Twilio reports about legs and recordings."""

    def __init__(self, channel: TwilioChannel, ivr: IvrCalls, waiting: Waiting):
        self.ch, self.ivr, self.waiting = channel, ivr, waiting

    def status(self, form: Mapping[str, str], call_id: str, operator: str, leg_kind: str) -> None:
        """One status callback: queue the SQL write; a final status of the caller's leg ends its stay."""
        ch, sid, status = self.ch, form["CallSid"], form.get("CallStatus", "")
        own = ch.store.get(sid) if not call_id else None
        # The number's own status callback (no query) of an inbound leg is the caller's, even before /twilio/voice
        # created its state or after the call's state is gone.
        inbound = form.get("Direction", "") == "inbound"
        kind = "operator" if operator else leg_kind or (own.get("kind", "caller") if own else "")
        kind = kind or ("caller" if inbound else "other")
        leg = {
            "call_id": call_id or sid, "leg_sid": sid, "kind": kind, "operator": operator, "status": status,
            "seq": _int(form.get("SequenceNumber"), -1), "from_addr": form.get("From", ""),
            "to_addr": form.get("To", ""), "ts": _timestamp(form.get("Timestamp"), ch.now()),
            "duration": form.get("CallDuration", ""),
        }  # fmt: skip
        ch.enqueue_job("record_leg", leg)
        if status not in FINAL:
            return
        if own and kind == "caller":
            self.ivr.caller_hung_up(sid)
            self.waiting.caller_gone(sid)
        elif leg_kind == CALLBACK_OPERATOR_LEG and status in UNANSWERED:
            self._operator_missed(call_id, operator)

    def _operator_missed(self, call_id: str, operator: str) -> None:
        """An operator leg we rang (a callback) was not answered: RONA unless the Dial action already did it."""
        try:
            self.ch.acd.no_answer(call_id, operator, self.ch.now())
            self.ch.poke()
        except AcdError:
            pass

    def recording(self, form: Mapping[str, str], call_id: str, kind: str, queue: str) -> None:
        """A finished recording: RECORDING (and VOICEMAIL) journalled once per RecordingSid; the leg links it."""
        ch = self.ch
        if form.get("RecordingStatus", "completed") != "completed":
            return
        rec_sid, url = form["RecordingSid"], form.get("RecordingUrl", "")
        data = {"recording_sid": rec_sid, "recording_url": url, "duration": _int(form.get("RecordingDuration"), 0),
                "kind": kind or "call"}  # fmt: skip
        call_id = call_id or form.get("CallSid", "")
        events = [ch.event(call_id, EventType.RECORDING, data, rec_sid, queue=queue)]
        if kind == "voicemail":
            events.append(ch.event(call_id, EventType.VOICEMAIL, data, rec_sid, queue=queue))
        ch.append(*events)
        ch.enqueue_job("record_recording", call_id, form.get("CallSid", call_id), rec_sid, url)


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw not in (None, "") else default
    except ValueError:
        return default


def _timestamp(raw: str | None, default: float) -> float:
    """Twilio's ``Timestamp`` (RFC 2822) of the status change; our clock when absent or unreadable."""
    if not raw:
        return default
    try:
        return parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError):
        return default
