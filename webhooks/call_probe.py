"""Is a Twilio call still live? ``calls(sid).fetch()`` behind the recovery's ``CallProbe`` port (reconciliation)."""

from __future__ import annotations

import logging

from twilio.base.exceptions import TwilioRestException

from callcenter.config import TwilioSettings
from webhooks.legs import FINAL
from webhooks.twilio_rest import TwilioRest

logger = logging.getLogger(__name__)


class TwilioCallProbe:
    """True while Twilio reports the call queued, ringing or in progress; False once its status is final."""

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
        except TwilioRestException:
            # Twilio keeps calls retrievable for months, so a 404 means a wrong account or base URL (or a call
            # that never was Twilio's): "unknown", never "ended", or a misconfiguration would end every call.
            return None
        except Exception:
            logger.warning("call %s: Twilio could not be asked about the call", call_id, exc_info=True)
            return None
        return str(status) not in FINAL
