"""The virtual Twilio's REST API: the endpoints the channel's ``TwilioRest`` calls, served on 127.0.0.1.

Each request is answered the way Twilio answers it (JSON, 404 for a caller no longer in the queue, 400 for a
call no longer in progress) from the live calls the engine keeps in :class:`Lines`, then handed to the engine
as a :class:`RestRequest` to play out (the caller pushed to the bridge, redirected, an operator rung...).
"""

from __future__ import annotations

import base64
import json
import logging
import queue
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

logger = logging.getLogger(__name__)

PREFIX = r"^/2010-04-01/Accounts/(?P<account>AC\w{32})"
ROUTES = [
    ("POST", re.compile(PREFIX + r"/Queues/(?P<queue>QU\w+)/Members/(?P<call>\w+)\.json$"), "member_update"),
    ("GET", re.compile(PREFIX + r"/Queues/(?P<queue>QU\w+)/Members\.json$"), "members_list"),
    ("POST", re.compile(PREFIX + r"/Queues\.json$"), "queue_create"),
    ("POST", re.compile(PREFIX + r"/Calls/(?P<call>CA\w+)\.json$"), "call_update"),
    ("GET", re.compile(PREFIX + r"/Calls/(?P<call>CA\w+)\.json$"), "call_fetch"),
    ("POST", re.compile(PREFIX + r"/Calls\.json$"), "call_create"),
    ("POST", re.compile(PREFIX + r"/Messages\.json$"), "message_create"),
]


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


@dataclass
class RestRequest:
    """One REST call the channel made, for the engine to play out."""

    kind: str
    params: dict[str, str]
    form: dict[str, str]
    sid: str = ""


@dataclass
class Lines:
    """Which calls are live and who waits in which Twilio queue (the engine's thread writes, the server reads)."""

    live: set[str] = field(default_factory=set)
    in_queue: dict[str, set[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def enter(self, queue_sid: str, sid: str) -> None:
        with self.lock:
            self.in_queue.setdefault(queue_sid, set()).add(sid)

    def leave(self, queue_sid: str, sid: str) -> None:
        with self.lock:
            self.in_queue.get(queue_sid, set()).discard(sid)

    def up(self, sid: str) -> None:
        with self.lock:
            self.live.add(sid)

    def down(self, sid: str) -> None:
        with self.lock:
            self.live.discard(sid)
            for members in self.in_queue.values():
                members.discard(sid)


class VirtualRest:
    """The REST server; requests it accepted wait in ``inbox`` for the engine."""

    def __init__(self, auth: tuple[str, str], lines: Lines, wake: Callable[[], None] = lambda: None):
        self.auth, self.lines, self.wake = auth, lines, wake
        self.inbox: queue.SimpleQueue[RestRequest] = queue.SimpleQueue()
        self._server: BaseWSGIServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> VirtualRest:
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        threading.Thread(target=self._server.serve_forever, name="demo-twilio-rest", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self._answer(Request(environ))(environ, start_response)

    def _answer(self, request: Request) -> Response:
        expected = "Basic " + base64.b64encode(":".join(self.auth).encode()).decode()
        if request.headers.get("Authorization") != expected:
            return _json({"code": 20003, "message": "Authenticate", "status": 401}, 401)
        for method, pattern, kind in ROUTES:
            match = pattern.match(request.path)
            if match and request.method == method:
                return self._handle(kind, match.groupdict(), {k: v for k, v in request.form.items()})
        return _json({"code": 20404, "message": "not found", "status": 404}, 404)

    def _handle(self, kind: str, params: dict[str, str], form: dict[str, str]) -> Response:
        call = params.get("call", "")
        with self.lines.lock:
            in_queue = call in self.lines.in_queue.get(params.get("queue", ""), set())
            live = call in self.lines.live
        if kind == "member_update" and not in_queue:
            return _json({"code": 20404, "message": "member not in queue", "status": 404}, 404)
        if kind == "call_update" and not live:
            return _json({"code": 21220, "message": "call is not in-progress", "status": 400}, 400)
        sid = new_sid("CA") if kind == "call_create" else new_sid("SM") if kind == "message_create" else ""
        if kind in ("member_update", "call_update", "call_create", "message_create"):
            self.inbox.put(RestRequest(kind, params, form, sid))
            self.wake()
        return _json(_body(kind, params, form, sid, live), 201 if kind.endswith("create") else 200)


def _body(kind: str, params: dict[str, str], form: dict[str, str], sid: str, live: bool) -> dict[str, Any]:
    account = params.get("account", "")
    if kind == "members_list":
        return {"queue_members": [], "next_page_uri": None, "page": 0, "page_size": 50, "uri": "/",
                "first_page_uri": "/"}  # fmt: skip
    if kind == "member_update":
        return {"call_sid": params["call"], "queue_sid": params["queue"], "position": 1, "wait_time": 1}
    if kind == "queue_create":
        return {"sid": new_sid("QU"), "friendly_name": form.get("FriendlyName"), "account_sid": account}
    if kind == "message_create":
        return {"sid": sid, "to": form.get("To"), "body": form.get("Body"), "status": "queued", "account_sid": account}
    status = ("in-progress" if live else "completed") if kind == "call_fetch" else "queued"
    return {"sid": params.get("call") or sid, "account_sid": account, "to": form.get("To"),
            "from": form.get("From"), "status": status}  # fmt: skip


def _json(body: dict[str, Any], status: int) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")
