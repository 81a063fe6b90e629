"""The operator console end to end in headless Chromium: log in, go available, a call is offered by the real
ACD, the card appears, notes, knowledge-base search, disposition, resolve, wrap-up; the ticket in SQL matches.
Screenshots go to test-artifacts/console/."""

from __future__ import annotations

import re
import shutil
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from callcenter.domain.access import SYSTEM
from callcenter.domain.events import EventType
from callcenter.kb import ArticleInput, KbService
from callcenter.storage.models import Call, Ticket
from tests.support.api import seed_operators
from tests.support.events import event

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
CALLER = "+36301112233"
UNLABELLED = (
    "[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]"
    ".filter((e) => !e.labels.length).map((e) => e.id)"
)


@pytest.fixture
def server(app, container):
    """The app on a real socket, with the journal drained continuously (as `callcenter serve` does)."""
    http = make_server("127.0.0.1", 0, app, threaded=True)
    stop = threading.Event()
    threads = [
        threading.Thread(target=http.serve_forever, daemon=True),
        threading.Thread(target=_drain, args=(container, stop), daemon=True),
    ]
    for thread in threads:
        thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    stop.set()
    http.shutdown()
    for thread in threads:
        thread.join(timeout=5)


def _drain(container, stop: threading.Event) -> None:
    container.journal.ensure_group()
    container.journal_writer.run(stop.is_set, idle_block_ms=None, max_backoff=0.2)


@pytest.fixture
def browser_page():
    if shutil.which(CHROMIUM) is None:
        pytest.skip("no Debian chromium")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page, errors
        browser.close()


@pytest.mark.parametrize("backend", ["embedded"], indirect=True)
def test_operator_takes_a_call_and_resolves_its_ticket_in_the_browser(server, browser_page, container, backend):
    from playwright.sync_api import expect

    page, errors = browser_page
    seed_operators(container, passwords={"anna": "demo-anna"})
    container.acd.sync_config(time.time())
    kb = KbService(container.sessions, container.hotline, container.clock)
    solver = kb.create(
        SYSTEM, ArticleInput(title="Elfelejtett jelszó", body="A jelszó cseréje az ügyfélkapun.", status="published")
    )
    kb.create(
        SYSTEM,
        ArticleInput(title="Router", body="<script>window.__xss = 1</script> router újraindítás", status="published"),
    )

    page.goto(server + "/console/login?lang=en")
    page.get_by_label("Username").fill("anna")
    page.get_by_label("Password").fill("demo-anna")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("#state[data-state='offline']")
    assert page.evaluate(UNLABELLED) == []
    page.get_by_role("button", name="Available").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#state[data-state='available']")
    page.screenshot(path=str(ARTIFACTS / "1-available.png"))

    call_id = "browser-call-1"
    now = time.time()
    container.journal.append_many(
        [
            event(
                EventType.CALL_STARTED, call_id, now - 40, channel="twilio", data={"from": CALLER, "to": "+3612345678"}
            ),
            event(
                EventType.IVR_INPUT,
                call_id,
                now - 30,
                channel="twilio",
                data={"node": "main", "input": "2", "topic": "internet", "language": "hu"},
            ),
        ]
    )
    container.acd.enqueue(call_id, "general", now - 25, channel="twilio", caller=CALLER, language="hu")
    offers = container.acd.offer(now)
    assert [(o.call_id, o.operator) for o in offers] == [(call_id, "anna")]

    page.wait_for_selector("#call-card:not([hidden])")
    expect(page.locator("#card-caller")).to_have_text(CALLER)
    page.wait_for_selector("#accept:not([hidden])")
    expect(page.locator("#ticket-id")).to_have_text(re.compile(r"^#\d+$"))
    expect(page.locator("#card-ivr")).to_have_text("main:2")
    page.screenshot(path=str(ARTIFACTS / "2-call-card.png"))
    page.get_by_role("button", name="Accept call").click()
    page.wait_for_selector("#state[data-state='on_call']")

    note = "<img src=x onerror=window.__xss=2> Elfelejtett jelszó, ügyfélkapu"
    page.get_by_label("New note").fill(note)
    page.get_by_role("button", name="Save note").click()
    expect(page.locator("#ticket-notes")).to_contain_text(note)
    assert page.locator("#ticket-notes img").count() == 0

    page.get_by_label("Search the knowledge base").fill("jelszo")
    page.keyboard.press("Enter")
    results = page.locator("#kb-results li")
    results.first.wait_for()
    assert results.first.locator("strong").inner_text() == "Elfelejtett jelszó"
    assert results.first.locator("mark").count() >= 1
    results.first.get_by_role("button", name="This solved it").click()
    page.get_by_label("Search the knowledge base").fill("router")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("#kb-results")).to_contain_text("Router")
    assert page.locator("#kb-results script").count() == 0
    page.screenshot(path=str(ARTIFACTS / "3-notes-and-kb.png"))

    page.get_by_label("Disposition").select_option("solved")
    page.get_by_role("button", name="Save disposition").click()
    expect(page.locator("#message")).to_have_text("Saved.")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#ticket-status")).to_have_text("resolved")

    container.acd.hangup(call_id, time.time(), by="caller")
    page.wait_for_selector("#state[data-state='wrap_up']")
    page.wait_for_selector("#wrap-up:not([hidden])")
    page.screenshot(path=str(ARTIFACTS / "4-wrap-up.png"))
    page.get_by_role("button", name="Finish wrap-up").click()
    page.wait_for_selector("#state[data-state='available']")

    assert page.evaluate("window.__xss") is None and errors == []
    with container.sessions() as session:
        ticket = session.get(Ticket, session.get(Call, call_id).ticket_id)
        assert (ticket.status, ticket.disposition, ticket.operator, ticket.caller) == (
            "resolved",
            "solved",
            "anna",
            CALLER,
        )
        assert note in ticket.notes and ticket.solved_by_article_id == solver.id and ticket.topic == "internet"


