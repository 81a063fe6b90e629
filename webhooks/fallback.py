"""The number's fallback URL: our app failed (an error or a timeout), the caller must still be looked after.

With Redis reachable the caller is queued in our ACD as usual; if anything fails they are put into a plain
Twilio queue (``<tag>-fallback``, Twilio's own hold music) that operators can take with ``queue:fallback``
from their softphone, and told to call back if even that queue ends. Nothing here needs the database.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from callcenter.domain.events import EventType
from callcenter.web.app import container
from ivr import prompts
from queueing.acd_types import Position
from webhooks import twiml
from webhooks.services import TwilioServices, twilio_services
from webhooks.twiml import VoiceResponse

logger = logging.getLogger(__name__)

SORRY = {
    "hu": "Elnézést kérünk, technikai hiba történt. Kérjük, tartsa a vonalat, amint lehet, kapcsoljuk munkatársunkat.",
    "en": "We are sorry, we have a technical problem. Please hold, we will connect you as soon as we can.",
}
FALLBACK_QUEUE = "fallback"


def answer(sid: str, form: Mapping[str, str]) -> str:
    """Queue the caller in our ACD if it answers; otherwise in the plain fallback queue."""
    try:
        return _with_acd(twilio_services(), sid, form)
    except Exception:
        logger.exception("call %s: fallback without the ACD (ErrorCode %s)", sid, form.get("ErrorCode"))
        return plain(container().hotline.hotline.default_language, container().keys.tag)


def _with_acd(services: TwilioServices, sid: str, form: Mapping[str, str]) -> str:
    ch, waiting = services.channel, services.waiting
    state = ch.store.get(sid)
    language = state.language or ch.default_language
    response = VoiceResponse()
    twiml.say(response, SORRY.get(language, SORRY["en"]), language)
    position = _position(services, sid)
    if position is not None and position.state in ("waiting", "ringing"):
        waiting.hold(sid, response, position.queue)  # already ours: back to the hold loop
        return str(response)
    if not state:
        caller = {"from": form.get("From", ""), "to": form.get("To", ""), "caller_name": form.get("CallerName", "")}
        ch.store.create(sid, {**caller, "kind": "caller"})
        ch.append(ch.event(sid, EventType.CALL_STARTED, {**caller, "channel": "twilio", "fallback": True}, "start"))
    ch.ensure_acd_config()
    queue = state.get("queue") or next(iter(ch.hotline.queues))
    waiting.enter(sid, response, queue, 0, {}, None, language, None)
    return str(response)


def _position(services: TwilioServices, sid: str) -> Position | None:
    try:
        return services.channel.acd.position(sid, services.channel.now())
    except Exception:
        return None


def plain(language: str, tag: str) -> str:
    """No ACD: an apology, Twilio's own queue, and a call-back request if the queue ends."""
    response = VoiceResponse()
    twiml.say(response, SORRY.get(language, SORRY["en"]), language)
    response.enqueue(f"{tag}-{FALLBACK_QUEUE}")
    twiml.say(response, prompts.system("apology", language), language)
    response.hangup()
    return str(response)


def voicemail_thanks(services: TwilioServices, sid: str) -> str:
    state = services.channel.store.get(sid)
    language = state.language or services.channel.default_language
    response = VoiceResponse()
    twiml.say(response, prompts.system("voicemail_thanks", language), language)
    response.hangup()
    return str(response)
