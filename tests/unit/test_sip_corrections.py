"""Each pyVoIP 1.6.8 correction (ivr.sip.corrections) against the bug it is named after, without a network."""

from __future__ import annotations

import socket
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from ivr.sip import corrections
from ivr.sip.audio import FRAME_BYTES, FrameBuffer, tone, u8_to_ulaw, ulaw_to_u8
from ivr.sip.corrections_rtp import PyVoipStream

corrections.apply_all()

from pyVoIP import RTP, SIP  # noqa: E402  (after the corrections, which import pyVoIP in its working order)
from pyVoIP.VoIP import VoIP  # noqa: E402

CALL_ID = "abc@127.0.0.1"
MEDIA: Any = {10000: {0: RTP.PayloadType.PCMU}}


def message(text: str) -> SIP.SIPMessage:
    return SIP.SIPMessage(text.replace("\n", "\r\n").encode())


INVITE = f"""INVITE sip:gw@127.0.0.1:5062 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKproxy
Via: SIP/2.0/UDP 127.0.0.1:6000;branch=z9hG4bKcaller
Record-Route: <sip:127.0.0.1:5070;lr>
From: "Ann" <sip:ann@127.0.0.1>;tag=ann1
To: <sip:gw@127.0.0.1>
Call-ID: {CALL_ID}
CSeq: 7 INVITE
Contact: <sip:ann@127.0.0.1:6000>
Supported:
Content-Length: 0

"""


