# ruff: noqa: F811 - pytest fixtures are imported from tests.support.twilio_setup
"""Whole Twilio calls through the app, played by the Twilio driver, on both backends."""

from __future__ import annotations

import pytest

from callcenter.domain.access import Principal
from callcenter.kb import ArticleInput, KbService
from callcenter.tickets import TicketService
from tests.support.twilio_checks import call_record, operator_state, staff, ticket_of, waiting
from tests.support.twilio_driver import CALLER, HOTLINE, verbs
from tests.support.twilio_setup import CLOSED, clock, driver, fake_twilio, tw_app, tw_container  # noqa: F401
from webhooks import jobs

pytestmark = pytest.mark.usefixtures("tw_container")


def test_happy_path_in_hungarian_queues_connects_with_whisper_and_surveys(driver, tw_container, fake_twilio):
    staff(tw_container, "anna")
    leg = driver.call(caller_name="Kiss Péter")
    assert leg.last.root.find("Gather/Say").get("voice") == "Google.hu-HU-Standard-A"
    leg.press("1")  # magyar
    assert leg.said[-1][1:] == ("hu-HU", "Google.hu-HU-Standard-A")
    tw_container.journal_writer.drain_all()  # the ticket exists before the operator is offered the call
    leg.press("1")  # billing -> general queue, anna
    assert "Enqueue" in verbs(leg.replies[2])
    assert leg.heard("Ön a sorban az első helyen várakozik.")
    member_update = fake_twilio.of_kind("member_update")[0]
    assert member_update.params["call"] == leg.sid and "/twilio/bridge" in member_update.form["Url"]
    bridge = leg.replies[4].root.find("Dial")
    assert bridge.get("answerOnBridge") == "true" and bridge.get("record") == "record-from-answer-dual"
    assert bridge.find("Client").text == "anna" and "/twilio/whisper" in bridge.find("Client").get("url")
    operator = driver.legs[next(s for s in driver.legs if s != leg.sid)]
    ticket = ticket_of(tw_container, call_record(tw_container, leg.sid))
    assert (
        operator.said[0][0]
        == f"Általános ügyek hívás, magyar nyelven, jegy: {ticket.id}. Elfogadáshoz nyomja meg az egyest."
    )
    assert leg.state == "bridged" and operator_state(tw_container, "anna") == "on_call"

    leg.operator_hangs_up()
    assert leg.heard("Kérjük, maradjon a vonalban egy rövid elégedettségi kérdésre.")
    leg.press("5").press("1")
    assert leg.said[-1][0] == "Köszönjük a válaszát. Viszonthallásra!" and leg.state == "ended"
    assert operator_state(tw_container, "anna") == "wrap_up"
    assert driver.types(leg.sid) == [
        "CALL_STARTED", "IVR_INPUT", "IVR_INPUT", "ENTER_QUEUE", "OFFERED", "CONNECTED",
        "COMPLETED_BY_OPERATOR", "RECORDING", "SURVEY_ANSWERED", "SURVEY_ANSWERED",
    ]  # fmt: skip
    started = driver.events(leg.sid)[0]
    assert started.channel == "twilio"
    assert dict(started.data) == {"from": CALLER, "to": HOTLINE, "caller_name": "Kiss Péter", "channel": "twilio"}
    call = call_record(tw_container, leg.sid)
    assert (call.outcome, call.operator, call.queue, call.language, call.survey_score) == (
        "answered", "anna", "general", "hu", 5,
    )  # fmt: skip
    assert call.recording_url.startswith("https://api.twilio.com/") and call.caller_name == "Kiss Péter"
    assert ticket_of(tw_container, call).id == ticket.id


