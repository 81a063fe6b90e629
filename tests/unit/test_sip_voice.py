"""Prompt audio for the SIP channel: recorded WAV where present, espeak-ng otherwise, cached on disk."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import pytest

from ivr.sip import voice
from ivr.sip.audio import RATE, tone
from ivr.sip.voice import VoiceLibrary
from tests.conftest import require


@pytest.fixture(autouse=True)
def tools() -> None:
    require(shutil.which("espeak-ng") is not None and shutil.which("sox") is not None, "espeak-ng and sox needed")


def test_spoken_prompt_is_8_khz_8_bit_and_synthesised_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = VoiceLibrary(tmp_path)
    audio = first.say("Jó napot kívánok!", "hu")
    assert len(audio) > RATE // 2  # at least half a second of speech
    assert len(list(tmp_path.glob("*.wav"))) == 1

    def no_synthesis(*args: object) -> None:
        raise AssertionError("synthesised again")

    monkeypatch.setattr(VoiceLibrary, "_synthesise", staticmethod(no_synthesis))
    assert VoiceLibrary(tmp_path).say("Jó napot kívánok!", "hu") == audio  # a new process reads the disk cache


def test_languages_get_their_own_voice(tmp_path: Path) -> None:
    library = VoiceLibrary(tmp_path)
    assert library.say("Hello", "en") != library.say("Hello", "hu")
    assert voice.espeak_voice("en") == "en-us" and voice.espeak_voice("hu") == "hu"


def test_recorded_prompt_is_played_converted_to_8_khz(tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    with wave.open(str(recordings / "welcome.wav"), "wb") as wav:  # 16 kHz 16-bit, as a studio would deliver
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(b"\x00\x10" * 16000)
    library = VoiceLibrary(tmp_path / "cache", recordings)
    audio = library.play("welcome.wav", "en", "Welcome")
    assert abs(len(audio) - RATE) < 100  # one second at 8 kHz
    assert library.play("file://" + str(recordings / "welcome.wav"), "en") == audio


def test_missing_recording_falls_back_to_its_transcript(tmp_path: Path) -> None:
    library = VoiceLibrary(tmp_path)
    assert library.play("nowhere.wav", "en", "Welcome") == library.say("Welcome", "en")
    assert library.play("https://example.com/x.wav", "en", "") == b""


def test_hold_music_stays_clear_of_the_test_tones() -> None:
    from ivr.sip.audio import tone_share

    music = voice.hold_music()
    assert tone_share(music, 500) < 0.05 and tone_share(music, 1000) < 0.05
    assert tone_share(tone(500, 1), 500) > 0.9
