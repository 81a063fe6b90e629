"""Corrections to pyVoIP 1.6.8's RTP side (audio and DTMF), applied by ``ivr.sip.corrections.apply_all``.

Split from ``ivr.sip.corrections`` (the SIP side) to keep each module one concern; same rules: each fix is
small, named after its bug and unit-tested in tests/unit/test_sip_corrections.py. pyVoIP's own RTP threads no
longer run: ``fix_two_threads_per_stream`` hands every stream to the shared thread of ``ivr.sip.rtp_engine``.
"""

from __future__ import annotations

import logging
import random
import socket
import struct
from collections.abc import Callable
from typing import Any

import pyVoIP.VoIP  # noqa: F401 - first: pyVoIP.SIP/RTP cannot be imported on their own (circular import)
from pyVoIP import RTP
from pyVoIP.VoIP import VoIP

from ivr.sip.audio import ALAW_TO_U8, FRAME_BYTES, U8_TO_ALAW, U8_TO_ULAW, ULAW_TO_U8, FrameBuffer
from ivr.sip.rtp_engine import shared_engine

logger = logging.getLogger(__name__)

SEND_QUEUE_BYTES = 5 * FRAME_BYTES  # ~100 ms: older queued audio is dropped
RECEIVE_BUFFER_BYTES = 5 * FRAME_BYTES  # received audio kept per call (trimmed beyond)
RTP_HEADER = struct.Struct("!BBHII")  # version 2, no padding/extension/CSRC; payload type; sequence; timestamp; SSRC
DECODERS = {RTP.PayloadType.PCMU: ULAW_TO_U8, RTP.PayloadType.PCMA: ALAW_TO_U8}


# -- RTP -------------------------------------------------------------------------------------------------


def fix_telephone_event_above_15_kills_receiver() -> None:
    """An RFC 4733 event code above 15 raises IndexError in the RTP receive thread and the call goes
    deaf: ignore such events (flash, tones) like any phone does."""
    original = RTP.RTPClient.parse_telephone_event

    def parse_telephone_event(self: RTP.RTPClient, packet: RTP.RTPMessage) -> None:
        if packet.payload and packet.payload[0] <= 15:
            original(self, packet)

    RTP.RTPClient.parse_telephone_event = parse_telephone_event  # type: ignore[method-assign]


def fix_packet_manager_grows_forever() -> None:
    """Each RTP stream keeps every packet it ever received or queued (~30 KB/s per call, never trimmed).
    Use bounded buffers: ~100 ms queued to send (older frames dropped), ~100 ms received."""
    original_init = RTP.RTPClient.__init__

    def __init__(self: RTP.RTPClient, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.pmin = FrameBuffer(RECEIVE_BUFFER_BYTES)  # type: ignore[assignment]
        self.pmout = FrameBuffer(SEND_QUEUE_BYTES)  # type: ignore[assignment]

    RTP.RTPClient.__init__ = __init__  # type: ignore[method-assign]


def fix_ssrc_collides() -> None:
    """The SSRC is drawn from 1000-65530 instead of 32 bits (RFC 3550 8.1): among 100 calls two share one
    about once in 13, and a peer or a capture tool telling streams apart by SSRC merges them."""
    original_init = RTP.RTPClient.__init__

    def __init__(self: RTP.RTPClient, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.outSSRC = random.getrandbits(32)

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


def fix_two_threads_per_stream() -> None:
    """Each RTP stream runs two threads: a receiver polling its non-blocking socket every 10 ms and parsing
    every header bit by bit as strings (one malformed packet ends it: the call goes deaf), and a sender
    sleeping "20 ms minus work" (it drifts to ~27 packets/s past ~150 calls). At 100 calls that is 118% of a
    core, mostly threads waking to find nothing. Run every stream on the process's one RTP thread instead
    (``ivr.sip.rtp_engine``: one wake-up per 20 ms tick, fixed schedule, bad packets skipped)."""

    def start(self: RTP.RTPClient) -> None:
        self.sin = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sout = self.sin
        self.sin.bind((self.inIP, self.inPort))
        self.sin.setblocking(False)
        shared_engine().add(self.sin, PyVoipStream(self))

    def stop(self: RTP.RTPClient) -> None:
        self.NSD = False
        if hasattr(self, "sin"):
            shared_engine().remove(self.sin)

    RTP.RTPClient.start = start  # type: ignore[method-assign]
    RTP.RTPClient.stop = stop  # type: ignore[method-assign]


def rtp_payload(packet: bytes) -> bytes:
    """The payload of an RTP packet: after the CSRCs and any header extension, before any padding."""
    first = packet[0]
    if len(packet) < 12 or first >> 6 != 2:
        raise ValueError("not an RTP version 2 packet")
    start, end = 12 + 4 * (first & 0x0F), len(packet) - (packet[-1] if first & 0x20 else 0)
    if first & 0x10:
        start += 4 + 4 * int.from_bytes(packet[start + 2 : start + 4], "big")
    return packet[start:end]


class PyVoipStream:
    """A pyVoIP ``RTPClient`` as the engine's ``Stream``: its buffers, codec, sequence and DTMF callback,
    with the header read by offsets and G.711 done by translate tables (``ivr.sip.audio``)."""

    def __init__(self, client: RTP.RTPClient):
        self.client = client
        self._decoders = {pt: DECODERS[kind] for pt, kind in client.assoc.items() if kind in DECODERS}
        self._events = {pt for pt, kind in client.assoc.items() if kind is RTP.PayloadType.EVENT}
        alaw = client.preference is RTP.PayloadType.PCMA  # after fix_pcma_sent_as_ulaw: only an A-law-only peer
        self._encoder = U8_TO_ALAW if alaw else U8_TO_ULAW
        self._payload_type = int(client.preference) & 0x7F
        self._address = (client.outIP, client.outPort)

    def receive(self, packet: bytes) -> None:
        """Decode audio into the receive buffer; hand telephone-events to pyVoIP (rare: its slow parser is fine)."""
        payload_type = packet[1] & 0x7F
        table = self._decoders.get(payload_type)
        if table is not None:
            self.client.pmin.write(0, rtp_payload(packet).translate(table))
        elif payload_type in self._events:
            self.client.parse_telephone_event(RTP.RTPMessage(packet, self.client.assoc))
        else:
            raise ValueError(f"payload type {payload_type} was not negotiated")

    def next_packet(self) -> tuple[bytes, tuple[str, int]]:
        """The next 20 ms from the send buffer (silence when it is empty) as one RTP packet."""
        client = self.client
        header = RTP_HEADER.pack(0x80, self._payload_type, client.outSequence, client.outTimestamp, client.outSSRC)
        client.outSequence = (client.outSequence + 1) & 0xFFFF
        client.outTimestamp = (client.outTimestamp + FRAME_BYTES) & 0xFFFFFFFF
        return header + client.pmout.read(FRAME_BYTES).translate(self._encoder), self._address
