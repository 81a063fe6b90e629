"""The REST API fuzzed from its own OpenAPI document (schemathesis, through the WSGI app): whatever the
generated request, no 500 and no response the document does not describe (status, content type, body schema)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from callcenter.bootstrap import Container
from tests.support.api import bearer, make_token, seed_operators
from tests.support.events import answered_call

T0 = 1_800_000_000.0
# Generation is the slow part; one cheap backend is enough to exercise the request parsing and validation.
pytestmark = pytest.mark.parametrize("backend", ["embedded"], indirect=True)


@pytest.fixture
def api_schema(app: Any, container: Container) -> Any:
    ids = seed_operators(container)
    make_token(container, ids["admin"], "tok-admin")
    container.acd.sync_config(T0)
    container.journal.append_many(answered_call("c1", T0))
    container.journal_writer.drain_all()
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def test_api_answers_every_generated_request_within_its_spec_and_without_500(api_schema: Any) -> None:
    failures: dict[str, str] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 30
    for operation in operations:
        if operation.path.endswith("/events"):
            continue  # a Server-Sent Events stream: no JSON body to validate (its route is in the role tests)

        @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)  # fmt: skip
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            case.call_and_validate(headers=bearer("tok-admin"))

        try:
            check()
        except (
            Exception,
            BaseExceptionGroup,
        ) as exc:  # collect every operation's first failure, not just the first operation's
            failures[f"{operation.method.upper()} {operation.path}"] = str(exc)[:800]
    assert failures == {}
