"""The REST API: every documented route for every role (table-driven), auth, validation, limits."""

from __future__ import annotations

import pytest

from callcenter.domain.access import SYSTEM
from callcenter.kb import ArticleInput, KbService
from tests.support.api import bearer, make_token, seed_operators
from tests.support.events import answered_call

T0 = 1_800_000_000.0
ROLES = ("anonymous", "operator", "lead", "admin")
WHO = {"operator": "anna", "lead": "csilla", "admin": "admin"}


@pytest.fixture
def world(container, client):
    """anna (operator, first-level) handles ticket 1 (open, no disposition); article 1 is published."""
    ids = seed_operators(container)
    container.acd.sync_config(T0)
    tokens = {role: f"tok-{name}" for role, name in WHO.items()}
    for role, name in WHO.items():
        make_token(container, ids[name], tokens[role])
    spare = make_token(container, ids["bela"], "tok-bela")
    container.journal.append_many(answered_call("c1", T0))
    container.journal_writer.drain_all()
    kb = KbService(container.sessions, container.hotline, container.clock)
    kb.create(SYSTEM, ArticleInput(title="Elfelejtett jelszó", body="Jelszó csere.", status="published"))
    return {"tokens": tokens, "spare_token": spare}


def call(client, world, role: str, method: str, path: str, body=None):
    headers = bearer(world["tokens"][role]) if role != "anonymous" else {}
    path = path.replace("{spare}", str(world["spare_token"]))
    return client.open(path, method=method, json=body, headers=headers)


OK_ALL = {"operator": 200, "lead": 200, "admin": 200}
T = "/api/v1/tickets/1"
# (method, path, body) -> expected status per role; anonymous is 401 everywhere (public routes say otherwise).
MATRIX: list[tuple[str, str, dict | None, dict[str, int]]] = [
    ("GET", "/api/v1/openapi.json", None, {"anonymous": 200, **OK_ALL}),
    ("GET", "/api/v1/auth/tokens", None, OK_ALL),
    ("DELETE", "/api/v1/auth/tokens/{spare}", None, {"operator": 403, "lead": 403, "admin": 204}),
    ("GET", "/api/v1/queues", None, OK_ALL),
    ("GET", "/api/v1/queues/live", None, {"operator": 403, "lead": 200, "admin": 200}),
    ("GET", "/api/v1/operators/me", None, OK_ALL),
    # the demo admin serves no queue, so the ACD does not know them as an operator
    ("POST", "/api/v1/operators/me/state", {"state": "available"}, {"operator": 200, "lead": 200, "admin": 404}),
    ("GET", "/api/v1/operators/me/call", None, OK_ALL),
    ("POST", "/api/v1/operators/me/accept", {"call_id": "no-such-call"}, {r: 404 for r in WHO}),
    ("GET", "/api/v1/operators/me/events?seconds=0", None, OK_ALL),
    ("GET", "/api/v1/operators", None, {"operator": 403, "lead": 200, "admin": 200}),
    (
        "POST",
        "/api/v1/operators/anna/state",
        {"state": "break", "reason": "lunch"},
        {"operator": 403, "lead": 403, "admin": 200},
    ),
    ("GET", "/api/v1/tickets", None, OK_ALL),
    ("GET", "/api/v1/dispositions", None, OK_ALL),
    ("GET", T, None, {"operator": 200, "lead": 403, "admin": 200}),
    ("GET", T + "/history", None, {"operator": 200, "lead": 403, "admin": 200}),
    ("GET", T + "/suggestions", None, {"operator": 200, "lead": 403, "admin": 200}),
    ("POST", T + "/notes", {"text": "hello"}, {"operator": 200, "lead": 403, "admin": 200}),
    ("POST", T + "/resolve", {}, {"operator": 422, "lead": 403, "admin": 422}),
    ("POST", T + "/disposition", {"code": "solved"}, {"operator": 200, "lead": 403, "admin": 200}),
    ("POST", T + "/close", None, {"operator": 409, "lead": 403, "admin": 409}),
    ("POST", T + "/reopen", {"reason": "x"}, {"operator": 409, "lead": 403, "admin": 409}),
    ("POST", T + "/send-back", {"reason": "x"}, {"operator": 409, "lead": 403, "admin": 409}),
    ("POST", T + "/escalate", {"reason": "router"}, {"operator": 200, "lead": 409, "admin": 409}),
    ("GET", "/api/v1/kb/search?q=jelszo", None, OK_ALL),
    ("GET", "/api/v1/kb/articles", None, OK_ALL),
    (
        "POST",
        "/api/v1/kb/articles",
        {"title": "New", "status": "published"},
        {"operator": 403, "lead": 201, "admin": 201},
    ),
    ("GET", "/api/v1/kb/articles/1", None, OK_ALL),
    ("PATCH", "/api/v1/kb/articles/1", {"status": "archived"}, {"operator": 403, "lead": 200, "admin": 200}),
    ("DELETE", "/api/v1/kb/articles/1", None, {"operator": 403, "lead": 403, "admin": 204}),
    ("POST", "/api/v1/kb/articles/from-ticket/1", None, {"operator": 409, "lead": 403, "admin": 409}),
]
# Covered elsewhere in this file (they change the caller's own session or need a call in progress).
SEPARATE = {
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/operators/me/wrap-up-done"),
}


