"""Is a Twilio call still live? ``calls(sid).fetch()`` behind the recovery's ``CallProbe`` port (reconciliation)."""

from __future__ import annotations

import logging

from twilio.base.exceptions import TwilioRestException

from callcenter.config import TwilioSettings
from webhooks.legs import FINAL
from webhooks.twilio_rest import TwilioRest

logger = logging.getLogger(__name__)


class TwilioCallProbe:
    """True while Twilio reports the call queued, ringing or in progress; False once final or unknown to it."""

    def __init__(self, settings: TwilioSettings, rest: TwilioRest | None = None):
        self._settings, self._rest = settings, rest

    def is_live(self, call_id: str) -> bool | None:
        """None when Twilio cannot be asked (not a Twilio call SID, network error): nothing is changed then."""
        if not call_id.startswith("CA"):
            return None
        if self._rest is None:
            self._rest = TwilioRest(self._settings)
        try:
            status = self._rest.client.calls(call_id).fetch().status
        except TwilioRestException as exc:
            return False if exc.status == 404 else None
        except Exception:
            logger.warning("call %s: Twilio could not be asked about the call", call_id, exc_info=True)
            return None
        return str(status) not in FINAL
