"""`{% notification_bell %}`: the top bar's bell with the organization's unread count."""

from django import template

from engagex.notifications.selectors import unread_count

register = template.Library()


@register.inclusion_tag("notifications/_bell.html", takes_context=True)
def notification_bell(context) -> dict:
    organization = getattr(context.get("request"), "organization", None)
    return {"unread": unread_count(organization=organization) if organization else 0}