def test_happy_path_in_english_by_speech_speaks_english_throughout(driver, tw_container):
    staff(tw_container, "anna")
    leg = driver.call()
    leg.press("2")
    assert leg.said[-1][1:] == ("en-US", "Google.en-US-Standard-C")
    assert leg.heard("For billing, press one.")
    leg.speak("it is about my bill")
    assert leg.heard("You are caller number one.") and leg.state == "bridged"
    operator = driver.legs[next(s for s in driver.legs if s != leg.sid)]
    assert "angol nyelven" in operator.said[0][0]  # anna's whisper is in her language, naming the caller's
    leg.operator_hangs_up()
    assert leg.heard("How satisfied were you with our service? Press a number from one to five.")
    leg.press("4").press("2")
    assert leg.said[-1] == ("Thank you for your answer. Goodbye!", "en-US", "Google.en-US-Standard-C")
    inputs = [e.data for e in driver.events(leg.sid) if e.type.value == "IVR_INPUT"]
    assert inputs[1]["kind"] == "speech" and inputs[1]["choice"] == "1"
    answers = [dict(e.data) for e in driver.events(leg.sid) if e.type.value == "SURVEY_ANSWERED"]
    assert answers == [
        {"question": "satisfaction", "answer": 4, "via": "dtmf"},
        {"question": "solved", "answer": 0, "via": "dtmf"},
    ]
    call = call_record(tw_container, leg.sid)
    assert (call.language, call.topic, call.survey_score, call.outcome) == ("en", "billing", 4, "answered")


def test_caller_hanging_up_in_the_ivr_is_an_ivr_exit_and_never_queued(driver, tw_container):
    staff(tw_container, "anna")
    leg = driver.call()
    leg.press("1")
    leg.hangup()
    assert driver.types(leg.sid) == ["CALL_STARTED", "IVR_INPUT", "IVR_EXIT"]
    assert driver.events(leg.sid)[-1].data["reason"] == "caller_hung_up"
    assert driver.events(leg.sid)[-1].data["node"] == "main"
    assert waiting(tw_container, "general") == 0 and operator_state(tw_container, "anna") == "available"
    assert call_record(tw_container, leg.sid).outcome == "ivr"


def test_caller_hanging_up_while_waiting_is_abandoned(driver, tw_container):
    staff(tw_container, on_break=("anna",))
    leg = driver.call()
    leg.press("1").press("1")
    assert leg.in_wait and waiting(tw_container, "general") == 1
    leg.wait(2)
    assert leg.heard("Ha várakozás helyett visszahívást kér, nyomja meg a kilencest.")
    tw_container.clock.advance(40)
    leg.hangup()
    assert driver.types(leg.sid)[-1] == "ABANDONED"
    assert waiting(tw_container, "general") == 0
    call = call_record(tw_container, leg.sid)
    assert call.outcome == "abandoned" and call.operator == ""


def test_ring_no_answer_requeues_the_caller_and_the_next_operator_answers(driver, tw_container):
    staff(tw_container, "anna", "bela")
    driver.behaviour["anna"] = "never"
    leg = driver.call()
    leg.press("1").silence().silence().silence()  # no choice after the retries: the general queue, no skill
    assert leg.state == "bridged" and leg.peer.to == "client:bela"
    offered = [(e.type.value, e.operator) for e in driver.events(leg.sid) if e.operator]
    assert offered[:4] == [("OFFERED", "anna"), ("RING_NO_ANSWER", "anna"), ("OFFERED", "bela"), ("CONNECTED", "bela")]
    assert operator_state(tw_container, "anna") == "available"
    assert driver.types(leg.sid).count("ENTER_QUEUE") == 1  # RONA keeps the original place, no new entry
    leg.hangup()
    call = call_record(tw_container, leg.sid)
    assert (call.operator, call.missed_offers, call.outcome, call.queue) == ("bela", 1, "answered", "general")


def test_operator_declining_in_the_whisper_again_and_again_goes_on_break_and_another_answers(driver, tw_container):
    staff(tw_container, "anna", "bela")
    driver.behaviour["bela"] = "decline"
    leg = driver.call()
    leg.press("1").press("2")  # internet: technical prefers bela's higher skill until he is on a break
    assert leg.state == "bridged" and leg.peer.to == "client:anna"
    assert [e.operator for e in driver.events(leg.sid) if e.type.value == "RING_NO_ANSWER"] == ["bela"] * 3
    assert operator_state(tw_container, "bela") == "break"
    assert tw_container.acd.snapshot(tw_container.clock())["operators"]["bela"]["reason"] == "missed_calls"


