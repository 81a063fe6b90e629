"""The watchdog's Twilio probe (``calls(sid).fetch()``) against a local stand-in of Twilio's REST API: a final
status is "ended", a live one "live", and anything it cannot be sure of (404, 500, not a call SID) "unknown",
so a misconfiguration can never end calls."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from callcenter.config import TwilioSettings
from webhooks.call_probe import TwilioCallProbe

ACCOUNT = "AC" + "c" * 32
STATUSES = {"CA" + "1" * 32: "completed", "CA" + "2" * 32: "in-progress", "CA" + "3" * 32: "no-answer",
            "CA" + "4" * 32: "ringing"}  # fmt: skip


def twilio(environ: dict[str, Any], start_response: Any) -> Any:
    request = Request(environ)
    sid = request.path.rsplit("/", 1)[-1].removesuffix(".json")
    if sid == "CA" + "5" * 32:
        response = Response("boom", status=500)
    elif sid not in STATUSES:
        body = {"code": 20404, "message": "not found", "status": 404}
        response = Response(json.dumps(body), status=404, mimetype="application/json")
    else:
        body = {"sid": sid, "account_sid": ACCOUNT, "status": STATUSES[sid]}
        response = Response(json.dumps(body), mimetype="application/json")
    return response(environ, start_response)


@pytest.fixture(scope="module")
def probe() -> Iterator[TwilioCallProbe]:
    server = make_server("127.0.0.1", 0, twilio, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings = TwilioSettings(account_sid=ACCOUNT, auth_token="token", api_base_url=f"http://127.0.0.1:{server.port}")
    yield TwilioCallProbe(settings)
    server.shutdown()


@pytest.mark.parametrize(
    ("sid", "live"),
    [("CA" + "1" * 32, False), ("CA" + "3" * 32, False), ("CA" + "2" * 32, True), ("CA" + "4" * 32, True),
     ("CA" + "9" * 32, None), ("CA" + "5" * 32, None), ("sip-call-1", None)],
    ids=["completed", "no-answer", "in-progress", "ringing", "404", "500", "not-twilio"],
)  # fmt: skip
def test_probe_says_ended_only_for_a_final_status(probe: TwilioCallProbe, sid: str, live: bool | None) -> None:
    assert probe.is_live(sid) is live
