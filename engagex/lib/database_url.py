"""Turn `DATABASE_URL` into Django's DATABASES entry, with errors that name the variable.

Accepted forms (PostgreSQL is the only database):
    postgresql://user:password@host:5432/dbname?sslmode=require
    postgresql://user@/dbname?host=/path/to/socket/dir
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_SCHEMES = {"postgres", "postgresql"}
# libpq parameters we pass through to psycopg unchanged.
_PASSTHROUGH_OPTIONS = {
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "application_name",
    "connect_timeout",
    "target_session_attrs",
    "options",
}


def database_config_from_url(url: str, *, variable: str = "DATABASE_URL") -> dict[str, Any]:
    def fail(reason: str) -> ImproperlyConfigured:
        # Never echo the URL itself: it usually carries a password.
        return ImproperlyConfigured(f"{variable} is malformed: {reason}")

    if not url.strip():
        raise fail("it is empty (unset it to use the embedded PostgreSQL)")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise fail(str(error)) from None
    if parts.scheme not in _SCHEMES:
        raise fail(f"scheme must be postgresql://, got {parts.scheme or 'none'!r}")
    name = unquote(parts.path.lstrip("/"))
    if not name or "/" in name:
        raise fail("it must name a database, e.g. postgresql://user:pass@host:5432/engagex")

    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    host = parts.hostname or ""
    raw_host = parts.netloc.rpartition("@")[2]
    if raw_host.lower().startswith("%2f"):  # percent-encoded socket directory, kept verbatim
        host, port = unquote(raw_host), None
    if "host" in query:
        host = query.pop("host")
    if not host:
        raise fail("it must name a host (or ?host=/socket/dir for a Unix socket)")
    unknown = set(query) - _PASSTHROUGH_OPTIONS
    if unknown:
        raise fail(f"unknown option(s) {', '.join(sorted(unknown))}")

    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(port or ""),
        "OPTIONS": query,
    }