def test_callback_requested_while_waiting_keeps_the_place_and_is_dialled_when_an_operator_is_free(
    driver, tw_container, fake_twilio
):
    staff(tw_container, on_break=("anna",))
    leg = driver.call()
    leg.press("1").press("1")
    leg.press("9")
    assert leg.heard("Köszönjük, visszahívási kérését rögzítettük.") and leg.state == "ended"
    assert "CALLBACK_REQUESTED" in driver.types(leg.sid) and "ABANDONED" not in driver.types(leg.sid)
    assert waiting(tw_container, "general") == 1

    tw_container.acd.set_state("anna", "available", tw_container.clock())
    driver.tick()
    create = fake_twilio.of_kind("call_create")[0]
    assert create.form["To"] == "client:anna" and "/twilio/callback/operator" in create.form["Url"]
    operator = driver.legs[create.sid]
    assert operator.state == "bridged" and operator.peer.to == CALLER
    assert driver.types(leg.sid)[-3:] == ["OFFERED", "CONNECTED", "CALLBACK_DIALLED"]
    operator.hangup()
    assert driver.types(leg.sid)[-2:] == ["COMPLETED_BY_OPERATOR", "RECORDING"]
    call = call_record(tw_container, leg.sid)
    assert call.callback_requested and call.outcome == "answered" and call.operator == "anna"


def test_max_wait_takes_the_caller_to_voicemail(driver, tw_container):
    staff(tw_container, on_break=("anna",))
    leg = driver.call()
    leg.press("1").press("1")
    tw_container.clock.advance(601)
    leg.wait()
    assert leg.in_wait  # the wait loop only announces; the dispatcher's periodic run finds the max wait
    driver.tick()
    assert leg.state == "record" and leg.heard("Kérjük, a sípszó után hagyjon üzenetet, és visszahívjuk.")
    leg.leave_message(20)
    assert leg.said[-1][0] == "Köszönjük az üzenetét, hamarosan visszahívjuk. Viszonthallásra!"
    assert driver.types(leg.sid)[-3:] == ["EXIT_TIMEOUT", "RECORDING", "VOICEMAIL"]
    assert waiting(tw_container, "general") == 0
    call = call_record(tw_container, leg.sid)
    assert call.outcome == "voicemail" and call.recording_url.startswith("https://api.twilio.com/")


def test_escalation_mid_call_moves_the_caller_to_second_level_keeping_the_ticket(driver, tw_container, tw_app):
    staff(tw_container, "anna", "csilla")
    tw_container.acd.set_state("csilla", "break", tw_container.clock(), reason="meeting")
    leg = driver.call()
    leg.press("1").press("2")  # internet: technical, anna (csilla, who also has the skill, is in a meeting)
    assert leg.peer.to == "client:anna"
    first_ticket = ticket_of(tw_container, call_record(tw_container, leg.sid)).id
    tw_container.acd.set_state("csilla", "available", tw_container.clock())
    tw_container.clock.advance(60)
    call_record(tw_container, leg.sid)  # the ticket knows the caller is on the line
    tickets = TicketService(tw_container.sessions, tw_container.hotline, tw_container.clock,
                            transfer=tw_container.call_transfer)  # fmt: skip
    tickets.escalate(Principal(username="admin", role="admin"), first_ticket, "router needs replacing")
    driver.settle()
    assert leg.heard("Kérjük, tartsa a vonalat, kapcsoljuk kollégánkat.")
    sip = leg.replies[-1].root.find("Dial/Sip")
    assert sip is not None and sip.text == "sip:csilla@127.0.0.1"
    assert leg.state == "bridged" and operator_state(tw_container, "anna") == "wrap_up"
    assert [e.type.value for e in driver.events(leg.sid)][-4:] == ["ESCALATED", "ENTER_QUEUE", "OFFERED", "CONNECTED"]
    tw_container.clock.advance(50)
    driver.tick()  # the periodic dispatcher run ends anna's wrap-up
    assert operator_state(tw_container, "anna") == "available"
    tw_container.clock.advance(120)
    leg.operator_hangs_up()
    call = call_record(tw_container, leg.sid)
    assert call.escalated and call.final_queue == "level2" and call.operator == "csilla"
    ticket = ticket_of(tw_container, call)
    assert (ticket.id, ticket.status, ticket.assigned_group) == (first_ticket, "escalated", "level2")


