"""Calls of one channel and operators of another: the ACD only reserves an operator whose softphone can take
the call's channel, and every offer reaches the channel that holds the call, whichever dispatcher made it."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from callcenter.bootstrap import Container
from ivr.sip.gateway import SipGateway
from queueing.acd_types import Offer
from queueing.handoff import CONNECT_JOB, OfferHandoff, decode
from tests.support.acd_setup import T0, make_acd
from webhooks import jobs
from webhooks.channel import TwilioChannel
from webhooks.dispatcher import Dispatcher

BROWSER = {"queues": ["q"], "softphone": "client:anna"}
DESK = {"queues": ["q"], "softphone": "sip:bela@pbx.example"}


def test_a_sip_call_is_offered_only_to_an_operator_with_a_sip_softphone(redis_client, keys):
    acd = make_acd(redis_client, keys, {"q": {}}, {"anna": BROWSER, "bela": DESK})  # anna idle longest
    acd.enqueue("sip-1", "q", T0 + 1, channel="sip")
    [offer] = acd.offer(T0 + 2)
    assert (offer.call_id, offer.operator) == ("sip-1", "bela")


def test_a_twilio_call_goes_to_either_softphone(redis_client, keys):
    acd = make_acd(redis_client, keys, {"q": {}}, {"anna": BROWSER, "bela": DESK})
    acd.enqueue("CA1", "q", T0 + 1, channel="twilio")
    acd.enqueue("CA2", "q", T0 + 2, channel="twilio")
    assert sorted(o.operator for o in acd.offer(T0 + 3)) == ["anna", "bela"]


def test_a_sip_call_waits_while_only_browser_softphones_are_free_and_others_are_served(redis_client, keys):
    acd = make_acd(redis_client, keys, {"q": {}}, {"anna": BROWSER})
    acd.enqueue("sip-1", "q", T0 + 1, channel="sip")
    acd.enqueue("CA1", "q", T0 + 2, channel="twilio")
    assert [(o.call_id, o.operator) for o in acd.offer(T0 + 3)] == [("CA1", "anna")]
    assert acd.position("sip-1", T0 + 4).position == 1


def test_a_queue_staffed_only_by_browser_softphones_is_empty_for_sip_calls(redis_client, keys):
    acd = make_acd(redis_client, keys, {"q": {"when_empty": "voicemail"}}, {"anna": BROWSER})
    assert acd.enqueue("sip-1", "q", T0 + 1, channel="sip").action == "voicemail"
    assert acd.enqueue("CA1", "q", T0 + 2, channel="twilio").action == "queued"
    assert acd.enqueue("sim-1", "q", T0 + 3, channel="sim").action == "queued"  # the simulator's calls: any


def test_a_changed_softphone_changes_what_the_operator_can_take(redis_client, keys):
    acd = make_acd(redis_client, keys, {"q": {}}, {"anna": BROWSER})
    acd.enqueue("sip-1", "q", T0 + 1, channel="sip")
    assert acd.offer(T0 + 2) == []
    acd.configure_operator("anna", ["q"], {}, T0 + 3, softphone="sip:anna@pbx.example")
    assert [o.operator for o in acd.offer(T0 + 4)] == ["anna"]


def offer_of(channel: str, call: str = "X1", callback: str | None = None) -> Offer:
    return Offer(call, "bela", "general", callback, channel, "+36301", "hu", False, 3.0, 0)


def listen(c: Container) -> tuple[list[Offer], threading.Event]:
    """Subscribe to the SIP gateways' offer channel; returns what arrives and a 'subscribed' event."""
    got: list[Offer] = []
    ready = threading.Event()

    def run() -> None:
        pubsub = c.redis.live.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(c.keys.sip_offers)
        ready.set()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not got:
            message = pubsub.get_message(timeout=0.2)
            if message is not None:
                got.append(decode(message["data"]))
        pubsub.close()

    threading.Thread(target=run, daemon=True).start()
    assert ready.wait(5)
    time.sleep(0.1)
    return got, ready


