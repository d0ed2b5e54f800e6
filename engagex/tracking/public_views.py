"""The preference center (`/p/<token>/`, no login): the lists of the organization the
recipient is on, each with a checkbox, "Save preferences", "Unsubscribe from all", and
"Re-subscribe" for someone who left everything.

The token (engagex.tracking.public_tokens) names one delivery; the page shows and
changes only that delivery's contact, in that delivery's organization. GET changes
nothing; the forms are ours, so they carry CSRF tokens. After a change the page
redirects to itself with `?done=…` (a reload doesn't post again), and says what
happened in a status region that screen readers announce.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from engagex.delivery.identifiers import unsubscribe_token
from engagex.delivery.models import Delivery
from engagex.tracking import public_actions
from engagex.tracking.public_actions import Recipient
from engagex.tracking.public_forms import PreferencesForm
from engagex.tracking.public_tokens import preferences_parse

SAVE, UNSUBSCRIBE_ALL, RESUBSCRIBE = "save", "unsubscribe", "resubscribe"


def _done_message(done: str, recipient: Recipient) -> str:
    org = {"org": recipient.organization.name}
    messages = {
        "saved": _("Your preferences are saved."),
        "unchanged": _("Nothing to change: your preferences were already like this."),
        "unsubscribed": _("You have been unsubscribed from all emails from %(org)s.") % org,
        "resubscribed": _("You're subscribed again to emails from %(org)s.") % org,
    }
    return messages.get(done, "")


def _delivery(token: str) -> Delivery | None:
    delivery_id = preferences_parse(token)
    if delivery_id is None:
        return None
    return Delivery.objects.select_related("organization").filter(pk=delivery_id).first()


def _render(request, recipient: Recipient, *, form=None, problem: str = "", status: int = 200):
    context = {
        "recipient": recipient,
        "organization": recipient.organization,
        "form": form,
        "problem": problem,
        "done": "" if problem or (form is not None and form.errors) else request.GET.get("done"),
        "unsubscribe_url": reverse(
            "delivery_public:unsubscribe", args=[unsubscribe_token(recipient.delivery.pk)]
        ),
    }
    context["done_message"] = _done_message(context["done"] or "", recipient)
    return render(request, "tracking/preferences.html", context, status=status)


def _back(request, done: str):
    return redirect(f"{request.path}?done={done}")


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request, token):
    delivery = _delivery(token)
    if delivery is None:
        # Forged, altered, truncated, or another kind of token: nothing looked at or changed.
        return render(request, "tracking/link_not_found.html", status=404)
    recipient = Recipient(delivery)
    if recipient.contact is None or request.method != "POST":
        return _render(request, recipient)

    action = request.POST.get("action", SAVE)
    if action == UNSUBSCRIBE_ALL:
        public_actions.unsubscribe(
            delivery,
            source=public_actions.PREFERENCES,
            ip=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        return _back(request, "unsubscribed")
    if action == RESUBSCRIBE:
        try:
            public_actions.resubscribe(delivery, source=public_actions.PREFERENCES)
        except ValidationError as error:
            return _render(request, recipient, problem=" ".join(error.messages), status=409)
        return _back(request, "resubscribed")

    form = PreferencesForm(request.POST, choices=recipient.lists)
    if not form.is_valid():
        return _render(request, recipient, form=form, status=400)
    try:
        change = public_actions.preferences_save(delivery, list_ids=form.cleaned_data["lists"])
    except ValidationError as error:
        form.add_error(None, error)
        return _render(request, Recipient(delivery), form=form, status=409)
    return _back(request, "saved" if change.changed else "unchanged")