@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_route_answers_each_role_as_specified(client, world, method, path, body, expected):
    expected = {"anonymous": 401, **expected}
    got = {role: call(client, world, role, method, path, body).status_code for role in ROLES}
    assert got == expected


def test_every_documented_route_is_in_the_role_table(client):
    spec = client.get("/api/v1/openapi.json").json
    mine = tuple(
        f"/api/v1/{part}" for part in ("auth", "operators", "tickets", "dispositions", "kb", "queues", "openapi.json")
    )
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops if p.startswith(mine)}
    documented -= {("POST", "/api/v1/operators/me/voice-token")}  # the Twilio channel's, tested there
    tabled = {
        (m, p.split("?")[0].replace("/1", "/{ticket_id}", 1) if "tickets/1" in p else p.split("?")[0])
        for m, p, _, _ in MATRIX
    }
    normalise = {
        "/api/v1/auth/tokens/{spare}": "/api/v1/auth/tokens/{token_id}",
        "/api/v1/kb/articles/1": "/api/v1/kb/articles/{article_id}",
        "/api/v1/kb/articles/from-ticket/1": "/api/v1/kb/articles/from-ticket/{ticket_id}",
        "/api/v1/operators/anna/state": "/api/v1/operators/{username}/state",
    }
    tabled = {(m, normalise.get(p, p)) for m, p in tabled} | SEPARATE
    assert documented - tabled == set()


