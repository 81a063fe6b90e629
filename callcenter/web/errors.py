"""Errors as RFC 9457 problem objects; one table maps domain errors to HTTP status codes."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

logger = logging.getLogger(__name__)

# Domain error class name -> HTTP status. Names, not classes, so this module imports no domain package.
STATUS_OF: dict[str, int] = {
    "NoSuchOperatorError": 404,
    "NoSuchCallError": 404,
    "NoSuchTicketError": 404,
    "NoSuchArticleError": 404,
    "OperatorExistsError": 409,
    "IllegalTransitionError": 409,
    "OperatorNotAvailableError": 409,
    "CallNotWaitingError": 409,
    "WeakPasswordError": 422,
    "ValidationError": 422,
    "PermissionDeniedError": 403,
    # tickets, knowledge base, auth (issue 6)
    "IllegalTicketTransitionError": 409,
    "ReopenWindowClosedError": 409,
    "TicketNotResolvedError": 409,
    "DispositionRequiredError": 422,
    "UnknownDispositionError": 422,
    "MissingTextError": 422,
    "InvalidArticleError": 422,
    "NoSuchTokenError": 404,
    "NotAuthenticatedError": 401,
    "InvalidCredentialsError": 401,
    "CsrfTokenError": 403,
    "TooManyLoginAttemptsError": 429,
    "AcdUnavailableError": 503,
}


def problem(status: int, title: str, detail: str = "", **extra: object) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def status_for(exc: BaseException) -> int | None:
    for cls in type(exc).__mro__:
        if cls.__name__ in STATUS_OF:
            return STATUS_OF[cls.__name__]
    return None


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        return problem(exc.code or 500, exc.name, exc.description or "")

    @app.errorhandler(Exception)
    def _domain(exc: Exception) -> Response:
        status = status_for(exc)
        if status is None:
            logger.exception("unhandled error on %s %s", request.method, request.path)
            return problem(500, "Internal Server Error", "the error was logged")
        return problem(status, type(exc).__name__, str(exc))