@pytest.mark.parametrize("backend", ["embedded"], indirect=True)
def test_console_speaks_hungarian_and_refuses_a_login_without_csrf(server, browser_page, client, container, backend):
    page, _ = browser_page
    page.goto(server + "/console/login")
    assert page.title() == "Operátori konzol"
    assert page.get_by_label("Felhasználónév").is_visible()
    page.screenshot(path=str(ARTIFACTS / "0-login-hu.png"))
    assert client.post("/console/login", data={"username": "anna", "password": "x"}).status_code == 403


@pytest.mark.parametrize("backend", ["embedded"], indirect=True)
def test_second_level_opens_an_escalated_ticket_from_the_worklist_and_sends_it_back(
    server, browser_page, container, backend
):
    from playwright.sync_api import expect

    from callcenter.domain.access import Principal
    from callcenter.ticket_views import TicketFilter
    from callcenter.tickets import TicketService
    from tests.support.events import answered_call

    page, errors = browser_page
    seed_operators(container, passwords={"csilla": "demo-csilla"})
    container.journal.append_many(answered_call("esc-1", time.time() - 600))
    container.journal_writer.drain_all()
    tickets = TicketService(container.sessions, container.hotline, container.clock)
    anna = Principal("anna", "operator", "first-level", ("general",))
    ticket = tickets.find(SYSTEM, TicketFilter()).items[0]
    tickets.escalate(anna, ticket.id, "<b>router</b> needs a technician")

    page.goto(server + "/console/login?lang=en")
    page.get_by_label("Username").fill("csilla")
    page.get_by_label("Password").fill("demo-csilla")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name=f"Open #{ticket.id}").click()
    expect(page.locator("#ticket-status")).to_have_text("escalated")
    expect(page.locator("#ticket-escalation")).to_have_text("<b>router</b> needs a technician")
    page.get_by_label("Escalation reason").fill("customer's own router")
    page.get_by_role("button", name="Send back to first level").click()
    expect(page.locator("#ticket-status")).to_have_text("open")
    expect(page.locator("#worklist")).not_to_contain_text(f"#{ticket.id} escalated")
    page.screenshot(path=str(ARTIFACTS / "5-second-level.png"))
    assert errors == []
    assert tickets.get(SYSTEM, ticket.id).assigned_group == "first-level"


@pytest.mark.parametrize("backend", ["embedded"], indirect=True)
def test_caller_name_with_markup_is_shown_as_text_on_the_call_card(server, browser_page, container, backend):
    from playwright.sync_api import expect

    page, errors = browser_page
    seed_operators(container, passwords={"anna": "demo-anna"})
    container.acd.sync_config(time.time())
    page.goto(server + "/console/login?lang=en")
    page.get_by_label("Username").fill("anna")
    page.get_by_label("Password").fill("demo-anna")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Available").click()
    page.wait_for_selector("#state[data-state='available']")

    name = "<script>window.__xss=1</script><img src=x onerror=window.__xss=2>"
    now = time.time()
    container.journal.append_many(
        [event(EventType.CALL_STARTED, "xss-1", now - 5, channel="twilio", data={"from": CALLER, "caller_name": name})]
    )
    container.acd.enqueue("xss-1", "general", now - 4, channel="twilio", caller=CALLER, language="hu")
    container.acd.offer(now)

    page.wait_for_selector("#call-card:not([hidden])")
    expect(page.locator("#card-caller-name")).to_have_text(name)
    assert page.locator("#call-card img, #call-card script").count() == 0
    assert page.evaluate("window.__xss") is None and errors == []
