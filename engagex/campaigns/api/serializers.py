"""Request and response shapes of the campaigns API. Validation of shape only: what the
ids point at, lengths, addresses and the pre-send checks are the services' business
(one place for the web app and the API).

Ids are named for what they are (`template_id`, `list_ids` …) in requests and
responses alike, so a campaign read from the API can be sent back as it is."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from engagex.campaigns.models import Campaign
from engagex.contacts.api.serializers import StrictSerializer
from engagex.content.api.serializers import TextField
from engagex.delivery.models import Delivery

# The services give the real limits with a clear message; these only stop absurd bodies.
_LINE_MAX = 2000
MAX_AUDIENCE_IDS = 100

# API field → the keyword `campaign_create`/`campaign_update` take.
AUDIENCE_FIELDS = {
    "list_ids": "lists",
    "segment_ids": "segments",
    "excluded_list_ids": "excluded_lists",
    "excluded_segment_ids": "excluded_segments",
}
SERVICE_FIELD_NAMES = {"template": "template_id", **{v: k for k, v in AUDIENCE_FIELDS.items()}}

EXAMPLE_ID = "0193a1e2-7c4b-7a10-9d2e-5f6a7b8c9d0e"


def _ids(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.UUIDField(),
        max_length=MAX_AUDIENCE_IDS,
        required=False,
        help_text=help_text,
    )


class CampaignSerializer(serializers.ModelSerializer):
    template_id = serializers.UUIDField(allow_null=True, read_only=True)
    list_ids = serializers.ListField(child=serializers.UUIDField(), source="lists", read_only=True)
    segment_ids = serializers.ListField(
        child=serializers.UUIDField(), source="segments", read_only=True
    )
    excluded_list_ids = serializers.ListField(
        child=serializers.UUIDField(), source="excluded_lists", read_only=True
    )
    excluded_segment_ids = serializers.ListField(
        child=serializers.UUIDField(), source="excluded_segments", read_only=True
    )
    recipients = serializers.SerializerMethodField(
        help_text="Messages queued when sending started (0 before)."
    )
    sent = serializers.SerializerMethodField()
    failed = serializers.SerializerMethodField(
        help_text="Refused for good (5xx) or out of retries."
    )

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "status",
            "status_reason",
            "template_id",
            "subject",
            "preheader",
            "from_name",
            "from_email",
            "reply_to",
            "list_ids",
            "segment_ids",
            "excluded_list_ids",
            "excluded_segment_ids",
            "track_opens",
            "track_clicks",
            "scheduled_at",
            "started_at",
            "finished_at",
            "recipients",
            "sent",
            "failed",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    # `campaigns_filter` joins the mailing, so these cost no query per row.
    def get_recipients(self, campaign) -> int:
        return campaign.mailing.recipients if campaign.mailing_id else 0

    def get_sent(self, campaign) -> int:
        return campaign.mailing.sent_count if campaign.mailing_id else 0

    def get_failed(self, campaign) -> int:
        return campaign.mailing.failed_count if campaign.mailing_id else 0


class _CampaignFields(StrictSerializer):
    template_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="A template of this organization."
    )
    subject = TextField(
        required=False,
        allow_blank=True,
        max_length=_LINE_MAX,
        help_text="Empty: the template's subject.",
    )
    preheader = TextField(
        required=False,
        allow_blank=True,
        max_length=_LINE_MAX,
        help_text="Empty: the template's preheader.",
    )
    from_name = TextField(required=False, allow_blank=True, max_length=_LINE_MAX)
    from_email = TextField(required=False, allow_blank=True, max_length=320)
    reply_to = TextField(required=False, allow_blank=True, max_length=320)
    list_ids = _ids("Lists whose subscribed members get the campaign.")
    segment_ids = _ids("Segments whose matching contacts get the campaign.")
    excluded_list_ids = _ids("Anyone on these lists is left out.")
    excluded_segment_ids = _ids("Anyone matching these segments is left out.")
    track_opens = serializers.BooleanField(required=False)
    track_clicks = serializers.BooleanField(required=False)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Monthly newsletter",
            value={
                "name": "November news",
                "template_id": EXAMPLE_ID,
                "subject": "News for {{ first_name|default('you') }}",
                "list_ids": [EXAMPLE_ID],
                "excluded_segment_ids": [],
            },
            request_only=True,
        )
    ]
)
class CampaignCreateSerializer(_CampaignFields):
    name = TextField(max_length=_LINE_MAX)


class CampaignUpdateSerializer(_CampaignFields):
    name = TextField(required=False, max_length=_LINE_MAX)


class AudienceSerializer(StrictSerializer):
    list_ids = _ids("Lists whose subscribed members are counted.")
    segment_ids = _ids("Segments whose matching contacts are counted.")
    excluded_list_ids = _ids("Anyone on these lists is left out.")
    excluded_segment_ids = _ids("Anyone matching these segments is left out.")


class _Ref(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class AudienceCountSerializer(serializers.Serializer):
    recipients = serializers.IntegerField(
        help_text="Exactly how many people a send would reach now: subscribed, not "
        "suppressed, each once."
    )
    lists = _Ref(many=True)
    segments = _Ref(many=True)
    excluded_lists = _Ref(many=True)
    excluded_segments = _Ref(many=True)
    missing = serializers.IntegerField(
        help_text="Ids on the campaign whose list or segment was deleted since."
    )


class CheckSerializer(serializers.Serializer):
    key = serializers.CharField()
    ok = serializers.BooleanField()
    message = serializers.CharField()
    fix = serializers.CharField(help_text="How to fix it (empty when ok).")
    fix_url = serializers.CharField(help_text="Where in the web app to fix it, if anywhere.")
    blocking = serializers.BooleanField(help_text="A failing blocking check stops sending.")


class ChecklistSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="Every blocking check passes: it may be sent.")
    recipients = serializers.IntegerField()
    checks = CheckSerializer(many=True)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "With an offset", value={"scheduled_at": "2026-12-01T09:00:00+01:00"}, request_only=True
        ),
        OpenApiExample(
            "In the organization's time zone",
            value={"scheduled_at": "2026-12-01T09:00:00"},
            request_only=True,
        ),
    ]
)
class ScheduleSerializer(StrictSerializer):
    scheduled_at = serializers.DateTimeField(
        help_text="ISO 8601. Without an offset it is read in the organization's time zone."
    )


class ProgressSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Campaign.Status.choices)
    total = serializers.IntegerField(help_text="Recipients queued when sending started.")
    sent = serializers.IntegerField()
    failed = serializers.IntegerField()
    remaining = serializers.IntegerField(help_text="Queued, in flight or waiting to retry.")
    percent = serializers.IntegerField(help_text="Done (sent + failed) of total, 0 to 100.")
    rate_per_hour = serializers.FloatField(allow_null=True)
    eta_seconds = serializers.IntegerField(allow_null=True)
    throttled = serializers.BooleanField(
        help_text="Held back by the hourly or daily sending limit."
    )
    message = serializers.CharField(help_text="One line for people, e.g. “Sending at 1,200/h”.")
    at = serializers.DateTimeField(
        help_text="When measured: send it back as `previous_at` (with `previous_sent`) for "
        "the pace since the last poll."
    )


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = ["id", "email", "status", "attempts", "sent_at", "smtp_code", "smtp_reply"]
        read_only_fields = fields


class RetriedSerializer(serializers.Serializer):
    retried = serializers.IntegerField(help_text="Messages queued again.")
    campaign = CampaignSerializer()


class _Page(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next page, if any.")
    previous = serializers.URLField(allow_null=True, help_text="The previous page, if any.")


class CampaignPageSerializer(_Page):
    results = CampaignSerializer(many=True)


class DeliveryPageSerializer(_Page):
    results = DeliverySerializer(many=True)
