"""Operators' softphones: a Voice SDK access token, and their outgoing calls through the TwiML app.

The token's identity is the operator's username (``[A-Za-z0-9_]``, which usernames already are), so
``<Client>username</Client>`` rings the operator's browser. Outgoing calls go only to E.164 numbers (or
``queue:fallback`` to take a caller from the fallback queue); a ``CallbackFor`` parameter marks the dial-out
as the callback of that call (CALLBACK_DIALLED).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from flask import Response, jsonify
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from callcenter.domain.operator import AcdError
from callcenter.web.app import container
from callcenter.web.auth import auth_required, current_principal
from callcenter.web.errors import problem
from webhooks import fallback, twiml
from webhooks.services import TwilioServices
from webhooks.twiml import VoiceResponse

logger = logging.getLogger(__name__)

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
TOKEN_TTL_SECONDS = 3600
_REFUSED = {"hu": "Ez a szám nem hívható.", "en": "This number cannot be dialled."}


@auth_required()
def voice_token() -> Response:
    """POST /api/v1/operators/me/voice-token: an access token for the operator's softphone (1 hour)."""
    twilio = container().settings.twilio
    missing = [
        name for name in ("account_sid", "api_key_sid", "api_key_secret", "twiml_app_sid") if not getattr(twilio, name)
    ]
    if missing:
        detail = "set " + ", ".join(f"TWILIO_{m.upper()}" for m in missing)
        return problem(503, "Twilio is not configured", detail)
    identity = current_principal().username
    token = AccessToken(twilio.account_sid, twilio.api_key_sid, twilio.api_key_secret, identity=identity,
                        ttl=TOKEN_TTL_SECONDS)  # fmt: skip
    token.add_grant(VoiceGrant(outgoing_application_sid=twilio.twiml_app_sid, incoming_allow=True))
    return jsonify({"token": token.to_jwt(), "identity": identity, "ttl": TOKEN_TTL_SECONDS})


def outgoing(services: TwilioServices, form: Mapping[str, str]) -> str:
    """An operator dials out: ``<Dial callerId><Number>`` for an E.164 number, refused otherwise."""
    ch = services.channel
    target = form.get("To", "").strip()
    caller = form.get("From", "")
    language = ch.default_language
    response = VoiceResponse()
    if target == f"queue:{fallback.FALLBACK_QUEUE}":
        response.dial().queue(f"{ch.container.keys.tag}-{fallback.FALLBACK_QUEUE}")
        return str(response)
    if not caller.startswith("client:") or not E164.match(target):
        logger.warning("outgoing call from %r to %r refused", caller, target)
        twiml.say(response, _REFUSED.get(language, _REFUSED["en"]), language)
        response.hangup()
        return str(response)
    callback_for = form.get("CallbackFor", "")
    if callback_for:
        try:
            ch.acd.callback_dialled(callback_for, ch.now())
        except AcdError as exc:
            logger.info("callback %s dialled by %s: not journalled: %s", callback_for, caller, exc)
    dial = response.dial(caller_id=ch.settings.twilio.caller_id or None, record="record-from-answer-dual",
                         recording_status_callback=ch.urls("recording", call=callback_for or form.get("CallSid")),
                         recording_status_callback_method="POST")  # fmt: skip
    dial.number(target)
    return str(response)
