"""Corrections to pyVoIP 1.6.8, applied once at start-up (``apply_all``), each named after the bug it fixes.

SIP.md lists what pyVoIP gets wrong; each correction below is small, replaces one function or wraps one
method, and has a unit test (tests/unit/test_sip_corrections.py). They are patches rather than a fork so that
the pinned release stays what it is and each difference is readable on its own.
"""

from __future__ import annotations

import logging
import select
import time
import uuid
from collections.abc import Callable
from typing import Any

import pyVoIP
import pyVoIP.VoIP  # first: pyVoIP.SIP cannot be imported on its own (circular import)
from pyVoIP import SIP
from pyVoIP.util import acquired_lock_and_unblocked_socket
from pyVoIP.VoIP import VoIP

from ivr.sip.corrections_rtp import (
    RECEIVE_BUFFER_BYTES,
    SEND_QUEUE_BYTES,
    fix_packet_manager_grows_forever,
    fix_pcma_sent_as_ulaw,
    fix_rtp_ports_never_released,
    fix_ssrc_collides,
    fix_stop_before_start_raises,
    fix_telephone_event_above_15_kills_receiver,
    fix_two_threads_per_stream,
    release_ports,
)

logger = logging.getLogger(__name__)

__all__ = ["RECEIVE_BUFFER_BYTES", "SEND_QUEUE_BYTES", "apply_all", "release_ports"]

KNOWN_METHODS = [
    "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "NOTIFY", "MESSAGE", "UPDATE", "REFER",
    "SUBSCRIBE", "PRACK", "REGISTER", "PUBLISH",
]  # fmt: skip
HANDLED_METHODS = ("INVITE", "ACK", "BYE", "CANCEL")
COMPACT_HEADERS = {
    "v": "Via", "f": "From", "t": "To", "i": "Call-ID", "m": "Contact", "l": "Content-Length",
    "c": "Content-Type", "k": "Supported",
}  # fmt: skip
PROVISIONAL = (100, 180, 181, 182, 183)
INVITE_ANSWER_TIMEOUT = 4.0  # seconds to wait for any response to an INVITE before giving up
_applied: list[str] = []


# -- SIP parsing -----------------------------------------------------------------------------------------


def split_headers(headers_raw: list[bytes]) -> dict[str, Any]:
    """Header lines to {name: value} (all Vias kept, else the first of each): splits on the first ':' and
    strips, so an empty header (``Supported:``) or a missing space no longer raises; compact names expand."""
    headers: dict[str, Any] = {"Via": []}
    for line in headers_raw:
        name, sep, value = str(line, "utf8", "replace").partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not name:
            continue
        name = COMPACT_HEADERS.get(name, name)
        if name == "Via":
            headers["Via"].extend(v.strip() for v in value.split(","))
        elif name not in headers:
            headers[name] = value
    return headers


def fix_empty_header_drops_request() -> None:
    """pyVoIP splits headers on ': ', so an empty header (baresip's ``Supported:``) drops the INVITE."""

    def parse_raw_header(headers_raw: list[bytes], handle: Callable[[str, Any], None]) -> None:
        for key, value in split_headers(headers_raw).items():
            handle(key, value)

    SIP.SIPMessage.parse_raw_header = staticmethod(parse_raw_header)  # type: ignore[method-assign]


def fix_unknown_request_gets_no_response() -> None:
    """Requests other than INVITE/ACK/BYE/CANCEL fail to parse and get no answer (OPTIONS pings time out,
    a REFER retransmits for 32 s): parse them, answer OPTIONS 200 and the rest 501 Not Implemented."""
    original_parse = SIP.SIPMessage.parse

    def parse(self: SIP.SIPMessage, data: bytes) -> None:
        self.SIPCompatibleMethods = KNOWN_METHODS
        original_parse(self, data)

    SIP.SIPMessage.parse = parse  # type: ignore[method-assign]
    _wrap_parse_message(_answer_unhandled_method)


def _answer_unhandled_method(client: SIP.SIPClient, message: SIP.SIPMessage) -> bool:
    if message.type != SIP.SIPMessageType.MESSAGE or message.method in HANDLED_METHODS:
        return False
    if message.method == "OPTIONS":
        reply = client.gen_ok(message)
    else:
        reply = client.gen_ok(message).replace("SIP/2.0 200 OK", "SIP/2.0 501 Not Implemented", 1)
    client.out.sendto(reply.encode("utf8"), (client.server, client.port))
    return True


