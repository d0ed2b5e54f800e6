"""Email address validation and normalization, shared by forms, the API and imports.

`normalize_email` is on the import hot path (a million rows must take seconds), so the
common case — a plain ASCII address — is checked with one regular expression; anything
else (IDN domains, Unicode local parts, odd syntax) goes through `email-validator`, which
implements the RFCs properly.
"""

from __future__ import annotations

import hashlib
import re

import email_validator

MAX_LENGTH = 254

# A conservative subset of RFC 5321 that covers nearly every real address: dot-atom
# local part, LDH domain labels, alphabetic TLD. Anything outside it is not rejected
# here, only sent to the full validator.
_SIMPLE = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)


class InvalidEmail(ValueError):
    """The address cannot be mailed; the message says why, for people."""


def normalize_email(value: str) -> str:
    """Return the canonical form of an address or raise `InvalidEmail`.

    Canonical: surrounding whitespace removed, lowercased (local part too — mailbox
    providers treat it case-insensitively and duplicates by case confuse everyone), and
    an internationalized domain in its Unicode form (`xn--` input is decoded) so the
    same address typed two ways is one contact.
    """
    text = value.strip().lower()
    if not text:
        raise InvalidEmail("The email address is empty.")
    simple = len(text) <= MAX_LENGTH and text.isascii() and "xn--" not in text
    if simple and _SIMPLE.fullmatch(text):
        return text
    try:
        result = email_validator.validate_email(
            text, check_deliverability=False, allow_smtputf8=True
        )
    except email_validator.EmailNotValidError as error:
        raise InvalidEmail(str(error)) from None
    normalized = result.normalized.lower()
    if len(normalized) > MAX_LENGTH:
        raise InvalidEmail("The email address is too long.")
    return normalized


def email_domain(email: str) -> str:
    return email.rpartition("@")[2]


def email_hash(email: str) -> str:
    """What the suppression list is keyed by: survives anonymization of the contact."""
    return hashlib.sha256(email.encode()).hexdigest()
