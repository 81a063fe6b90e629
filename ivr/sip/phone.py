"""pyVoIP 1.6.8 behind our ``Phone``/``Leg`` interface (with ``ivr.sip.corrections`` applied first).

pyVoIP facts this adapter relies on (SIP.md): every request goes to the configured server, so operator legs are
placed through the registrar/proxy (only the user part of the operator's URI is dialled); the incoming-call
callback runs in its own thread ~1 s after 180 Ringing and must not return before the call ends (pyVoIP
forgets a call whose callback thread has finished); ``phone.call`` runs under a watchdog.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

import pyVoIP.VoIP  # first: pyVoIP.SIP cannot be imported on its own (circular import)
from pyVoIP.VoIP import VoIP
from pyVoIP.VoIP.status import PhoneStatus

from callcenter.config import SipSettings
from ivr.sip import corrections
from ivr.sip.audio import FRAME_BYTES, SILENCE
from ivr.sip.ports import DialError, IncomingHandler, LegState

logger = logging.getLogger(__name__)

_STATES = {
    VoIP.CallState.RINGING: LegState.RINGING,
    VoIP.CallState.DIALING: LegState.DIALING,
    VoIP.CallState.ANSWERED: LegState.ANSWERED,
    VoIP.CallState.ENDED: LegState.ENDED,
}
DIAL_WATCHDOG_SECONDS = corrections.INVITE_ANSWER_TIMEOUT + 2.0
REGISTER_TIMEOUT_SECONDS = 5


def dial_target(uri: str) -> str:
    """The user part pyVoIP dials (``sip:op1@pbx;transport=udp`` -> ``op1``)."""
    target = uri.split(":", 1)[1] if uri.lower().startswith(("sip:", "sips:")) else uri
    return target.split("@", 1)[0].split(";", 1)[0]


class PyVoipLeg:
    """A pyVoIP call as a ``Leg``."""

    def __init__(self, call: VoIP.VoIPCall):
        self._call = call
        self._lock = threading.Lock()

    @property
    def sip_call_id(self) -> str:
        return str(self._call.call_id)

    @property
    def remote(self) -> str:
        header = self._call.request.headers.get("From", {})
        return str(header.get("number") or header.get("address") or "")

    @property
    def remote_name(self) -> str:
        # pyVoIP leaves a quote and a space of the display name behind ('Ann" ').
        return str(self._call.request.headers.get("From", {}).get("caller") or "").strip().strip("\"'").strip()

    @property
    def local(self) -> str:
        return str(self._call.request.headers.get("To", {}).get("number") or "")

    @property
    def state(self) -> LegState:
        return _STATES[self._call.state]

    @property
    def final_status(self) -> int | None:
        return getattr(self._call, "final_status", None)

    def answer(self) -> bool:
        with self._lock:
            if self._call.state != VoIP.CallState.RINGING:
                return False
            try:
                self._call.answer()
            except VoIP.InvalidStateError:
                return False
            return True

    def hangup(self) -> None:
        with self._lock:
            state = self._call.state
            try:
                if state == VoIP.CallState.ANSWERED:
                    self._call.hangup()
                elif state == VoIP.CallState.RINGING:
                    self._call.deny()
                elif state == VoIP.CallState.DIALING:
                    self._cancel()
            except Exception as exc:  # the peer may have ended it at the same moment
                logger.debug("hangup of %s in %s: %s", self.sip_call_id, state, exc)

    def _cancel(self) -> None:
        """pyVoIP cannot CANCEL an outgoing call: build the CANCEL from our INVITE (same branch, RFC 3261 9.1)."""
        phone, request = self._call.phone, self._call.request
        sip = phone.sip
        raw = request.raw.decode("utf8", "replace")
        head = raw.split("\r\n", 1)[0]
        via = next(line for line in raw.split("\r\n") if line.startswith("Via:"))
        from_tag = request.headers["From"]["tag"]
        cancel = (
            head.replace("INVITE", "CANCEL", 1)
            + f"\r\n{via}\r\nMax-Forwards: 70\r\n"
            + f"From: {request.headers['From']['raw']};tag={from_tag}\r\n"
            + f"To: {request.headers['To']['raw']}\r\n"
            + f"Call-ID: {self.sip_call_id}\r\nCSeq: {request.headers['CSeq']['check']} CANCEL\r\n"
            + "Content-Length: 0\r\n\r\n"
        )
        sip.out.sendto(cancel.encode("utf8"), (phone.server, phone.port))
        self._call.state = VoIP.CallState.ENDED
        phone.calls.pop(self.sip_call_id, None)
        corrections.release_ports(self._call)

    def read_frame(self) -> bytes:
        if self._call.state != VoIP.CallState.ANSWERED or len(self._call.RTPClients) != 1:
            return SILENCE
        return bytes(self._call.RTPClients[0].read(FRAME_BYTES, False))

    def write_frame(self, frame: bytes) -> None:
        if self._call.state == VoIP.CallState.ANSWERED:
            self._call.write_audio(frame)

    def take_dtmf(self) -> str:
        return str(self._call.get_dtmf(64))


class PyVoipPhone:
    """One registered SIP account on pyVoIP."""

    def __init__(self, settings: SipSettings, on_incoming: IncomingHandler):
        corrections.apply_all()
        self._settings = settings
        self._on_incoming = on_incoming
        self._wedged = False
        self.phone = self._build()

    def _build(self) -> Any:
        s = self._settings
        phone = pyVoIP.VoIP.VoIPPhone(
            s.server, s.port, s.user, s.password, myIP=s.local_address, callCallback=self._incoming,
            sipPort=s.sip_port, rtpPortLow=s.rtp_low, rtpPortHigh=s.rtp_high,
        )  # fmt: skip
        phone.sip.register_timeout = REGISTER_TIMEOUT_SECONDS
        return phone

    def start(self) -> None:
        """Register (raises when the registrar does not answer; ``healthy`` is then False)."""
        self._wedged = False
        self.phone.start()

    def stop(self) -> None:
        """Hang up, deregister and close; a wedged phone is abandoned to a daemon thread."""
        phone = self.phone
        stopper = threading.Thread(target=phone.stop, name="sip-stop", daemon=True)
        stopper.start()
        stopper.join(REGISTER_TIMEOUT_SECONDS + 1)
        if stopper.is_alive():
            phone.sip.NSD = False
            phone.sip._close_sockets()

    def restart(self) -> None:
        """A fresh pyVoIP phone on the same account (after FAILED or a wedged transaction)."""
        self.stop()
        self.phone = self._build()
        self.start()

    def healthy(self) -> bool:
        return not self._wedged and self.phone.get_status() == PhoneStatus.REGISTERED

    def dial(self, uri: str) -> PyVoipLeg:
        """``phone.call`` under a watchdog: if it has not returned in time the phone is marked wedged."""
        outcome: dict[str, Any] = {}

        def place() -> None:
            try:
                outcome["call"] = self.phone.call(dial_target(uri))
            except Exception as exc:
                outcome["error"] = exc

        worker = threading.Thread(target=place, name=f"sip-dial-{uuid.uuid4().hex[:6]}", daemon=True)
        worker.start()
        worker.join(DIAL_WATCHDOG_SECONDS)
        if worker.is_alive():
            self._wedged = True
            raise DialError(f"dialling {uri} did not return within {DIAL_WATCHDOG_SECONDS}s")
        if "error" in outcome:
            raise DialError(f"dialling {uri}: {outcome['error']}") from outcome["error"]
        return PyVoipLeg(outcome["call"])

    def _incoming(self, call: VoIP.VoIPCall) -> None:
        try:
            self._on_incoming(PyVoipLeg(call))
        except Exception:
            logger.exception("call %s: unhandled error in the call logic", call.call_id)
            try:
                PyVoipLeg(call).hangup()
            except Exception:
                logger.debug("call %s: hangup after error failed", call.call_id)
