"""Typed readers for environment variables.

Each reader fails fast with a ``ConfigError`` that names the variable, so a
misconfigured deployment stops at start-up with one line, not a traceback deep
inside a request (``manage.py`` and ``wsgi.py`` print it and exit).
"""

from __future__ import annotations

import os
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


class ConfigError(Exception):
    """A configuration value is missing or malformed; the message names the variable."""


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    source = os.environ if environ is None else environ
    value = source.get(name)
    return None if value is None else value.strip()


def env_str(name: str, default: str | None = None, *, environ: Mapping[str, str] | None = None) -> str:
    value = _raw(name, environ)
    if value is None or value == "":
        if default is None:
            raise ConfigError(f"{name} is required but not set")
        return default
    return value


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    value = _raw(name, environ)
    if value is None:
        return default
    word = value.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name}={value!r} is not a boolean (use true/false, 1/0, yes/no, on/off)")


def env_int(name: str, default: int, *, minimum: int | None = None, environ: Mapping[str, str] | None = None) -> int:
    value = _raw(name, environ)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a whole number") from None
    if minimum is not None and number < minimum:
        raise ConfigError(f"{name}={number} must be at least {minimum}")
    return number


def env_list(name: str, default: list[str], *, environ: Mapping[str, str] | None = None) -> list[str]:
    value = _raw(name, environ)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_time_zone(name: str, default: str, *, environ: Mapping[str, str] | None = None) -> str:
    value = env_str(name, default, environ=environ)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name}={value!r} is not a known IANA time zone (e.g. Europe/London)") from None
    return value


@dataclass(frozen=True)
class DatabaseURL:
    name: str
    user: str
    password: str
    host: str
    port: str
    options: dict[str, str]

    def django_settings(self) -> dict[str, Any]:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": self.name,
            "USER": self.user,
            "PASSWORD": self.password,
            "HOST": self.host,
            "PORT": self.port,
            "OPTIONS": dict(self.options),
        }


def parse_database_url(name: str, value: str) -> DatabaseURL:
    """Parse ``postgres://user:pass@host:port/db?opt=v``.

    A unix-socket directory may be given as ``host`` in the query string
    (``postgresql://postgres@/clinic?host=/path/to/dir``), which is how the
    embedded PostgreSQL reports itself.
    """
    parts = urlsplit(value)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ConfigError(f"{name} must start with postgres:// or postgresql:// (got {parts.scheme or 'nothing'}://)")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    host = query.pop("host", None) or unquote(parts.hostname or "")
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise ConfigError(f"{name} has no database name (…/<name> at the end)")
    try:
        port = str(parts.port or "")
    except ValueError:
        raise ConfigError(f"{name} has an invalid port") from None
    return DatabaseURL(
        name=database,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        host=host,
        port=port,
        options=query,
    )


def parse_redis_url(name: str, value: str) -> str:
    """Validate a Redis URL: ``redis://``, ``rediss://`` or ``unix://`` (a socket path)."""
    parts = urlsplit(value)
    if parts.scheme not in {"redis", "rediss", "unix"}:
        raise ConfigError(f"{name} must start with redis://, rediss:// or unix:// (got {parts.scheme or 'nothing'}://)")
    if parts.scheme == "unix" and not parts.path:
        raise ConfigError(f"{name} is a unix:// URL without a socket path")
    return value


def broker_url(redis_url: str) -> str:
    """Celery (kombu) spells a unix-socket Redis ``redis+socket://``; redis-py spells it ``unix://``."""
    if redis_url.startswith("unix://"):
        return "redis+socket://" + redis_url.removeprefix("unix://")
    return redis_url


def database_url_for(settings_dict: Mapping[str, Any], *, name: str | None = None) -> str:
    """The DATABASE_URL that ``parse_database_url`` reads back as ``settings_dict``.

    For handing a database to another process (a worker, a fresh ``manage.py``); a
    unix-socket directory travels as ``?host=``.
    """
    user = quote(str(settings_dict.get("USER") or ""), safe="")
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{quote(str(password), safe='')}@" if password else (f"{user}@" if user else "")
    database = quote(name or str(settings_dict["NAME"]), safe="")
    host = str(settings_dict.get("HOST") or "")
    if host.startswith("/"):
        return f"postgresql://{auth}/{database}?host={quote(host, safe='/')}"
    port = settings_dict.get("PORT") or 5432
    return f"postgresql://{auth}{host or '127.0.0.1'}:{port}/{database}"
