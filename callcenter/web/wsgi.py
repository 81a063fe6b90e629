"""WSGI entry for an external server: ``gunicorn 'callcenter.web.wsgi:make_app()'``."""

from __future__ import annotations

from flask import Flask

from callcenter.config import load_settings
from callcenter.web.server import build_serving_app


def make_app() -> Flask:
    """Settings from the environment, then the serving app (nothing is built at import time)."""
    return build_serving_app(load_settings())