def _wrap_parse_message(handler: Callable[[SIP.SIPClient, SIP.SIPMessage], bool]) -> None:
    """Let ``handler`` see each message first; it returns True when it dealt with the message."""
    original = SIP.SIPClient.parse_message

    def parse_message(self: SIP.SIPClient, message: SIP.SIPMessage) -> None:
        if not handler(self, message):
            original(self, message)

    SIP.SIPClient.parse_message = parse_message  # type: ignore[method-assign]


# -- dialogs ---------------------------------------------------------------------------------------------


def fix_cancel_does_not_stop_ringing() -> None:
    """A CANCEL gets 200 but the call stays RINGING and is answered a second later (an abandoned call
    answered): end the call, answer the INVITE 487 Request Terminated."""
    _wrap_parse_message(_cancel)


def _cancel(client: SIP.SIPClient, message: SIP.SIPMessage) -> bool:
    if message.type != SIP.SIPMessageType.MESSAGE or message.method != "CANCEL":
        return False
    client.out.sendto(client.gen_ok(message).encode("utf8"), (client.server, client.port))
    call = client.phone.calls.pop(message.headers["Call-ID"], None)
    if call is not None and call.state == VoIP.CallState.RINGING:
        call.state = VoIP.CallState.ENDED
        call.cancelled = True  # type: ignore[attr-defined]
        release_ports(call)
        client.out.sendto(request_terminated(client, call.request).encode("utf8"), (client.server, client.port))
    return True


def request_terminated(client: SIP.SIPClient, invite: SIP.SIPMessage) -> str:
    """The 487 final answer to a cancelled INVITE (same To-tag as our 180)."""
    tag = client.tagLibrary.get(invite.headers["Call-ID"]) or client.gen_tag()
    return (
        "SIP/2.0 487 Request Terminated\r\n"
        + client._gen_response_via_header(invite)
        + f"From: {invite.headers['From']['raw']};tag={invite.headers['From']['tag']}\r\n"
        + f"To: {invite.headers['To']['raw']};tag={tag}\r\n"
        + f"Call-ID: {invite.headers['Call-ID']}\r\n"
        + f"CSeq: {invite.headers['CSeq']['check']} INVITE\r\n"
        + "Content-Length: 0\r\n\r\n"
    )


def fix_final_response_leaves_call_dialing() -> None:
    """A 486/480/603... to our INVITE is ignored: no ACK (the peer retransmits) and the call stays DIALING
    forever. ACK it and end the call, keeping the status in ``call.final_status``."""
    _wrap_parse_message(_final_failure)


def _final_failure(client: SIP.SIPClient, message: SIP.SIPMessage) -> bool:
    if message.type != SIP.SIPMessageType.RESPONSE or int(message.status) < 300:
        return False
    if message.headers.get("CSeq", {}).get("method") != "INVITE" or int(message.status) in (401, 407):
        return False
    client.out.sendto(client.gen_ack(message).encode("utf8"), (client.server, client.port))
    call = client.phone.calls.pop(message.headers["Call-ID"], None)
    if call is not None:
        call.final_status = int(message.status)  # type: ignore[attr-defined]
        for rtp in call.RTPClients:
            rtp.stop()
        call.state = VoIP.CallState.ENDED
        release_ports(call)
    return True


def fix_ack_carries_random_to_tag() -> None:
    """The ACK gets a fresh random To-tag instead of the answer's, so the PBX never matches it and drops
    the call after ~32 s. Use the response's To-tag (and its Contact as target for a 2xx)."""

    def gen_ack(self: SIP.SIPClient, request: SIP.SIPMessage) -> str:
        return ack_for(self, request)

    SIP.SIPClient.gen_ack = gen_ack  # type: ignore[method-assign]


