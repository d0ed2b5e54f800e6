"""Identifiers derived from a delivery id, and recipient domains in their ASCII form.

Message-ID and the VERP return path are computed from the delivery id (a retry after a
crash produces the same ones, so a duplicate is recognisable) plus a short HMAC keyed
from SECRET_KEY (so they can't be enumerated or forged); see `mime` for the formats.
"""

from __future__ import annotations

import hmac
import re
from base64 import b32encode
from functools import lru_cache

from django.conf import settings

try:  # IDNA 2008 + UTS #46 (installed with email-validator); the stdlib codec is IDNA 2003
    import idna as _idna
except ImportError:  # pragma: no cover - depends on the environment
    _idna = None

VERP_PREFIX = "bounce+"

_ASCII_DOMAIN = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*")


@lru_cache(maxsize=4096)  # recipient domains repeat (gmail.com, …): convert each once
def ascii_domain(domain: str) -> str:
    """The lowercase IDNA A-label form of a domain; ValueError if it isn't a valid one."""
    domain = domain.strip().rstrip(".")
    if not domain.isascii():
        try:
            if _idna is not None:
                domain = _idna.encode(domain, uts46=True).decode("ascii")
            else:  # pragma: no cover
                domain = domain.encode("idna").decode("ascii")
        except (UnicodeError, ValueError) as exc:
            raise ValueError(f"invalid domain: {domain!r}") from exc
    domain = domain.lower()
    if len(domain) > 253 or not _ASCII_DOMAIN.fullmatch(domain):
        raise ValueError(f"invalid domain: {domain!r}")
    return domain


# --- keys and tokens --------------------------------------------------------------------


@lru_cache(maxsize=16)
def _derived_key(secret: str, purpose: bytes) -> bytes:
    # One key per purpose, so a MAC from one token type is useless as another.
    return hmac.digest(secret.encode(), b"engagex.delivery." + purpose, "sha256")


def _keys(purpose: bytes) -> list[bytes]:
    secrets_ = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())]
    return [_derived_key(secret, purpose) for secret in secrets_]


def _mac(key: bytes, delivery_id: int, chars: int) -> str:
    digest = hmac.digest(key, b"%d" % delivery_id, "sha256")
    return b32encode(digest[:10]).decode("ascii")[:chars].lower()


def check_delivery_id(delivery_id: int) -> None:
    if not isinstance(delivery_id, int) or isinstance(delivery_id, bool) or delivery_id < 0:
        raise ValueError(f"delivery id must be a non-negative integer, got {delivery_id!r}")


_MID_PURPOSE = b"message-id"
_MID_MAC_CHARS = 8
_MID_RE = re.compile(r"<?d([0-9]{1,20})\.([a-z2-7]{8})@[^>\s]+>?")


def message_id_with_key(delivery_id: int, key: bytes, domain: str) -> str:
    return f"<d{delivery_id}.{_mac(key, delivery_id, _MID_MAC_CHARS)}@{domain}>"


def message_id_for(delivery_id: int, domain: str) -> str:
    """The Message-ID of a delivery: the same for every attempt of that delivery."""
    check_delivery_id(delivery_id)
    return message_id_with_key(delivery_id, _keys(_MID_PURPOSE)[0], ascii_domain(domain))


def message_id_parse(message_id: str) -> int | None:
    """The delivery id of one of our Message-IDs (e.g. from an ARF report), else None."""
    match = _MID_RE.fullmatch(message_id.strip().lower())
    if match is None:
        return None
    delivery_id = int(match.group(1))
    if match.group(1) != str(delivery_id):  # one spelling per id
        return None
    for key in _keys(_MID_PURPOSE):
        if hmac.compare_digest(match.group(2), _mac(key, delivery_id, _MID_MAC_CHARS)):
            return delivery_id
    return None


_VERP_PURPOSE = b"verp"
_VERP_MAC_CHARS = 10
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_VERP_TOKEN_RE = re.compile(r"([0-9a-z]{1,13})-([a-z2-7]{10})")


def _base36(number: int) -> str:
    if number == 0:
        return "0"
    digits = []
    while number:
        number, digit = divmod(number, 36)
        digits.append(_B36[digit])
    return "".join(reversed(digits))


def verp_with_key(delivery_id: int, key: bytes, domain: str) -> str:
    mac = _mac(key, delivery_id, _VERP_MAC_CHARS)
    return f"{VERP_PREFIX}{_base36(delivery_id)}-{mac}@{domain}"


def verp_address(delivery_id: int, bounce_domain: str) -> str:
    """The envelope sender for one delivery: bounces to it map back to that delivery."""
    check_delivery_id(delivery_id)
    return verp_with_key(delivery_id, _keys(_VERP_PURPOSE)[0], ascii_domain(bounce_domain))


def verp_parse(address: str) -> int | None:
    """The delivery id a bounce address belongs to, or None if it isn't one we signed."""
    address = address.strip().strip("<>").lower()
    local, at, domain = address.rpartition("@")
    if not at or not domain or not local.startswith(VERP_PREFIX):
        return None
    match = _VERP_TOKEN_RE.fullmatch(local[len(VERP_PREFIX) :])
    if match is None:
        return None
    delivery_id = int(match.group(1), 36)
    if _base36(delivery_id) != match.group(1):  # no leading zeros: one spelling per id
        return None
    for key in _keys(_VERP_PURPOSE):
        if hmac.compare_digest(match.group(2), _mac(key, delivery_id, _VERP_MAC_CHARS)):
            return delivery_id
    return None


def current_keys() -> tuple[bytes, bytes]:
    """(Message-ID key, VERP key) from the current SECRET_KEY: what a builder signs with,
    computed once per mailing."""
    return _keys(_MID_PURPOSE)[0], _keys(_VERP_PURPOSE)[0]


# Unsubscribe links: `<base36 id>-<16 base32 chars>` (an 80-bit HMAC). The token names
# the delivery, and so the contact and mailing, and can't be forged or guessed.
_UNSUBSCRIBE_PURPOSE = b"unsubscribe"
_UNSUBSCRIBE_MAC_CHARS = 16
_UNSUBSCRIBE_RE = re.compile(r"([0-9a-z]{1,13})-([a-z2-7]{16})")


def _token(purpose: bytes, delivery_id: int) -> str:
    check_delivery_id(delivery_id)
    key = _keys(purpose)[0]
    return f"{_base36(delivery_id)}-{_mac(key, delivery_id, _UNSUBSCRIBE_MAC_CHARS)}"


def _token_parse(purpose: bytes, token: str) -> int | None:
    match = _UNSUBSCRIBE_RE.fullmatch(token or "")
    if not match:
        return None
    delivery_id = int(match.group(1), 36)
    for key in _keys(purpose):
        if hmac.compare_digest(match.group(2), _mac(key, delivery_id, _UNSUBSCRIBE_MAC_CHARS)):
            return delivery_id
    return None


def unsubscribe_token(delivery_id: int) -> str:
    return _token(_UNSUBSCRIBE_PURPOSE, delivery_id)


def unsubscribe_parse(token: str) -> int | None:
    return _token_parse(_UNSUBSCRIBE_PURPOSE, token)


# The "view in your browser" link of a sent message: same shape, its own key, so an
# unsubscribe token can't open the message page or the other way round.
_VIEW_ONLINE_PURPOSE = b"view-online"


def view_online_token(delivery_id: int) -> str:
    return _token(_VIEW_ONLINE_PURPOSE, delivery_id)


def view_online_parse(token: str) -> int | None:
    return _token_parse(_VIEW_ONLINE_PURPOSE, token)
