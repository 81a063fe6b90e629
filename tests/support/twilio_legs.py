"""The call legs the Twilio driver plays: each follows the TwiML the app returns, as Twilio would.

``Leg`` is a caller's (or a callback's) leg; ``OperatorLeg`` an operator's softphone or a dialled number rung by
a ``<Dial>``. See :mod:`tests.support.twilio_driver`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import TYPE_CHECKING

from tests.support.twilio_fake import ACCOUNT_SID

if TYPE_CHECKING:
    from tests.support.twilio_driver import TwilioDriver

EXTRA = {"ApiVersion": "2010-04-01", "FromCountry": "HU", "ToCountry": "HU", "AddedByTwilioLater": "yes"}


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


def verbs(reply: Reply) -> list[str]:
    """The verbs of a TwiML reply, nested ones as Parent/Child."""
    out = []
    for verb in reply.root:
        out.append(verb.tag)
        out.extend(f"{verb.tag}/{child.tag}" for child in verb)
    return out
