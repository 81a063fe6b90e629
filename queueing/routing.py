"""Pure routing rules of the ACD and a small reference model of its semantics (no I/O).

The Lua scripts are the production implementation; :class:`ReferenceAcd` states the same semantics in plain
Python so that a hypothesis state machine can drive both and compare them.
"""

from __future__ import annotations

import math

PRIOR_HANDLE_SECONDS = 180.0
"""Handle time assumed for a queue until its first call has been handled (then the live average is used)."""


def estimated_wait(position: int, handle_time: float | None, working: int, available: int) -> float | None:
    """Expected wait of the caller at ``position``: the calls ahead that no idle operator can take now,
    served by ``working`` operators at the queue's recent handle time. None when nobody works the queue."""
    if position <= 0:
        return 0.0
    if working <= 0:
        return None
    ahead = max(0, position - available)
    aht = PRIOR_HANDLE_SECONDS if handle_time is None else handle_time
    return math.ceil(ahead * aht / working)
