"""Serializers of the tracking API: the event filters (query parameters) and an event."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers

from engagex.tracking.models import TrackingEvent

KINDS = TrackingEvent.Kind.values


class EventFilterSerializer(serializers.Serializer):
    kind = serializers.CharField(
        required=False,
        help_text="One kind or several separated by commas: " + ", ".join(KINDS),
    )
    contact = serializers.UUIDField(required=False, help_text="A contact's id")
    campaign = serializers.UUIDField(required=False, help_text="A campaign's id")
    since = serializers.DateTimeField(
        required=False,
        help_text="Events at or after this time (ISO 8601; without an offset, the "
        "organization's time zone)",
    )
    until = serializers.DateTimeField(
        required=False, help_text="Events before this time (same format as `since`)"
    )
    include_bots = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Also list hits flagged as security scanners, link checkers or privacy "
        "proxies (`is_bot`: true). Default false: people only.",
    )

    def validate_kind(self, value: str) -> list[str]:
        kinds = [kind.strip() for kind in value.split(",") if kind.strip()]
        unknown = [kind for kind in kinds if kind not in KINDS]
        if unknown:
            raise serializers.ValidationError(
                _("Unknown kind “%(kind)s”; use %(kinds)s.")
                % {"kind": unknown[0][:40], "kinds": ", ".join(KINDS)}
            )
        return kinds

    def validate(self, attrs):
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and since >= until:
            raise serializers.ValidationError({"until": [_("Must be after `since`.")]})
        return attrs


class EventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=TrackingEvent.Kind.choices)
    created_at = serializers.DateTimeField()
    contact_id = serializers.UUIDField(allow_null=True)
    email = serializers.CharField(
        allow_null=True, help_text="The contact's address now (null once deleted or anonymized)"
    )
    campaign_id = serializers.UUIDField(
        allow_null=True, help_text="The campaign the email belonged to, if a campaign's"
    )
    mailing_id = serializers.UUIDField(allow_null=True)
    delivery_id = serializers.IntegerField(allow_null=True)
    link_index = serializers.IntegerField(allow_null=True)
    url = serializers.CharField(
        allow_null=True, help_text="Clicks: the link as written in the email"
    )
    is_bot = serializers.BooleanField(
        help_text="A scanner, link checker or privacy proxy: not counted in the report"
    )
    bot_reason = serializers.CharField()
    user_agent = serializers.CharField()
    detail = serializers.DictField(
        help_text="By kind — bounce: severity (hard, soft, policy), status, diagnostic; "
        "complaint: feedback_type; unsubscribe: lists left. `source` says where it came "
        "from (api, page, one-click, mailto, a provider's webhook …)."
    )


class EventPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = EventSerializer(many=True)
