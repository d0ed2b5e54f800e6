"""Tracking REST API: the event log and unsubscribing a contact.

Thin views over `selectors.py` and `services.py`, in the style of the contacts and
campaigns APIs: `read` scope for GET, `write` for the unsubscribe; another
organization's contact or campaign is a 404 (its existence isn't revealed).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from engagex.accounts.tenancy import get_for_org
from engagex.contacts.api.serializers import ContactSerializer
from engagex.contacts.models import Contact, ListMembership
from engagex.tracking.api import selectors
from engagex.tracking.api import serializers as s
from engagex.tracking.api.services import contact_unsubscribe

EVENTS = ["Events"]
CONTACTS = ["Contacts"]


class NewestEventsFirst(CursorPagination):
    """Opaque `cursor` links (`next`/`previous`): stable while new events arrive."""

    ordering = ("-created_at", "-id")
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 500


def _filters(request) -> dict:
    serializer = s.EventFilterSerializer(data=request.query_params)
    # DRF makes a time without an offset aware in the current time zone: the
    # organization's, as the campaigns API does for schedules.
    with timezone.override(ZoneInfo(request.organization.time_zone or "UTC")):
        serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class EventCollectionView(APIView):
    @extend_schema(
        operation_id="events_list",
        summary="What recipients did: opens, clicks, bounces, complaints, unsubscribes",
        description="Every event the organization's email produced, newest first, "
        "cursor-paginated (`next`/`previous` links). People only unless `include_bots` is "
        "true: hits from security scanners, link checkers and privacy proxies are kept but "
        "never counted in reports. `contact` or `campaign` of another organization → 404. "
        "Needs the `read` scope.",
        parameters=[
            s.EventFilterSerializer,
            OpenApiParameter("cursor", str, description="From a `next` or `previous` link"),
            OpenApiParameter("limit", int, description="Page size, at most 500 (default 100)"),
        ],
        responses=s.EventPageSerializer,
        tags=EVENTS,
    )
    def get(self, request):
        organization = request.organization
        filters = _filters(request)
        contact_id = mailing_ids = None
        if "contact" in filters:
            contact_id = get_for_org(Contact, organization, filters["contact"]).pk
        if "campaign" in filters:
            campaign = get_for_org(selectors.campaign_model(), organization, filters["campaign"])
            mailing_ids = selectors.campaign_mailing_ids(
                organization=organization, campaign_id=campaign.pk
            )
        events = selectors.events_filter(
            organization=organization,
            kinds=filters.get("kind"),
            contact_id=contact_id,
            mailing_ids=mailing_ids,
            since=filters.get("since"),
            until=filters.get("until"),
            include_bots=filters["include_bots"],
        )
        paginator = NewestEventsFirst()
        page = paginator.paginate_queryset(events, request, view=self)
        rows = selectors.event_rows(organization=organization, events=page)
        return paginator.get_paginated_response(s.EventSerializer(rows, many=True).data)


class ContactUnsubscribeView(APIView):
    @extend_schema(
        operation_id="contacts_unsubscribe",
        summary="Unsubscribe a contact from everything",
        description="The contact and all their list memberships become unsubscribed at "
        "once; the contact's timeline and the event log (`GET /api/v1/events`, source "
        "`api`) record it. Idempotent: a contact already unsubscribed, bounced or "
        "complained is returned unchanged (200). Deleted contacts and other "
        "organizations' contacts → 404. Needs the `write` scope.",
        request=None,
        responses=ContactSerializer,
        tags=CONTACTS,
    )
    def post(self, request, contact_id):
        organization = request.organization
        contact = get_for_org(
            Contact.objects.filter(deleted_at__isnull=True), organization, contact_id
        )
        contact_unsubscribe(organization=organization, contact=contact)
        memberships = ListMembership.objects.select_related("contact_list").order_by(
            "contact_list__name"
        )
        contact = (
            Contact.objects.filter(organization=organization)
            .prefetch_related(Prefetch("memberships", queryset=memberships))
            .get(pk=contact.pk)
        )
        return Response(ContactSerializer(contact).data)
