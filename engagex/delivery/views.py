"""Public pages of sent messages, no login: the unsubscribe link every message carries
(`/u/<token>/`) and "view in your browser" (`/m/mail/<token>/`).

Unsubscribe: GET shows who is writing, the (masked) address and a button — link
scanners fetch with GET, so GET changes nothing. POST unsubscribes: the button, and
RFC 8058 one-click from the mail client (`List-Unsubscribe=One-Click` in the body,
answered 200 in plain text, no redirect). Idempotent. The "You have been unsubscribed"
page offers re-subscribing (`/u/<token>/resubscribe/`, our own form, so CSRF-protected)
and the preference center (`/p/<token>/`, engagex.tracking.public_views). The work is
done by engagex.tracking.public_actions, so the contact, their lists, the event log and
the campaign counters all follow.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from engagex.content.views.previews import preview_response, preview_view
from engagex.delivery.identifiers import unsubscribe_parse, view_online_parse
from engagex.delivery.models import Delivery
from engagex.tracking import public_actions
from engagex.tracking.public_actions import Recipient
from engagex.tracking.public_tokens import preferences_token


def _delivery(token: str) -> Delivery | None:
    delivery_id = unsubscribe_parse(token)
    if delivery_id is None:
        return None
    return Delivery.objects.select_related("organization").filter(pk=delivery_id).first()


def _not_found(request):
    # Forged, altered or truncated: a friendly page, and nothing was looked at or changed.
    return render(request, "tracking/link_not_found.html", status=404)


def _page(request, recipient: Recipient, token: str, *, problem: str = "", status: int = 200):
    """The page for where the recipient stands now."""
    context = {
        "recipient": recipient,
        "organization": recipient.organization,
        "token": token,
        "preferences_url": reverse(
            "delivery_public:preferences", args=[preferences_token(recipient.delivery.pk)]
        ),
        "problem": problem,
    }
    if recipient.state == Recipient.SUBSCRIBED and not problem:
        return render(request, "delivery/unsubscribe.html", context, status=status)
    return render(request, "delivery/unsubscribed.html", context, status=status)


def _client(request) -> dict:
    return {
        "ip": request.META.get("REMOTE_ADDR") or None,
        "user_agent": request.META.get("HTTP_USER_AGENT", ""),
    }


# Mail clients post one-click unsubscribes without a CSRF token (RFC 8058); the signed
# token in the URL is what authorizes the change.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    delivery = _delivery(token)
    if delivery is None:
        return _not_found(request)
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        source = public_actions.ONE_CLICK if one_click else public_actions.PAGE
        public_actions.unsubscribe(delivery, source=source, **_client(request))
        if one_click:
            return HttpResponse("Unsubscribed.", content_type="text/plain")
    return _page(request, Recipient(delivery), token)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def resubscribe(request, token):
    """The "Re-subscribe" button of the unsubscribed page (POST only; GET goes back)."""
    delivery = _delivery(token)
    if delivery is None:
        return _not_found(request)
    if request.method != "POST":
        return redirect("delivery_public:unsubscribe", token=token)
    try:
        result = public_actions.resubscribe(delivery, source=public_actions.PAGE)
    except ValidationError:
        return _page(request, Recipient(delivery), token, problem="suppressed", status=409)
    recipient = Recipient(delivery)
    if recipient.state != Recipient.SUBSCRIBED:
        return _page(request, recipient, token)  # gone or bounced since: say so
    context = {
        "recipient": recipient,
        "organization": recipient.organization,
        "already": not result.changed,
        "preferences_url": reverse(
            "delivery_public:preferences", args=[preferences_token(delivery.pk)]
        ),
    }
    return render(request, "delivery/resubscribed.html", context)


@require_GET
@preview_view
def view_online(request, token):
    """The recipient's own copy, rendered from the mailing's frozen content with their
    data as it is now; shown in the preview sandbox (no scripts, strict CSP)."""
    from engagex.delivery.sender import PreparedMailing  # the sender's own rendering

    delivery_id = view_online_parse(token)
    delivery = (
        Delivery.objects.select_related("mailing__organization").filter(pk=delivery_id).first()
        if delivery_id is not None
        else None
    )
    if delivery is None:
        raise Http404

    def render() -> str:
        prepared = PreparedMailing.prepare(delivery.mailing)
        contact = prepared.contacts([delivery.contact_id]).get(str(delivery.contact_id), {})
        context = prepared.context(delivery.pk, delivery.email, contact)
        return prepared.compiled.render(context, seed=prepared.seed(delivery.contact_id)).html

    return preview_response(render)
