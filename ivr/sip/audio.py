"""Audio as the SIP channel handles it: 8 kHz mono 8-bit unsigned PCM in 20 ms frames of 160 bytes.

That is pyVoIP's audio API. Pure Python (``audioop`` is deprecated): G.711 u-law tables, 8/16-bit conversion,
tones, a Goertzel power measure (tests check a tone's frequency with it) and a bounded frame buffer.
"""

from __future__ import annotations

import math
import struct
import threading
from collections import deque

RATE = 8000
FRAME_MS = 20
FRAME_BYTES = RATE * FRAME_MS // 1000
SILENCE = b"\x80" * FRAME_BYTES


def u8_to_s16(data: bytes) -> bytes:
    """8-bit unsigned samples to 16-bit signed little-endian."""
    return struct.pack(f"<{len(data)}h", *((b - 128) << 8 for b in data))


def s16_to_u8(data: bytes) -> bytes:
    """16-bit signed little-endian samples to 8-bit unsigned (high byte, offset by 128)."""
    count = len(data) // 2
    return bytes(((s >> 8) + 128) & 0xFF for s in struct.unpack(f"<{count}h", data[: count * 2]))


def _ulaw_decode(byte: int) -> int:
    byte = ~byte & 0xFF
    sign, exponent, mantissa = byte & 0x80, (byte >> 4) & 0x07, byte & 0x0F
    sample = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return -sample if sign else sample


def _ulaw_encode(sample: int) -> int:
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = max(0, magnitude.bit_length() - 8)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def _alaw_decode(byte: int) -> int:
    byte ^= 0x55
    segment, value = (byte >> 4) & 0x07, (byte & 0x0F) << 4
    value = value + 8 if segment == 0 else (value + 0x108) << (segment - 1)
    return value if byte & 0x80 else -value


def _alaw_encode(sample: int) -> int:
    pcm, mask = (sample >> 3, 0xD5) if sample >= 0 else (-(sample >> 3) - 1, 0x55)
    segment = max(0, pcm.bit_length() - 5)
    if segment >= 8:
        return 0x7F ^ mask
    return ((segment << 4) | ((pcm >> (segment or 1)) & 0x0F)) ^ mask


ULAW_TO_S16 = tuple(_ulaw_decode(b) for b in range(256))
# Every codec step of the audio path is a byte-to-byte map (8-bit samples <-> G.711 codes), so it is done by
# ``bytes.translate`` with these tables: one C call per 20 ms frame instead of 160 Python steps.
ULAW_TO_U8 = bytes(((s >> 8) + 128) & 0xFF for s in ULAW_TO_S16)
U8_TO_ULAW = bytes(_ulaw_encode((b - 128) << 8) for b in range(256))
ALAW_TO_U8 = bytes(((_alaw_decode(b) >> 8) + 128) & 0xFF for b in range(256))
U8_TO_ALAW = bytes(_alaw_encode((b - 128) << 8) for b in range(256))


def ulaw_to_u8(payload: bytes) -> bytes:
    """G.711 u-law (PCMU payload) to 8-bit unsigned samples."""
    return payload.translate(ULAW_TO_U8)


def u8_to_ulaw(data: bytes) -> bytes:
    """8-bit unsigned samples to G.711 u-law."""
    return data.translate(U8_TO_ULAW)


def alaw_to_u8(payload: bytes) -> bytes:
    """G.711 A-law (PCMA payload) to 8-bit unsigned samples."""
    return payload.translate(ALAW_TO_U8)


def u8_to_alaw(data: bytes) -> bytes:
    """8-bit unsigned samples to G.711 A-law."""
    return data.translate(U8_TO_ALAW)


def tone(frequency: float, seconds: float, amplitude: float = 0.3) -> bytes:
    """A sine tone as 8-bit unsigned samples (hold music and beeps are built from these)."""
    count = int(seconds * RATE)
    step = 2 * math.pi * frequency / RATE
    return bytes(int(128 + 127 * amplitude * math.sin(step * i)) for i in range(count))


def goertzel_power(samples: bytes, frequency: float) -> float:
    """Relative power of ``frequency`` in 8-bit unsigned samples (Goertzel), normalised by length."""
    if not samples:
        return 0.0
    coeff = 2 * math.cos(2 * math.pi * frequency / RATE)
    prev = prev2 = 0.0
    for byte in samples:
        value = prev + 0.0
        prev = (byte - 128) + coeff * value - prev2
        prev2 = value
    power = prev * prev + prev2 * prev2 - coeff * prev * prev2
    return power / (len(samples) ** 2)


def tone_share(samples: bytes, frequency: float) -> float:
    """The share of the signal's energy at ``frequency`` (about 1 for a pure tone of it, about 0 for speech,
    silence or another tone a few bins away)."""
    if not samples:
        return 0.0
    mean_square = sum((b - 128) ** 2 for b in samples) / len(samples)
    if mean_square < 1:
        return 0.0
    return min(1.0, 2 * goertzel_power(samples, frequency) / mean_square)


def dominant_frequency(samples: bytes, candidates: tuple[float, ...]) -> float:
    """The candidate frequency with the most power in ``samples``."""
    return max(candidates, key=lambda f: goertzel_power(samples, f))


def frames(audio: bytes) -> list[bytes]:
    """Split audio into 20 ms frames, the last one padded with silence."""
    out = [audio[i : i + FRAME_BYTES] for i in range(0, len(audio), FRAME_BYTES)]
    if out and len(out[-1]) < FRAME_BYTES:
        out[-1] = out[-1] + SILENCE[: FRAME_BYTES - len(out[-1])]
    return out


class FrameBuffer:
    """A FIFO of audio bytes that never holds more than ``max_bytes``: the oldest bytes are dropped.

    Replaces pyVoIP's packet managers, which keep every packet of a call forever. ``read`` pads with
    silence, like pyVoIP's; ``write`` ignores the RTP offset (arrival order, fine for our loopback and LAN).
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._lock = threading.Lock()
        self.dropped = 0

    def write(self, offset: int, data: bytes) -> None:
        with self._lock:
            self._chunks.append(bytes(data))
            self._size += len(data)
            while self._size > self.max_bytes and self._chunks:
                old = self._chunks.popleft()
                self._size -= len(old)
                self.dropped += len(old)

    def read(self, length: int = FRAME_BYTES) -> bytes:
        with self._lock:
            if not self._chunks:
                return SILENCE if length == FRAME_BYTES else b"\x80" * length
            if len(self._chunks[0]) == length:  # the usual case: whole 20 ms frames in, whole frames out
                self._size -= length
                return self._chunks.popleft()
            out = bytearray()
            while self._chunks and len(out) < length:
                chunk = self._chunks.popleft()
                take = length - len(out)
                out += chunk[:take]
                if len(chunk) > take:
                    self._chunks.appendleft(chunk[take:])
            self._size -= len(out)
        return bytes(out) + b"\x80" * (length - len(out))

    def __len__(self) -> int:
        return self._size
