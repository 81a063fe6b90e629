"""Security headers on every response of the app: pages, the API, Twilio webhooks and static files.

A blueprint that needs a wider policy (the console loads the Twilio Voice SDK and talks to Twilio) sets its own
first in its ``after_request``; this hook runs after the blueprints' and only fills in what is missing.
"""

from __future__ import annotations

from flask import Flask, Response

DEFAULT_CSP = "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
HEADERS = {
    "Content-Security-Policy": DEFAULT_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def add_security_headers(response: Response) -> Response:
    """Every response forbids framing, MIME sniffing, referrers and (unless a page set its own) inline script."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def register_security_headers(app: Flask) -> None:
    """Install the hook on ``app`` (application-wide ``after_request`` hooks run after the blueprints')."""
    app.after_request(add_security_headers)
