"""A call leg of the virtual Twilio: a caller's, an operator's (rung by a Dial or for a callback), a callee's.

``gen`` counts the TwiML documents the leg has run: a timer set while running one document is void once the
leg has moved on (a redirect, a push to the bridge), as Twilio abandons a document when the call is redirected.
"""

from __future__ import annotations

import datetime as dt
import itertools
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from email.utils import format_datetime

CALLER, OPERATOR, CALLEE = "caller", "operator", "callee"


@dataclass
class Leg:
    sid: str
    frm: str
    to: str
    kind: str = CALLER
    direction: str = "inbound"
    parent: str = ""
    status_url: str = ""
    operator: str = ""  # an operator's leg: who
    state: str = "new"  # ivr, queue, dial, whisper, talk, ended
    gen: int = 0
    enqueue: ET.Element | None = None
    queue_sid: str = ""
    entered_queue: float = 0.0
    patience_set: bool = False
    dial: ET.Element | None = None
    peer: Leg | None = None
    started: float = 0.0
    seq: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def ended(self) -> bool:
        return self.state == "ended"

    def form(self, status: str = "in-progress") -> dict[str, str]:
        """What Twilio sends about this leg on every request (plus parameters we do not read)."""
        form = {
            "CallSid": self.sid,
            "From": self.frm,
            "To": self.to,
            "CallStatus": "completed" if self.ended else status,
            "Direction": self.direction,
            "ApiVersion": "2010-04-01",
            "FromCountry": "HU",
        }
        if self.parent:
            form["ParentCallSid"] = self.parent
        return form

    def status_form(self, status: str, now: float, duration: float | None = None) -> dict[str, str]:
        when = dt.datetime.fromtimestamp(now, dt.UTC)
        form = {**self.form(), "CallStatus": status, "SequenceNumber": str(next(self.seq)),
                "Timestamp": format_datetime(when)}  # fmt: skip
        if duration is not None:
            form["CallDuration"] = str(int(duration))
        return form
