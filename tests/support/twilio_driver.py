"""A Twilio driver: plays Twilio's part against the app, so whole calls run offline.

It posts signed webhooks shaped like Twilio's, follows the TwiML the app returns (Say/Play/Pause, Gather with
digits or speech or silence, Redirect, Enqueue and its wait loop, Leave, Dial with simulated operators who
answer, decline or never answer, whisper, Record, Hangup), sends status callbacks (in order, held back, out of
order, repeated), runs the app's jobs as a worker would, and plays out the REST calls the jobs made against
the fake Twilio REST server (:mod:`tests.support.twilio_fake`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

from rq import SimpleWorker
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from callcenter.domain.events import CallEvent, EventType
from callcenter.storage.models import CallEventRecord
from tests.support.twilio_fake import ACCOUNT_SID, FakeTwilio, RestRequest

HOTLINE = "+3612345678"
CALLER = "+36301234567"
EXTRA = {"ApiVersion": "2010-04-01", "FromCountry": "HU", "ToCountry": "HU", "AddedByTwilioLater": "yes"}


class Clock:
    """The container's clock, moved by the test."""

    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Reply:
    url: str
    status: int
    body: str

    @property
    def root(self) -> ET.Element:
        return ET.fromstring(self.body)


@dataclass
class Leg:
    """One call leg Twilio would run: the caller's, an operator's, a callback's."""

    driver: TwilioDriver
    sid: str
    frm: str
    to: str
    direction: str = "inbound"
    parent: str = ""
    status_url: str = ""
    state: str = "new"  # gather, queue, dial, bridged, record, ended
    pending: ET.Element | None = None
    rest: list[ET.Element] = field(default_factory=list)
    in_wait: bool = False
    in_whisper: bool = False
    turns: int = 0
    enqueue: ET.Element = field(default_factory=lambda: ET.Element("Enqueue"))
    dial: ET.Element | None = None
    peer: Leg | None = None
    said: list[tuple[str, str, str]] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    seq: itertools.count[int] = field(default_factory=itertools.count)

    # -- what the test does --------------------------------------------------------------------------------
    def press(self, digits: str) -> Leg:
        """Key presses answering the pending Gather (in the IVR, the wait loop, the whisper or the survey)."""
        return self._answer({"Digits": digits})

    def speak(self, text: str, confidence: float = 0.9) -> Leg:
        return self._answer({"SpeechResult": text, "Confidence": str(confidence)})

    def silence(self) -> Leg:
        """Nothing pressed: Twilio goes on with the verbs after the Gather (our Redirect)."""
        assert self.state == "gather" and self.pending is not None, f"{self.sid} is {self.state}, not gathering"
        self.pending = None
        self._continue()
        self.driver.settle()
        return self

    def wait(self, turns: int = 1) -> Leg:
        """More turns of the queue's wait loop (Twilio requests the wait URL each time its TwiML ends)."""
        for _ in range(turns):
            assert self.in_wait, f"{self.sid} is {self.state}, not in a queue"
            self.pending, self.rest = None, []  # a callback-key Gather timed out: the wait TwiML ends
            self._wait_turn()
            self.driver.settle()
        return self

    def hangup(self) -> Leg:
        """The caller (this leg) hangs up, whatever it is doing."""
        state = self.state
        if self.in_wait:
            self._leave_queue()
            self.post(self.enqueue.get("action"), {"QueueResult": "hangup", "QueueTime": "30"}, run=False)
        elif state in ("dial", "bridged") and self.dial is not None:
            ringing = state == "dial"
            if self.peer is not None:
                self.peer.end("canceled" if ringing else "completed")
            self._dial_action("canceled" if ringing else "completed", call_status="completed", run=False)
        self.end("completed")
        self.driver.settle()
        return self

    def operator_hangs_up(self) -> Leg:
        """The bridged operator hangs up: the caller's Dial action runs (the survey)."""
        assert self.state == "bridged" and self.peer is not None, f"{self.sid} is {self.state}"
        self.peer.end("completed")
        self._dial_action("completed")
        self.driver.settle()
        return self

    def leave_message(self, seconds: int = 12) -> Leg:
        """Speak into the pending Record, then the recording callback arrives."""
        assert self.state == "record" and self.pending is not None
        record = self.pending
        advance = getattr(self.driver.container.clock, "advance", None)
        if advance is not None:
            advance(seconds)  # the caller speaks for a while
        rec_sid = self.driver.fake.new_sid("RE")
        url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{rec_sid}"
        self.pending = None
        self.post(record.get("action"), {"RecordingUrl": url, "RecordingDuration": str(seconds), "Digits": "hangup"})
        callback = record.get("recordingStatusCallback")
        if callback:
            self.driver.post(callback, self._recording(rec_sid, url, seconds))
        self.driver.settle()
        return self

    # -- what the test reads -------------------------------------------------------------------------------
    @property
    def last(self) -> Reply:
        return self.replies[-1]

    def texts(self) -> list[str]:
        return [text for text, _, _ in self.said]

    def heard(self, fragment: str) -> bool:
        return any(fragment in text for text in self.texts())

    # -- playing TwiML -------------------------------------------------------------------------------------
    def post(self, url: str | None, extra: dict[str, str] | None = None, run: bool = True) -> Reply:
        assert url, "no URL to request"
        reply = self.driver.post(url, {**self.form(), **(extra or {})})
        self.replies.append(reply)
        assert reply.status == 200, f"{url}: {reply.status} {reply.body}"
        if run:
            self.run(reply.root)
        return reply

    def form(self) -> dict[str, str]:
        status = "completed" if self.state == "ended" else "in-progress"
        form = {
            "CallSid": self.sid,
            "AccountSid": ACCOUNT_SID,
            "From": self.frm,
            "To": self.to,
            "CallStatus": status,
            "Direction": self.direction,
            **EXTRA,
        }
        if self.parent:
            form["ParentCallSid"] = self.parent
        return form

    def run(self, root: ET.Element) -> None:
        self.rest = list(root)
        self._continue()

    def _continue(self) -> None:
        while self.rest and self.state != "ended":
            verb = self.rest.pop(0)
            if self._verb(verb):
                return
        if self.state == "ended":
            return
        if self.in_wait:
            self.state = "queue"  # the wait TwiML ended: Twilio will request the wait URL again
        elif self.in_whisper:
            self.in_whisper = False
            self.state = "bridged"  # the whisper document ended: Twilio bridges the two legs
        elif self.state not in ("queue", "dial", "bridged"):
            self.end("completed")  # a document that ends hangs up the call

    def _verb(self, verb: ET.Element) -> bool:
        """Perform one verb; True when the leg now waits for something."""
        tag = verb.tag
        if tag == "Say":
            self.said.append(((verb.text or "").strip(), verb.get("language", ""), verb.get("voice", "")))
        elif tag == "Play":
            self.said.append((f"<play {verb.text}>", "", ""))
        elif tag == "Pause":
            pass
        elif tag == "Gather":
            for child in verb:
                self._verb(child)
            self.state, self.pending = "gather", verb
            return True
        elif tag == "Redirect":
            self.post(verb.text)
            return True
        elif tag == "Enqueue":
            self._enter_queue(verb)
            return True
        elif tag == "Leave":
            self._leave_queue()
            self.post(self.enqueue.get("action"), {"QueueResult": "leave", "QueueTime": "10"})
            return True
        elif tag == "Dial":
            self._dial(verb)
            return True
        elif tag == "Record":
            self.state, self.pending = "record", verb
            return True
        elif tag == "Hangup":
            self.end("completed")
            return True
        else:
            raise AssertionError(f"unexpected TwiML verb {tag}")
        return False

    def _answer(self, input_: dict[str, str], settle: bool = True) -> Leg:
        assert self.state == "gather" and self.pending is not None, f"{self.sid} is {self.state}, not gathering"
        gather, self.pending = self.pending, None
        self.rest = []
        self.state = "queue" if self.in_wait else "busy"
        self.post(gather.get("action"), input_)
        if settle:
            self.driver.settle()
        return self

    # -- queues --------------------------------------------------------------------------------------------
    def _enter_queue(self, verb: ET.Element) -> None:
        self.enqueue, self.state, self.in_wait, self.turns = verb, "queue", True, 0
        self.queue_sid = self.driver.queue_sid((verb.text or "").strip())
        self.driver.fake.in_queue.setdefault(self.queue_sid, set()).add(self.sid)
        self._wait_turn()

    def _wait_turn(self) -> None:
        members = self.driver.fake.in_queue.get(self.queue_sid, set())
        self.turns += 1
        wait_form = {
            "QueueSid": self.queue_sid,
            "QueuePosition": "1",
            "QueueTime": str(30 * (self.turns - 1)),  # the first turn comes as the caller enters the queue
            "AvgQueueTime": "20",
            "CurrentQueueSize": str(len(members)),
        }
        self.post(self.enqueue.get("waitUrl"), wait_form)

    def _leave_queue(self) -> None:
        self.in_wait = False
        self.driver.fake.in_queue.get(getattr(self, "queue_sid", ""), set()).discard(self.sid)
        self.state = "busy"

    # -- dialling ------------------------------------------------------------------------------------------
    def _dial(self, verb: ET.Element) -> None:
        self.dial, self.state = verb, "dial"
        target = next(iter(verb))
        name = (target.text or "").strip()
        if target.tag == "Client":
            operator = self.driver.operator_leg(name, self, target)
        elif target.tag == "Sip":
            operator = self.driver.operator_leg(name.split(":")[1].split("@")[0], self, target)
        elif target.tag == "Number":
            operator = self.driver.number_leg(name, self, target)
        else:
            raise AssertionError(f"unexpected Dial noun {target.tag}")
        self.peer = operator
        operator.ring()

    def _dial_action(self, dial_status: str, call_status: str = "in-progress", run: bool = True) -> None:
        dial, self.dial = self.dial, None
        peer, self.peer = self.peer, None
        self.state = "busy" if call_status != "completed" else self.state
        if dial is None or not dial.get("action"):
            self._continue()
            return
        extra = {
            "DialCallStatus": dial_status,
            "DialCallSid": peer.sid if peer else "",
            "DialCallDuration": "42",
            "DialBridged": "true" if dial_status == "completed" else "false",
            "CallStatus": call_status,
        }
        self.post(dial.get("action"), extra, run=run)
        recording = dial.get("recordingStatusCallback")
        if recording and dial_status == "completed" and peer is not None and peer.state == "ended":
            rec_sid = self.driver.fake.new_sid("RE")
            url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{rec_sid}"
            self.driver.post(recording, self._recording(rec_sid, url, 42))

    # -- the end -------------------------------------------------------------------------------------------
    def end(self, status: str) -> None:
        if self.state == "ended":
            return
        self.state, self.pending, self.rest = "ended", None, []
        self.driver.fake.live.discard(self.sid)
        self.status(status, CallDuration="60")

    def status(self, status: str, **extra: str) -> None:
        if self.status_url:
            when = dt.datetime.fromtimestamp(self.driver.container.clock(), dt.UTC)
            form = {**self.form(), "CallStatus": status, "SequenceNumber": str(next(self.seq)),
                    "Timestamp": format_datetime(when), **extra}  # fmt: skip
            self.driver.status(self.status_url, form)

    def _recording(self, rec_sid: str, url: str, seconds: int) -> dict[str, str]:
        return {
            "AccountSid": ACCOUNT_SID,
            "CallSid": self.sid,
            "RecordingSid": rec_sid,
            "RecordingUrl": url,
            "RecordingStatus": "completed",
            "RecordingDuration": str(seconds),
            "RecordingChannels": "1",
        }


