"""The one Twilio REST port: every REST call the project makes goes through :class:`TwilioRest`.

``TWILIO_API_BASE_URL`` (``TwilioSettings.api_base_url``) points it at another server: the tests' fake
Twilio or Prism serving Twilio's OpenAPI description.
"""

from __future__ import annotations

import logging
from typing import Protocol

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from callcenter.config import TwilioSettings

logger = logging.getLogger(__name__)

CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]


class TwilioPort(Protocol):
    """What the channel asks of Twilio's REST API (the Messaging port of surveys is ``send_sms``)."""

    def push_to_bridge(self, queue_sid: str, call_sid: str, url: str) -> None: ...
    def redirect(self, call_sid: str, url: str) -> None: ...
    def hang_up(self, call_sid: str) -> None: ...
    def dial(self, to: str, url: str, status_callback: str, from_: str | None = None) -> str: ...
    def send_sms(self, to: str, body: str, from_: str | None = None) -> str: ...
    def create_queue(self, name: str, max_size: int = 1000) -> str: ...
    def call_status(self, call_sid: str) -> str: ...
    def queue_members(self, queue_sid: str) -> list[str]: ...
    def queue_sids(self) -> dict[str, str]: ...


class TwilioRest:
    """twilio-python behind the port, with a bounded HTTP timeout (jobs retry, webhooks never wait on it)."""

    def __init__(self, settings: TwilioSettings, timeout: float = 10.0):
        self.settings = settings
        self.client = Client(settings.account_sid, settings.auth_token, http_client=TwilioHttpClient(timeout=timeout))
        if settings.api_base_url:
            self.client.api.base_url = settings.api_base_url.rstrip("/")

    def push_to_bridge(self, queue_sid: str, call_sid: str, url: str) -> None:
        """Take a waiting caller out of the Twilio queue onto ``url`` (the bridge to their operator)."""
        self.client.queues(queue_sid).members(call_sid).update(url=url, method="POST")
        logger.info("call %s pushed out of queue %s to %s", call_sid, queue_sid, url)

    def redirect(self, call_sid: str, url: str) -> None:
        """Make a live call continue with the TwiML at ``url`` (transfer, escalation, max wait)."""
        self.client.calls(call_sid).update(url=url, method="POST")
        logger.info("call %s redirected to %s", call_sid, url)

    def hang_up(self, call_sid: str) -> None:
        self.client.calls(call_sid).update(status="completed")
        logger.info("call %s hung up", call_sid)

    def dial(self, to: str, url: str, status_callback: str, from_: str | None = None) -> str:
        """Start an outbound call (a callback, or an operator's softphone rung first); returns its CallSid."""
        call = self.client.calls.create(
            to=to,
            from_=from_ or self.settings.caller_id,
            url=url,
            method="POST",
            status_callback=status_callback,
            status_callback_method="POST",
            status_callback_event=CALL_EVENTS,
        )
        logger.info("dialled %s as %s", to, call.sid)
        return str(call.sid)

    def send_sms(self, to: str, body: str, from_: str | None = None) -> str:
        message = self.client.messages.create(to=to, from_=from_ or self.settings.caller_id, body=body)
        logger.info("SMS %s sent to %s", message.sid, to)
        return str(message.sid)

    def create_queue(self, name: str, max_size: int = 1000) -> str:
        return str(self.client.queues.create(friendly_name=name, max_size=max_size).sid)

    def call_status(self, call_sid: str) -> str:
        """Twilio's status of a call (reconciliation: is it still live?)."""
        return str(self.client.calls(call_sid).fetch().status)

    def delete_recording(self, recording_sid: str) -> None:
        """Delete a recording file at Twilio (retention); one already gone counts as deleted."""
        try:
            self.client.recordings(recording_sid).delete()
        except TwilioRestException as exc:
            if exc.status != 404:
                raise
        logger.info("recording %s deleted", recording_sid)

    def queue_sids(self) -> dict[str, str]:
        """The account's Twilio queues: friendly name -> QU sid (reconciliation)."""
        return {str(q.friendly_name): str(q.sid) for q in self.client.queues.list()}

    def queue_members(self, queue_sid: str) -> list[str]:
        """Call SIDs waiting in a Twilio queue (reconciliation)."""
        return [str(m.call_sid) for m in self.client.queues(queue_sid).members.list()]
