"""Open and click tokens (DESIGN.md §6): compact, signed, and naming a delivery (and,
for a click, a link number of its mailing).

    open:  <base36 delivery id>.<mac>             e.g. 2n9c.Qm3bT0aZ_xk
    click: <base36 delivery id>.<link number>.<mac>

The MAC is 64 bits of keyed BLAKE2b over the id (and link number), base64url: a
sender computes about a dozen per message, and BLAKE2b's keyed mode is a proper MAC
at a third of HMAC-SHA256's cost. Changing any part — the delivery, the link number,
one character of the MAC — makes the token invalid; keys derive from SECRET_KEY and
its fallbacks, so rotating the key doesn't break links in mail already sent.
"""

from __future__ import annotations

import binascii
import hmac
from functools import lru_cache
from hashlib import blake2b

from django.conf import settings

_OPEN, _CLICK = b"open", b"click"
_MAC_BYTES = 8
_MAC_CHARS = 11  # base64url of 8 bytes, without padding
_MAX_ID_CHARS = 13  # base36 of a bigint
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")


@lru_cache(maxsize=16)
def _derived_key(secret: str, purpose: bytes) -> bytes:
    return hmac.digest(secret.encode(), b"engagex.tracking." + purpose, "sha256")


def _keys(purpose: bytes) -> list[bytes]:
    secrets_ = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())]
    return [_derived_key(secret, purpose) for secret in secrets_]


def _mac(key: bytes, message: bytes) -> str:
    digest = blake2b(message, key=key, digest_size=_MAC_BYTES).digest()
    return binascii.b2a_base64(digest, newline=False)[:_MAC_CHARS].translate(_TO_URLSAFE).decode()


def _base36(number: int) -> str:
    if number < 36:
        return _B36[number]
    digits = []
    while number:
        number, digit = divmod(number, 36)
        digits.append(_B36[digit])
    return "".join(reversed(digits))


def _parse_id(text: str) -> int | None:
    if not text or len(text) > _MAX_ID_CHARS or not text.isalnum() or not text.isascii():
        return None
    number = int(text, 36)
    return number if _base36(number) == text else None  # one spelling per id


class TokenMaker:
    """Tokens of one sender process: the keys are looked up once, not per message."""

    __slots__ = ("_click_key", "_open_key")

    def __init__(self) -> None:
        self._open_key = _keys(_OPEN)[0]
        self._click_key = _keys(_CLICK)[0]

    def open(self, delivery_id: int) -> str:
        return f"{_base36(delivery_id)}.{_mac(self._open_key, b'%d' % delivery_id)}"

    def clicks(self, delivery_id: int, links: int) -> list[str]:
        """The click tokens of links 0 … links-1 of one delivery."""
        prefix, key = _base36(delivery_id), self._click_key
        return [
            f"{prefix}.{index}.{_mac(key, b'%d.%d' % (delivery_id, index))}"
            for index in range(links)
        ]


def open_token(delivery_id: int) -> str:
    return TokenMaker().open(delivery_id)


def click_token(delivery_id: int, link_index: int) -> str:
    key = _keys(_CLICK)[0]
    return f"{_base36(delivery_id)}.{link_index}.{_mac(key, b'%d.%d' % (delivery_id, link_index))}"


def open_parse(token: str) -> int | None:
    """The delivery id of a genuine open token, else None."""
    parts = (token or "").split(".")
    if len(parts) != 2 or len(parts[1]) != _MAC_CHARS:
        return None
    delivery_id = _parse_id(parts[0])
    if delivery_id is None:
        return None
    message = b"%d" % delivery_id
    if any(hmac.compare_digest(parts[1], _mac(key, message)) for key in _keys(_OPEN)):
        return delivery_id
    return None


def click_parse(token: str) -> tuple[int, int] | None:
    """(delivery id, link number) of a genuine click token, else None."""
    parts = (token or "").split(".")
    if len(parts) != 3 or len(parts[2]) != _MAC_CHARS:
        return None
    delivery_id = _parse_id(parts[0])
    index_text = parts[1]
    if delivery_id is None or not (index_text.isdigit() and index_text.isascii()):
        return None
    if len(index_text) > 5 or str(int(index_text)) != index_text:
        return None
    index = int(index_text)
    message = b"%d.%d" % (delivery_id, index)
    if any(hmac.compare_digest(parts[2], _mac(key, message)) for key in _keys(_CLICK)):
        return delivery_id, index
    return None
