"""The application's own emails (welcome, invitations, alerts): HTML + plain text, one style.

Each email is a pair of templates, `emails/<name>.html` (extending `emails/base.html`)
and `emails/<name>.txt`, plus a subject. Sent through Django's mail backend (the dev
mail capture in development), after the surrounding transaction commits.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string


def absolute_url(path: str) -> str:
    """A link for an email: emails are read outside the site, so links carry the host."""
    return settings.SITE_URL.rstrip("/") + path


def render_email(name: str, context: dict) -> tuple[str, str]:
    context = {"site_url": settings.SITE_URL.rstrip("/"), **context}
    text = render_to_string(f"emails/{name}.txt", context)
    html = render_to_string(f"emails/{name}.html", context)
    return text, html


def send_email(*, to: str, subject: str, name: str, context: dict) -> None:
    """Send on commit: an email about a change the database then rolled back is a lie."""
    text, html = render_email(name, {**context, "subject": subject})
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to]
    )
    message.attach_alternative(html, "text/html")
    transaction.on_commit(message.send)
