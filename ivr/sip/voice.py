"""Prompt audio for the SIP channel: recorded WAV files where present, else text-to-speech with espeak-ng.

Everything is converted by sox to what pyVoIP sends (8 kHz mono 8-bit unsigned) and cached on disk under a
name derived from (voice, text), so a prompt is synthesised once per gateway installation, not per call.
"""

from __future__ import annotations

import hashlib
import logging
import math
import subprocess
import tempfile
import threading
import wave
from collections import OrderedDict
from pathlib import Path
from urllib.parse import urlparse

from ivr.sip.audio import RATE, tone

logger = logging.getLogger(__name__)

VOICES = {"hu": "hu", "en": "en-us"}
SPEED_WPM = 160
MEMORY_PROMPTS = 256


class SynthesisError(RuntimeError):
    """espeak-ng or sox failed (not installed, or an unusable file)."""


def espeak_voice(language: str) -> str:
    """The espeak-ng voice of a language (``hu``, ``en-us``); unknown languages use their own code."""
    return VOICES.get(language, language)


def convert_to_telephony(source: Path, target: Path) -> None:
    """Any WAV sox reads -> 8 kHz mono 8-bit unsigned PCM WAV."""
    command = ["sox", str(source), "-r", str(RATE), "-c", "1", "-b", "8", "-e", "unsigned-integer", str(target)]
    _run(command)


def _run(command: list[str]) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        raise SynthesisError(f"{command[0]} failed: {exc}") from exc


def read_samples(path: Path) -> bytes:
    """The samples of an 8 kHz mono 8-bit WAV file."""
    with wave.open(str(path), "rb") as wav:
        if (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) != (RATE, 1, 1):
            raise SynthesisError(f"{path}: not 8 kHz mono 8-bit")
        return wav.readframes(wav.getnframes())


def hold_music(seconds: float = 8.0) -> bytes:
    """A soft, repeating arpeggio (no licensing questions); replace with a recorded file in production."""
    notes = (392.0, 440.0, 587.3, 659.3, 587.3, 440.0)  # clear of the 500 Hz and 1 kHz test tones
    note = seconds / (len(notes) * 2)
    out = bytearray()
    for frequency in notes * 2:
        chunk = bytearray(tone(frequency, note, amplitude=0.15))
        fade = min(len(chunk) // 4, 400)
        for i in range(fade):
            gain = math.sin(math.pi / 2 * i / fade)
            for j in (i, len(chunk) - 1 - i):
                chunk[j] = int(128 + (chunk[j] - 128) * gain)
        out += chunk
    return bytes(out)


class VoiceLibrary:
    """Audio for Say and Play steps, cached on disk (``cache_dir``) and the most used ones in memory."""

    def __init__(self, cache_dir: Path, recordings_dir: Path | None = None):
        self.cache_dir = Path(cache_dir)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.recordings_dir = recordings_dir
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def say(self, text: str, language: str) -> bytes:
        """``text`` spoken in ``language`` (synthesised once, then from the cache)."""
        voice = espeak_voice(language)
        key = hashlib.sha256(f"espeak-ng|{voice}|{SPEED_WPM}|{text}".encode()).hexdigest()[:32]
        return self._cached(key, lambda target: self._synthesise(text, voice, target))

    def play(self, url: str, language: str, text: str = "") -> bytes:
        """A recorded prompt (a local path or file:// URL, relative to ``recordings_dir``); when the file is
        missing or unreadable, its transcript is synthesised instead."""
        path = self._recording(url)
        if path is not None:
            key = hashlib.sha256(f"file|{path}|{path.stat().st_mtime_ns}".encode()).hexdigest()[:32]
            try:
                return self._cached(key, lambda target: convert_to_telephony(path, target))
            except SynthesisError as exc:
                logger.warning("recorded prompt %s unusable (%s); synthesising its text", path, exc)
        return self.say(text, language) if text else b""

    def warm(self, texts: list[tuple[str, str]]) -> None:
        """Synthesise prompts ahead of the first call (the flow's static texts)."""
        for text, language in texts:
            try:
                self.say(text, language)
            except SynthesisError as exc:
                logger.warning("cannot synthesise a %s prompt: %s", language, exc)
                return

    def _recording(self, url: str) -> Path | None:
        parsed = urlparse(url)
        if parsed.scheme not in ("", "file"):
            return None
        path = Path(parsed.path)
        if not path.is_absolute() and self.recordings_dir is not None:
            path = self.recordings_dir / path
        return path if path.is_file() else None

    def _cached(self, key: str, produce: object) -> bytes:
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                return self._memory[key]
        target = self.cache_dir / f"{key}.wav"
        if not target.is_file():
            with tempfile.NamedTemporaryFile(dir=self.cache_dir, suffix=".wav", delete=False) as tmp:
                partial = Path(tmp.name)
            try:
                produce(partial)  # type: ignore[operator]
                partial.replace(target)  # atomic: concurrent gateways never read half a file
            finally:
                partial.unlink(missing_ok=True)
        samples = read_samples(target)
        with self._lock:
            self._memory[key] = samples
            while len(self._memory) > MEMORY_PROMPTS:
                self._memory.popitem(last=False)
        return samples

    @staticmethod
    def _synthesise(text: str, voice: str, target: Path) -> None:
        with tempfile.NamedTemporaryFile(suffix=".wav") as raw:
            _run(["espeak-ng", "-v", voice, "-s", str(SPEED_WPM), "-w", raw.name, text])
            convert_to_telephony(Path(raw.name), target)
