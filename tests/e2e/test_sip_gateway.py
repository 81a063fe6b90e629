"""The SIP gateway end to end with real SIP peers on loopback: Kamailio as registrar and proxy, sipp as the
caller and as the operators' softphones, our RTP sink capturing what the gateway sends (tests/sip/harness.py).
The gateway runs in this process on the real PostgreSQL and Redis; the journal is drained to SQL at the end.
"""

from __future__ import annotations

import dataclasses
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from callcenter.bootstrap import Container, build_container
from callcenter.config import Settings, SipSettings
from callcenter.hotline import load_hotline
from callcenter.storage.models import Call, CallEventRecord, CallLeg, SurveyResponse, Ticket
from ivr.sip.audio import tone_share
from ivr.sip.gateway import SipGateway, build_gateway
from queueing.acd import Acd
from queueing.connection import RedisClients
from queueing.keys import Keys
from tests.conftest import REDIS_URL, pg_up, redis_up, require
from tests.sip import harness

pytestmark = pytest.mark.sip

SECOND = 8000  # samples


@pytest.fixture
def backend() -> str:
    """These tests run on the real servers only (one backend keeps them within their time budget)."""
    require(redis_up(), f"no Redis at {REDIS_URL}")
    require(pg_up(), "no PostgreSQL")
    return "real"


@pytest.fixture(scope="session")
def prompt_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sip-prompts")


@pytest.fixture(scope="session")
def pcaps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("sip-pcaps")
    harness.make_pcaps(workdir)
    return workdir


@dataclasses.dataclass
class Line:
    """A running gateway registered at Kamailio, and the ports of everything around it."""

    container: Container
    gateway: SipGateway
    acd: Acd
    workdir: Path
    proxy: int
    gateway_port: int
    op1: int
    op2: int
    callback: int

    def peer(self, scenario: str, port: int, *, caller: bool = False, timeout: int = 45) -> tuple[Any, Any]:
        """A sipp peer (caller through the proxy, or softphone on ``port``) with its RTP sink."""
        sink = harness.RtpSink(harness.free_udp_port())
        media = harness.free_udp_port(span=4)
        remote = f"127.0.0.1:{self.proxy}" if caller else ""
        port = port or harness.free_udp_port()
        process = harness.sipp(self.workdir, scenario, remote, port, media, keys={"sinkport": sink.port},
                               timeout=timeout)  # fmt: skip
        return process, sink

    def events(self) -> list[CallEventRecord]:
        self.container.journal_writer.drain_all()
        with self.container.sessions() as session:
            sip_calls = select(CallEventRecord.call_id).where(CallEventRecord.channel == "sip")
            # journal order: the dispatcher ticks and offers with one ``now``, so a ring timeout and the next
            # offer share their timestamp, and only the row id (written in stream order) tells which came first
            query = select(CallEventRecord).where(CallEventRecord.call_id.in_(sip_calls)).order_by(CallEventRecord.id)
            return list(session.scalars(query))


@pytest.fixture
def line(
    settings: Settings, redis_clients: tuple[RedisClients, Keys], tmp_path: Path, prompt_cache: Path, pcaps: Path
) -> Iterator[Line]:
    require(shutil.which("sipp") is not None, "sipp (Debian sip-tester) is not installed")
    require(Path(harness.KAMAILIO).exists(), "kamailio is not installed")
    for pcap in pcaps.iterdir():
        shutil.copy(pcap, tmp_path)
    proxy, gateway_port, op1, op2, callback = (harness.free_udp_port() for _ in range(5))
    rtp = harness.free_udp_port(span=400)
    sip = SipSettings(server="127.0.0.1", port=proxy, user="gateway", password="", local_address="127.0.0.1",
                      sip_port=gateway_port, rtp_low=rtp, rtp_high=rtp + 399)  # fmt: skip
    hotline = load_hotline(harness.HERE / "hotline.yaml")
    container = build_container(dataclasses.replace(settings, sip=sip, hotline=hotline), redis_clients[0])
    kamailio = harness.kamailio(tmp_path, proxy, op1, op2, callback)
    gateway = build_gateway(container, prompt_cache, tmp_path / "recordings")
    acd = gateway.deps.acd
    for operator in ("op1", "op2"):
        acd.login(operator, container.clock())
        time.sleep(0.01)  # op1 idles longest, so longest_idle offers it first
    gateway.start()
    try:
        assert gateway.wait_registered(15), "the gateway did not register at Kamailio"
        yield Line(container, gateway, acd, tmp_path, proxy, gateway_port, op1, op2, callback)
    finally:
        gateway.stop()
        kamailio.stop()
        container.engine.dispose()


