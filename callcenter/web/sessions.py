"""Flask's signed-cookie session, with no work for the requests that carry no cookie and leave the session alone.

Twilio's webhooks (and most API calls) never send a cookie; Flask would still build an itsdangerous serializer to
open an empty session and look up five cookie settings to save it. The answers are the same: an empty session,
and nothing written back.
"""

from __future__ import annotations

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin


class LazyCookieSessionInterface(SecureCookieSessionInterface):
    """``SecureCookieSessionInterface`` that skips the serializer when there is no cookie to read or write."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.environ.get("HTTP_COOKIE"):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.accessed and not session.modified:
            return  # Flask would neither add "Vary: Cookie" nor set or delete a cookie
        super().save_session(app, session, response)
