"""The operator console: a server-rendered page with a little JavaScript over the REST API.

Session login (cookie, CSRF token in every form and in the ``X-CSRF-Token`` header of the page's API calls),
Hungarian and English text, strict Content-Security-Policy (no inline script; the Twilio Voice SDK is served
from our static folder).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from callcenter.auth import InvalidCredentialsError, NotAuthenticatedError, TooManyLoginAttemptsError
from callcenter.operators import OperatorService
from callcenter.web import services
from callcenter.web.app import container
from callcenter.web.auth import SESSION_USER, check_csrf, csrf_token, end_session, start_session
from callcenter.web.console_text import BREAK_REASONS, TEXT, text_for

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="console_templates",
    static_folder="console_static",
    static_url_path="/static",
)
SESSION_LANG = "cc_lang"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' https://*.twilio.com wss://*.twilio.com; media-src 'self' https://*.twilio.com; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


@bp.record_once
def _cookie_defaults(state: Any) -> None:
    state.app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    state.app.config["SESSION_COOKIE_HTTPONLY"] = True


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def language() -> str:
    """?lang= switches and is remembered in the session; else the hotline's default language."""
    chosen = request.args.get("lang")
    if chosen in TEXT:
        session[SESSION_LANG] = chosen
    return str(session.get(SESSION_LANG) or container().hotline.hotline.default_language)


@bp.get("/login")
def login_form() -> str:
    lang = language()
    return render_template("console/login.html", t=text_for(lang), lang=lang, csrf=csrf_token(), error="")


@bp.post("/login")
def login() -> Any:
    check_csrf()
    lang = language()
    try:
        principal = services.auth().check_password(
            request.form.get("username", ""), request.form.get("password", ""), request.remote_addr or ""
        )
    except (InvalidCredentialsError, TooManyLoginAttemptsError) as exc:
        key = "login_throttled" if isinstance(exc, TooManyLoginAttemptsError) else "login_failed"
        page = render_template(
            "console/login.html", t=text_for(lang), lang=lang, csrf=csrf_token(), error=text_for(lang)[key]
        )
        return page, 429 if key == "login_throttled" else 401
    start_session(principal)
    session[SESSION_LANG] = lang
    return redirect(url_for("console.page"))


@bp.post("/logout")
def logout() -> BaseResponse:
    check_csrf()
    end_session()
    return redirect(url_for("console.login_form"))


@bp.get("")
@bp.get("/")
def page() -> Any:
    username = session.get(SESSION_USER)
    if not username:
        return redirect(url_for("console.login_form"))
    try:
        who = services.auth().principal_for_username(str(username))
    except NotAuthenticatedError:
        end_session()
        return redirect(url_for("console.login_form"))
    lang = language()
    me = OperatorService(container().sessions).get(who.username)
    dispositions = [(d.code, d.label.get(lang) or d.code) for d in container().hotline.tickets.dispositions]
    return render_template(
        "console/page.html",
        t=text_for(lang),
        lang=lang,
        csrf=csrf_token(),
        me=me,
        who=who,
        dispositions=dispositions,
        reasons=BREAK_REASONS,
        text_json=text_for(lang),
    )
