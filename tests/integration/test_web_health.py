from dataclasses import replace
from urllib.parse import urlsplit

import pytest

from callcenter.bootstrap import build_container
from callcenter.web.app import create_app
from tests.support.tcpproxy import TcpProxy


def test_healthz_answers_without_touching_dependencies(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_reports_database_redis_and_journal_backlog(client, container):
    from tests.support.events import answered_call

    container.journal.append_many(answered_call("c1", 1_800_000_000.0))
    body = client.get("/readyz").json
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"]
    assert body["checks"]["journal"]["backlog"] == 7


def test_unknown_route_is_a_problem_object(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 404 and response.json["title"] == "Not Found"


@pytest.mark.real
@pytest.mark.parametrize("backend", ["real"], indirect=True)
def test_readyz_is_unready_when_redis_is_cut_and_degraded_when_sql_is(settings):
    proxy_redis, proxy_pg = TcpProxy("127.0.0.1", 6379), TcpProxy("127.0.0.1", 5432)
    pg = urlsplit(settings.database_url)
    proxied = replace(
        settings,
        redis_url=f"redis://127.0.0.1:{proxy_redis.port}/0",
        database_url=settings.database_url.replace(f"{pg.hostname}:{pg.port}", f"127.0.0.1:{proxy_pg.port}"),
    )
    container = build_container(proxied)
    client = create_app(container=container).test_client()
    try:
        assert client.get("/readyz").json["status"] == "ready"
        proxy_pg.cut()
        response = client.get("/readyz")
        assert response.status_code == 200 and response.json["status"] == "degraded"
        assert not response.json["checks"]["database"]["ok"]
        proxy_redis.cut()
        response = client.get("/readyz")
        assert response.status_code == 503 and response.json["status"] == "unready"
    finally:
        proxy_redis.close()
        proxy_pg.close()
        container.engine.dispose()
