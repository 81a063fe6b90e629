"""The Twilio routes. Each view: signature, parse, one service call, TwiML (or 204) back.

Entry points (configured on the number / TwiML app): /twilio/voice, /twilio/fallback, /twilio/status,
/twilio/outgoing, /twilio/sms. Every other route is reached only through URLs our own TwiML hands Twilio.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request
from flask.blueprints import BlueprintSetupState
from werkzeug.datastructures import MultiDict

from callcenter.config import Settings
from callcenter.domain.operator import AcdError
from callcenter.web.app import container
from ivr.steps import Digits, NoInput, Speech, UserInput
from webhooks import fallback, fast_lane, softphone, twiml
from webhooks.ivr_calls import UnknownCallError
from webhooks.services import TwilioServices, install, twilio_services
from webhooks.signature import twilio_signed

logger = logging.getLogger(__name__)

bp = Blueprint("twilio", __name__)


def _settings() -> Settings:
    return container().settings


signed = twilio_signed(_settings)


MAX_DIGITS = 32  # no menu, survey or confirmation of ours takes more keys
MAX_SMS_BODY = 1600  # Twilio's own limit for one (concatenated) message


class MalformedRequestError(ValueError):
    """A Twilio request without what the route needs (or with more than any of our steps takes)."""


@bp.record_once
def _install(state: BlueprintSetupState) -> None:
    install(state.app)  # type: ignore[arg-type]
    fast_lane.install(state.app)  # type: ignore[arg-type]


@bp.errorhandler(MalformedRequestError)
@bp.errorhandler(UnknownCallError)
def _malformed(exc: Exception) -> Response:
    return twiml.bad_request(f"{type(exc).__name__}: {exc}")


@bp.errorhandler(AcdError)
def _not_in_acd(exc: AcdError) -> Response:
    """A callback for a call the ACD does not know or no longer has (unknown, ended, a repeated or late
    callback): status callbacks get their 204, calls a polite goodbye (Twilio needs TwiML, not a 404)."""
    logger.info("call %s: %s on %s; answered with a hangup", request.values.get("call") or
                request.form.get("CallSid"), type(exc).__name__, request.path)  # fmt: skip
    if request.endpoint in ("twilio.status", "twilio.recording"):
        return twiml.no_content()
    return twiml.xml(twiml.goodbye(container().hotline.hotline.default_language))


def need(source: MultiDict[str, str], name: str) -> str:
    value = source.get(name, "").strip()
    if not value:
        raise MalformedRequestError(f"missing {name}")
    return value


def number(source: MultiDict[str, str], name: str, default: int = 0) -> int:
    raw = source.get(name, "")
    if raw == "":
        return default
    if not raw.isdigit():
        raise MalformedRequestError(f"{name} must be a whole number, got {raw!r}")
    return int(raw)


def digits(source: MultiDict[str, str]) -> str:
    """The keys the caller pressed; refused before any state changes when longer than any step of ours takes."""
    pressed = source.get("Digits", "")
    if len(pressed) > MAX_DIGITS:
        raise MalformedRequestError(f"Digits longer than {MAX_DIGITS} keys ({len(pressed)})")
    return pressed


def svc() -> TwilioServices:
    return twilio_services()


# -- calls coming in ---------------------------------------------------------------------------------------
@bp.post("/twilio/voice")
@signed
def voice() -> Response:
    return twiml.xml(svc().ivr.start(need(request.form, "CallSid"), request.form))


@bp.post("/twilio/fallback")
@signed
def fallback_route() -> Response:
    return twiml.xml(fallback.answer(need(request.form, "CallSid"), request.form))


@bp.post("/twilio/ivr")
@signed
def ivr_input() -> Response:
    sid, args = need(request.form, "CallSid"), request.args
    step, node = number(args, "s"), need(args, "node")
    return twiml.xml(svc().ivr.advance(sid, step, node, _user_input()))


def _user_input() -> UserInput:
    if request.args.get("noinput"):
        return NoInput()
    speech = request.form.get("SpeechResult", "")
    if speech.strip():
        confidence = request.form.get("Confidence", "")
        return Speech(speech, float(confidence) if confidence.replace(".", "", 1).isdigit() else None)
    return Digits(digits(request.form))


# -- waiting ---------------------------------------------------------------------------------------------
@bp.post("/twilio/queue/wait")
@signed
def queue_wait() -> Response:
    form, args = request.form, request.args
    sid, queue_sid, queue_time = need(form, "CallSid"), form.get("QueueSid", ""), form.get("QueueTime", "")
    body = svc().waiting.wait(sid, queue_sid, queue_time, args.get("lang", ""), args.get("key", ""))
    return twiml.xml(body)


@bp.post("/twilio/queue/key")
@signed
def queue_key() -> Response:
    return twiml.xml(svc().waiting.key(need(request.form, "CallSid"), digits(request.form)))


@bp.post("/twilio/queue/done")
@signed
def queue_done() -> Response:
    return twiml.xml(svc().waiting.done(need(request.form, "CallSid"), request.form.get("QueueResult", "")))


@bp.post("/twilio/queue/exit")
@signed
def queue_exit() -> Response:
    sid = request.args.get("call") or need(request.form, "CallSid")
    return twiml.xml(svc().waiting.exit(sid, request.args.get("action", ""), announce=True))


@bp.post("/twilio/voicemail/done")
@signed
def voicemail_done() -> Response:
    return twiml.xml(fallback.voicemail_thanks(svc(), need(request.args, "call")))


# -- connecting ------------------------------------------------------------------------------------------
@bp.post("/twilio/bridge")
@signed
def bridge() -> Response:
    args = request.args
    return twiml.xml(svc().bridging.bridge(need(args, "call"), need(args, "op"), args.get("ticket", "")))


@bp.post("/twilio/whisper")
@signed
def whisper() -> Response:
    args = request.args
    return twiml.xml(svc().bridging.whisper(need(args, "call"), need(args, "op"), args.get("ticket", "")))


@bp.post("/twilio/whisper/accept")
@signed
def whisper_accept() -> Response:
    args, pressed = request.args, digits(request.form)
    pressed = "" if args.get("noinput") else pressed
    return twiml.xml(svc().bridging.accept(need(args, "call"), need(args, "op"), pressed))


@bp.post("/twilio/dial")
@signed
def dial_done() -> Response:
    args, form = request.args, request.form
    body = svc().bridging.dial_done(
        need(args, "call"), args.get("op", ""), form.get("DialCallStatus", ""), form.get("CallStatus", "")
    )
    return twiml.xml(body)


@bp.post("/twilio/callback/operator")
@signed
def callback_operator() -> Response:
    args = request.args
    return twiml.xml(svc().callbacks.announce(need(args, "call"), need(args, "op"), args.get("ticket", "")))


@bp.post("/twilio/callback/accept")
@signed
def callback_accept() -> Response:
    args, pressed = request.args, digits(request.form)
    return twiml.xml(
        svc().callbacks.accept(need(args, "call"), need(args, "op"), "" if args.get("noinput") else pressed)
    )


@bp.post("/twilio/callback/done")
@signed
def callback_done() -> Response:
    return twiml.xml(svc().callbacks.done(need(request.args, "call"), need(request.args, "op")))


# -- after the conversation ------------------------------------------------------------------------------
@bp.post("/twilio/survey")
@signed
def survey_answer() -> Response:
    args = request.args
    pressed = "" if args.get("noinput") else digits(request.form)
    body = svc().survey.answer(need(args, "call"), number(args, "q"), pressed, number(args, "retry"))
    return twiml.xml(body)


@bp.post("/twilio/sms")
@signed
def sms() -> Response:
    body = request.form.get("Body", "")
    if len(body) > MAX_SMS_BODY:
        raise MalformedRequestError(f"SMS body longer than {MAX_SMS_BODY} characters ({len(body)})")
    return twiml.xml(svc().survey.sms_reply(need(request.form, "From"), body))


# -- callbacks -------------------------------------------------------------------------------------------
@bp.post("/twilio/status")
@signed
def status() -> Response:
    need(request.form, "CallSid")
    need(request.form, "CallStatus")
    args = request.args
    svc().status.status(request.form, args.get("call", ""), args.get("op", ""), args.get("leg", ""))
    return twiml.no_content()


@bp.post("/twilio/recording")
@signed
def recording() -> Response:
    need(request.form, "RecordingSid")
    args = request.args
    svc().status.recording(request.form, args.get("call", ""), args.get("kind", ""), args.get("queue", ""))
    return twiml.no_content()


# -- operators' softphones -------------------------------------------------------------------------------
@bp.post("/twilio/outgoing")
@signed
def outgoing() -> Response:
    return twiml.xml(softphone.outgoing(svc(), request.form))


bp.add_url_rule("/api/v1/operators/me/voice-token", view_func=softphone.voice_token, methods=["POST"])