def wait_for(items: list[Any]) -> list[Any]:
    deadline = time.monotonic() + 5
    while not items and time.monotonic() < deadline:
        time.sleep(0.05)
    return items


def test_the_twilio_dispatcher_hands_a_sip_calls_offer_to_the_sip_gateways(container: Container) -> None:
    got, _ = listen(container)
    Dispatcher(TwilioChannel(container)).connect(offer_of("sip", "sip-9"))
    assert [(o.call_id, o.operator, o.channel) for o in wait_for(got)] == [("sip-9", "bela", "sip")]


def test_an_offer_nobody_listens_for_is_reported_not_taken(container: Container) -> None:
    assert OfferHandoff(container.redis.live, container.keys, container.jobs).hand_over(offer_of("sip")) is False
    assert OfferHandoff(container.redis.live, container.keys, None).hand_over(offer_of("twilio")) is False


class Rest:
    """Twilio's REST port as the dispatcher uses it, recording the member updates."""

    def __init__(self) -> None:
        self.pushed: list[tuple[str, str, str]] = []

    def push_to_bridge(self, queue_sid: str, call_sid: str, url: str) -> None:
        self.pushed.append((queue_sid, call_sid, url))


def test_a_sip_gateway_hands_a_twilio_calls_offer_to_the_connect_job(container: Container) -> None:
    handoff = OfferHandoff(container.redis.live, container.keys, container.jobs)
    assert handoff.hand_over(offer_of("twilio", "CA77"))
    [job] = [j for j in container.jobs.queue.jobs if j.func_name == CONNECT_JOB]  # type: ignore[attr-defined]
    assert job.args[0] == container.keys.tag and job.args[1]["call_id"] == "CA77"
    rest = Rest()
    channel = TwilioChannel(container, rest=rest)  # type: ignore[arg-type]
    channel.store.create("CA77", {"kind": "caller", "queue_sid": "QU1"})
    jobs.register(channel)
    job.perform()
    [(queue_sid, call_sid, url)] = rest.pushed
    assert (queue_sid, call_sid) == ("QU1", "CA77") and "op=bela" in url
    assert channel.store.get("CA77")["op"] == "bela"


@pytest.fixture
def gateways(container: Container) -> Any:
    """Two SIP gateways' handoff listeners on one hotline, with their callback dialling recorded."""
    from ivr.flow import flow_from_hotline
    from ivr.sip.session import SessionDeps
    from tests.integration.test_sip_session import FakePhone, Journal, Legs, Voices

    container.acd.sync_config(T0)
    started: list[SipGateway] = []
    dialled: list[tuple[int, str]] = []
    for index in range(2):
        deps = SessionDeps(flow=flow_from_hotline(container.hotline), hotline=container.hotline,  # type: ignore[arg-type]
                           acd=container.acd, journal=Journal(None), legs=Legs(), voices=Voices(),  # type: ignore[arg-type]
                           phone=None, softphone_of=lambda op: f"sip:{op}@pbx")  # type: ignore[arg-type]  # fmt: skip
        gateway = SipGateway(deps, lambda handler: FakePhone({}), interval=3600)
        gateway._callback = lambda offer, i=index: dialled.append((i, offer.call_id))  # type: ignore[method-assign]
        threading.Thread(target=gateway._take_handoffs, daemon=True).start()
        started.append(gateway)
    time.sleep(0.3)  # both subscribed
    yield started, dialled
    for gateway in started:
        gateway._stop.set()


def test_a_sip_callback_offered_elsewhere_is_dialled_by_exactly_one_gateway(container: Container, gateways) -> None:
    _, dialled = gateways
    handoff = OfferHandoff(container.redis.live, container.keys, None)
    assert handoff.hand_over(offer_of("sip", "sip-cb", callback="+36301234567"))
    wait_for(dialled)
    time.sleep(0.3)  # the other gateway had its chance too
    assert [call for _, call in dialled] == ["sip-cb"]
