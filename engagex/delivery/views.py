"""Public pages of sent messages, no login: the unsubscribe link every message carries
(`/u/<token>/`) and "view in your browser" (`/m/mail/<token>/`).

GET shows who is writing and a button (link scanners fetch with GET, so GET changes
nothing); POST unsubscribes — the button, and RFC 8058 one-click from the mail client
(`List-Unsubscribe=One-Click` in the body, answered 200 without a redirect). Idempotent.
The tracking issue extends this page (preference center, events, campaign counters).
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from engagex.contacts.models import Contact
from engagex.contacts.services.contacts import contact_update
from engagex.content.views.previews import preview_response, preview_view
from engagex.delivery.identifiers import unsubscribe_parse, view_online_parse
from engagex.delivery.models import Delivery

ONE_CLICK = "List-Unsubscribe=One-Click"


def _delivery(token: str) -> Delivery:
    delivery_id = unsubscribe_parse(token)
    if delivery_id is None:
        raise Http404
    delivery = (
        Delivery.objects.select_related("organization", "contact").filter(pk=delivery_id).first()
    )
    if delivery is None:
        raise Http404
    return delivery


def _unsubscribe(delivery: Delivery) -> None:
    contact = delivery.contact
    if contact is None or contact.deleted_at is not None:
        return  # deleted or purged since: there is nobody left to mail
    if contact.status in (Contact.Status.SUBSCRIBED, Contact.Status.UNCONFIRMED):
        contact_update(
            organization=delivery.organization, actor=None, contact=contact, status="unsubscribed"
        )


# Mail clients post one-click unsubscribes without a CSRF token (RFC 8058); the signed
# token in the URL is what authorizes the change.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    delivery = _delivery(token)
    if request.method == "POST":
        _unsubscribe(delivery)
        if request.POST.get("List-Unsubscribe") == "One-Click":
            return HttpResponse("Unsubscribed.", content_type="text/plain")
        return render(
            request, "delivery/unsubscribed.html", {"organization": delivery.organization}
        )
    return render(request, "delivery/unsubscribe.html", {"organization": delivery.organization})


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