def test_survey_skipped_journals_no_answer(driver, tw_container):
    staff(tw_container, "anna")
    leg = driver.call()
    leg.press("1").press("1")
    leg.operator_hangs_up()
    leg.silence().press("#")
    assert leg.said[-1][0] == "Köszönjük a válaszát. Viszonthallásra!" and leg.state == "ended"
    assert "SURVEY_ANSWERED" not in driver.types(leg.sid)
    assert call_record(tw_container, leg.sid).survey_score is None


def test_caller_hanging_up_on_the_operator_gets_the_sms_survey(driver, tw_container, fake_twilio):
    staff(tw_container, "anna")
    leg = driver.call()
    leg.press("1").press("1")
    leg.hangup()
    assert driver.types(leg.sid)[-2:] == ["COMPLETED_BY_CALLER", "RECORDING"]
    queue = tw_container.jobs.queue
    scheduled = [queue.fetch_job(job_id) for job_id in queue.scheduled_job_registry.get_job_ids()]
    assert ("webhooks.jobs.send_sms_survey", (tw_container.keys.tag, leg.sid)) in [
        (j.func_name, j.args) for j in scheduled
    ]
    call_record(tw_container, leg.sid)  # the journal brings the call into SQL
    assert jobs.send_sms_survey(tw_container.keys.tag, leg.sid)
    driver.settle()
    sms = driver.sms[0].form
    assert sms["To"] == CALLER and "Mennyire volt elégedett az ügyintézéssel?" in sms["Body"]
    reply = driver.post("/twilio/sms", {"From": CALLER, "To": HOTLINE, "Body": " 4 ", "MessageSid": "SM1"})
    assert reply.root.find("Message").text.startswith("Megoldódott a problémája?")  # the next question
    reply = driver.post("/twilio/sms", {"From": CALLER, "To": HOTLINE, "Body": "igen", "MessageSid": "SM2"})
    assert reply.root.find("Message").text == "Köszönjük a válaszát. Viszonthallásra!"
    answers = [dict(e.data) for e in driver.events(leg.sid) if e.type.value == "SURVEY_ANSWERED"]
    assert answers == [
        {"question": "satisfaction", "answer": 4, "via": "sms"},
        {"question": "solved", "answer": 1, "via": "sms"},
    ]
    assert call_record(tw_container, leg.sid).survey_score == 4


def test_after_hours_offers_voicemail_and_records_it(driver, tw_container):
    tw_container.clock.now = CLOSED
    staff(tw_container, "anna")
    leg = driver.call()
    leg.press("1")
    assert leg.heard("Ügyfélszolgálatunk jelenleg zárva tart.")
    leg.press("2")
    assert leg.state == "record"
    leg.leave_message()
    exit_ = next(e for e in driver.events(leg.sid) if e.type.value == "IVR_EXIT")
    assert exit_.data["reason"] == "voicemail" and exit_.data["after_hours"] is True
    assert driver.types(leg.sid)[-2:] == ["RECORDING", "VOICEMAIL"] and "ENTER_QUEUE" not in driver.types(leg.sid)
    assert operator_state(tw_container, "anna") == "available"


