"""Every write to templates: create (blank or from a preset), update, duplicate, delete,
restore a version, send a test. Each records an audit entry (ids and counts only).

A template is always renderable: a save whose merge tags or spintax don't compile is
refused with the problem and its line (the editor keeps what was typed, so nothing is
lost), rather than stored as a broken draft a campaign could later pick up. Stored HTML is
sanitized first (`sanitize.sanitize_html`); the caller learns whether anything was removed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from engagex import audit
from engagex.accounts.models import Organization
from engagex.accounts.tenancy import check_same_organization
from engagex.audit.models import AuditEntry
from engagex.contacts.emails import InvalidEmail, normalize_email
from engagex.content import presets
from engagex.content.context import message_context
from engagex.content.email_html import email_ready_html
from engagex.content.models import (
    NAME_MAX_LENGTH,
    PREHEADER_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    Category,
    Template,
    TemplateVersion,
)
from engagex.content.rendering import RenderLimitExceeded, TemplateProblem, compile_message
from engagex.content.sanitize import sanitize_html
from engagex.content.view_online import view_online_url
from engagex.web.emails import absolute_url

# Far above any real email (Gmail clips messages past ~100 KB) and small enough that a
# paste of something that is not an email fails fast.
HTML_MAX_CHARS = 500_000
TEXT_MAX_CHARS = 200_000
TEST_SEND_MAX_RECIPIENTS = 5
TEST_SENDS_PER_HOUR = 20
TEST_SEND_ACTION = "content.template_test_sent"


@dataclass(frozen=True)
class Saved:
    template: Template
    sanitized: bool  # unsafe markup was removed from the HTML


def clean_content(content: dict) -> tuple[dict, bool]:
    """Validate and normalize template content; returns it and whether HTML was sanitized.

    Raises `ValidationError` keyed by field, with messages a person can act on.
    """
    errors: dict[str, str] = {}
    name = " ".join(str(content.get("name") or "").split())
    if not name:
        errors["name"] = _("Give the template a name.")
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = _("A name can be at most %(max)s characters.") % {"max": NAME_MAX_LENGTH}
    category = content.get("category") or Category.OTHER
    if category not in Category.values:
        errors["category"] = _("Choose one of the categories.")
    subject = " ".join(str(content.get("subject") or "").split())
    if len(subject) > SUBJECT_MAX_LENGTH:
        errors["subject"] = _("The subject can be at most %(max)s characters.") % {
            "max": SUBJECT_MAX_LENGTH
        }
    preheader = " ".join(str(content.get("preheader") or "").split())
    if len(preheader) > PREHEADER_MAX_LENGTH:
        errors["preheader"] = _("The preheader can be at most %(max)s characters.") % {
            "max": PREHEADER_MAX_LENGTH
        }
    html = str(content.get("html") or "")
    if len(html) > HTML_MAX_CHARS:
        errors["html"] = _(
            "The HTML is %(size)s characters long; the limit is %(max)s. "
            "Host large images elsewhere and link to them."
        ) % {"size": f"{len(html):,}", "max": f"{HTML_MAX_CHARS:,}"}
    text_is_custom = bool(content.get("text_is_custom"))
    text = str(content.get("text") or "") if text_is_custom else ""
    if len(text) > TEXT_MAX_CHARS:
        errors["text"] = _("The plain text can be at most %(max)s characters.") % {
            "max": f"{TEXT_MAX_CHARS:,}"
        }
    for field, value in (("html", html), ("text", text), ("subject", subject)):
        if field not in errors and "\x00" in value:
            errors[field] = _("This looks like a binary file, not text.")
    if errors:
        raise ValidationError(errors)

    clean_html = sanitize_html(html) if html.strip() else ""
    try:
        compile_message(subject=subject, preheader=preheader, html=clean_html, text=text)
    except TemplateProblem as problem:
        raise ValidationError({problem.part: str(problem)}) from None
    cleaned = {
        "name": name,
        "category": category,
        "subject": subject,
        "preheader": preheader,
        "html": clean_html,
        "text_is_custom": text_is_custom,
        "text": text,
    }
    return cleaned, _changed_by_sanitizer(html, clean_html)


def _changed_by_sanitizer(original: str, cleaned: str) -> bool:
    # The sanitizer also normalizes harmless things (quotes, entity spelling): only a
    # second pass that still changes something, or lost tags/attributes, count. Compare
    # what a person would call "content": the tags and attribute names present.
    markup = re.compile(r"<\s*([a-zA-Z][\w-]*)|\s([a-zA-Z-:]+)\s*=")
    found = {match.group(0).strip().lower() for match in markup.finditer(original)}
    kept = {match.group(0).strip().lower() for match in markup.finditer(cleaned)}
    return bool(found - kept)


def _add_version(template: Template, actor, *, restored_from: int | None = None) -> None:
    Template.objects.filter(pk=template.pk).update(version_count=F("version_count") + 1)
    template.refresh_from_db(fields=["version_count"])
    TemplateVersion.objects.create(
        organization_id=template.organization_id,
        template=template,
        number=template.version_count,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        restored_from=restored_from,
        **template.content(),
    )


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


@transaction.atomic
def template_create(*, organization, actor, preset_key: str = "", **content) -> Saved:
    cleaned, sanitized = clean_content(content)
    template = Template.objects.create(
        organization=organization,
        preset_key=preset_key,
        created_by=_user(actor),
        updated_by=_user(actor),
        **cleaned,
    )
    _add_version(template, actor)
    audit.record(
        organization,
        actor,
        "content.template_created",
        "template",
        template.pk,
        {"category": template.category, "preset": preset_key or None},
    )
    return Saved(template, sanitized)


def template_create_from_preset(
    *, organization, actor, preset_key: str, name: str | None = None
) -> Saved:
    preset = presets.preset_get(preset_key)
    if preset is None:
        raise ValidationError({"preset": _("That preset does not exist.")})
    return template_create(
        organization=organization,
        actor=actor,
        preset_key=preset.key,
        name=name or str(preset.name),
        category=preset.category,
        subject=preset.subject,
        preheader=preset.preheader,
        html=preset.html,
    )


@transaction.atomic
def template_update(*, organization, actor, template: Template, **changes) -> Saved:
    """Save new content; a version is added only when something actually changed."""
    check_same_organization(organization, template)
    template = Template.objects.select_for_update().get(pk=template.pk)
    if template.deleted_at is not None:
        raise ValidationError(_("This template was deleted."))
    cleaned, sanitized = clean_content({**template.content(), **changes})
    changed = [field for field, value in cleaned.items() if getattr(template, field) != value]
    if not changed:
        return Saved(template, sanitized)
    for field in changed:
        setattr(template, field, cleaned[field])
    template.updated_by = _user(actor)
    template.save(update_fields=[*changed, "updated_by", "updated_at"])
    _add_version(template, actor)
    audit.record(
        organization,
        actor,
        "content.template_updated",
        "template",
        template.pk,
        {"fields": sorted(changed), "version": template.version_count},
    )
    return Saved(template, sanitized)


def template_duplicate(*, organization, actor, template: Template) -> Saved:
    check_same_organization(organization, template)
    name = _("Copy of %(name)s") % {"name": template.name}
    return template_create(
        organization=organization,
        actor=actor,
        preset_key=template.preset_key,
        **{**template.content(), "name": name[:NAME_MAX_LENGTH]},
    )


@transaction.atomic
def template_delete(*, organization, actor, template: Template) -> None:
    """Soft delete: gone from the lists and pickers, kept for campaigns that used it."""
    check_same_organization(organization, template)
    updated = Template.objects.filter(pk=template.pk, deleted_at__isnull=True).update(
        deleted_at=timezone.now()
    )
    if updated:
        audit.record(organization, actor, "content.template_deleted", "template", template.pk)


@transaction.atomic
def template_version_restore(
    *, organization, actor, template: Template, version: TemplateVersion
) -> Saved:
    """Make an older version current again, as a new version (history is never rewritten)."""
    check_same_organization(organization, template, version)
    if version.template_id != template.pk:
        raise ValueError("The version belongs to another template.")
    template = Template.objects.select_for_update().get(pk=template.pk)
    for field, value in version.content().items():
        setattr(template, field, value)
    template.updated_by = _user(actor)
    template.save()
    _add_version(template, actor, restored_from=version.number)
    audit.record(
        organization,
        actor,
        "content.template_version_restored",
        "template",
        template.pk,
        {"restored": version.number, "version": template.version_count},
    )
    return Saved(template, False)


def _test_recipients(raw) -> list[str]:
    items = raw.replace(";", ",").replace("\n", ",").split(",") if isinstance(raw, str) else raw
    recipients: list[str] = []
    for item in items:
        if not str(item).strip():
            continue
        try:
            address = normalize_email(str(item))
        except InvalidEmail as error:
            raise ValidationError(
                {"recipients": _("“%(value)s”: %(reason)s") % {"value": item, "reason": error}}
            ) from None
        if address not in recipients:
            recipients.append(address)
    if not recipients:
        raise ValidationError({"recipients": _("Enter at least one address.")})
    if len(recipients) > TEST_SEND_MAX_RECIPIENTS:
        raise ValidationError(
            {
                "recipients": _("A test goes to at most %(max)s addresses.")
                % {"max": TEST_SEND_MAX_RECIPIENTS}
            }
        )
    return recipients


def test_sends_left(organization) -> int:
    since = timezone.now() - timedelta(hours=1)
    used = AuditEntry.objects.filter(
        organization=organization, action=TEST_SEND_ACTION, created_at__gte=since
    ).count()
    return max(0, TEST_SENDS_PER_HOUR - used)


@transaction.atomic
def template_test_send(
    *, organization, actor, template: Template, recipients, contact=None
) -> list[str]:
    """Send the rendered template (as `contact`, or the sample person) to up to 5 addresses.

    Counted per organization (20 an hour): test sends go to any address, so they must not
    become a way to send mail that skips campaigns' checks and limits.
    """
    check_same_organization(organization, template, *([contact] if contact else []))
    addresses = _test_recipients(recipients)
    # Serialize concurrent test sends of one organization so the hourly count holds.
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    if test_sends_left(organization) <= 0:
        raise ValidationError(
            {
                "recipients": _(
                    "Your organization has sent %(max)s tests in the last hour. "
                    "Try again a little later."
                )
                % {"max": TEST_SENDS_PER_HOUR}
            }
        )
    try:
        rendered = render_template(template, contact=contact)
    except RenderLimitExceeded as error:
        raise ValidationError({"recipients": str(error)}) from None
    subject = _("[Test] %(subject)s") % {"subject": rendered.subject or template.name}
    message = EmailMultiAlternatives(
        subject=subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=addresses,
    )
    message.attach_alternative(rendered.html, "text/html")
    transaction.on_commit(message.send)
    audit.record(
        organization,
        actor,
        TEST_SEND_ACTION,
        "template",
        template.pk,
        {"recipients": len(addresses), "as_contact": str(contact.pk) if contact else None},
    )
    return addresses


@dataclass(frozen=True)
class Rendered:
    subject: str
    preheader: str
    html: str  # email-ready: CSS inlined, hidden preheader, absolute URLs
    text: str


def render_content(
    organization,
    content: dict,
    *,
    contact=None,
    view_online: str = "",
    adjust_context: Callable[[dict], dict] | None = None,
) -> Rendered:
    """Render template content (saved or not) for one person; raises `TemplateProblem`
    or `RenderLimitExceeded`. `adjust_context` may change the merge-tag values first
    (the API's render endpoint lays sample values over them)."""
    compiled = compile_message(
        subject=content.get("subject", ""),
        preheader=content.get("preheader", ""),
        html=content.get("html", ""),
        text=content.get("text", "") if content.get("text_is_custom") else "",
    )
    context = message_context(organization, contact=contact, view_online_url=view_online)
    if adjust_context is not None:
        context = adjust_context(context)
    seed = str(contact.pk) if contact is not None else "sample"
    message = compiled.render(context, seed=seed)
    html = email_ready_html(message.html, preheader=message.preheader, base_url=absolute_url("/"))
    return Rendered(message.subject, message.preheader, html, message.text)


def render_template(template: Template, *, contact=None) -> Rendered:
    return render_content(
        template.organization,
        template.content(),
        contact=contact,
        view_online=view_online_url(template, contact=contact),
    )