def ack_for(client: SIP.SIPClient, response: SIP.SIPMessage) -> str:
    """An ACK matching ``response`` (to-tag echoed; a 2xx ACK goes to the Contact)."""
    tag = client.tagLibrary.get(response.headers["Call-ID"], "")
    to = response.headers["To"]
    target = to["raw"].strip().strip("<>")
    contact = response.headers.get("Contact", "")
    if int(response.status) < 300 and contact:
        target = contact.split(";")[0].strip().strip("<>") if contact.startswith("<") else contact
        target = target.split(">")[0].strip("<")
    to_tag = f";tag={to['tag']}" if to["tag"] else ""
    return (
        f"ACK {target} SIP/2.0\r\n"
        + client._gen_response_via_header(response)
        + "Max-Forwards: 70\r\n"
        + f"To: {to['raw']}{to_tag}\r\n"
        + f"From: {response.headers['From']['raw']};tag={tag}\r\n"
        + f"Call-ID: {response.headers['Call-ID']}\r\n"
        + f"CSeq: {response.headers['CSeq']['check']} ACK\r\n"
        + "Content-Length: 0\r\n\r\n"
    )


def fix_bye_reuses_invite_via() -> None:
    """Our BYE copies the INVITE's Via headers (the caller's and the proxy's), so its 200 OK is routed to
    the wrong place. Send it with one Via of our own, a new branch, and the dialog's route set."""
    original = SIP.SIPClient.gen_bye

    def gen_bye(self: SIP.SIPClient, request: SIP.SIPMessage) -> str:
        return bye_with_own_via(self, request, original(self, request))

    SIP.SIPClient.gen_bye = gen_bye  # type: ignore[method-assign]


def bye_with_own_via(client: SIP.SIPClient, request: SIP.SIPMessage, bye: str) -> str:
    lines = [line for line in bye.split("\r\n") if not line.startswith("Via:")]
    via = f"Via: SIP/2.0/UDP {client.myIP}:{client.myPort};branch=z9hG4bK{uuid.uuid4().hex[:20]}"
    route = request.headers.get("Record-Route")
    extra = [via] + ([f"Route: {route}"] if route else [])
    return "\r\n".join(lines[:1] + extra + lines[1:])


def fix_answer_drops_record_route() -> None:
    """Our 200 OK does not echo Record-Route, so the caller's ACK and BYE bypass the proxy."""
    original = SIP.SIPClient.gen_answer

    def gen_answer(self: SIP.SIPClient, request: SIP.SIPMessage, *args: Any) -> str:
        return with_record_route(request, original(self, request, *args))

    SIP.SIPClient.gen_answer = gen_answer  # type: ignore[method-assign, assignment]


def with_record_route(request: SIP.SIPMessage, response: str) -> str:
    route = request.headers.get("Record-Route")
    if not route:
        return response
    return response.replace("\r\nFrom:", f"\r\nRecord-Route: {route}\r\nFrom:", 1)


def fix_call_ids_repeat_after_restart() -> None:
    """Call-IDs are the SHA-256 of a counter starting at 1: a restarted gateway reuses them (and our
    call_legs rows are keyed by them). Make them random."""

    def gen_call_id(self: SIP.SIPClient) -> str:
        return f"{uuid.uuid4().hex}@{self.myIP}:{self.myPort}"

    SIP.SIPClient.gen_call_id = gen_call_id  # type: ignore[method-assign]


def fix_invite_blocks_without_provisional() -> None:
    """``phone.call`` holds the receive lock until a 100/180 arrives: a 200 with nothing before it, or no
    answer at all, wedges the whole phone. Wait at most INVITE_ANSWER_TIMEOUT (retransmitting like
    Timer A), accept any response, and keep an early final response for ``VoIPPhone.call`` to dispatch."""
    SIP.SIPClient.invite = invite  # type: ignore[method-assign]
    original_call = VoIP.VoIPPhone.call

    def call(self: VoIP.VoIPPhone, number: str) -> VoIP.VoIPCall:
        voip_call = original_call(self, number)
        early = getattr(self.sip, "early_finals", {}).pop(voip_call.call_id, None)
        if early is not None:
            self.sip.parse_message(early)
        return voip_call

    VoIP.VoIPPhone.call = call  # type: ignore[method-assign]


def invite(self: SIP.SIPClient, number: str, ms: Any, sendtype: Any) -> tuple[SIP.SIPMessage, str, int]:
    branch = "z9hG4bK" + uuid.uuid4().hex[:25]
    call_id = self.gen_call_id()
    sess_id = self.sessID.next()
    request = self.gen_invite(number, str(sess_id), ms, sendtype, branch, call_id)
    with self.recvLock:
        response = _await_response(self, request, call_id)
    if int(response.status) in (401, 407):
        request = _authorised_invite(self, response, number, str(sess_id), ms, sendtype, branch, call_id)
    elif int(response.status) not in PROVISIONAL:
        self.__dict__.setdefault("early_finals", {})[call_id] = response
    return SIP.SIPMessage(request.encode("utf8")), call_id, sess_id