@dataclass
class OperatorLeg(Leg):
    """An operator's softphone (or a dialled number) rung by a Dial: behaviour answer, decline (in the whisper),
    never (rings until the Dial's timeout), busy, failed, or ring (rings until the test ends the call)."""

    behaviour: str = "answer"
    noun: ET.Element | None = None
    caller: Leg | None = None

    def ring(self) -> None:
        self.status("initiated")
        self.status("ringing")
        caller = self.caller
        assert caller is not None
        if self.behaviour == "ring":
            return  # keeps ringing until the test hangs up the caller
        if self.behaviour in ("never", "busy", "failed"):
            outcome = {"never": "no-answer"}.get(self.behaviour, self.behaviour)
            self.state = "ended"
            self.status(outcome)
            caller._dial_action(outcome)
            return
        self.status("in-progress")
        self.driver.fake.live.add(self.sid)
        whisper = self.noun.get("url") if self.noun is not None else None
        if whisper:
            self.in_whisper = True
            self.post(whisper)
            if self.state == "gather":
                self._answer({"Digits": "1" if self.behaviour == "answer" else "2"}, settle=False)
        if self.state == "ended":
            caller._dial_action(self.driver.declined_dial_status)
            return
        self.state = caller.state = "bridged"


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
        return self.queues.setdefault(name, "QU" + f"{len(self.queues) + 1:032x}")

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


def verbs(reply: Reply) -> list[str]:
    """The verbs of a TwiML reply, nested ones as Parent/Child."""
    out = []
    for verb in reply.root:
        out.append(verb.tag)
        out.extend(f"{verb.tag}/{child.tag}" for child in verb)
    return out


def _event_of(row: CallEventRecord) -> CallEvent:
    return CallEvent(
        id=row.event_id, type=EventType(row.type), ts=row.ts.timestamp(), call_id=row.call_id,
        channel=row.channel, queue=row.queue, operator=row.operator, data=row.data,
    )  # fmt: skip