def longest_tone(sink: harness.RtpSink, frequency: float) -> float:
    """Seconds of the longest run of 200 ms windows made mostly (share > 0.5) of ``frequency``."""
    audio = sink.audio()
    window = SECOND // 5
    best = run = 0
    for start in range(0, len(audio) - window, window):
        run = run + 1 if tone_share(audio[start : start + window], frequency) > 0.5 else 0
        best = max(best, run)
    return best / 5


def finish(*peers: tuple[Any, Any]) -> list[int | None]:
    codes = []
    for process, sink in peers:
        codes.append(process.wait(60))
        process.stop()
        sink.close()
    return codes


def test_caller_is_served_from_menu_through_queue_to_operator_and_survey(line: Line) -> None:
    operator = line.peer("uas_operator_hangup.xml", line.op1)
    caller = line.peer("uac_e2e.xml", 0, caller=True)
    (_, caller_sink), (_, operator_sink) = caller, operator
    codes = finish(caller, operator)
    assert codes == [0, 0], caller[0].output() + operator[0].output()

    events = line.events()
    kinds = [e.type for e in events]
    expected = ["CALL_STARTED", "IVR_INPUT", "IVR_INPUT", "ENTER_QUEUE", "OFFERED", "CONNECTED",
                "COMPLETED_BY_OPERATOR", "WRAPUP_DONE", "SURVEY_ANSWERED", "CALL_ENDED"]  # fmt: skip
    assert kinds == expected, [(e.type, e.data) for e in events]
    call_id = events[0].call_id
    assert {e.call_id for e in events} == {call_id}
    assert [e.data["input"] for e in events if e.type == "IVR_INPUT"] == ["2", "1"]
    assert events[0].data["from"] == "3612345678"
    assert [e.operator for e in events if e.type in ("OFFERED", "CONNECTED")] == ["op1", "op1"]
    assert events[8].data == {"question": "satisfaction", "answer": 4, "via": "voice"}
    assert events[0].data["caller_name"] == "Sipp Caller"
    with line.container.sessions() as session:
        call = session.get(Call, call_id)
        legs = {leg.kind: leg for leg in session.scalars(select(CallLeg).where(CallLeg.call_id == call_id))}
    assert call is not None
    assert (call.channel, call.outcome, call.operator, call.queue) == ("sip", "answered", "op1", "general")
    assert (call.language, call.topic, call.survey_score) == ("en", "billing", 4)
    assert call.talk_seconds is not None and 2.0 < call.talk_seconds < 6.0
    assert (legs["caller"].status, legs["operator"].status, legs["operator"].operator) == ("completed",) * 2 + ("op1",)
    with line.container.sessions() as session:
        ticket = session.get(Ticket, call.ticket_id)
        answers = session.scalars(select(SurveyResponse).where(SurveyResponse.call_id == call_id)).all()
    assert ticket is not None, "every call that reaches the hotline has a ticket"
    assert (ticket.channel, ticket.caller, ticket.queue, ticket.operator) == ("sip", "3612345678", "general", "op1")
    assert (ticket.topic, ticket.language, ticket.first_call_id) == ("billing", "en", call_id)
    assert [(a.question_id, a.answer, a.via, a.operator) for a in answers] == [("satisfaction", 4, "voice", "op1")]

    assert len(caller_sink.packets) > 50 * 8, "the caller heard prompts, music, operator and survey"
    assert longest_tone(caller_sink, 500) >= 1.6, "the operator's 500 Hz tone reached the caller"
    assert longest_tone(operator_sink, 1000) >= 1.6, "the caller's 1 kHz tone reached the operator"
    assert longest_tone(caller_sink, 1000) < 0.6, "the caller does not hear themselves"


def test_busy_operator_is_skipped_and_the_next_one_answers(line: Line) -> None:
    busy = line.peer("uas_busy.xml", line.op1)
    answering = line.peer("uas_operator_hangup.xml", line.op2)
    caller = line.peer("uac_e2e.xml", 0, caller=True)
    codes = finish(caller, answering, busy)
    assert codes == [0, 0, 0], caller[0].output() + answering[0].output() + busy[0].output()

    events = line.events()
    offers = [(e.type, e.operator) for e in events if e.type in ("OFFERED", "RING_NO_ANSWER", "CONNECTED")]
    assert offers == [("OFFERED", "op1"), ("RING_NO_ANSWER", "op1"), ("OFFERED", "op2"), ("CONNECTED", "op2")]
    with line.container.sessions() as session:
        legs = session.scalars(select(CallLeg).where(CallLeg.kind == "operator").order_by(CallLeg.id)).all()
        call = session.get(Call, events[0].call_id)
    assert [(leg.operator, leg.status) for leg in legs] == [("op1", "busy"), ("op2", "completed")]
    assert call is not None and (call.operator, call.missed_offers, call.survey_score) == ("op2", 1, 4)


