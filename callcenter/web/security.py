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


_ITEMS = list(HEADERS.items())
_NAMES = {name.lower() for name in HEADERS}


def add_security_headers(response: Response) -> Response:
    """Every response forbids framing, MIME sniffing, referrers and (unless a page set its own) inline script."""
    headers = response.headers
    present = {name.lower() for name in headers.keys()}  # one pass, instead of a scan per header: every request
    if present.isdisjoint(_NAMES):
        headers.extend(_ITEMS)
    else:
        headers.extend([(name, value) for name, value in _ITEMS if name.lower() not in present])
    return response


def register_security_headers(app: Flask) -> None:
    """Install the hook on ``app`` (application-wide ``after_request`` hooks run after the blueprints')."""
    app.after_request(add_security_headers)
