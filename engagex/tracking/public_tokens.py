"""The preference-center token of a sent message (`/p/<token>/`).

Same shape and strength as the unsubscribe token (`<base36 delivery id>-<80-bit HMAC>`,
see `engagex.delivery.identifiers`), under a key of its own: an unsubscribe or
view-online token is refused here and a preferences token is refused there, so a link
can only ever do what it was made for.
"""

from __future__ import annotations

# The delivery identifiers' signing helpers: one implementation of the token format and
# of key rotation (SECRET_KEY_FALLBACKS), with the purpose as the only difference.
from engagex.delivery.identifiers import _token, _token_parse

_PREFERENCES_PURPOSE = b"preferences"


def preferences_token(delivery_id: int) -> str:
    return _token(_PREFERENCES_PURPOSE, delivery_id)


def preferences_parse(token: str) -> int | None:
    """The delivery id of a genuine preferences token, else None."""
    return _token_parse(_PREFERENCES_PURPOSE, token)