class Wire:
    """Stands in for pyVoIP's socket: records what is sent."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def sendto(self, data: bytes, address: Any) -> None:
        self.sent.append(data.decode())


class FakePhone:
    def __init__(self) -> None:
        self.calls: dict[str, Any] = {}


def client() -> SIP.SIPClient:
    sip = SIP.SIPClient("127.0.0.1", 5070, "gw", "", phone=FakePhone(), myIP="127.0.0.1", myPort=5062)  # type: ignore[arg-type]
    sip.out = Wire()  # type: ignore[assignment]
    return sip


class FakeCall:
    def __init__(self, state: VoIP.CallState, request: SIP.SIPMessage) -> None:
        self.state, self.request = state, request
        self.RTPClients: list[Any] = []
        self.assignedPorts: dict[int, Any] = {}
        self.phone = SimpleNamespace(portsLock=threading.Lock(), assignedPorts=[])


def test_empty_header_no_longer_drops_the_invite() -> None:
    parsed = message(INVITE)
    assert parsed.method == "INVITE" and parsed.headers["Call-ID"] == CALL_ID
    assert parsed.headers["Supported"] == [""]
    assert [v["address"] for v in parsed.headers["Via"]] == [("127.0.0.1", "5070"), ("127.0.0.1", "6000")]


def test_compact_header_names_are_understood() -> None:
    parsed = message(INVITE.replace("Call-ID:", "i:").replace("From:", "f:"))
    assert parsed.headers["Call-ID"] == CALL_ID and parsed.headers["From"]["tag"] == "ann1"


@pytest.mark.parametrize(("method", "status"), [("OPTIONS", "200 OK"), ("REFER", "501 Not Implemented")])
def test_requests_pyvoip_cannot_handle_get_an_answer(method: str, status: str) -> None:
    sip = client()
    sip.parse_message(message(INVITE.replace("INVITE", method)))
    assert sip.out.sent[0].startswith(f"SIP/2.0 {status}")  # type: ignore[attr-defined]


def test_cancel_ends_the_ringing_call_and_answers_487() -> None:
    sip = client()
    sip.tagLibrary[CALL_ID] = "ours"
    call = FakeCall(VoIP.CallState.RINGING, message(INVITE))
    sip.phone.calls[CALL_ID] = call  # type: ignore[assignment]
    sip.parse_message(message(INVITE.replace("INVITE", "CANCEL")))
    sent = sip.out.sent  # type: ignore[attr-defined]
    assert [s.split("\r\n", 1)[0] for s in sent] == ["SIP/2.0 200 OK", "SIP/2.0 487 Request Terminated"]
    assert "CSeq: 7 INVITE" in sent[1] and ";tag=ours" in sent[1]
    assert call.state == VoIP.CallState.ENDED and CALL_ID not in sip.phone.calls


def response(status: str, to_tag: str = "op9", contact: str = "<sip:op@127.0.0.1:5090>") -> SIP.SIPMessage:
    return message(
        f"SIP/2.0 {status}\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKinv\nFrom: <sip:gw@127.0.0.1>;tag=ours\n"
        f"To: <sip:op1@127.0.0.1>;tag={to_tag}\nCall-ID: {CALL_ID}\nCSeq: 3 INVITE\nContact: {contact}\n"
        "Content-Length: 0\n\n"
    )


def test_busy_answer_is_acknowledged_and_ends_the_dialling_call() -> None:
    sip = client()
    sip.tagLibrary[CALL_ID] = "ours"
    call = FakeCall(VoIP.CallState.DIALING, message(INVITE))
    sip.phone.calls[CALL_ID] = call  # type: ignore[assignment]
    sip.parse_message(response("486 Busy Here"))
    ack = sip.out.sent[0]  # type: ignore[attr-defined]
    assert ack.startswith("ACK sip:op1@127.0.0.1 SIP/2.0") and "tag=op9" in ack and "CSeq: 3 ACK" in ack
    assert call.state == VoIP.CallState.ENDED and call.final_status == 486  # type: ignore[attr-defined]


def test_ack_echoes_the_answer_to_tag_and_targets_its_contact() -> None:
    sip = client()
    sip.tagLibrary[CALL_ID] = "ours"
    ack = sip.gen_ack(response("200 OK"))
    assert ack.startswith("ACK sip:op@127.0.0.1:5090 SIP/2.0")
    assert "To: <sip:op1@127.0.0.1>;tag=op9\r\n" in ack and "From: <sip:gw@127.0.0.1>;tag=ours" in ack


def test_bye_has_one_via_of_our_own_and_the_route_set() -> None:
    sip = client()
    sip.tagLibrary[CALL_ID] = "ours"
    bye = sip.gen_bye(message(INVITE))
    vias = [line for line in bye.split("\r\n") if line.startswith("Via:")]
    assert len(vias) == 1 and vias[0].startswith("Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK")
    assert "Route: <sip:127.0.0.1:5070;lr>" in bye and bye.startswith("BYE sip:ann@127.0.0.1:6000 SIP/2.0")


def test_answer_echoes_record_route() -> None:
    sip = client()
    sip.tagLibrary[CALL_ID] = "ours"
    answer = sip.gen_answer(message(INVITE), "1", {10000: {0: RTP.PayloadType.PCMU}}, RTP.TransmitType.SENDRECV)
    assert "\r\nRecord-Route: <sip:127.0.0.1:5070;lr>\r\n" in answer


def test_call_ids_differ_between_two_phones_started_alike() -> None:
    assert client().gen_call_id() != client().gen_call_id()


def sip_pair() -> tuple[SIP.SIPClient, socket.socket]:
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    phone: Any = FakePhone()
    sip = SIP.SIPClient("127.0.0.1", server.getsockname()[1], "gw", "", phone=phone, myIP="127.0.0.1", myPort=0)
    sip.s = sip.out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sip.s.bind(("127.0.0.1", 0))
    return sip, server


def test_invite_answered_200_without_provisional_returns_and_keeps_the_answer(monkeypatch: Any) -> None:
    sip, server = sip_pair()

    def answer() -> None:
        data, address = server.recvfrom(8192)
        call_id = next(line for line in data.decode().split("\r\n") if line.startswith("Call-ID:"))[9:]
        server.sendto(response("200 OK").raw.replace(CALL_ID.encode(), call_id.encode()), address)

    threading.Thread(target=answer, daemon=True).start()
    _, call_id, _ = sip.invite("op1", MEDIA, RTP.TransmitType.SENDRECV)
    assert int(sip.early_finals[call_id].status) == 200  # type: ignore[attr-defined]
    server.close()
    sip.s.close()


def test_invite_nobody_answers_times_out_instead_of_wedging_the_phone(monkeypatch: Any) -> None:
    monkeypatch.setattr(corrections, "INVITE_ANSWER_TIMEOUT", 0.3)
    sip, server = sip_pair()
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        sip.invite("op1", MEDIA, RTP.TransmitType.SENDRECV)
    assert time.monotonic() - started < 2
    assert not sip.recvLock.locked()
    server.close()
    sip.s.close()


class FlakySocket:
    """recv raises ConnectionRefusedError (an ICMP port unreachable) once, then delivers ``then``."""

    def __init__(self, sip: SIP.SIPClient, then: bytes) -> None:
        self.sip, self.then, self.calls = sip, then, 0

    def setblocking(self, flag: bool) -> None:
        pass

    def recv(self, size: int) -> bytes:
        self.calls += 1
        if self.calls == 1:
            raise ConnectionRefusedError
        if self.calls == 2:
            return self.then
        self.sip.NSD = False
        raise BlockingIOError


def test_refused_datagram_does_not_end_the_sip_receive_loop() -> None:
    sip = client()
    sip.s = FlakySocket(sip, message(INVITE.replace("INVITE", "OPTIONS")).raw)  # type: ignore[assignment]
    sip.NSD = True
    sip.recv_loop()
    assert sip.out.sent and sip.out.sent[0].startswith("SIP/2.0 200 OK")  # type: ignore[attr-defined]


def rtp_client(dtmf: Any = None) -> RTP.RTPClient:
    return RTP.RTPClient({0: RTP.PayloadType.PCMU, 101: RTP.PayloadType.EVENT}, "127.0.0.1", 0, "127.0.0.1", 9,
                         RTP.TransmitType.SENDRECV, dtmf=dtmf)  # fmt: skip


def event_packet(code: int) -> bytes:
    return bytes([0x80, 0x80 | 101, 0, 1, 0, 0, 0, 160, 0, 0, 0, 1, code, 0x0A, 0, 160])


def test_telephone_event_above_15_is_ignored_and_digits_still_arrive() -> None:
    digits: list[str] = []
    rtp = rtp_client(digits.append)
    rtp.parse_packet(event_packet(16))
    rtp.parse_packet(event_packet(5))
    assert digits == ["5"]


def test_a_bad_packet_costs_that_packet_and_digits_still_arrive() -> None:
    digits: list[str] = []
    stream = PyVoipStream(rtp_client(digits.append))
    for bad in (b"\x80", bytes([0x40, 0]) + b"\0" * 10, bytes([0x80, 96]) + b"\0" * 10):
        with pytest.raises((IndexError, ValueError)):  # the engine logs it and goes on with the next one
            stream.receive(bad)
    stream.receive(event_packet(7))
    assert digits == ["7"]


def test_received_pcmu_is_decoded_into_the_receive_buffer_skipping_csrc_extension_and_padding() -> None:
    rtp = rtp_client()
    stream = PyVoipStream(rtp)
    audio = tone(1000, 0.02)
    stream.receive(bytes([0x80, 0]) + b"\0" * 10 + u8_to_ulaw(audio))
    plain = rtp.pmin.read(FRAME_BYTES)
    assert plain == ulaw_to_u8(u8_to_ulaw(audio))
    csrc_and_extension = bytes([0xB1, 0]) + b"\0" * 10 + b"CSRC" + b"\xbe\xde\x00\x01" + b"EXT1"
    stream.receive(csrc_and_extension + u8_to_ulaw(audio) + b"\0\0\x03")  # 3 bytes of padding
    assert rtp.pmin.read(FRAME_BYTES) == plain


def test_sent_packets_carry_the_queued_audio_with_sequence_and_timestamp_advancing() -> None:
    rtp = rtp_client()
    stream = PyVoipStream(rtp)
    seq, stamp = rtp.outSequence, rtp.outTimestamp
    rtp.write(b"\x90" * FRAME_BYTES)
    first, address = stream.next_packet()
    second, _ = stream.next_packet()
    assert address == ("127.0.0.1", 9) and first[:2] == bytes([0x80, 0])
    assert int.from_bytes(first[2:4], "big") == seq and int.from_bytes(second[2:4], "big") == (seq + 1) & 0xFFFF
    assert int.from_bytes(second[4:8], "big") - int.from_bytes(first[4:8], "big") == FRAME_BYTES
    assert int.from_bytes(first[4:8], "big") == stamp and first[8:12] == rtp.outSSRC.to_bytes(4, "big")
    assert first[12:] == u8_to_ulaw(b"\x90" * FRAME_BYTES) and second[12:] == b"\xff" * FRAME_BYTES  # then silence


def test_streams_share_one_rtp_thread_instead_of_two_threads_each() -> None:
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.settimeout(2)
    clients = [RTP.RTPClient({0: RTP.PayloadType.PCMU}, "127.0.0.1", 0, "127.0.0.1", peer.getsockname()[1],
                             RTP.TransmitType.SENDRECV) for _ in range(3)]  # fmt: skip
    before = threading.active_count()
    for rtp in clients:
        rtp.start()
    try:
        assert threading.active_count() - before <= 1  # the engine's thread, if this is its first use
        assert not [t for t in threading.enumerate() if t.name in ("RTP Receiver", "RTP Transmitter")]
        senders = {peer.recv(2048)[8:12] for _ in range(30)}
        assert len(senders) == 3  # every stream is sent
        peer.sendto(bytes([0x80, 0]) + b"\0" * 10 + b"\x00" * FRAME_BYTES, clients[0].sin.getsockname())
        deadline = time.monotonic() + 2
        while len(clients[0].pmin) == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert clients[0].pmin.read(FRAME_BYTES) == ulaw_to_u8(b"\x00" * FRAME_BYTES)
    finally:
        for rtp in clients:
            rtp.stop()
        peer.close()
    assert all(rtp.sin.fileno() == -1 for rtp in clients)  # closed at once: the port can be given back


def test_rtp_buffers_are_bounded_to_about_100_ms() -> None:
    rtp = rtp_client()
    for _ in range(500):  # 10 s of audio each way
        rtp.pmin.write(0, b"\x90" * FRAME_BYTES)
        rtp.write(b"\x90" * FRAME_BYTES)
    assert isinstance(rtp.pmin, FrameBuffer) and isinstance(rtp.pmout, FrameBuffer)
    assert len(rtp.pmin) <= corrections.RECEIVE_BUFFER_BYTES and len(rtp.pmout) <= corrections.SEND_QUEUE_BYTES


def test_ssrcs_are_32_bit_so_100_streams_do_not_share_one() -> None:
    ssrcs = {rtp_client().outSSRC for _ in range(200)}
    assert len(ssrcs) == 200 and max(ssrcs) > 65535


def test_pcmu_is_preferred_when_offered_and_pcma_is_really_a_law() -> None:
    both = RTP.RTPClient({8: RTP.PayloadType.PCMA, 0: RTP.PayloadType.PCMU}, "127.0.0.1", 0, "127.0.0.1", 9,
                         RTP.TransmitType.SENDRECV)  # fmt: skip
    assert both.preference == RTP.PayloadType.PCMU
    alaw_only = RTP.RTPClient({8: RTP.PayloadType.PCMA}, "127.0.0.1", 0, "127.0.0.1", 9, RTP.TransmitType.SENDRECV)
    silence = b"\x80" * FRAME_BYTES
    assert alaw_only.encode_packet(silence) == b"\xd5" * FRAME_BYTES  # A-law silence, not u-law's 0xff
    assert PyVoipStream(alaw_only).next_packet()[0][1:2] == b"\x08"
    assert PyVoipStream(alaw_only).next_packet()[0][12:] == b"\xd5" * FRAME_BYTES


SDP_INVITE = INVITE.replace("Content-Length: 0\n\n", "Content-Type: application/sdp\nContent-Length: 80\n\n") + (
    "v=0\no=a 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 7000 RTP/AVP 0 101\n"
    "a=rtpmap:101 telephone-event/8000\n"
)


def phone_with_ports(low: int, high: int) -> VoIP.VoIPPhone:
    phone = VoIP.VoIPPhone("127.0.0.1", 5070, "gw", "", myIP="127.0.0.1", callCallback=print, sipPort=5062,
                           rtpPortLow=low, rtpPortHigh=high)  # fmt: skip
    phone.sip.out = Wire()  # type: ignore[assignment]
    return phone


def test_an_incoming_call_keeps_its_rtp_port_and_gives_it_back_when_it_ends() -> None:
    phone = phone_with_ports(30000, 30001)
    phone.sip.tagLibrary[CALL_ID] = "ours"
    phone._create_Call(message(SDP_INVITE), 1)
    call = phone.calls[CALL_ID]
    port = call.RTPClients[0].inPort
    assert list(call.assignedPorts) == [port] and phone.assignedPorts == [port]
    phone.release_ports()  # what pyVoIP does when the range runs out: a live incoming call keeps its port
    assert phone.assignedPorts == [port]
    call.deny()  # ringing, never started: stopping its RTP no longer raises
    assert call.state == VoIP.CallState.ENDED and phone.assignedPorts == [] and call.assignedPorts == {}
