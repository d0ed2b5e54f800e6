"""The public "view in your browser" page: a rendered message behind a signed token.

No login: the link travels inside the email. The token is signed (Django's signing, its
own salt), names the template *version* so the page shows the message as it was sent even
after later edits, and the contact it was rendered for (or none: the sample person).
Forged or altered tokens get a 404, never a hint of what exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing
from django.urls import reverse

from engagex.web.emails import absolute_url

_SALT = "engagex.content.view_online"


@dataclass(frozen=True)
class ViewOnline:
    organization_id: str
    template_id: str
    version: int
    contact_id: str | None


def view_online_token(template, *, contact=None, version: int | None = None) -> str:
    payload = [
        str(template.organization_id),
        str(template.pk),
        version or template.version_count,
        str(contact.pk) if contact is not None else "",
    ]
    return signing.dumps(payload, salt=_SALT, compress=True)


def view_online_url(template, *, contact=None, version: int | None = None) -> str:
    token = view_online_token(template, contact=contact, version=version)
    return absolute_url(reverse("content_public:view_online", args=[token]))


def view_online_read(token: str) -> ViewOnline | None:
    try:
        organization_id, template_id, version, contact_id = signing.loads(token, salt=_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return ViewOnline(str(organization_id), str(template_id), int(version), contact_id or None)
