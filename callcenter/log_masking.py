"""Caller numbers never reach the logs in full: a filter masks E.164-looking numbers in every record.

``+36301234567`` is logged as ``+3630*****67``: enough to tell a mobile from a landline and two calls apart in
a debugging session, not enough to call anyone back. Installed on the root logger's handlers by the CLI and by
the serving app, so every module's records pass it whatever their logger.
"""

from __future__ import annotations

import logging
import re

# "+" (or its URL-encoded "%2B", as form data is sometimes logged) and 8 to 15 digits.
_NUMBER = re.compile(r"(\+|%2B)(\d{4})(\d{2,9})(\d{2})(?!\d)", re.IGNORECASE)


def mask_numbers(text: str) -> str:
    """Every E.164-looking number in ``text`` with all but its first 4 and last 2 digits starred."""
    return _NUMBER.sub(lambda m: f"{m[1]}{m[2]}{'*' * len(m[3])}{m[4]}", text)


class NumberMaskingFilter(logging.Filter):
    """Masks numbers in the formatted message (arguments included) and in the exception text of a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_numbers(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_numbers(record.exc_text)
        return True


def install_number_masking(logger: logging.Logger | None = None) -> None:
    """Put the filter on every handler of ``logger`` (the root logger by default); idempotent."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, NumberMaskingFilter) for f in handler.filters):
            handler.addFilter(NumberMaskingFilter())