def test_a_published_outage_article_is_read_in_the_ivr_and_the_caller_may_still_queue(driver, tw_container):
    staff(tw_container, "anna")
    outage = "Budapest XI. kerületében internetkimaradás van, 14 óráig javítjuk."
    author = Principal(username="csilla", role="lead")
    kb = KbService(tw_container.sessions, tw_container.hotline, tw_container.clock)
    kb.create(author, ArticleInput(title="Kimaradás", body=outage, language="hu", status="published",
                                   ivr_topic="internet", ivr_text=outage))  # fmt: skip
    leg = driver.call()
    leg.press("1").press("2")
    assert leg.heard(outage) and leg.pending.get("action").endswith("node=outage_menu")
    leg.press("1")
    assert leg.state == "bridged" and leg.peer.to == "client:anna"
    assert [e.data["node"] for e in driver.events(leg.sid) if e.type.value == "IVR_INPUT"] == [
        "language", "main", "outage_menu",
    ]  # fmt: skip


def test_caller_hanging_up_while_the_operator_rings_is_abandoned_and_frees_the_operator(driver, tw_container):
    staff(tw_container, "anna")
    driver.behaviour["anna"] = "ring"
    leg = driver.call()
    leg.press("1").press("1")
    assert leg.state == "dial" and operator_state(tw_container, "anna") == "reserved"
    tw_container.clock.advance(8)
    leg.hangup()
    assert driver.types(leg.sid)[-2:] == ["OFFERED", "ABANDONED"]
    assert operator_state(tw_container, "anna") == "available"
    assert call_record(tw_container, leg.sid).outcome == "abandoned"


def test_max_wait_in_a_queue_that_overflows_moves_the_caller_to_the_overflow_queue(driver, tw_container):
    staff(tw_container, "bela", on_break=("anna",))
    first = driver.call(frm="+36209999999")
    first.press("1").press("2")  # internet: technical, bela answers
    assert first.state == "bridged"
    leg = driver.call()
    leg.press("1").press("2")  # technical again: bela is busy, the caller waits
    assert leg.in_wait and leg.enqueue.text.endswith("-technical")
    tw_container.clock.advance(901)  # technical: max_wait_seconds 900, on_max_wait overflow to general
    driver.tick()
    assert leg.in_wait and leg.enqueue.text.endswith("-general")
    assert waiting(tw_container, "general") == 1 and waiting(tw_container, "technical") == 0
    timeout = next(e for e in driver.events(leg.sid) if e.type.value == "EXIT_TIMEOUT")
    assert (timeout.queue, timeout.data["action"], timeout.data["to"]) == ("technical", "overflow", "general")
    assert driver.types(leg.sid)[-2:] == ["EXIT_TIMEOUT", "ENTER_QUEUE"]


def test_an_operator_missing_a_callback_ring_keeps_the_callback_waiting_for_the_next(driver, tw_container):
    staff(tw_container, on_break=("anna", "bela"))
    leg = driver.call()
    leg.press("1").silence().silence().silence()  # the general queue, no skill needed
    leg.press("9")
    driver.behaviour["anna"] = "never"
    tw_container.acd.set_state("anna", "available", tw_container.clock())
    driver.tick()
    # she is offered it again until her misses put her on a break; the callback keeps its place meanwhile
    assert [e.operator for e in driver.events(leg.sid) if e.type.value == "RING_NO_ANSWER"] == ["anna"] * 3
    assert operator_state(tw_container, "anna") == "break" and waiting(tw_container, "general") == 1
    tw_container.acd.set_state("bela", "available", tw_container.clock())
    driver.tick()
    assert driver.types(leg.sid)[-3:] == ["OFFERED", "CONNECTED", "CALLBACK_DIALLED"]
    assert operator_state(tw_container, "bela") == "on_call"


def test_with_nobody_working_the_second_level_queue_books_a_callback_and_hangs_up(driver, tw_container):
    staff(tw_container, "anna")  # nobody serves level2, whose when_empty is callback
    leg = driver.call()
    leg.press("1").press("9")
    assert leg.heard("Köszönjük, visszahívási kérését rögzítettük.") and leg.state == "ended"
    assert driver.types(leg.sid)[-2:] == ["ENTER_QUEUE", "CALLBACK_REQUESTED"]
    assert waiting(tw_container, "level2") == 1  # the callback keeps its place
    assert "ABANDONED" not in driver.types(leg.sid)
