"""Control characters are taken out of a Twilio request once its signature is checked.

A NUL or another C0 control character in a form field (``From``, ``Digits``, ``SpeechResult``, a hostile SMS
``Body``) is never something a caller meant; PostgreSQL text cannot even store a NUL. So they are removed from
the form and the query (tab, newline and carriage return are kept: SMS bodies have lines) and the call goes on
with what is left; a field that was only control characters reads as empty (a required one then gets a 400).
The signature is checked before, on the fields exactly as Twilio signed them.
"""

from __future__ import annotations

import re

from flask import request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def without_controls(source: MultiDict[str, str]) -> ImmutableMultiDict[str, str] | None:
    """``source`` with control characters removed from names and values; None when it had none."""
    pairs = list(source.items(multi=True))
    if not any(CONTROL.search(name) or CONTROL.search(value) for name, value in pairs):
        return None
    return ImmutableMultiDict([(CONTROL.sub("", name), CONTROL.sub("", value)) for name, value in pairs])


def clean_request() -> None:
    """Replace the current request's form and query arguments by their cleaned copies where needed."""
    form, args = without_controls(request.form), without_controls(request.args)
    if form is not None:
        request.form = form
    if args is not None:
        request.args = args
    if form is not None or args is not None:
        request.__dict__.pop("values", None)  # recomputed from the cleaned parts if asked for
