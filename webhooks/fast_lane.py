"""The two hottest Twilio webhooks served straight from WSGI, ahead of Flask: a lane for the usual request only.

Every incoming call posts ``/twilio/voice`` once, and every waiting caller posts ``/twilio/queue/wait`` every
few seconds; under load these two are nearly all the traffic. Flask's request cycle (request context, routing,
Werkzeug's form and response objects, the after-request hooks) costs more CPU than our own work on them, so the
lane handles the usual request (a POST with a form body, correctly signed, with a CallSid) itself: the same
signature check, the same control-character cleaning, the same service call, the same TwiML and headers.

Anything else goes to Flask unchanged, body included: a bad or missing signature (Flask logs and answers 403),
no CallSid, a body that is not UTF-8 form data, too large, chunked, a cookie, and any exception in the service
(the Flask route then answers as it always does: 400, a goodbye for an unknown call, 500; both routes are
idempotent, a repeated request replays the stored reply). So the lane can only be faster, never different:
``tests/integration/test_twilio_fast_lane.py`` sends the same requests both ways and compares.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

from callcenter.web.app import MAX_BODY_BYTES
from callcenter.web.security import HEADERS
from webhooks.cleaning import without_controls
from webhooks.services import TwilioServices, services_for
from webhooks.signature import public_url, signature_matches

logger = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Form = MultiDict[str, str]
# A handler: (services, form, query arguments) -> TwiML, or None to leave the request to Flask.
Handler = Callable[[TwilioServices, Form, Form], "str | None"]

FORM = "application/x-www-form-urlencoded"
SECURITY_HEADERS = list(HEADERS.items())
EMPTY: Form = ImmutableMultiDict()  # as callcenter.web.security adds them, in that order


def _voice(services: TwilioServices, form: Form, args: Form) -> str | None:
    sid = form.get("CallSid", "").strip()
    return services.ivr.start(sid, form) if sid else None


def _queue_wait(services: TwilioServices, form: Form, args: Form) -> str | None:
    sid = form.get("CallSid", "").strip()
    if not sid:
        return None
    queue_sid, queue_time = form.get("QueueSid", ""), form.get("QueueTime", "")
    return services.waiting.wait(sid, queue_sid, queue_time, args.get("lang", ""), args.get("key", ""))


ROUTES: dict[str, Handler] = {"/twilio/voice": _voice, "/twilio/queue/wait": _queue_wait}


class FastLane:
    """WSGI middleware in front of the Flask app for the routes in ``ROUTES``."""

    def __init__(self, app: Flask, flask_wsgi: WsgiApp):
        self.app, self.flask_wsgi = app, flask_wsgi
        self.served = self.passed = 0  # requests the lane answered / left to Flask (tests read them)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        handler = ROUTES.get(environ.get("PATH_INFO", ""))
        body = self._form_body(environ) if handler is not None else None
        if handler is None or body is None:
            return self._pass(environ, start_response)
        environ["wsgi.input"] = io.BytesIO(body)  # Flask reads it again if the lane passes
        try:
            reply = self._answer(handler, environ, body)
        except Exception:  # Flask's route answers it as usual (and logs what it must)
            logger.debug("fast lane: %s left to Flask", environ.get("PATH_INFO"), exc_info=True)
            reply = None
        if reply is None:
            environ["wsgi.input"].seek(0)
            return self._pass(environ, start_response)
        self.served += 1
        payload = reply.encode()
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"),
                                  ("Content-Length", str(len(payload))), *SECURITY_HEADERS])  # fmt: skip
        return [payload]

    def _pass(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        self.passed += 1
        return self.flask_wsgi(environ, start_response)

    @staticmethod
    def _form_body(environ: dict[str, Any]) -> bytes | None:
        """The body of a plain form POST of a known length (anything else is Flask's to judge)."""
        length = environ.get("CONTENT_LENGTH", "")
        if (
            environ.get("REQUEST_METHOD") != "POST"
            or not length.isdigit()
            or int(length) > MAX_BODY_BYTES
            or environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower() != FORM
            or "HTTP_COOKIE" in environ
            or "HTTP_TRANSFER_ENCODING" in environ
        ):
            return None
        body: bytes = environ["wsgi.input"].read(int(length))
        return body

    def _answer(self, handler: Handler, environ: dict[str, Any], body: bytes) -> str | None:
        """Verify and parse as the Flask route does (``webhooks.signature``, ``webhooks.cleaning``), then serve."""
        settings = self.app.extensions["callcenter"].settings
        token, signature = settings.twilio.auth_token, environ.get("HTTP_X_TWILIO_SIGNATURE", "")
        if not token or not signature:
            return None
        # Werkzeug's parsing: strict UTF-8 for the body, its own error handler for undecodable escapes
        form = MultiDict(parse_qsl(body.decode(), keep_blank_values=True, errors="werkzeug.url_quote"))
        query = environ.get("QUERY_STRING", "").encode("latin-1")
        url = public_url(settings.public_base_url, environ.get("PATH_INFO", ""), query)
        if not signature_matches(token, url, form, signature):
            return None
        args: Form = (
            MultiDict(parse_qsl(query.decode(), keep_blank_values=True, errors="werkzeug.url_quote"))
            if query
            else EMPTY
        )
        form, args = without_controls(form) or form, without_controls(args) or args
        return handler(services_for(self.app), form, args)


def install(app: Flask) -> None:
    """Put the lane in front of ``app``'s WSGI callable (once)."""
    if not isinstance(app.wsgi_app, FastLane):
        app.wsgi_app = FastLane(app, app.wsgi_app)  # type: ignore[method-assign]
