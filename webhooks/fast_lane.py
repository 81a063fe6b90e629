"""The two hottest Twilio webhooks served straight from WSGI, ahead of Flask: a lane for the usual request only.

Every incoming call posts ``/twilio/voice`` once, and every waiting caller posts ``/twilio/queue/wait`` every
few seconds; under load these two are nearly all the traffic. Flask's request cycle (request context, routing,
Werkzeug's form and response objects, the after-request hooks) costs more CPU than our own work on them, so the
lane handles the usual request (a POST with a form body, correctly signed, with a CallSid) itself: the same
signature check, the same control-character cleaning, the same service call, the same TwiML and headers.

Anything else goes to Flask unchanged, body included: a bad or missing signature (Flask logs and answers 403),
no CallSid, a body that is not UTF-8 form data, too large, chunked, a cookie, and any exception in the service
(Flask's error handlers then answer it as the route's would: a goodbye for a call the ACD does not know, a
logged 500; the service is not run a second time). So the lane can only be faster, never different:
``tests/integration/test_twilio_fast_lane.py`` sends the same requests both ways and compares.
"""

from __future__ import annotations

import io
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

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Form = MultiDict[str, str]
# A handler: (services, form, query arguments) -> TwiML, or None to leave the request to Flask.
Handler = Callable[[TwilioServices, Form, Form], "str | None"]

FORM = "application/x-www-form-urlencoded"
SECURITY_HEADERS = list(HEADERS.items())  # as callcenter.web.security adds them, in that order
EMPTY: Form = ImmutableMultiDict()


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
            verified = self._verified(environ, body)
        except ValueError:  # not UTF-8, say: Flask's route judges it
            verified = None
        try:
            reply = None if verified is None else handler(services_for(self.app), *verified)
        except Exception as exc:  # answered by Flask's error handlers, as the route's would be; not run again
            environ["wsgi.input"].seek(0)
            return self._flask_error(exc, environ, start_response)
        if reply is None:
            environ["wsgi.input"].seek(0)
            return self._pass(environ, start_response)
        self.served += 1
        payload = reply.encode()
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"),
                                  ("Content-Length", str(len(payload))), *SECURITY_HEADERS])  # fmt: skip
        return [payload]

    def _flask_error(self, exc: Exception, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """What Flask answers when the route's service raises ``exc`` (its error handlers, after-request hooks,
        a logged 500 for the unexpected), without calling the service a second time (a second Redis timeout in
        an outage, a second write). Called while ``exc`` is being handled: Flask re-raises what has no handler."""
        self.passed += 1
        app, context = self.app, self.app.request_context(environ)
        context.push()
        error: BaseException | None = None
        try:
            try:
                response = app.finalize_request(app.handle_user_exception(exc))
            except Exception as unhandled:
                error = unhandled
                response = app.handle_exception(unhandled)
            return response(environ, start_response)
        finally:
            context.pop(error)

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

    def _verified(self, environ: dict[str, Any], body: bytes) -> tuple[Form, Form] | None:
        """Form and query arguments, verified and cleaned as the Flask route does them (``webhooks.signature``,
        ``webhooks.cleaning``); None when unsigned or badly signed."""
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
        return without_controls(form) or form, without_controls(args) or args


def install(app: Flask) -> None:
    """Put the lane in front of ``app``'s WSGI callable (once)."""
    if not isinstance(app.wsgi_app, FastLane):
        app.wsgi_app = FastLane(app, app.wsgi_app)  # type: ignore[method-assign]
