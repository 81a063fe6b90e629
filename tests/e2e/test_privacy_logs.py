# ruff: noqa: F811 - pytest fixtures are imported from tests.support.twilio_setup
"""Caller numbers are masked in the logs: the filter the CLI and the serving app install on the root logger's
handlers rewrites every E.164-looking number of a record, here on the real log output of a webhook."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from callcenter.log_masking import NumberMaskingFilter, install_number_masking, mask_numbers
from tests.support.twilio_driver import HOTLINE
from tests.support.twilio_setup import clock, driver, fake_twilio, tw_app, tw_container  # noqa: F401


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What a handler on the root logger writes, with the masking installed as `callcenter serve` does."""
    root, out = logging.getLogger(), io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    install_number_masking()
    yield out
    root.removeHandler(handler)
    for other in root.handlers:  # pytest's own handlers outlive the test
        for masking in [f for f in other.filters if isinstance(f, NumberMaskingFilter)]:
            other.removeFilter(masking)


def test_numbers_are_masked_but_for_their_first_four_and_last_two_digits() -> None:
    assert mask_numbers("from +36301234567 to %2B447700900123") == "from +3630*****67 to %2B4477******23"
    assert mask_numbers("call CA123 at 1800000000.5, +3612") == "call CA123 at 1800000000.5, +3612"


@pytest.mark.parametrize("backend", ["embedded"], indirect=True)
def test_a_webhook_logging_caller_numbers_writes_them_masked(driver, log_output) -> None:
    form = {"CallSid": "CA" + "1" * 32, "From": "+36301234567", "To": "+36309876543", "Caller": HOTLINE}
    assert driver.post("/twilio/outgoing", form).status == 200
    written = log_output.getvalue()
    assert "outgoing call from '+3630*****67' to '+3630*****43' refused" in written
    assert "+36301234567" not in written and "+36309876543" not in written


def test_installing_twice_adds_one_filter() -> None:
    logger, handler = logging.getLogger("test.masking"), logging.NullHandler()
    logger.addHandler(handler)
    install_number_masking(logger)
    install_number_masking(logger)
    assert len(handler.filters) == 1
    logger.removeHandler(handler)
