"""API keys (PRODUCT.md §A, §K): created, shown once, stored hashed, scoped, revocable.

A key looks like `ex_ab12cd34_<43 random URL-safe characters>`:

- `ex_` tells people (and secret scanners) it is an EngageX key;
- the 8 lowercase letters/digits after it are the *prefix*, stored in clear and shown
  in lists so people can tell their keys apart;
- the rest is `secrets.token_urlsafe(32)` (256 bits).

Only the SHA-256 of the whole key is stored. A slow password hash is not needed: the
secret is random and long, not a human password, and a fast hash keeps the per-request
lookup cheap. The lookup goes through the unique index on the hash, so comparison
timing tells an attacker nothing about a key they do not already have.

Scopes: "read" (GET), "write" (changes), "send" (transactional sending). **"write"
implies "read"**: a client that changes records needs to read them back, and a
write-only key would surprise people, so creating a key with "write" also grants
"read". "send" stays independent, so a mail-sending service can hold a key that can
send and nothing else.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
import string
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from engagex import audit
from engagex.accounts.models import ApiKey, Organization, User
from engagex.lib.tokens import token_digest

KEY_MARKER = "ex_"
PREFIX_LENGTH = 8
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
# token_urlsafe(32) is always 43 characters of [A-Za-z0-9_-].
KEY_PATTERN = re.compile(r"^ex_[a-z0-9]{8}_[A-Za-z0-9_-]{43}$")
NAME_MAX_LENGTH = 100
SCOPE_ORDER = (ApiKey.Scope.READ, ApiKey.Scope.WRITE, ApiKey.Scope.SEND)
# Writing last_used_at on every request would turn every API read into a write.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def looks_like_key(raw_key: str) -> bool:
    return bool(KEY_PATTERN.match(raw_key))


def normalize_scopes(scopes: Iterable[str]) -> list[str]:
    """Known scopes only, in canonical order, with "read" added when "write" is asked for."""
    requested = {str(scope) for scope in scopes}
    unknown = requested - {scope.value for scope in SCOPE_ORDER}
    if unknown:
        raise ValidationError(
            {"scopes": _("Unknown scope: %(scopes)s.") % {"scopes": ", ".join(sorted(unknown))}}
        )
    if not requested:
        raise ValidationError({"scopes": _("Choose at least one scope.")})
    if ApiKey.Scope.WRITE in requested:
        requested.add(ApiKey.Scope.READ)
    return [scope.value for scope in SCOPE_ORDER if scope in requested]


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the key a name, e.g. the app that will use it.")})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            {"name": _("Use at most %(max)s characters.") % {"max": NAME_MAX_LENGTH}}
        )
    return name


def _new_key() -> tuple[str, str]:
    """(full key, prefix) with a prefix no other key has (hash collisions are impossible)."""
    while True:
        prefix = KEY_MARKER + "".join(
            secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH)
        )
        if not ApiKey.objects.filter(prefix=prefix).exists():
            return f"{prefix}_{secrets.token_urlsafe(32)}", prefix


@transaction.atomic
def api_key_create(
    *, organization: Organization, actor: User | None, name: str, scopes: Iterable[str]
) -> tuple[ApiKey, str]:
    """A new key; returns (key, secret). The secret exists only in this return value."""
    name = _clean_name(name)
    scopes = normalize_scopes(scopes)
    raw_key, prefix = _new_key()
    api_key = ApiKey.objects.create(
        organization=organization,
        name=name,
        prefix=prefix,
        key_hash=token_digest(raw_key),
        scopes=scopes,
        created_by=actor,
    )
    audit.record(
        organization,
        actor,
        "api_key.created",
        "api_key",
        api_key.pk,
        {"name": name, "prefix": prefix, "scopes": scopes},
    )
    return api_key, raw_key


@transaction.atomic
def api_key_revoke(*, organization: Organization, actor: User | None, api_key: ApiKey) -> ApiKey:
    """Revokes the key at once; revoking a revoked key changes nothing and logs nothing."""
    if api_key.organization_id != organization.pk:
        raise ValueError("The API key belongs to another organization")
    revoked = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    api_key.refresh_from_db(fields=["revoked_at", "updated_at"])
    if revoked:
        audit.record(
            organization,
            actor,
            "api_key.revoked",
            "api_key",
            api_key.pk,
            {"name": api_key.name, "prefix": api_key.prefix},
        )
    return api_key


def api_key_authenticate(raw_key: str) -> ApiKey | None:
    """The active key matching `raw_key` (with its organization and plan), else None.

    Marks the key as used, at most once per LAST_USED_RESOLUTION.
    """
    if not looks_like_key(raw_key):
        return None
    key_hash = token_digest(raw_key)
    api_key = (
        ApiKey.objects.select_related("organization__plan")
        .filter(key_hash=key_hash, revoked_at__isnull=True)
        .first()
    )
    if api_key is None or not hmac.compare_digest(api_key.key_hash, key_hash):
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        # Conditional, so concurrent requests write at most once; update() leaves
        # updated_at alone (being used is not being changed).
        ApiKey.objects.filter(pk=api_key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


# -- Reads (the settings page) ----------------------------------------------------------------