def test_caller_who_cancels_while_ringing_is_not_answered(line: Line) -> None:
    caller = line.peer("uac_cancel.xml", 0, caller=True, timeout=15)
    assert finish(caller) == [0], caller[0].output()  # 200 for the CANCEL, then 487 for the INVITE
    time.sleep(1.5)  # pyVoIP's call callback runs ~1 s after 180 Ringing
    assert line.events() == []
    with line.container.sessions() as session:
        legs = session.scalars(select(CallLeg)).all()
    assert [leg.status for leg in legs] == ["canceled"]
    assert legs[0].answered_at is None


def test_malformed_and_unexpected_sip_is_ignored_and_the_gateway_keeps_answering(line: Line) -> None:
    target = ("127.0.0.1", line.gateway_port)
    junk = [
        b"\x00\xff garbage",
        b"INVITE sip:x SIP/2.0\r\n\r\n",
        b"SIP/2.0 999 Whatever\r\nCall-ID: nope\r\n\r\n",
        b"NOTIFY sip:gateway@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKj\r\n"
        b"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:gateway@127.0.0.1>\r\nCall-ID: j1\r\nCSeq: 1 NOTIFY\r\n"
        b"Supported:\r\nContent-Length: 0\r\n\r\n",
        b"INVITE sip:gateway@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKi\r\n"
        b"From: <sip:a@127.0.0.1>;tag=2\r\nTo: <sip:gateway@127.0.0.1>\r\nCall-ID: j3\r\nCSeq: 1 INVITE\r\n"
        b"Contact: <sip:a@127.0.0.1:9>\r\nContent-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n",
    ]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        for datagram in junk:
            s.sendto(datagram, target)
        s.sendto(junk[3].replace(b"NOTIFY", b"OPTIONS"), target)
    caller = line.peer("uac_invalid.xml", 0, caller=True, timeout=30)
    assert finish(caller) == [0], caller[0].output()
    assert line.gateway.phone.healthy()


def test_operator_who_never_answers_rings_out_and_the_next_one_takes_the_call(line: Line) -> None:
    silent = line.peer("uas_no_answer.xml", line.op1)
    answering = line.peer("uas_operator_hangup.xml", line.op2)
    caller = line.peer("uac_e2e_late.xml", 0, caller=True)
    codes = finish(caller, answering, silent)
    assert codes == [0, 0, 0], caller[0].output() + silent[0].output()

    events = line.events()
    rings = [(e.type, e.operator) for e in events if e.type in ("OFFERED", "RING_NO_ANSWER", "CONNECTED")]
    assert rings == [("OFFERED", "op1"), ("RING_NO_ANSWER", "op1"), ("OFFERED", "op2"), ("CONNECTED", "op2")]
    no_answer = next(e for e in events if e.type == "RING_NO_ANSWER")
    # the queue's ring_timeout_seconds is 5; the upper bound leaves room for a dispatcher tick late under load
    assert 4.5 <= no_answer.data["ring"] <= 9.0
    with line.container.sessions() as session:
        legs = session.scalars(select(CallLeg).where(CallLeg.kind == "operator").order_by(CallLeg.id)).all()
    assert [(leg.operator, leg.status) for leg in legs] == [("op1", "no-answer"), ("op2", "completed")]


def test_invalid_key_and_silence_in_the_menu_end_with_goodbye(line: Line) -> None:
    caller = line.peer("uac_invalid.xml", 0, caller=True, timeout=30)
    assert finish(caller) == [0], caller[0].output()

    events = line.events()
    assert [e.type for e in events] == ["CALL_STARTED", "IVR_INPUT", "IVR_INPUT", "IVR_INPUT", "IVR_EXIT",
                                        "CALL_ENDED"]  # fmt: skip
    inputs = [(e.data["node"], e.data["kind"], e.data["input"], e.data["choice"]) for e in events[1:4]]
    assert inputs == [("language", "dtmf", "2", "2"), ("main", "dtmf", "7", None), ("main", "timeout", "", None)]
    assert events[4].data["node"] == "goodbye"
    with line.container.sessions() as session:
        call = session.get(Call, events[0].call_id)
    assert call is not None and (call.outcome, call.queue, call.language) == ("ivr", "", "en")


