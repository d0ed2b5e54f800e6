"""The pre-send checklist: everything that must be true before a campaign may send.

Each check says what is wrong and how to fix it, in words for the person sending. A
failing blocking check stops "Send" and "Schedule"; the same list is shown on the
review step and returned by the API.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _

from engagex.accounts.services.usage import emails_check
from engagex.campaigns.audience import Audience, audience_count, audience_resolve
from engagex.contacts.emails import InvalidEmail, normalize_email
from engagex.content.context import custom_fields
from engagex.content.rendering import check_template
from engagex.delivery.killswitch import killswitch_state
from engagex.delivery.reputation import MAX_BOUNCE_RATE, MAX_COMPLAINT_RATE, sending_rates


@dataclass(frozen=True)
class Check:
    key: str
    ok: bool
    message: str
    fix: str = ""  # how to fix it, when not ok
    fix_url: str = ""
    blocking: bool = True


@dataclass(frozen=True)
class Checklist:
    checks: list[Check]
    recipients: int

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks if check.blocking)

    @property
    def failing(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]


def campaign_checklist(campaign, audience: Audience | None = None) -> Checklist:
    organization = campaign.organization
    audience = audience or audience_resolve(campaign)
    recipients, broken = 0, ""
    if not audience.is_empty_selection:
        try:
            recipients = audience_count(campaign, audience)
        except ValidationError as error:  # a segment's rules no longer hold (field deleted …)
            broken = " ".join(error.messages)
    template = campaign.template if campaign.template and not campaign.template.deleted_at else None
    checks = [
        _content(campaign, template),
        _merge_tags(campaign, template),
        _unsubscribe(template),
        _address(organization),
        _sender(campaign),
        _audience(audience, recipients, broken),
        _quota(organization, recipients),
        _sending_allowed(organization),
        _reputation(organization),
    ]
    return Checklist(checks, recipients)


def _content(campaign, template) -> Check:
    if template is None:
        return Check("content", False, _("No template chosen."), _("Pick a template."))
    if not (campaign.subject or template.subject):
        return Check("content", False, _("The subject is empty."), _("Write a subject."))
    return Check("content", True, _("Content and subject are set."))


def _merge_tags(campaign, template) -> Check:
    if template is None:
        return Check("merge_tags", False, _("Nothing to check yet."), _("Pick a template."))
    check = check_template(
        subject=campaign.subject or template.subject,
        preheader=campaign.preheader or template.preheader,
        html=template.html,
        text=template.text if template.text_is_custom else "",
        known_fields=[field.key for field in custom_fields(campaign.organization)],
    )
    if check.problems:
        return Check(
            "merge_tags", False, str(check.problems[0]), _("Fix the template and save it.")
        )
    if check.unknown_tags:
        return Check(
            "merge_tags",
            False,
            _("Unknown merge tags: %(tags)s.") % {"tags": ", ".join(check.unknown_tags)},
            _("Correct them in the template, or add the custom fields they refer to."),
        )
    return Check("merge_tags", True, _("Every merge tag is known."))


def _unsubscribe(template) -> Check:
    # Never blocking: the sender adds a footer with the link when the template has none.
    if template is not None and "unsubscribe_url" in template.html:
        return Check("unsubscribe", True, _("The template has an unsubscribe link."))
    return Check(
        "unsubscribe",
        True,
        _("No unsubscribe link in the template: one is added in a footer automatically."),
        blocking=False,
    )


def _address(organization) -> Check:
    if organization.postal_address.strip():
        return Check("postal_address", True, _("Your postal address is in the footer."))
    return Check(
        "postal_address",
        False,
        _("Your organization has no postal address. The law requires one in marketing email."),
        _("Add it in the organization settings."),
        reverse("accounts:settings"),
    )


def _sender(campaign) -> Check:
    try:
        normalize_email(campaign.from_email or "")
    except InvalidEmail:
        return Check(
            "sender",
            False,
            _("The sender address is missing or invalid."),
            _("Enter the address your email comes from."),
        )
    if not campaign.from_name.strip():
        return Check("sender", False, _("The sender name is empty."), _("Enter a sender name."))
    return Check("sender", True, _("Sender: %(name)s") % {"name": campaign.from_name})


def _audience(audience: Audience, recipients: int, broken: str = "") -> Check:
    if broken:
        return Check(
            "audience",
            False,
            _("A segment of this campaign can't be evaluated: %(why)s") % {"why": broken},
            _("Fix the segment's rules or choose another audience."),
            fix_url=reverse("contacts:segments"),
        )
    if audience.missing:
        return Check(
            "audience",
            False,
            _("A list or segment of this campaign was deleted."),
            _("Choose the audience again."),
        )
    if audience.is_empty_selection:
        return Check("audience", False, _("No list or segment chosen."), _("Choose who gets it."))
    if not recipients:
        return Check(
            "audience",
            False,
            _("Nobody in the audience can be mailed (unsubscribed, suppressed or empty)."),
            _("Choose other lists or segments."),
        )
    return Check("audience", True, _("%(count)s recipients.") % {"count": f"{recipients:,}"})


def _quota(organization, recipients: int) -> Check:
    decision = emails_check(organization=organization, count=recipients)
    if decision:
        return Check("quota", True, _("Your plan allows this send."))
    return Check("quota", False, decision.reason, _("Upgrade the plan or send to fewer people."))


def _sending_allowed(organization) -> Check:
    if organization.is_suspended or killswitch_state().stops(organization.pk):
        return Check(
            "sending_allowed",
            False,
            _("Sending is paused for your organization."),
            _("Contact support to find out why."),
        )
    return Check("sending_allowed", True, _("Sending is allowed."))


def _reputation(organization) -> Check:
    rates = sending_rates(organization)
    if rates.acceptable:
        return Check("reputation", True, _("Bounce and complaint rates are healthy."))
    return Check(
        "reputation",
        False,
        _(
            "Over the last 30 days %(bounces).1f%% of your messages bounced and "
            "%(complaints).2f%% were reported as spam (limits: %(max_b).0f%% and %(max_c).1f%%)."
        )
        % {
            "bounces": rates.bounce_rate * 100,
            "complaints": rates.complaint_rate * 100,
            "max_b": MAX_BOUNCE_RATE * 100,
            "max_c": MAX_COMPLAINT_RATE * 100,
        },
        _("Remove bounced and inactive addresses from your lists before sending again."),
    )
