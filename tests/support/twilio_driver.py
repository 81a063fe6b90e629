"""A Twilio driver: plays Twilio's part against the app, so whole calls run offline.

It posts signed webhooks shaped like Twilio's, follows the TwiML the app returns (Say/Play/Pause, Gather with
digits or speech or silence, Redirect, Enqueue and its wait loop, Leave, Dial with simulated operators who
answer, decline or never answer, whisper, Record, Hangup), sends status callbacks (in order, held back, out of
order, repeated), runs the app's jobs as a worker would, and plays out the REST calls the jobs made against
the fake Twilio REST server (:mod:`tests.support.twilio_fake`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from rq import SimpleWorker
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from callcenter.domain.events import CallEvent, EventType
from callcenter.storage.models import CallEventRecord
from tests.support.twilio_fake import FakeTwilio, RestRequest
from tests.support.twilio_legs import Leg, OperatorLeg, Reply, verbs

__all__ = ["CALLER", "HOTLINE", "Clock", "Leg", "OperatorLeg", "Reply", "TwilioDriver", "verbs"]

HOTLINE = "+3612345678"
CALLER = "+36301234567"


class Clock:
    """The container's clock, moved by the test."""

    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class TwilioDriver:
    """Plays Twilio against the Flask test client of the app; see the module docstring."""

    def __init__(self, client: Any, container: Any, fake: FakeTwilio, auth_token: str, base_url: str):
        self.client, self.container, self.fake = client, container, fake
        self.validator = RequestValidator(auth_token)
        self.base_url = base_url.rstrip("/")
        self.behaviour: dict[str, str] = {}
        self.legs: dict[str, Leg] = {}
        self.queues: dict[str, str] = {}
        self.sms: list[RestRequest] = []
        self.hold_status = False
        self.held: list[tuple[str, dict[str, str]]] = []
        self.declined_dial_status = "completed"
        self.caller_status_url = base_url.rstrip("/") + "/twilio/status"

    # -- requests ------------------------------------------------------------------------------------------
    def post(self, url: str, form: dict[str, str], signature: str | None = None) -> Reply:
        """A signed POST to one of the app's URLs, exactly as Twilio signs it."""
        if url.startswith("/"):
            url = self.base_url + url
        assert url.startswith(self.base_url), f"{url} is not the app's public URL"
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        sig = self.validator.compute_signature(url, form) if signature is None else signature
        response = self.client.post(path, data=form, headers={"X-Twilio-Signature": sig})
        return Reply(url, response.status_code, response.get_data(as_text=True))

    def status(self, url: str, form: dict[str, str]) -> None:
        if self.hold_status:
            self.held.append((url, form))
            return
        reply = self.post(url, form)
        assert reply.status == 204, f"status callback: {reply.status} {reply.body}"

    def release_status(self, order: Iterable[int] | None = None, repeat: int = 1) -> None:
        """Deliver held status callbacks (in ``order`` of their indexes, each ``repeat`` times)."""
        held, self.held, self.hold_status = self.held, [], False
        for index in order if order is not None else range(len(held)):
            for _ in range(repeat):
                self.status(*held[index])
        self.settle()

    # -- calls ---------------------------------------------------------------------------------------------
    def call(self, frm: str = CALLER, to: str = HOTLINE, caller_name: str = "") -> Leg:
        """A call comes in: /twilio/voice, then its TwiML is followed until it waits for the caller."""
        leg = Leg(self, self.fake.new_sid("CA"), frm, to, status_url=self.caller_status_url)
        self.legs[leg.sid] = leg
        self.fake.live.add(leg.sid)
        leg.status("ringing")
        extra = {"CallerName": caller_name} if caller_name else {}
        leg.post(self.base_url + "/twilio/voice", {"CallStatus": "ringing", **extra})
        self.settle()
        return leg

    def operator_leg(self, operator: str, caller: Leg, noun: ET.Element) -> OperatorLeg:
        leg = OperatorLeg(
            self,
            self.fake.new_sid("CA"),
            caller.frm,
            f"client:{operator}",
            direction="outbound-dial",
            parent=caller.sid,
            status_url=noun.get("statusCallback", ""),
            behaviour=self.behaviour.get(operator, "answer"),
            noun=noun,
            caller=caller,
        )
        self.legs[leg.sid] = leg
        return leg

    def number_leg(self, number: str, caller: Leg, noun: ET.Element) -> OperatorLeg:
        leg = OperatorLeg(
            self,
            self.fake.new_sid("CA"),
            caller.frm,
            number,
            direction="outbound-dial",
            parent=caller.sid,
            status_url=noun.get("statusCallback", ""),
            behaviour=self.behaviour.get(number, "answer"),
            noun=None,
            caller=caller,
        )
        self.legs[leg.sid] = leg
        return leg

    def queue_sid(self, name: str) -> str:
        sid = self.queues.setdefault(name, "QU" + f"{len(self.queues) + 1:032x}")
        self.fake.queue_names[name] = sid
        return sid

    # -- jobs and REST -------------------------------------------------------------------------------------
    def tick(self) -> None:
        """What the periodic dispatcher run does (embedded thread / worker): tick and offer, then play it out."""
        self.container.jobs.enqueue("webhooks.jobs.dispatch", self.container.keys.tag)
        self.settle()

    def events(self, call_id: str | None = None) -> list[CallEvent]:
        """The journal, optionally of one call: what was drained into SQL, then what still waits in Redis."""
        with self.container.sessions() as session:
            query = select(CallEventRecord).order_by(CallEventRecord.id)
            if call_id is not None:
                query = query.where(CallEventRecord.call_id == call_id)
            stored = [_event_of(row) for row in session.scalars(query)]
        entries = self.container.redis.live.xrange(self.container.keys.journal)
        pending = [CallEvent.from_fields(fields) for _, fields in entries]
        seen = {e.id for e in stored}
        return stored + [e for e in pending if (call_id is None or e.call_id == call_id) and e.id not in seen]

    def types(self, call_id: str) -> list[str]:
        return [e.type.value for e in self.events(call_id)]

    def run_jobs(self) -> None:
        queue = self.container.jobs.queue
        if queue.count:
            SimpleWorker([queue], connection=self.container.redis.raw).work(burst=True, logging_level="WARNING")

    def settle(self, rounds: int = 20) -> None:
        """Run the app's jobs and play out the REST calls they made, until nothing more happens."""
        for _ in range(rounds):
            self.run_jobs()
            requests = self.fake.take()
            if not requests:
                return
            for request in requests:
                self._play(request)
        raise AssertionError("the app keeps making REST calls")

    def _play(self, request: RestRequest) -> None:
        form = request.form
        if request.kind == "member_update":
            leg = self.legs[request.params["call"]]
            leg._leave_queue()
            leg.post(form["Url"])
        elif request.kind == "call_update":
            self._update(self.legs[request.params["call"]], form)
        elif request.kind == "call_create":
            self._create(request)
        elif request.kind == "message_create":
            self.sms.append(request)

    def _update(self, leg: Leg, form: dict[str, Any]) -> None:
        if form.get("Status") == "completed":
            leg.end("completed")
            return
        if leg.state == "queue":
            leg._leave_queue()
        if leg.peer is not None:  # a redirect ends the Dial without its action
            leg.peer.end("completed")
            leg.peer, leg.dial = None, None
        leg.state = "busy"
        leg.post(form["Url"])

    def _create(self, request: RestRequest) -> None:
        form = request.form
        to = str(form["To"])
        operator = to.removeprefix("client:")
        leg = Leg(
            self,
            request.sid,
            str(form.get("From", "")),
            to,
            direction="outbound-api",
            status_url=str(form.get("StatusCallback", "")),
        )
        self.legs[leg.sid] = leg
        behaviour = self.behaviour.get(operator, "answer")
        leg.status("initiated")
        leg.status("ringing")
        if behaviour == "never":
            leg.state = "ended"
            leg.status("no-answer")
            return
        self.fake.live.add(leg.sid)
        leg.status("in-progress")
        leg.post(str(form["Url"]))
        if leg.state == "gather":
            leg._answer({"Digits": "1" if behaviour == "answer" else "2"}, settle=False)

    def by_number(self, number: str) -> list[Leg]:
        return [leg for leg in self.legs.values() if leg.to == number or leg.frm == number]


def _event_of(row: CallEventRecord) -> CallEvent:
    return CallEvent(
        id=row.event_id, type=EventType(row.type), ts=row.ts.timestamp(), call_id=row.call_id,
        channel=row.channel, queue=row.queue, operator=row.operator, data=row.data,
    )  # fmt: skip
