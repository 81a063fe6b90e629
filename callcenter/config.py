"""Settings: defaults, then the hotline file, then the environment. The only module that reads os.environ."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from callcenter.hotline import Hotline, load_hotline
from callcenter.yamlsrc import ConfigError

T = TypeVar("T")

DEFAULT_DATABASE_URL = "sqlite:///callcenter.db"


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str = ""
    auth_token: str = ""
    api_key_sid: str = ""
    api_key_secret: str = ""
    twiml_app_sid: str = ""
    caller_id: str = ""
    api_base_url: str = ""  # empty: Twilio's own; tests point it at a local fake

    @property
    def configured(self) -> bool:
        return bool(self.account_sid and self.auth_token)


@dataclass(frozen=True)
class SipSettings:
    server: str = ""
    port: int = 5060
    user: str = ""
    password: str = ""
    local_address: str = "127.0.0.1"
    sip_port: int = 5062
    rtp_low: int = 10000
    rtp_high: int = 20000

    @property
    def configured(self) -> bool:
        return bool(self.server and self.user)


@dataclass(frozen=True)
class Settings:
    """Everything a process needs to know, frozen once built."""

    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None  # None: the in-process Redis emulation
    public_base_url: str = "http://127.0.0.1:5000"
    host: str = "127.0.0.1"
    port: int = 5000
    hotline_tag: str = "main"
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    config_file: str | None = None
    journal_batch_size: int = 1000
    # Each open console or dashboard holds one thread for its live stream (SSE): size for the people online.
    web_threads: int = 64
    embedded_worker: bool = True  # run the job worker and journal consumer inside `serve`
    twilio: TwilioSettings = TwilioSettings()
    sip: SipSettings = SipSettings()
    hotline: Hotline = field(default_factory=lambda: load_hotline(None))

    @property
    def embedded_redis(self) -> bool:
        return self.redis_url is None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from the environment (os.environ by default); raise ConfigError naming the key."""
    env = os.environ if environ is None else environ
    config_file = env.get("CALLCENTER_CONFIG") or None
    if config_file is not None and not Path(config_file).is_file():
        raise ConfigError(f"CALLCENTER_CONFIG: no such file: {config_file}")
    redis_url = env.get("CALLCENTER_REDIS_URL") or None
    return Settings(
        database_url=_url(env, "CALLCENTER_DATABASE_URL", DEFAULT_DATABASE_URL, ("sqlite", "postgresql")),
        redis_url=redis_url and _url(env, "CALLCENTER_REDIS_URL", "", ("redis", "rediss", "unix")),
        public_base_url=_url(env, "CALLCENTER_PUBLIC_BASE_URL", "http://127.0.0.1:5000", ("http", "https")),
        host=env.get("CALLCENTER_HOST", "127.0.0.1"),
        port=_get(env, "CALLCENTER_PORT", 5000, _port),
        hotline_tag=_get(env, "CALLCENTER_HOTLINE_TAG", "main", _tag),
        secret_key=env.get("CALLCENTER_SECRET_KEY") or secrets.token_hex(32),
        config_file=config_file,
        journal_batch_size=_get(env, "CALLCENTER_JOURNAL_BATCH", 1000, _positive_int),
        web_threads=_get(env, "CALLCENTER_WEB_THREADS", 64, _positive_int),
        embedded_worker=_get(env, "CALLCENTER_EMBEDDED_WORKER", redis_url is None, _bool),
        twilio=_twilio(env),
        sip=_sip(env),
        hotline=load_hotline(config_file),
    )


def _twilio(env: Mapping[str, str]) -> TwilioSettings:
    return TwilioSettings(
        account_sid=env.get("TWILIO_ACCOUNT_SID", ""),
        auth_token=env.get("TWILIO_AUTH_TOKEN", ""),
        api_key_sid=env.get("TWILIO_API_KEY_SID", ""),
        api_key_secret=env.get("TWILIO_API_KEY_SECRET", ""),
        twiml_app_sid=env.get("TWILIO_TWIML_APP_SID", ""),
        caller_id=env.get("TWILIO_CALLER_ID", ""),
        api_base_url=env.get("TWILIO_API_BASE_URL", ""),
    )


def _sip(env: Mapping[str, str]) -> SipSettings:
    return SipSettings(
        server=env.get("CALLCENTER_SIP_SERVER", ""),
        port=_get(env, "CALLCENTER_SIP_PORT", 5060, _port),
        user=env.get("CALLCENTER_SIP_USER", ""),
        password=env.get("CALLCENTER_SIP_PASSWORD", ""),
        local_address=env.get("CALLCENTER_SIP_LOCAL_ADDRESS", "127.0.0.1"),
        sip_port=_get(env, "CALLCENTER_SIP_LOCAL_PORT", 5062, _port),
        rtp_low=_get(env, "CALLCENTER_SIP_RTP_LOW", 10000, _port),
        rtp_high=_get(env, "CALLCENTER_SIP_RTP_HIGH", 20000, _port),
    )


def _get(env: Mapping[str, str], key: str, default: T, parse: Callable[[str], T]) -> T:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return parse(raw)
    except ValueError as exc:
        raise ConfigError(f"{key}={raw!r}: {exc}") from None


def _url(env: Mapping[str, str], key: str, default: str, schemes: tuple[str, ...]) -> str:
    def parse(raw: str) -> str:
        scheme = raw.split(":", 1)[0].split("+", 1)[0]
        if "://" not in raw or scheme not in schemes:
            raise ValueError(f"expected a URL with scheme {' or '.join(schemes)}")
        return raw

    return _get(env, key, default, parse)


def _int(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError("expected a whole number") from None


def _port(raw: str) -> int:
    value = _int(raw)
    if not 0 < value < 65536:
        raise ValueError("expected a port number 1-65535")
    return value


def _positive_int(raw: str) -> int:
    value = _int(raw)
    if value < 1:
        raise ValueError("expected a positive integer")
    return value


def _tag(raw: str) -> str:
    if not raw.replace("-", "").replace("_", "").isalnum():
        raise ValueError("expected letters, digits, '-' or '_'")
    return raw


def _bool(raw: str) -> bool:
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")
