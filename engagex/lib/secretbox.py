"""Encrypt short secrets at rest: SMTP passwords, provider API keys (Fernet, AES-128-CBC +
HMAC-SHA256, with a timestamp; `cryptography`).

Keys come from `settings.SECRETS_KEYS` (env `ENGAGEX_SECRETS_KEYS`, comma-separated
Fernet keys): the first one encrypts, every one decrypts, so a key is rotated by putting a
new one first, re-encrypting (`rotate()`), then dropping the old one. Without explicit
keys, one is derived (HKDF-SHA256) from SECRET_KEY. The keys derived from SECRET_KEY and
SECRET_KEY_FALLBACKS always stay as decrypt-only fallbacks, so setting
`ENGAGEX_SECRETS_KEYS` later (or rotating SECRET_KEY with a fallback) keeps stored
secrets readable.

A separate key is worth having: SECRET_KEY leaks more easily (it signs cookies and is
needed by every web process) than a key only the senders and the settings page use.
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

__all__ = ["SecretDecryptError", "decrypt", "encrypt", "generate_key", "rotate", "validate_keys"]

_HKDF_SALT = b"engagex.secretbox"
_HKDF_INFO = b"fernet key v1"


class SecretDecryptError(Exception):
    """No configured key opens the token (a key was dropped too early, or it was altered)."""


def generate_key() -> str:
    """A new random key for ENGAGEX_SECRETS_KEYS."""
    return Fernet.generate_key().decode()


def validate_keys(keys: list[str]) -> None:
    """ValueError naming the bad entry (by position, never by value) if a key is unusable."""
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            raise ValueError(
                f"key {position} is not a Fernet key (32 url-safe base64-encoded bytes; "
                "make one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`)"
            ) from None


def _derived_key(secret: str) -> bytes:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(raw)


@functools.lru_cache(maxsize=8)
def _box(explicit: tuple[str, ...], secret_keys: tuple[str, ...]) -> MultiFernet:
    keys = [key.encode() for key in explicit]
    for secret in secret_keys:
        derived = _derived_key(secret)
        if derived not in keys:
            keys.append(derived)
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    # Keyed on the settings' values, so a test's settings override takes effect at once.
    return _box(
        tuple(getattr(settings, "SECRETS_KEYS", ()) or ()),
        (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())),
    )


def encrypt(plaintext: str) -> str:
    """The token to store; a different one each call (random IV)."""
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode()).decode()
    except (InvalidToken, UnicodeError):
        raise SecretDecryptError(
            "The stored secret can't be decrypted with the configured keys "
            "(ENGAGEX_SECRETS_KEYS / SECRET_KEY changed?): enter it again."
        ) from None


def rotate(token: str) -> str:
    """Re-encrypt a stored token with the current first key."""
    try:
        return _current().rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretDecryptError("The stored secret can't be decrypted.") from None
