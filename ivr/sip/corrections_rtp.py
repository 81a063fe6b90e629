"""Corrections to pyVoIP 1.6.8's RTP side (audio and DTMF), applied by ``ivr.sip.corrections.apply_all``.

Split from ``ivr.sip.corrections`` (the SIP side) to keep each module one concern; same rules: each fix is
small, named after its bug and unit-tested in tests/unit/test_sip_corrections.py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pyVoIP.VoIP  # noqa: F401 - first: pyVoIP.SIP/RTP cannot be imported on their own (circular import)
from pyVoIP import RTP
from pyVoIP.VoIP import VoIP

from ivr.sip.audio import FRAME_BYTES, FrameBuffer

logger = logging.getLogger(__name__)

SEND_QUEUE_BYTES = 5 * FRAME_BYTES  # ~100 ms: older queued audio is dropped
RECEIVE_BUFFER_BYTES = 5 * FRAME_BYTES  # received audio kept per call (trimmed beyond)


# -- RTP -------------------------------------------------------------------------------------------------


def fix_telephone_event_above_15_kills_receiver() -> None:
    """An RFC 4733 event code above 15 raises IndexError in the RTP receive thread and the call goes
    deaf: ignore such events (flash, tones) like any phone does."""
    original = RTP.RTPClient.parse_telephone_event

    def parse_telephone_event(self: RTP.RTPClient, packet: RTP.RTPMessage) -> None:
        if packet.payload and packet.payload[0] <= 15:
            original(self, packet)

    RTP.RTPClient.parse_telephone_event = parse_telephone_event  # type: ignore[method-assign]


def fix_rtp_receiver_dies_on_bad_packet() -> None:
    """Any unexpected exception (a short packet, an unknown payload type) ends the RTP receive thread."""

    def recv(self: RTP.RTPClient) -> None:
        while self.NSD:
            try:
                self.parse_packet(self.sin.recv(8192))
            except BlockingIOError:
                time.sleep(0.005)
            except OSError:
                if not self.NSD:
                    return
                time.sleep(0.005)
            except Exception as exc:
                logger.debug("RTP packet ignored on port %s: %s", self.inPort, exc)

    RTP.RTPClient.recv = recv  # type: ignore[method-assign]


def fix_packet_manager_grows_forever() -> None:
    """Each RTP stream keeps every packet it ever received or queued (~30 KB/s per call, never trimmed).
    Use bounded buffers: ~100 ms queued to send (older frames dropped), ~100 ms received."""
    original_init = RTP.RTPClient.__init__

    def __init__(self: RTP.RTPClient, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.pmin = FrameBuffer(RECEIVE_BUFFER_BYTES)  # type: ignore[assignment]
        self.pmout = FrameBuffer(SEND_QUEUE_BYTES)  # type: ignore[assignment]

    RTP.RTPClient.__init__ = __init__  # type: ignore[method-assign]


def fix_rtp_ports_never_released() -> None:
    """An incoming call's RTP port is never recorded on the call, and no call frees its ports when it ends; once
    the range is used up, pyVoIP frees every port no *outgoing* call holds, live incoming calls' included, and
    may hand one out twice. Record incoming ports and release a call's ports when it ends."""
    original_create = VoIP.VoIPCall.create_rtp_clients

    def create_rtp_clients(self: VoIP.VoIPCall, codecs: Any, ip: str, port: int, *args: Any) -> None:
        original_create(self, codecs, ip, port, *args)
        if self.state == VoIP.CallState.RINGING:
            self.assignedPorts[port] = codecs

    VoIP.VoIPCall.create_rtp_clients = create_rtp_clients  # type: ignore[method-assign, assignment]
    for name in ("hangup", "bye", "deny"):
        setattr(VoIP.VoIPCall, name, _releasing(getattr(VoIP.VoIPCall, name)))


def _releasing(end: Callable[[VoIP.VoIPCall], None]) -> Callable[[VoIP.VoIPCall], None]:
    def ended(self: VoIP.VoIPCall) -> None:
        try:
            end(self)
        finally:
            if self.state == VoIP.CallState.ENDED:
                release_ports(self)

    return ended


def release_ports(call: VoIP.VoIPCall) -> None:
    """Give the call's RTP ports back to the phone (once: pyVoIP's own ``__del__`` then finds none)."""
    phone = call.phone
    with phone.portsLock:
        for port in list(call.assignedPorts):
            if port in phone.assignedPorts:
                phone.assignedPorts.remove(port)
        call.assignedPorts = {}


def fix_stop_before_start_raises() -> None:
    """Stopping an RTP stream that never started (denying or cancelling a ringing call) raises
    AttributeError, so the call is never marked ENDED."""
    original = RTP.RTPClient.stop

    def stop(self: RTP.RTPClient) -> None:
        if hasattr(self, "sin"):
            original(self)
        self.NSD = False

    RTP.RTPClient.stop = stop  # type: ignore[method-assign]


def fix_pcma_sent_as_ulaw() -> None:
    """The sender uses the caller's first codec and encodes PCMA with the u-law encoder (noise for an A-law
    caller). Prefer PCMU whenever it is offered; when only PCMA is, really encode A-law."""
    original_init = RTP.RTPClient.__init__
    original_encode = RTP.RTPClient.encode_packet

    def __init__(self: RTP.RTPClient, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        if RTP.PayloadType.PCMU in self.assoc.values():
            self.preference = RTP.PayloadType.PCMU

    def encode_packet(self: RTP.RTPClient, payload: bytes) -> bytes:
        if self.preference == RTP.PayloadType.PCMA:
            return bytes(self.encode_pcma(payload))
        return bytes(original_encode(self, payload))

    RTP.RTPClient.__init__ = __init__  # type: ignore[method-assign]
    RTP.RTPClient.encode_packet = encode_packet  # type: ignore[method-assign]


def fix_sender_drifts_under_load() -> None:
    """The sender sleeps "20 ms minus work" after each packet, so it drifts slow under load (27 packets/s
    past ~150 calls). Send on a fixed 20 ms schedule; after a stall of over 100 ms, resynchronise instead
    of bursting."""
    RTP.RTPClient.trans = paced_trans  # type: ignore[method-assign]


def paced_trans(
    self: RTP.RTPClient, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
) -> None:
    period = FRAME_BYTES / 8000
    due = clock()
    while self.NSD:
        payload = self.encode_packet(self.pmout.read(FRAME_BYTES))
        header = bytes([0x80, int(self.preference) & 0x7F])
        header += (self.outSequence & 0xFFFF).to_bytes(2, "big")
        header += (self.outTimestamp & 0xFFFFFFFF).to_bytes(4, "big")
        header += self.outSSRC.to_bytes(4, "big")
        try:
            self.sout.sendto(header + payload, (self.outIP, self.outPort))
        except OSError:
            if not self.NSD:
                return
        self.outSequence = (self.outSequence + 1) & 0xFFFF
        self.outTimestamp = (self.outTimestamp + len(payload)) & 0xFFFFFFFF
        due += period
        delay = due - clock()
        if delay > 0:
            sleep(delay)
        elif delay < -0.1:
            due = clock()
