"""The lead dashboard in headless Chromium: numbers change within a second as simulated calls arrive and are
answered through the real ACD and journal. Screenshots go to test-artifacts/."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from callcenter.bootstrap import Container
from callcenter.web.auth import SESSION_CSRF, SESSION_USER
from tests.support.api import seed_operators

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["embedded"], indirect=True)]


@pytest.fixture
def server(app: Any, container: Container) -> Iterator[str]:
    """The app on a real port (threaded, so the event stream and the page load side by side)."""
    seed_operators(container)
    container.acd.sync_config(time.time())
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    publisher = app.extensions.get("callcenter.lead_publisher")
    if publisher is not None:
        publisher.stop()


@pytest.fixture
def page(server: str, app: Any) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    cookie = app.session_interface.get_signing_serializer(app).dumps({SESSION_USER: "csilla", SESSION_CSRF: "t"})
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 1400})
        context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": server}])
        tab = context.new_page()
        tab.goto(f"{server}/lead")
        yield tab
        browser.close()


def cell(page: Any, queue: str, key: str) -> str:
    return str(page.inner_text(f'#queues tr[data-queue="{queue}"] td[data-k="{key}"]')).strip()


def wait_for(page: Any, selector: str, text: str, timeout_ms: int = 1000) -> float:
    """Seconds until the element at ``selector`` reads ``text`` (fails after ``timeout_ms``)."""
    started = time.monotonic()
    page.wait_for_function(
        "([sel, text]) => { const el = document.querySelector(sel); return el && el.innerText.trim() === text; }",
        arg=[selector, text],
        timeout=timeout_ms,
    )
    return time.monotonic() - started


def test_dashboard_follows_calls_arriving_and_being_answered(page: Any, container: Container) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    acd, now = container.acd, time.time
    waiting = '#queues tr[data-queue="general"] td[data-k="waiting"]'
    assert cell(page, "general", "waiting") == "0"
    page.wait_for_function("() => document.getElementById('status').dataset.generated > 0", timeout=3000)
    acd.login("anna", now())
    acd.enqueue("c1", "general", now(), channel="twilio", caller="+3611")
    acd.enqueue("c2", "general", now(), channel="twilio", caller="+3622")
    assert wait_for(page, waiting, "2") < 1.0
    page.screenshot(path=str(ARTIFACTS / "lead-dashboard-waiting.png"), full_page=True)

    acd.offer(now())
    acd.accept("c1", "anna", now())
    assert wait_for(page, waiting, "1") < 1.0
    assert wait_for(page, '#operators tr[data-operator="anna"] td[data-k="state"] .st', "on call") < 1.0
    container.journal_writer.drain_all()
    assert wait_for(page, '#queues tr[data-queue="general"] td[data-k="answered"]', "1") < 1.0
    acd.abandon("c2", now())
    container.journal_writer.drain_all()
    assert wait_for(page, '#queues tr[data-queue="general"] td[data-k="abandonment_rate"]', "50.0%") < 1.0
    assert cell(page, "general", "waiting") == "0"
    assert cell(page, "general", "answer_rate") == "50.0%"
    assert page.inner_text('#totals b[data-k="offered"]') == "2"
    page.screenshot(path=str(ARTIFACTS / "lead-dashboard-answered.png"), full_page=True)


def test_dashboard_raises_alert_when_a_caller_waits_past_the_limit(page: Any, container: Container) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    container.acd.login("anna", time.time() - 300)
    container.acd.set_state("anna", "break", time.time() - 300, reason="lunch")  # staffed, so callers queue
    container.acd.enqueue("c9", "general", time.time() - 200, channel="twilio", caller="+3699")
    page.wait_for_selector('#alerts li.long_wait[data-queue="general"]', timeout=2000)
    assert "waited" in page.inner_text('#alerts li[data-queue="general"]')
    page.screenshot(path=str(ARTIFACTS / "lead-dashboard-alert.png"), full_page=True)
