"""Twilio's request signature, checked on every Twilio route against the URL Twilio itself requested.

Behind a TLS-terminating proxy ``request.url`` is not what Twilio signed, so the URL is rebuilt from the
configured public base URL + the path + the raw query string (never re-encoded).

The signature is twilio-python's ``RequestValidator`` computation (HMAC-SHA1 of the URL and the sorted form
fields, the URL tried without and with its default port), done once per request instead of twice: the validator
computes both variants every time and looks each field up through two failing attribute lookups.
``tests/unit/test_twilio_signature.py`` checks the two agree.
"""

from __future__ import annotations

import base64
import functools
import hmac
import logging
from collections.abc import Callable
from hashlib import sha1
from typing import Any, TypeVar
from urllib.parse import urlparse

from flask import Response, request
from twilio.request_validator import add_port, remove_port
from werkzeug.datastructures import MultiDict

from callcenter.config import Settings
from webhooks.cleaning import clean_request

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def public_url(base_url: str, path: str, raw_query: bytes) -> str:
    """The URL Twilio requested: public base + path + the query string exactly as it was sent."""
    url = base_url.rstrip("/") + path
    return url + "?" + raw_query.decode("latin-1") if raw_query else url


def is_signed(settings: Settings) -> bool:
    """True when the current request carries a valid X-Twilio-Signature for our auth token."""
    token = settings.twilio.auth_token
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = public_url(settings.public_base_url, request.path, request.query_string)
    return signature_matches(token, url, request.form, signature)


def signature_matches(token: str, url: str, form: MultiDict[str, str], signature: str) -> bool:
    """``RequestValidator(token).validate(url, form, signature)``: the URL as given without its port, or with
    its default port (Twilio has signed both ways)."""
    payload = "".join(
        name + value
        for name, values in sorted(form.lists())
        for value in (sorted(set(values)) if len(values) > 1 else values)
    )
    key = token.encode()
    return any(
        hmac.compare_digest(_signature(key, variant + payload), signature.encode()) for variant in _variants(url)
    )


@functools.lru_cache(maxsize=1024)
def _variants(url: str) -> tuple[str, str]:
    """The URL without and with its default port; the same few URLs come again and again (a parse saved)."""
    parsed = urlparse(url)
    return remove_port(parsed), add_port(parsed)


def _signature(key: bytes, text: str) -> bytes:
    return base64.b64encode(hmac.new(key, text.encode(), sha1).digest())


def forbidden() -> Response:
    return Response("invalid or missing X-Twilio-Signature\n", status=403, mimetype="text/plain")


def twilio_signed(settings_of: Callable[[], Settings]) -> Callable[[F], F]:
    """Decorate a view: 403 (and nothing else happens) unless Twilio signed the request; control characters
    are then removed from its fields (``webhooks.cleaning``)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if not is_signed(settings_of()):
                logger.warning(
                    "rejected unsigned request to %s (CallSid %s)", request.path, request.form.get("CallSid")
                )
                return forbidden()
            clean_request()
            return view(*args, **kwargs)

        return checked  # type: ignore[return-value]

    return decorate
