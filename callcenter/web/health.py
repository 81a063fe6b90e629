"""Liveness and readiness probes (for load balancers and orchestrators)."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from callcenter.web.app import container

bp = Blueprint("health", __name__)

# A journal backlog above this many events means the worker is not keeping up (or SQL is down).
BACKLOG_WARNING = 10_000


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up (no dependency checked)."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Database and Redis reachable; the journal backlog says how far SQL lags behind live state."""
    checks = {"database": _check_database(), "redis": _check_redis()}
    checks["journal"] = _check_journal() if checks["redis"]["ok"] else {"ok": False, "error": "redis down"}
    # Calls keep flowing while SQL is down, so readiness needs Redis; the database and journal are reported.
    ready = bool(checks["redis"]["ok"])
    status = "ready" if ready and checks["database"]["ok"] else ("degraded" if ready else "unready")
    return jsonify(status=status, checks=checks), 200 if ready else 503


def _timed(check: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = check() or {}
        return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 2), **result}
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


def _check_database() -> dict[str, Any]:
    def probe() -> None:
        with container().engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    return _timed(probe)


def _check_redis() -> dict[str, Any]:
    return _timed(lambda: {"embedded": container().redis.embedded} if container().redis.live.ping() else None)


def _check_journal() -> dict[str, Any]:
    def probe() -> dict[str, Any]:
        backlog = container().journal.backlog()
        return {"backlog": backlog, "lagging": backlog > BACKLOG_WARNING}

    return _timed(probe)
