"""Voicemail recording on the SIP channel: a beep, then the caller's audio until '#', silence or max_seconds."""

from __future__ import annotations

import wave
from pathlib import Path

from ivr.sip.audio import FRAME_MS, RATE, tone
from ivr.sip.media import CallerAudio, CallerHungUpError, ticks

BEEP = tone(1000, 0.4, amplitude=0.4)


def record(caller: CallerAudio, path: Path, max_seconds: int) -> float:
    """Record into an 8 kHz 8-bit WAV at ``path``; the caller hanging up ends (and keeps) the message.
    Returns the seconds recorded."""
    caller.play(BEEP)
    caller.digits = ""
    audio = bytearray()
    try:
        for _ in range(ticks(max_seconds)):
            audio += caller.tick()
            if "#" in caller.digits:
                break
    except CallerHungUpError:
        _write(path, bytes(audio))
        raise
    _write(path, bytes(audio))
    return len(audio) / RATE


def _write(path: Path, samples: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(RATE)
        wav.writeframes(samples)


__all__ = ["record", "FRAME_MS"]