def test_openapi_document_describes_bodies_roles_and_errors(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.1")
    notes = spec["paths"]["/api/v1/tickets/{ticket_id}/notes"]["post"]
    assert notes["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/NoteIn"}
    assert {"401", "403", "413", "422"} <= set(notes["responses"])
    assert spec["components"]["schemas"]["NoteIn"]["required"] == ["text"]
    assert spec["paths"]["/api/v1/queues/live"]["get"]["x-roles"] == ["lead", "admin"]
    params = {p["name"] for p in spec["paths"]["/api/v1/tickets"]["get"]["parameters"]}
    assert {"status", "page", "per_page", "caller"} <= params


def test_bad_body_is_422_naming_the_field(client, world):
    answer = call(client, world, "operator", "POST", T + "/notes", {"txt": "hello"})
    assert answer.status_code == 422
    assert {e["field"] for e in answer.json["errors"]} == {"text", "txt"}
    answer = call(client, world, "operator", "GET", "/api/v1/tickets?per_page=1000", None)
    assert answer.status_code == 422 and answer.json["errors"][0]["field"] == "per_page"


def test_unknown_ids_are_404(client, world):
    assert call(client, world, "admin", "GET", "/api/v1/tickets/999", None).status_code == 404
    assert call(client, world, "admin", "GET", "/api/v1/kb/articles/999", None).status_code == 404
    assert (
        call(client, world, "admin", "POST", "/api/v1/operators/nobody/state", {"state": "offline"}).status_code == 404
    )


def test_illegal_transition_is_409_with_the_reason(client, world):
    answer = call(client, world, "operator", "POST", T + "/close", None)
    assert answer.status_code == 409 and "cannot close a ticket that is open" in answer.json["detail"]


def test_oversized_body_is_413(client, world):
    answer = call(client, world, "operator", "POST", T + "/notes", {"text": "x" * (2 * 1024 * 1024)})
    assert answer.status_code == 413


def test_ticket_list_filters_and_pages(client, world, container):
    container.journal.append_many(answered_call("c2", T0, operator="anna") + answered_call("c3", T0 + 30 * 86400))
    container.journal_writer.drain_all()
    page = call(client, world, "admin", "GET", "/api/v1/tickets?per_page=1&page=2", None).json
    assert (page["total"], page["page"], len(page["items"])) == (2, 2, 1)
    mine = call(client, world, "operator", "GET", "/api/v1/tickets?status=open,new", None).json
    assert mine["total"] == 2 and {t["operator"] for t in mine["items"]} == {"anna"}


def test_login_gives_a_token_that_logout_revokes(container, client):
    seed_operators(container, passwords={"anna": "demo-anna"})
    answer = client.post("/api/v1/auth/login", json={"username": "anna", "password": "demo-anna"})
    assert answer.status_code == 200 and answer.json["operator"]["role"] == "operator"
    token = answer.json["token"]
    assert client.get("/api/v1/operators/me", headers=bearer(token)).json["username"] == "anna"
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 204
    answer = client.get("/api/v1/operators/me", headers=bearer(token))
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_tokens_are_stored_hashed(container, client):
    from callcenter.storage.models import ApiToken

    seed_operators(container, passwords={"anna": "demo-anna"})
    token = client.post("/api/v1/auth/login", json={"username": "anna", "password": "demo-anna"}).json["token"]
    with container.sessions() as session:
        stored = [row.token_hash for row in session.query(ApiToken)]
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64


def test_failed_logins_are_throttled_per_username_and_address(container, client):
    seed_operators(container, passwords={"anna": "demo-anna"})
    for _ in range(5):
        assert client.post("/api/v1/auth/login", json={"username": "anna", "password": "wrong"}).status_code == 401
    answer = client.post("/api/v1/auth/login", json={"username": "anna", "password": "demo-anna"})
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) > 0
    other = client.post(
        "/api/v1/auth/login",
        json={"username": "anna", "password": "demo-anna"},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert other.status_code == 200


def test_wrap_up_needs_a_disposition_on_the_calls_ticket(client, world, container):
    from callcenter.web.app import create_app  # noqa: F401 - the app fixture is already built

    answer = client.post("/api/v1/operators/me/wrap-up-done?call_id=c1", headers=bearer(world["tokens"]["operator"]))
    assert answer.status_code == 422 and "disposition" in answer.json["detail"]


def test_console_session_calls_the_api_only_with_its_csrf_token(container, client):
    import re

    seed_operators(container, passwords={"anna": "demo-anna"})
    container.acd.sync_config(T0)
    page = client.get("/console/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert (
        client.post(
            "/console/login", data={"username": "anna", "password": "demo-anna", "csrf_token": csrf}
        ).status_code
        == 302
    )
    page = client.get("/console").get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert client.get("/api/v1/operators/me").json["username"] == "anna"
    body = {"state": "available"}
    assert client.post("/api/v1/operators/me/state", json=body).status_code == 403
    assert client.post("/api/v1/operators/me/state", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.post("/api/v1/operators/me/state", json=body, headers={"X-CSRF-Token": csrf}).json["state"] == (
        "available"
    )


def test_escalating_through_the_api_moves_a_caller_still_on_the_line(client, world, container):
    moved: list[tuple[str, str]] = []

    class Transfer:
        def transfer_to_queue(self, call_id: str, queue: str, reason: str) -> bool:
            moved.append((call_id, queue))
            return True

    container.journal.append_many(answered_call("live", T0 + 30 * 86400)[:5])  # connected, not ended
    container.journal_writer.drain_all()
    container.call_transfer = Transfer()  # what the Twilio channel wires when it starts
    ticket = call(client, world, "operator", "GET", "/api/v1/tickets?status=open", None).json["items"][0]
    assert ticket["last_call_id"] == "live"
    answer = call(client, world, "operator", "POST", f"/api/v1/tickets/{ticket['id']}/escalate", {"reason": "router"})
    assert answer.status_code == 200 and moved == [("live", "level2")]
