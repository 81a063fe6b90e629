"""Security headers on every response: each GET route of the app's url_map (pages, API, Twilio, static),
anonymous and as an admin, answers with a CSP that allows no inline script, nosniff, no framing and a
restrictive referrer policy; the console and the lead dashboard keep their own (wider) policies."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from callcenter.bootstrap import Container
from tests.integration.test_security_routes import routes
from tests.support.api import bearer, make_token, seed_operators

REFERRERS = {"no-referrer", "same-origin", "strict-origin"}


def assert_secure(headers, where: str) -> None:
    csp = headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp, where
    assert "'unsafe-inline'" not in csp and "default-src 'self'" in csp, where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("Referrer-Policy") in REFERRERS, where


@pytest.mark.parametrize("backend", ["embedded"], indirect=True)
def test_every_get_route_answers_with_the_security_headers(client: FlaskClient, container: Container, backend) -> None:
    ids = seed_operators(container)
    make_token(container, ids["admin"], "admin-token")
    checked = 0
    for method, path, _rule in routes(client.application):
        if method != "GET" or path == "/lead/stream":  # the stream never ends; its headers come from the same hook
            continue
        for headers in ({}, bearer("admin-token")):
            response = client.get(path, headers=headers)
            assert_secure(response.headers, f"GET {path} -> {response.status_code}")
            response.close()
            checked += 1
    assert checked > 20
    assert_secure(client.get("/no/such/page").headers, "404")


@pytest.mark.parametrize("backend", ["embedded"], indirect=True)
def test_console_and_lead_dashboard_keep_their_own_policies(client: FlaskClient, backend) -> None:
    console = client.get("/console/login").headers["Content-Security-Policy"]
    assert "wss://*.twilio.com" in console and "script-src 'self'" in console
    lead = client.get("/lead").headers["Content-Security-Policy"]
    assert "script-src 'self'" in lead
