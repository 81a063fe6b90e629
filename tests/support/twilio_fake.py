"""A fake of the Twilio REST endpoints the channel calls, served on 127.0.0.1 for twilio-python.

It answers like Twilio (JSON bodies, 404 for a call that is not in the queue or not live) and records every
request; the Twilio driver then plays out what each request means (a caller pushed to the bridge...).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

ACCOUNT_SID = "AC" + "a" * 32
PREFIX = r"^/2010-04-01/Accounts/(?P<account>AC\w{32})"
ROUTES = [
    ("POST", re.compile(PREFIX + r"/Queues/(?P<queue>QU\w+)/Members/(?P<call>\w+)\.json$"), "member_update"),
    ("GET", re.compile(PREFIX + r"/Queues/(?P<queue>QU\w+)/Members\.json$"), "members_list"),
    ("POST", re.compile(PREFIX + r"/Queues\.json$"), "queue_create"),
    ("GET", re.compile(PREFIX + r"/Queues\.json$"), "queue_list"),
    ("POST", re.compile(PREFIX + r"/Calls/(?P<call>CA\w+)\.json$"), "call_update"),
    ("GET", re.compile(PREFIX + r"/Calls/(?P<call>CA\w+)\.json$"), "call_fetch"),
    ("POST", re.compile(PREFIX + r"/Calls\.json$"), "call_create"),
    ("POST", re.compile(PREFIX + r"/Messages\.json$"), "message_create"),
]


@dataclass
class RestRequest:
    """One REST call the channel made."""

    kind: str
    path: str
    params: dict[str, str]
    form: dict[str, Any]
    sid: str = ""


@dataclass
class FakeTwilio:
    """The fake server's state; ``in_queue`` and ``live`` are kept by the driver (which plays the calls)."""

    auth: tuple[str, str]
    in_queue: dict[str, set[str]] = field(default_factory=dict)
    queue_names: dict[str, str] = field(default_factory=dict)  # friendly name -> QU sid
    live: set[str] = field(default_factory=set)
    requests: list[RestRequest] = field(default_factory=list)
    pending: list[RestRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    base_url: str = ""
    _server: Any = None

    def start(self) -> FakeTwilio:
        self._server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()

    def take(self) -> list[RestRequest]:
        """Requests not yet played out by the driver."""
        with self.lock:
            taken, self.pending = self.pending, []
        return taken

    def of_kind(self, kind: str) -> list[RestRequest]:
        return [r for r in self.requests if r.kind == kind]

    def new_sid(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):032x}"

    # -- WSGI ----------------------------------------------------------------------------------------------
    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        return self._answer(request)(environ, start_response)

    def _answer(self, request: Request) -> Response:
        if not self._authorised(request):
            return _json({"code": 20003, "message": "Authenticate", "status": 401}, 401)
        for method, pattern, kind in ROUTES:
            match = pattern.match(request.path)
            if match and request.method == method:
                return self._handle(kind, request, match.groupdict())
        return _json({"code": 20404, "message": "not found", "status": 404}, 404)

    def _authorised(self, request: Request) -> bool:
        expected = "Basic " + base64.b64encode(":".join(self.auth).encode()).decode()
        return request.headers.get("Authorization") == expected

    def _handle(self, kind: str, request: Request, params: dict[str, str]) -> Response:
        form = {k: (v if len(v) > 1 else v[0]) for k, v in request.form.lists()}
        if kind in ("queue_list", "members_list"):
            with self.lock:
                return _json(self._listing(kind, params), 200)
        if kind == "call_fetch":
            form["_status"] = "in-progress" if params["call"] in self.live else "completed"
        with self.lock:
            refused = self._refused(kind, params)
            if refused:
                return refused
            sid = (
                self.new_sid("CA") if kind == "call_create" else self.new_sid("SM") if kind == "message_create" else ""
            )
            recorded = RestRequest(kind, request.path, params, form, sid)
            self.requests.append(recorded)
            self.pending.append(recorded)
        return _json(_body(kind, params, form, sid), 201 if kind.endswith("create") else 200)

    def _listing(self, kind: str, params: dict[str, str]) -> dict[str, Any]:
        page = {"next_page_uri": None, "page": 0, "page_size": 50, "uri": "/", "first_page_uri": "/"}
        if kind == "queue_list":
            queues = [{"sid": sid, "friendly_name": name} for name, sid in self.queue_names.items()]
            return {"queues": queues, **page}
        members = sorted(self.in_queue.get(params["queue"], set()))
        rows = [{"call_sid": sid, "queue_sid": params["queue"], "position": i + 1, "wait_time": 0}
                for i, sid in enumerate(members)]  # fmt: skip
        return {"queue_members": rows, **page}

    def _refused(self, kind: str, params: dict[str, str]) -> Response | None:
        if kind == "member_update" and params["call"] not in self.in_queue.get(params["queue"], set()):
            return _json({"code": 20404, "message": "member not in queue", "status": 404}, 404)
        if kind == "call_update" and params["call"] not in self.live:
            return _json({"code": 21220, "message": "call is not in-progress", "status": 400}, 400)
        return None


def _body(kind: str, params: dict[str, str], form: dict[str, Any], sid: str) -> dict[str, Any]:
    account = params.get("account", ACCOUNT_SID)
    if kind == "member_update":
        return {"call_sid": params["call"], "queue_sid": params["queue"], "position": 1, "wait_time": 1}
    if kind == "queue_create":
        return {"sid": "QU" + "b" * 32, "friendly_name": form.get("FriendlyName"), "account_sid": account}
    if kind == "message_create":
        return {"sid": sid, "to": form.get("To"), "body": form.get("Body"), "status": "queued", "account_sid": account}
    call = params.get("call") or sid
    status = "queued" if kind != "call_fetch" else form.get("_status", "completed")
    return {"sid": call, "account_sid": account, "to": form.get("To"), "from": form.get("From"), "status": status}


def _json(body: dict[str, Any], status: int) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")
