"""The job port: services enqueue slow work through it and never import rq."""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol


class JobQueue(Protocol):
    def enqueue(self, job: str, *args: Any, job_id: str | None = None) -> str:
        """Run ``job`` (dotted path of a function in a jobs module) with primitive arguments; returns job id."""
        ...

    def enqueue_at(self, when: dt.datetime, job: str, *args: Any, job_id: str | None = None) -> str: ...
