"""Absolute URLs of our own Twilio routes, as Twilio must request them (public base URL + path + query)."""

from __future__ import annotations

from urllib.parse import urlencode


class Urls:
    """Builds ``<public base>/twilio/<route>?<params>``; every URL we put in TwiML or REST calls comes from here."""

    def __init__(self, base_url: str):
        self.base = base_url.rstrip("/")

    def __call__(self, route: str, **params: object) -> str:
        query = urlencode({k: str(v) for k, v in params.items() if v is not None and v != ""})
        return f"{self.base}/twilio/{route}" + (f"?{query}" if query else "")
