"""Shared fixtures: every SQL/Redis test runs on the embedded defaults and on real PostgreSQL + Redis.

``backend`` is ``embedded`` (a SQLite file + the in-process Redis emulation) or ``real`` (PostgreSQL + Redis).
Real servers: PostgreSQL at CALLCENTER_TEST_PG (default postgresql://postgres@127.0.0.1:5432/test) and Redis at
CALLCENTER_TEST_REDIS (default redis://127.0.0.1:6379/0). The test session creates its own PostgreSQL database and
each test uses its own Redis hash tag; only what the tests created is removed. When a server is missing the
``real`` variants skip with the reason, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from callcenter.bootstrap import Container, build_container
from callcenter.config import Settings
from callcenter.hotline import load_hotline
from callcenter.storage import db
from callcenter.storage.models import Base
from queueing.connection import RedisClients, connect
from queueing.keys import Keys

PG_ADMIN_URL = os.environ.get("CALLCENTER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CALLCENTER_TEST_REDIS", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() == "true"

BACKENDS = ["embedded", pytest.param("real", marks=pytest.mark.real)]


def require(condition: bool, reason: str) -> None:
    """Skip when a real part is missing on a laptop; fail in CI, where everything must be there."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


def redis_up(url: str = REDIS_URL) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def pg_up() -> bool:
    try:
        engine = db.make_engine(PG_ADMIN_URL)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def delete_tag(client: redis.Redis, keys: Keys) -> None:
    """Remove every key of one hotline tag (and its RQ keys, and the hashes of its periodic jobs, whose ids name
    the tag: ticket auto-close, privacy purge), nothing else."""
    for pattern in (keys.prefix + "*", f"rq:*{keys.rq_queue_name('')}*", f"rq:job:*-{keys.tag}-*"):
        batch = list(client.scan_iter(match=pattern, count=1000))
        if batch:
            client.delete(*batch)


# -- databases -------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A PostgreSQL database of this test session, migrated once, dropped at the end."""
    require(pg_up(), f"no PostgreSQL at {PG_ADMIN_URL}")
    name = "cc_test_" + uuid.uuid4().hex[:10]
    admin = db.make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    engine = db.make_engine(url)
    db.upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test gets a copy (faster than migrating per test)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    engine.dispose()
    return path


def truncate_all(engine: Engine) -> None:
    """Empty every table (PostgreSQL: one TRUNCATE, identities restarted)."""
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


# -- backends --------------------------------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """``embedded`` (SQLite + in-process Redis) or ``real`` (PostgreSQL + Redis)."""
    if request.param == "real":
        require(redis_up(), f"no Redis at {REDIS_URL}")
    return str(request.param)


@pytest.fixture
def redis_clients(backend: str) -> Iterator[tuple[RedisClients, Keys]]:
    """(clients, keys) on the in-process emulation or the real server, under a tag unique to this test."""
    keys = Keys(tag="t" + uuid.uuid4().hex[:12])
    clients = connect(REDIS_URL if backend == "real" else None)
    yield clients, keys
    delete_tag(clients.live, keys)
    clients.close()


@pytest.fixture
def redis_client(redis_clients: tuple[RedisClients, Keys]) -> redis.Redis:
    """A decoding Redis client (emulated or real)."""
    return redis_clients[0].live


@pytest.fixture
def keys(redis_clients: tuple[RedisClients, Keys]) -> Keys:
    """Key templates under a hash tag no other test uses."""
    return redis_clients[1]


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of the backend's kind."""
    if backend == "real":
        url = str(request.getfixturevalue("pg_database_url"))
        engine = db.make_engine(url)
        truncate_all(engine)
        engine.dispose()
        return url
    template = request.getfixturevalue("sqlite_template")
    path = tmp_path / "callcenter.db"
    shutil.copy(template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def settings(backend: str, database_url: str, keys: Keys) -> Settings:
    """Settings of one test: its own database contents and Redis tag, the demo hotline."""
    return Settings(
        database_url=database_url,
        redis_url=REDIS_URL if backend == "real" else None,
        hotline_tag=keys.tag,
        secret_key="test-secret",
        public_base_url="http://callcenter.test",
        embedded_worker=False,
        hotline=load_hotline(None),
    )


@pytest.fixture
def container(settings: Settings, redis_clients: tuple[RedisClients, Keys]) -> Iterator[Container]:
    """The wired application core on the test's backend (adapters are the real ones)."""
    built = build_container(settings, redis_clients=redis_clients[0])
    yield built
    built._stop.set()
    built.engine.dispose()


@pytest.fixture
def app(container: Container):  # noqa: ANN201 - flask.Flask
    from callcenter.web.app import create_app

    flask_app = create_app(container=container)
    flask_app.config.update(TESTING=True)
    return flask_app


@pytest.fixture
def client(app):  # noqa: ANN001, ANN201
    return app.test_client()


@pytest.fixture(name="redis")
def redis_fixture(redis_client: redis.Redis) -> redis.Redis:
    """Alias of ``redis_client`` (STYLE.md's fixture name)."""
    return redis_client


@pytest.fixture
def session(container: Container) -> Iterator[Session]:
    """A SQL session on the test's database (rolled back if the test leaves it open)."""
    with container.sessions() as db_session:
        yield db_session
