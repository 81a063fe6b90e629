"""Authentication for the API and the pages: Bearer tokens, or the console's session cookie with CSRF.

Use ``@auth_required()`` (any role) or ``@auth_required("lead", "admin")`` on a view, then
``current_principal()`` inside it. Requests with a session cookie that change something must carry the
session's CSRF token (header ``X-CSRF-Token`` or form field ``csrf_token``); Bearer requests need none (a
browser never adds that header by itself).
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, request, session

from callcenter.auth import NotAuthenticatedError
from callcenter.domain.access import Principal, require_role
from callcenter.web import services

F = TypeVar("F", bound=Callable[..., Any])

SESSION_USER = "cc_user"
SESSION_CSRF = "cc_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ANY_ROLE: tuple[str, ...] = ()


class CsrfTokenError(Exception):
    """A state-changing request with a session cookie lacked the session's CSRF token."""


def authenticate() -> Principal:
    """The request's principal from its Bearer token or its console session; raises NotAuthenticatedError."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return services.auth().principal_for_token(header[7:].strip())
    username = session.get(SESSION_USER)
    if username:
        if request.method not in SAFE_METHODS:
            check_csrf()
        return services.auth().principal_for_username(str(username))
    raise NotAuthenticatedError("send 'Authorization: Bearer <token>' (POST /api/v1/auth/login) or log in")


def auth_required(*roles: str) -> Callable[[F], F]:
    """Decorator: 401 without valid credentials, 403 when the principal has none of ``roles`` (empty: any)."""

    def wrap(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            principal = authenticate()
            if roles:
                require_role(principal, *roles)
            g.cc_principal = principal
            return view(*args, **kwargs)

        guarded.__cc_roles__ = roles  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return wrap


def current_principal() -> Principal:
    """The principal ``auth_required`` authenticated for this request."""
    principal = g.get("cc_principal")
    if principal is None:
        raise NotAuthenticatedError("this view is not behind auth_required")
    return principal  # type: ignore[no-any-return]


def csrf_token() -> str:
    """The session's CSRF token (created on first use); templates put it in forms and a meta tag."""
    token = session.get(SESSION_CSRF)
    if not token:
        token = session[SESSION_CSRF] = secrets.token_urlsafe(32)
    return str(token)


def check_csrf() -> None:
    """Refuse a session request whose CSRF token is missing or wrong (constant-time comparison)."""
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
    expected = session.get(SESSION_CSRF, "")
    if not sent or not expected or not hmac.compare_digest(str(sent), str(expected)):
        raise CsrfTokenError("missing or wrong CSRF token")


def start_session(principal: Principal) -> None:
    """Log a principal in to the pages: a fresh session (no fixation) with a new CSRF token."""
    session.clear()
    session[SESSION_USER] = principal.username
    session[SESSION_CSRF] = secrets.token_urlsafe(32)
    session.permanent = False


def end_session() -> None:
    session.clear()
