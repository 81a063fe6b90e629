"""The SIP channel's audio: sample conversions, G.711, the bounded frame buffer, the 20 ms pacer, tone checks."""

from __future__ import annotations

import warnings

import pytest

from ivr.sip.audio import (
    FRAME_BYTES,
    SILENCE,
    FrameBuffer,
    alaw_to_u8,
    frames,
    s16_to_u8,
    tone,
    tone_share,
    u8_to_alaw,
    u8_to_s16,
    u8_to_ulaw,
    ulaw_to_u8,
)  # fmt: skip
from ivr.sip.media import Pacer


def test_8_bit_unsigned_and_16_bit_signed_convert_both_ways() -> None:
    samples = bytes([0, 1, 127, 128, 129, 255])
    assert u8_to_s16(samples)[:2] == (-32768).to_bytes(2, "little", signed=True)
    assert s16_to_u8(u8_to_s16(samples)) == samples


def test_ulaw_round_trip_keeps_8_bit_samples_within_one_step() -> None:
    samples = bytes(range(256))
    back = ulaw_to_u8(u8_to_ulaw(samples))
    assert max(abs(a - b) for a, b in zip(samples, back, strict=True)) <= 2
    assert ulaw_to_u8(b"\xff") == b"\x80"  # u-law silence is 8-bit silence


def test_alaw_round_trip_keeps_8_bit_samples_within_one_step() -> None:
    samples = bytes(range(256))
    back = alaw_to_u8(u8_to_alaw(samples))
    assert max(abs(a - b) for a, b in zip(samples, back, strict=True)) <= 2
    assert u8_to_alaw(b"\x80") == b"\xd5"  # 8-bit silence is A-law silence


def test_g711_tables_agree_with_audioop_on_every_code_and_sample() -> None:
    with warnings.catch_warnings():  # deprecated (gone in 3.13): here only as the reference
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop
    codes = samples = bytes(range(256))
    assert ulaw_to_u8(codes) == audioop.bias(audioop.ulaw2lin(codes, 1), 1, 128)
    assert alaw_to_u8(codes) == audioop.bias(audioop.alaw2lin(codes, 1), 1, 128)
    assert u8_to_ulaw(samples) == audioop.lin2ulaw(audioop.bias(samples, 1, -128), 1)
    assert u8_to_alaw(samples) == audioop.lin2alaw(audioop.bias(samples, 1, -128), 1)


def test_frames_are_20_ms_and_the_last_is_padded_with_silence() -> None:
    parts = frames(b"\x90" * (FRAME_BYTES + 10))
    assert [len(p) for p in parts] == [FRAME_BYTES, FRAME_BYTES]
    assert parts[1].endswith(SILENCE[:10])


def test_frame_buffer_drops_the_oldest_audio_beyond_its_bound() -> None:
    buffer = FrameBuffer(max_bytes=3 * FRAME_BYTES)
    for value in range(1, 6):
        buffer.write(0, bytes([value]) * FRAME_BYTES)
    assert len(buffer) == 3 * FRAME_BYTES and buffer.dropped == 2 * FRAME_BYTES
    assert [buffer.read()[0] for _ in range(4)] == [3, 4, 5, 0x80]  # then silence


class Virtual:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_pacer_ticks_every_20_ms_whatever_the_work_between_ticks_costs() -> None:
    virtual = Virtual()
    pacer = Pacer(virtual.clock, virtual.sleep)
    for _ in range(100):
        virtual.now += 0.012  # work
        pacer.wait()
    assert virtual.now == pytest.approx(2.0)


def test_pacer_resynchronises_after_a_stall_instead_of_bursting() -> None:
    virtual = Virtual()
    pacer = Pacer(virtual.clock, virtual.sleep, batch=1)
    virtual.now += 0.5  # the process stalled
    pacer.wait()
    before = virtual.now
    pacer.wait()
    assert virtual.now - before == pytest.approx(0.02)


def test_pacer_wakes_once_per_two_frames_and_never_runs_more_than_one_frame_ahead() -> None:
    virtual = Virtual()
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(virtual.now)
        virtual.sleep(seconds)

    pacer = Pacer(virtual.clock, sleep)
    written: list[float] = []
    for _ in range(100):
        written.append(virtual.now)  # the frame of this tick goes out now
        virtual.now += 0.001
        pacer.wait()
    assert len(sleeps) == 50 and virtual.now == pytest.approx(2.0)
    assert all(tick * 0.02 - 0.02 - 1e-9 <= at <= tick * 0.02 + 0.002 for tick, at in enumerate(written))


def test_tone_share_tells_the_test_tones_apart() -> None:
    assert tone_share(tone(500, 0.2), 500) > 0.9
    assert tone_share(tone(1000, 0.2), 500) < 0.05
    assert tone_share(SILENCE * 10, 500) == 0.0
