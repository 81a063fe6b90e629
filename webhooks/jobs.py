"""RQ jobs of the Twilio channel: thin, primitive arguments, services from bootstrap.

The first argument is the hotline tag. A process that serves the app (embedded mode, tests) registers its
channel, so its in-process jobs use the same container; a separate ``callcenter worker`` builds its own from
the environment.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from callcenter.bootstrap import Container
from webhooks.channel import TwilioChannel

logger = logging.getLogger(__name__)

_channels: dict[str, TwilioChannel] = {}
_containers: dict[str, Container] = {}
_lock = threading.Lock()


def register(channel: TwilioChannel) -> None:
    """Make ``channel`` the one this process's jobs use for its hotline tag."""
    with _lock:
        _channels[channel.container.keys.tag] = channel


def register_container(container: Container) -> None:
    """The container this process serves (its jobs build their channel from it when first needed)."""
    with _lock:
        _containers[container.keys.tag] = container


def channel_for(tag: str) -> TwilioChannel:
    """The registered channel of ``tag``, or one built from the environment's settings (worker processes)."""
    with _lock:
        if tag not in _channels and tag in _containers:
            _channels[tag] = TwilioChannel(_containers[tag])
        if tag not in _channels:
            from callcenter.bootstrap import build_container
            from callcenter.config import load_settings

            settings = load_settings()
            if settings.hotline_tag != tag:
                raise LookupError(f"job for hotline {tag!r} on a worker configured for {settings.hotline_tag!r}")
            _channels[tag] = TwilioChannel(build_container(settings))
        return _channels[tag]


def dispatch(tag: str) -> int:
    """Handle the ACD's due deadlines and connect the calls it can offer now."""
    from webhooks.dispatcher import Dispatcher

    return Dispatcher(channel_for(tag)).run()


def connect_offer(tag: str, offer: dict[str, Any]) -> None:
    """Connect an offer for a Twilio call that another channel's dispatcher (a SIP gateway) received."""
    from queueing.acd_types import Offer
    from webhooks.dispatcher import Dispatcher

    Dispatcher(channel_for(tag)).connect(Offer(**offer))


def redirect(tag: str, call_sid: str, url: str) -> None:
    """Redirect a live call to ``url`` (transfer and escalation)."""
    channel_for(tag).rest.redirect(call_sid, url)


def record_leg(tag: str, leg: dict[str, Any]) -> bool:
    """Store a status callback on its call leg (forward-only, idempotent)."""
    from webhooks.legs import LegRecorder

    return LegRecorder(channel_for(tag).container.sessions).status(leg)


def record_recording(tag: str, call_id: str, leg_sid: str, recording_sid: str, url: str) -> None:
    """Link a finished recording to its call leg."""
    from webhooks.legs import LegRecorder

    LegRecorder(channel_for(tag).container.sessions).recording(call_id, leg_sid, recording_sid, url)


class CallNotStoredYetError(RuntimeError):
    """The journal has not brought the call into SQL yet; RQ retries the job later."""


def send_sms_survey(tag: str, call_id: str) -> bool:
    """The caller hung up on the operator: text them the survey (SurveyService decides whether, and once)."""
    from callcenter.storage.models import Call
    from webhooks.survey import Survey

    channel = channel_for(tag)
    with channel.container.sessions() as session:
        if session.get(Call, call_id) is None:
            raise CallNotStoredYetError(call_id)
    return Survey(channel).service.sms_survey_job(call_id)


def reconcile_queue_members(tag: str) -> list[str]:
    """Queue again in the ACD every caller Twilio holds in our queues and the ACD lost (after a Redis loss)."""
    from webhooks.queue_members import QueueMembers
    from webhooks.waiting import Waiting

    channel = channel_for(tag)
    return QueueMembers(channel, Waiting(channel)).reconcile()