def _await_response(client: SIP.SIPClient, request: str, call_id: str) -> SIP.SIPMessage:
    deadline = time.monotonic() + INVITE_ANSWER_TIMEOUT
    interval = 0.5
    while True:
        client.out.sendto(request.encode("utf8"), (client.server, client.port))
        resend_at = min(deadline, time.monotonic() + interval)
        interval *= 2
        while (remaining := resend_at - time.monotonic()) > 0:
            ready, _, _ = select.select([client.s], [], [], remaining)
            if not ready:
                continue
            message = _receive(client)
            if message is None:
                continue
            if message.type == SIP.SIPMessageType.RESPONSE and message.headers.get("Call-ID") == call_id:
                return message
            client.parse_message(message)
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no answer to INVITE {call_id} within {INVITE_ANSWER_TIMEOUT}s")


def _receive(client: SIP.SIPClient) -> SIP.SIPMessage | None:
    try:
        return SIP.SIPMessage(client.s.recv(8192))
    except (BlockingIOError, InterruptedError):
        return None
    except Exception as exc:  # a malformed datagram must not end the INVITE transaction
        logger.debug("ignoring unparseable SIP datagram during INVITE: %s", exc)
        return None


def _authorised_invite(client: SIP.SIPClient, response: SIP.SIPMessage, number: str, *args: Any) -> str:
    client.out.sendto(client.gen_ack(response).encode("utf8"), (client.server, client.port))
    authhash = client.gen_authorization(response)
    auth = (
        f'Authorization: Digest username="{client.username}",realm="{response.authentication["realm"]}",'
        f'nonce="{response.authentication["nonce"]}",uri="sip:{client.server};transport=UDP",'
        f'response="{str(authhash, "utf8")}",algorithm=MD5\r\n'
    )
    request = client.gen_invite(number, *args).replace("\r\nContent-Length", f"\r\n{auth}Content-Length")
    client.out.sendto(request.encode("utf8"), (client.server, client.port))
    return str(request)


def fix_recv_error_kills_sip_loop() -> None:
    """An ICMP port-unreachable makes ``recv`` raise ConnectionRefusedError, whose handler then fails on an
    unbound variable and ends the SIP receive thread: the phone goes deaf. Keep the loop alive."""

    def recv_loop(self: SIP.SIPClient) -> None:
        while self.NSD:
            try:
                with acquired_lock_and_unblocked_socket(self.recvLock, self.s):
                    self.recv()
            except BlockingIOError:
                time.sleep(0.01)
            except Exception as exc:
                if not self.NSD:
                    return
                logger.warning("SIP receive loop: %s: %s (kept running)", type(exc).__name__, exc)
                time.sleep(0.01)

    SIP.SIPClient.recv_loop = recv_loop  # type: ignore[method-assign]


CORRECTIONS: tuple[Callable[[], None], ...] = (
    fix_empty_header_drops_request,
    fix_unknown_request_gets_no_response,
    fix_cancel_does_not_stop_ringing,
    fix_final_response_leaves_call_dialing,
    fix_ack_carries_random_to_tag,
    fix_bye_reuses_invite_via,
    fix_answer_drops_record_route,
    fix_call_ids_repeat_after_restart,
    fix_invite_blocks_without_provisional,
    fix_recv_error_kills_sip_loop,
    fix_telephone_event_above_15_kills_receiver,
    fix_two_threads_per_stream,
    fix_packet_manager_grows_forever,
    fix_rtp_ports_never_released,
    fix_ssrc_collides,
    fix_stop_before_start_raises,
    fix_pcma_sent_as_ulaw,
)


def apply_all() -> list[str]:
    """Apply every correction once per process (idempotent); returns the names applied."""
    if pyVoIP.__version__ != "1.6.8":
        logger.warning("pyVoIP %s: the corrections were written for 1.6.8", pyVoIP.__version__)
    for fix in CORRECTIONS:
        if fix.__name__ not in _applied:
            fix()
            _applied.append(fix.__name__)
    return list(_applied)