def test_caller_who_hangs_up_in_the_queue_is_abandoned(line: Line) -> None:
    for operator in ("op1", "op2"):
        line.acd.logout(operator, line.container.clock())
    caller = line.peer("uac_abandon.xml", 0, caller=True, timeout=30)
    assert finish(caller) == [0], caller[0].output()
    time.sleep(0.3)  # the session notices the BYE on its next 20 ms tick

    events = line.events()
    assert [e.type for e in events][-3:] == ["ENTER_QUEUE", "ABANDONED", "CALL_ENDED"]
    assert events[-1].data["by"] == "caller"
    with line.container.sessions() as session:
        call = session.get(Call, events[0].call_id)
        legs = session.scalars(select(CallLeg)).all()
    assert call is not None and call.outcome == "abandoned"
    assert [(leg.kind, leg.status) for leg in legs] == [("caller", "completed")]


def test_gateway_restarts_its_phone_after_failure_and_answers_again(line: Line) -> None:
    from pyVoIP.VoIP.status import PhoneStatus

    line.gateway.phone.phone._status = PhoneStatus.FAILED  # type: ignore[attr-defined]
    deadline = time.monotonic() + 15
    while line.gateway.restarts == 0 or not line.gateway.phone.healthy():
        assert time.monotonic() < deadline, "the supervisor did not restart the phone"
        time.sleep(0.1)
    caller = line.peer("uac_invalid.xml", 0, caller=True, timeout=30)
    assert finish(caller) == [0], caller[0].output()
    assert [e.type for e in line.events()][-1] == "CALL_ENDED"


def test_caller_who_presses_the_callback_key_is_called_back_when_an_operator_is_free(line: Line) -> None:
    for name in ("op1", "op2"):
        line.acd.logout(name, line.container.clock())
    caller = line.peer("uac_callback.xml", 0, caller=True, timeout=30)
    assert finish(caller) == [0], caller[0].output()
    operator = line.peer("uas_softphone.xml", line.op1)
    called_back = line.peer("uas_operator_hangup.xml", line.callback)  # answers, talks 3 s, hangs up
    line.acd.login("op1", line.container.clock())
    codes = finish(called_back, operator)
    assert codes == [0, 0], called_back[0].output() + operator[0].output()
    time.sleep(0.3)

    events = line.events()
    kinds = [e.type for e in events if e.type not in ("WRAPUP_DONE", "IVR_INPUT")]
    assert kinds == ["CALL_STARTED", "ENTER_QUEUE", "CALLBACK_REQUESTED", "CALL_ENDED", "OFFERED", "CONNECTED",
                     "CALLBACK_DIALLED", "COMPLETED_BY_CALLER"]  # fmt: skip
    assert next(e for e in events if e.type == "CALLBACK_DIALLED").data["number"] == "3612345678"
    with line.container.sessions() as session:
        call = session.get(Call, events[0].call_id)
        legs = session.scalars(select(CallLeg).order_by(CallLeg.id)).all()
    assert call is not None and call.callback_requested and call.operator == "op1"
    assert [(leg.kind, leg.status) for leg in legs] == [("caller", "completed"), ("operator", "completed"),
                                                          ("callback", "completed")]  # fmt: skip
    _, operator_sink = operator
    _, callee_sink = called_back
    assert longest_tone(callee_sink, 500) >= 1.0 or longest_tone(operator_sink, 500) >= 1.0


def test_caller_hanging_up_during_the_conversation_ends_the_operator_leg(line: Line) -> None:
    operator = line.peer("uas_softphone.xml", line.op1)  # talks until it gets a BYE
    caller = line.peer("uac_abandon.xml", 0, caller=True, timeout=30)  # hangs up 5 s after choosing billing
    assert finish(caller, operator) == [0, 0], caller[0].output() + operator[0].output()
    time.sleep(0.3)

    events = line.events()
    kinds = [e.type for e in events if e.type != "WRAPUP_DONE"]
    assert kinds[-4:] == ["OFFERED", "CONNECTED", "COMPLETED_BY_CALLER", "CALL_ENDED"]
    assert events[-1].data["by"] == "caller"
    with line.container.sessions() as session:
        legs = session.scalars(select(CallLeg).order_by(CallLeg.id)).all()
    assert [(leg.kind, leg.status) for leg in legs] == [("caller", "completed"), ("operator", "completed")]
