"""Job functions for the job-queue tests (RQ imports them by dotted path)."""

from rq import get_current_job


def remember(key: str, value: str) -> str:
    job = get_current_job()
    assert job is not None
    job.connection.set(key, value)
    return value.upper()
