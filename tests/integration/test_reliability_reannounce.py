"""After Redis lost its data, operators re-announce themselves through the API at once, without waiting for
the watchdog's rebuild: their state is accepted and routing can use them again."""

from __future__ import annotations

from flask.testing import FlaskClient

from callcenter.bootstrap import Container
from tests.conftest import delete_tag
from tests.support.api import bearer, make_token, seed_operators


def test_operator_re_announces_through_the_api_after_redis_lost_its_data(
    container: Container, client: FlaskClient
) -> None:
    ids = seed_operators(container)
    make_token(container, ids["anna"], "tok-anna")
    make_token(container, ids["admin"], "tok-admin")
    container.acd.sync_config(container.clock())
    go = {"state": "available"}
    assert client.post("/api/v1/operators/me/state", json=go, headers=bearer("tok-anna")).status_code == 200
    delete_tag(container.redis.live, container.keys)  # Redis restarted empty

    answer = client.post("/api/v1/operators/me/state", json=go, headers=bearer("tok-anna"))
    assert answer.status_code == 200 and (answer.json or {})["state"] == "available"
    container.acd.enqueue("CA1", "general", container.clock(), channel="twilio", caller="+36301")
    assert [(o.call_id, o.operator) for o in container.acd.offer(container.clock())] == [("CA1", "anna")]
    # Somebody who serves no queue (the admin) is still not an ACD operator.
    assert client.post("/api/v1/operators/me/state", json=go, headers=bearer("tok-admin")).status_code == 404
