"""Campaigns REST API: thin views over the same services and selectors as the web app.

Changes made through the API are audited by the services without a person
(`actor=None`), like the contacts and templates APIs. Scopes (see
`engagex.api.permissions`): `read` for GET and for counting an unsaved audience (a POST
that changes nothing), `write` for changes and for stopping mail (unschedule, pause,
cancel), `send` for everything that makes mail go out (send, schedule, resume, retry
failed): a key that may only edit must not be able to mail the whole audience.

Errors: bad input → 400 with messages keyed by the request's field names; an action the
campaign's status doesn't allow (pausing a draft, editing a sent campaign) → 409 with
`detail` and the current `status`. The services check the status again under a row
lock, so a request that loses a race with another one still gets a clear 400.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from engagex.accounts.models import ApiKey
from engagex.campaigns import selectors, services
from engagex.campaigns.api import serializers as s
from engagex.campaigns.api.helpers import (
    audience_errors,
    call_service,
    campaign_or_404,
    campaign_response,
    campaigns_of,
    require_state,
    service_fields,
    valid,
)
from engagex.campaigns.audience import audience_count, audience_resolve
from engagex.campaigns.checks import campaign_checklist
from engagex.campaigns.models import Campaign
from engagex.delivery.models import Delivery
from engagex.web.tables import MAX_SEARCH_LENGTH

CAMPAIGNS = ["Campaigns"]
SEND = ApiKey.Scope.SEND.value
Status = Campaign.Status


class NewestFirst(CursorPagination):
    """Opaque `cursor` links (`next`/`previous`), newest first."""

    ordering = ("-created_at", "-id")
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 500


class NewestDeliveryFirst(NewestFirst):
    ordering = "-id"


PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="From a `next` or `previous` link"),
    OpenApiParameter("limit", int, description="Page size, at most 500 (default 100)"),
]


def _refs(rows) -> list[dict]:
    return [{"id": row.pk, "name": row.name} for row in rows]


def _audience_response(campaign: Campaign) -> Response:
    audience = call_service(audience_resolve, campaign=campaign)
    recipients = 0
    if not audience.is_empty_selection:
        recipients = call_service(audience_count, campaign=campaign, audience=audience)
    return Response(
        {
            "recipients": recipients,
            "lists": _refs(audience.lists),
            "segments": _refs(audience.segments),
            "excluded_lists": _refs(audience.excluded_lists),
            "excluded_segments": _refs(audience.excluded_segments),
            "missing": audience.missing,
        }
    )


class CampaignCollectionView(APIView):
    @extend_schema(
        operation_id="campaigns_list",
        summary="List and search campaigns",
        description="Newest first, cursor-paginated (`next`/`previous` links). Each item "
        "has the campaign's settings and its sending totals. Needs the `read` scope.",
        parameters=[
            OpenApiParameter("q", str, description="Part of the name or subject"),
            OpenApiParameter("status", str, enum=Status.values),
            *PAGE_PARAMETERS,
        ],
        responses=s.CampaignPageSerializer,
        tags=CAMPAIGNS,
    )
    def get(self, request):
        params = request.query_params
        status_filter = params.get("status", "")
        if status_filter and status_filter not in Status.values:
            raise serializers.ValidationError({"status": [_("Unknown status.")]})
        campaigns = selectors.campaigns_filter(
            organization=request.organization,
            search=params.get("q", "").strip()[:MAX_SEARCH_LENGTH],
            status=status_filter,
        )
        paginator = NewestFirst()
        page = paginator.paginate_queryset(campaigns, request, view=self)
        return paginator.get_paginated_response(s.CampaignSerializer(page, many=True).data)

    @extend_schema(
        operation_id="campaigns_create",
        summary="Create a draft campaign",
        description="Only `name` is required; the sender name, address and reply-to "
        "default to the organization's. The template, lists and segments must be this "
        "organization's: an unknown id gives 400 naming it, and nothing is saved. "
        "Whether the campaign can be sent is checked when it is sent or scheduled "
        "(`GET …/checklist` tells beforehand). Needs the `write` scope.",
        request=s.CampaignCreateSerializer,
        responses={201: s.CampaignSerializer},
        tags=CAMPAIGNS,
    )
    def post(self, request):
        data = valid(s.CampaignCreateSerializer, request.data)
        campaign = call_service(
            services.campaign_create,
            organization=request.organization,
            actor=None,
            **service_fields(request.organization, data),
        )
        return campaign_response(request.organization, campaign.pk, status.HTTP_201_CREATED)


class AudienceCountPreviewView(APIView):
    # Counting changes nothing: a read-only key may count.
    required_scope = ApiKey.Scope.READ.value

    @extend_schema(
        operation_id="campaigns_audience_count_preview",
        summary="Count an audience before saving it",
        description="The same count as `GET /api/v1/campaigns/{id}/audience-count` for "
        "lists and segments not saved on a campaign yet: subscribed, not suppressed, "
        "each person once. Unknown ids give 400. Needs the `read` scope.",
        request=s.AudienceSerializer,
        responses=s.AudienceCountSerializer,
        tags=CAMPAIGNS,
    )
    def post(self, request):
        organization = request.organization
        data = valid(s.AudienceSerializer, request.data)
        errors = audience_errors(organization, data)
        if errors:
            raise serializers.ValidationError(errors)
        # Never saved: only what the audience functions read.
        draft = Campaign(
            organization=organization,
            **{
                name: [str(value) for value in dict.fromkeys(data.get(field) or [])]
                for field, name in s.AUDIENCE_FIELDS.items()
            },
        )
        return _audience_response(draft)


class CampaignDetailView(APIView):
    @extend_schema(
        operation_id="campaigns_retrieve",
        summary="One campaign",
        responses=s.CampaignSerializer,
        tags=CAMPAIGNS,
    )
    def get(self, request, campaign_id):
        campaign = campaign_or_404(request.organization, campaign_id)
        return Response(s.CampaignSerializer(campaign).data)

    @extend_schema(
        operation_id="campaigns_partial_update",
        summary="Change a draft or scheduled campaign",
        description="Send only what changes; `template_id: null` removes the template. "
        "Id lists replace the saved ones. A campaign that has started is frozen: 409. "
        "Bad input gives 400 and nothing is changed. A scheduled campaign stays "
        "scheduled. Needs the `write` scope.",
        request=s.CampaignUpdateSerializer,
        responses={
            200: s.CampaignSerializer,
            409: OpenApiResponse(description="The campaign has started"),
        },
        tags=CAMPAIGNS,
    )
    def patch(self, request, campaign_id):
        organization = request.organization
        campaign = campaign_or_404(organization, campaign_id)
        require_state(campaign, "update")
        data = valid(s.CampaignUpdateSerializer, request.data)
        call_service(
            services.campaign_update,
            organization=organization,
            actor=None,
            campaign=campaign,
            **service_fields(organization, data),
        )
        return campaign_response(organization, campaign.pk)

    @extend_schema(
        operation_id="campaigns_destroy",
        summary="Delete a draft or scheduled campaign",
        description="A campaign that has started stays for its report (409); cancel it "
        "instead. Needs the `write` scope.",
        responses={204: None, 409: OpenApiResponse(description="The campaign has started")},
        tags=CAMPAIGNS,
    )
    def delete(self, request, campaign_id):
        campaign = campaign_or_404(request.organization, campaign_id)
        require_state(campaign, "delete")
        call_service(
            services.campaign_delete,
            organization=request.organization,
            actor=None,
            campaign=campaign,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class DuplicateView(APIView):
    @extend_schema(
        operation_id="campaigns_duplicate",
        summary="Copy a campaign into a new draft",
        description="Same content, audience and settings, never the schedule; works for "
        "campaigns in any status. Needs the `write` scope.",
        request=None,
        responses={201: s.CampaignSerializer},
        tags=CAMPAIGNS,
    )
    def post(self, request, campaign_id):
        campaign = campaign_or_404(request.organization, campaign_id)
        copy = call_service(
            services.campaign_duplicate,
            organization=request.organization,
            actor=None,
            campaign=campaign,
        )
        return campaign_response(request.organization, copy.pk, status.HTTP_201_CREATED)


class AudienceCountView(APIView):
    @extend_schema(
        operation_id="campaigns_audience_count",
        summary="How many people the campaign would reach now",
        description="Subscribed members of the lists and contacts matching the segments, "
        "minus the excluded ones, unsubscribed, suppressed and deleted contacts, each "
        "person once: exactly what a send now would queue. Also names the lists and "
        "segments, and how many of the saved ids were deleted since (`missing`). Needs "
        "the `read` scope.",
        responses=s.AudienceCountSerializer,
        tags=CAMPAIGNS,
    )
    def get(self, request, campaign_id):
        return _audience_response(campaign_or_404(request.organization, campaign_id))


class ChecklistView(APIView):
    @extend_schema(
        operation_id="campaigns_checklist",
        summary="The pre-send checks",
        description="Everything that must be true before the campaign may be sent or "
        "scheduled, each with what is wrong and how to fix it. `ok` is true when every "
        "blocking check passes. Needs the `read` scope.",
        responses=s.ChecklistSerializer,
        tags=CAMPAIGNS,
    )
    def get(self, request, campaign_id):
        campaign = campaign_or_404(request.organization, campaign_id)
        checklist = call_service(campaign_checklist, campaign=campaign)
        return Response(
            {
                "ok": checklist.ok,
                "recipients": checklist.recipients,
                "checks": [
                    {
                        "key": check.key,
                        "ok": check.ok,
                        "message": str(check.message),
                        "fix": str(check.fix),
                        "fix_url": check.fix_url,
                        "blocking": check.blocking,
                    }
                    for check in checklist.checks
                ],
            }
        )


class ScheduleView(APIView):
    required_scope = SEND

    @extend_schema(
        operation_id="campaigns_schedule",
        summary="Send the campaign later",
        description="`scheduled_at` in ISO 8601; without an offset it is read in the "
        "organization's time zone. It must be in the future and within a year, and the "
        "pre-send checks must pass now (400 with the failing checks' messages "
        "otherwise); they run again when the time comes. A scheduled campaign can be "
        "scheduled again to move it. Needs the `send` scope.",
        request=s.ScheduleSerializer,
        responses={
            200: s.CampaignSerializer,
            400: OpenApiResponse(description="Bad time or failing pre-send checks"),
            409: OpenApiResponse(description="The campaign has started"),
        },
        tags=CAMPAIGNS,
    )
    def post(self, request, campaign_id):
        organization = request.organization
        campaign = campaign_or_404(organization, campaign_id)
        require_state(campaign, "schedule")
        # DRF makes a naive time aware in the current time zone: the organization's here.
        with timezone.override(ZoneInfo(organization.time_zone)):
            data = valid(s.ScheduleSerializer, request.data)
        call_service(
            services.campaign_schedule,
            organization=organization,
            actor=None,
            campaign=campaign,
            when=data["scheduled_at"],
        )
        return campaign_response(organization, campaign.pk)


def _lifecycle_view(action: str, service, *, code=status.HTTP_200_OK, scope=None, **schema):
    """A POST that moves the campaign along with one service and answers with it."""

    class LifecycleView(APIView):
        if scope:
            required_scope = scope

        @extend_schema(
            request=None,
            responses={
                code: s.CampaignSerializer,
                409: OpenApiResponse(description="Not possible in the campaign's status"),
            },
            tags=CAMPAIGNS,
            **schema,
        )
        def post(self, request, campaign_id):
            campaign = campaign_or_404(request.organization, campaign_id)
            require_state(campaign, action)
            call_service(service, organization=request.organization, actor=None, campaign=campaign)
            return campaign_response(request.organization, campaign.pk, code)

    LifecycleView.__name__ = LifecycleView.__qualname__ = f"{action.title()}View"
    return LifecycleView


UnscheduleView = _lifecycle_view(
    "unschedule",
    services.campaign_unschedule,
    operation_id="campaigns_unschedule",
    summary="Take a scheduled campaign back to draft",
    description="Needs the `write` scope.",
)
SendView = _lifecycle_view(
    "send",
    services.campaign_start,
    code=status.HTTP_202_ACCEPTED,
    scope=SEND,
    operation_id="campaigns_send",
    summary="Send the campaign now",
    description="Runs the pre-send checks (400 with the failing checks' messages, and "
    "nothing queued), freezes the content and queues one message per recipient; the "
    "senders deliver them in the background: follow `GET …/progress`. The messages "
    "count against the plan's monthly quota. Works for drafts and scheduled "
    "campaigns. Needs the `send` scope.",
)
PauseView = _lifecycle_view(
    "pause",
    services.campaign_pause,
    operation_id="campaigns_pause",
    summary="Pause sending",
    description="No new messages are handed out; those already in flight finish. "
    "Needs the `write` scope.",
)
ResumeView = _lifecycle_view(
    "resume",
    services.campaign_resume,
    scope=SEND,
    operation_id="campaigns_resume",
    summary="Resume a paused campaign",
    description="Needs the `send` scope.",
)
CancelView = _lifecycle_view(
    "cancel",
    services.campaign_cancel,
    operation_id="campaigns_cancel",
    summary="Cancel a campaign",
    description="Queued messages are dropped and given back to the monthly quota; "
    "those already sent stay sent. A scheduled campaign simply never goes out. Needs "
    "the `write` scope.",
)


class RetryFailedView(APIView):
    required_scope = SEND

    @extend_schema(
        operation_id="campaigns_retry_failed",
        summary="Send again the messages that ran out of retries",
        description="Messages given up after repeated temporary failures are queued "
        "again; those refused for good (5xx) stay failed. Answers how many were queued. "
        "Needs the `send` scope.",
        request=None,
        responses={
            200: s.RetriedSerializer,
            409: OpenApiResponse(description="Not sent yet, or cancelled"),
        },
        tags=CAMPAIGNS,
    )
    def post(self, request, campaign_id):
        organization = request.organization
        campaign = campaign_or_404(organization, campaign_id)
        require_state(campaign, "retry_failed")
        retried = call_service(
            services.campaign_retry_failed, organization=organization, actor=None, campaign=campaign
        )
        campaign = campaigns_of(organization).get(pk=campaign.pk)
        return Response({"retried": retried, "campaign": s.CampaignSerializer(campaign).data})


class _PreviousPoll(serializers.Serializer):
    previous_sent = serializers.IntegerField(min_value=0, required=False)
    previous_at = serializers.DateTimeField(required=False)


class ProgressView(APIView):
    @extend_schema(
        operation_id="campaigns_progress",
        summary="Where sending stands",
        description="Totals from the running counters (cheap to poll). The pace is the "
        "average since the start, or since your previous poll when you send back its "
        "`sent` as `previous_sent` and its `at` as `previous_at`. Before sending starts "
        "every number is 0. Needs the `read` scope.",
        parameters=[
            OpenApiParameter("previous_sent", int, description="`sent` of your previous poll"),
            OpenApiParameter("previous_at", OpenApiTypes.DATETIME, description="`at` of that poll"),
        ],
        responses=s.ProgressSerializer,
        tags=CAMPAIGNS,
    )
    def get(self, request, campaign_id):
        organization = request.organization
        campaign = campaign_or_404(organization, campaign_id)
        previous = _PreviousPoll(data=request.query_params)
        previous.is_valid(raise_exception=True)
        progress = selectors.campaign_progress(
            organization=organization,
            campaign=campaign,
            previous_sent=previous.validated_data.get("previous_sent"),
            previous_at=previous.validated_data.get("previous_at"),
        )
        return Response(
            {
                "status": campaign.status,
                "total": progress.total,
                "sent": progress.sent,
                "failed": progress.failed,
                "remaining": progress.remaining,
                "percent": progress.percent,
                "rate_per_hour": progress.rate_per_hour,
                "eta_seconds": round(progress.eta.total_seconds()) if progress.eta else None,
                "throttled": progress.throttled,
                "message": str(progress.message),
                "at": progress.at,
            }
        )


class DeliveriesView(APIView):
    @extend_schema(
        operation_id="campaigns_deliveries",
        summary="The campaign's messages, one per recipient",
        description="Newest first, cursor-paginated. `smtp_code`/`smtp_reply` are the "
        "receiving server's last answer (why a message failed or is being retried). "
        "Empty before sending starts. Needs the `read` scope.",
        parameters=[
            OpenApiParameter("status", str, enum=Delivery.Status.values),
            OpenApiParameter("q", str, description="Part of the email address"),
            *PAGE_PARAMETERS,
        ],
        responses=s.DeliveryPageSerializer,
        tags=CAMPAIGNS,
    )
    def get(self, request, campaign_id):
        organization = request.organization
        campaign = campaign_or_404(organization, campaign_id)
        params = request.query_params
        status_filter = params.get("status", "")
        if status_filter and status_filter not in Delivery.Status.values:
            raise serializers.ValidationError({"status": [_("Unknown status.")]})
        deliveries = selectors.campaign_deliveries(
            organization=organization,
            campaign=campaign,
            status=status_filter,
            search=params.get("q", "")[:MAX_SEARCH_LENGTH],
        )
        paginator = NewestDeliveryFirst()
        page = paginator.paginate_queryset(deliveries, request, view=self)
        return paginator.get_paginated_response(s.DeliverySerializer(page, many=True).data)
