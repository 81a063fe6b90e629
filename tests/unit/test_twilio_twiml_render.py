"""The fast TwiML writer produces, byte for byte, what twilio-python's ElementTree serialisation produces."""

from __future__ import annotations

import random

import pytest
from twilio.twiml import TwiML
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse as TwilioVoiceResponse

from ivr.steps import Gather, Play, Say
from webhooks import twiml

AWKWARD = ["", "plain", "a & b", "<Say>", "x > y", 'say "hi"', "it's", "line\nbreak", "tab\there", "cr\rhere",
           "Árvíztűrő tükörfúrógép", "emoji 📞", "&amp; already", "]]>", "  spaces  ", "\u00a0nbsp"]  # fmt: skip


def both(build) -> tuple[str, str]:
    """(twilio-python's text, ours) for the same document built on each kind of response."""
    theirs, ours = TwilioVoiceResponse(), twiml.VoiceResponse()
    build(theirs)
    build(ours)
    return str(theirs), str(ours)


def every_verb(response: TwilioVoiceResponse, text: str) -> None:
    response.say(text, language="hu-HU", voice="Google.hu-HU-Standard-A")
    gather = response.gather(input="dtmf speech", num_digits=1, timeout=5, action=f"https://cc/x?a=1&b={text}",
                             method="POST", language="hu-HU", hints=text or None, speech_timeout="auto")  # fmt: skip
    gather.say(text, language="en-US")
    gather.play("https://example.com/hold.mp3", loop=0)
    gather.pause(length=1)
    response.redirect(f"https://cc/ivr?s=1&node={text}&noinput=1", method="POST")
    response.enqueue("tag-general", wait_url="https://cc/wait?lang=hu&key=9", wait_url_method="POST",
                     action="https://cc/done", method="POST")  # fmt: skip
    response.leave()
    response.pause(length=2)
    response.record(action="https://cc/vm?call=CA1", max_length=120, play_beep=True, trim="trim-silence",
                    recording_status_callback="https://cc/rec?call=CA1&kind=voicemail")  # fmt: skip
    dial = response.dial(caller_id="+3612345678", answer_on_bridge=True, record="record-from-answer-dual",
                         action="https://cc/dial?call=CA1&op=anna", timeout=20)  # fmt: skip
    dial.client(identity="anna", url="https://cc/whisper?call=CA1&op=anna", status_callback_event="answered completed")
    dial.number("+36301234567", send_digits=text or None)
    dial.sip("sip:anna@pbx.example.com")
    response.hangup()


@pytest.mark.parametrize("text", AWKWARD)
def test_every_verb_we_use_renders_byte_for_byte_like_twilio(text: str) -> None:
    theirs, ours = both(lambda r: every_verb(r, text))
    assert ours == theirs


def test_the_empty_response_and_an_empty_verb_are_written_short() -> None:
    assert both(lambda r: None) == (str(TwilioVoiceResponse()), '<?xml version="1.0" encoding="UTF-8"?><Response />')
    theirs, ours = both(lambda r: r.leave())
    assert ours == theirs == '<?xml version="1.0" encoding="UTF-8"?><Response><Leave /></Response>'


def test_strings_nested_between_verbs_become_text_and_tails_as_in_elementtree() -> None:
    def build(response: TwilioVoiceResponse) -> None:
        response.append("first & ")
        response.append("second")  # replaces the text, as ElementTree does
        response.say("hi")
        response.append("tail <1>")
        response.append("tail 2")  # replaces the tail
        response.hangup()
        response.add_child("Custom", "value", some_attr=True, other=False, n=3)
        response.add_child("Json", {"a": "<b>"})

    theirs, ours = both(build)
    assert ours == theirs


def test_the_helpers_render_like_twilio() -> None:
    step = Gather("main", 1, 6, (Say("Nyomja meg az egyest.", "hu"), Play("https://x/p.mp3", "hu")), "hu", ("a&b",))

    def build(response: TwilioVoiceResponse) -> None:
        twiml.gather(response, step, "https://cc/twilio/ivr?s=2&node=main", "hu")
        gather = twiml.digits_gather(response, "https://cc/twilio/queue/key", timeout=1)
        twiml.say(gather, "Ha visszahívást kér, nyomja meg a kilencest.", "hu")
        gather.play(twiml.HOLD_MUSIC)

    theirs, ours = both(build)
    assert ours == theirs


def test_random_documents_render_like_twilio() -> None:
    rng = random.Random(4)
    alphabet = "ab <>&\"'\n\r\téőű📞;=?/"
    for _ in range(300):

        def build(response: TwilioVoiceResponse, seed: int = rng.randrange(10**9)) -> None:
            local = random.Random(seed)
            word = lambda: "".join(local.choice(alphabet) for _ in range(local.randrange(8)))  # noqa: E731
            for _ in range(local.randrange(5)):
                kind = local.choice(("say", "play", "gather", "text", "redirect", "hangup"))
                if kind == "gather":
                    node = response.gather(action=word(), timeout=local.randrange(10), hints=word() or None)
                    node.say(word(), voice=word() or None)
                elif kind == "text":
                    response.append(word())
                elif kind == "hangup":
                    response.hangup()
                else:
                    getattr(response, kind)(word(), method=word() or None)

        theirs, ours = both(build)
        assert ours == theirs


def test_a_lone_surrogate_falls_back_to_elementtree() -> None:
    theirs, ours = both(lambda r: r.say("bad \udc80 text"))
    assert ours == theirs and "&#56448;" in ours


def test_other_documents_render_through_the_same_writer() -> None:
    message = MessagingResponse()
    message.message("Köszönjük! <3")
    assert twiml.render(message) == str(message)
    assert twiml.render(TwiML(), xml_declaration=False) == TwiML().to_xml(xml_declaration=False)
