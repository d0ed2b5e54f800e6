"""Campaign report over the REST API (same selectors as the report page):

- `GET /api/v1/campaigns/{id}/stats` — the stat cards' numbers, people and machines apart;
- `GET /api/v1/campaigns/{id}/links` — the campaign's links, most clicked first.

Both need the `read` scope. Another organization's campaign is a 404; a campaign not
sent yet answers zeros (and no links). Rates are fractions from 0 to 1, `null` when
there is nothing to divide by or the tracking was off.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from engagex.accounts.models import ApiKey
from engagex.analytics import selectors
from engagex.campaigns.api.helpers import campaign_or_404
from engagex.campaigns.models import Campaign

TAGS = ["Campaigns"]
RATE_DIGITS = 4


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, RATE_DIGITS)


def _rate_field(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, min_value=0, max_value=1, help_text=help_text)


class CampaignStatsSerializer(serializers.Serializer):
    campaign_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Campaign.Status.choices)
    recipients = serializers.IntegerField(help_text="Messages queued when sending started.")
    sent = serializers.IntegerField(help_text="Accepted by the receiving servers.")
    failed = serializers.IntegerField(help_text="Refused for good (5xx) or out of retries.")
    delivered = serializers.IntegerField()
    delivered_reported = serializers.BooleanField(
        help_text="True: from your provider's delivery reports; false: sent minus bounces."
    )
    unique_opens = serializers.IntegerField(help_text="People who opened (a click counts too).")
    opens = serializers.IntegerField(help_text="Every open by people.")
    bot_opens = serializers.IntegerField(help_text="Opens by privacy proxies and prefetchers.")
    open_rate = _rate_field("unique_opens / delivered.")
    unique_clicks = serializers.IntegerField(help_text="People who clicked a link.")
    clicks = serializers.IntegerField(help_text="Every click by people.")
    bot_clicks = serializers.IntegerField(help_text="Clicks by link scanners and gateways.")
    click_rate = _rate_field("unique_clicks / delivered.")
    click_to_open_rate = _rate_field("unique_clicks / unique_opens.")
    bounces = serializers.IntegerField()
    hard_bounces = serializers.IntegerField()
    soft_bounces = serializers.IntegerField()
    bounce_rate = _rate_field("bounces / sent.")
    complaints = serializers.IntegerField()
    complaint_rate = _rate_field("complaints / delivered.")
    unsubscribes = serializers.IntegerField()
    unsubscribe_rate = _rate_field("unsubscribes / delivered.")
    track_opens = serializers.BooleanField()
    track_clicks = serializers.BooleanField()
    updated_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the counters were last updated (every minute while there is "
        "activity); null before anything was counted.",
    )


class LinkStatsSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The link's position in the email, from 0.")
    url = serializers.CharField(help_text="As written in the email (merge tags included).")
    clicks = serializers.IntegerField(help_text="Clicks by people.")
    unique_clicks = serializers.IntegerField(help_text="People who clicked it.")
    bot_clicks = serializers.IntegerField(help_text="Clicks by link scanners and gateways.")
    share = _rate_field("This link's share of all clicks by people.")


class CampaignLinksSerializer(serializers.Serializer):
    total_clicks = serializers.IntegerField(help_text="Clicks by people on all links.")
    results = LinkStatsSerializer(many=True)


class CampaignStatsView(APIView):
    required_scope = ApiKey.Scope.READ.value

    @extend_schema(
        operation_id="campaigns_stats",
        summary="A campaign's report numbers",
        description="Sent, delivered, opens, clicks, bounces, complaints and unsubscribes, "
        "with rates; people and machines (scanners, privacy proxies) apart. Counters are "
        "updated every minute. Needs the `read` scope.",
        responses=CampaignStatsSerializer,
        tags=TAGS,
    )
    def get(self, request, campaign_id):
        campaign = campaign_or_404(request.organization, campaign_id)
        stats = selectors.campaign_stats(organization=request.organization, campaign=campaign)
        return Response(
            {
                "campaign_id": campaign.pk,
                "status": campaign.status,
                "recipients": stats.recipients,
                "sent": stats.sent,
                "failed": stats.failed,
                "delivered": stats.delivered,
                "delivered_reported": stats.delivered_reported,
                "unique_opens": stats.unique_opens,
                "opens": stats.opens,
                "bot_opens": stats.bot_opens,
                "open_rate": _rate(stats.open_rate),
                "unique_clicks": stats.unique_clicks,
                "clicks": stats.clicks,
                "bot_clicks": stats.bot_clicks,
                "click_rate": _rate(stats.click_rate),
                "click_to_open_rate": _rate(stats.click_to_open_rate),
                "bounces": stats.bounces,
                "hard_bounces": stats.hard_bounces,
                "soft_bounces": stats.soft_bounces,
                "bounce_rate": _rate(stats.bounce_rate),
                "complaints": stats.complaints,
                "complaint_rate": _rate(stats.complaint_rate),
                "unsubscribes": stats.unsubscribes,
                "unsubscribe_rate": _rate(stats.unsubscribe_rate),
                "track_opens": stats.track_opens,
                "track_clicks": stats.track_clicks,
                "updated_at": stats.updated_at,
            }
        )


class CampaignLinksView(APIView):
    required_scope = ApiKey.Scope.READ.value

    @extend_schema(
        operation_id="campaigns_links",
        summary="A campaign's links and their clicks",
        description="Every tracked link of the campaign, most clicked first (by people; "
        "ties: more people, then order in the email). Empty before sending starts or when "
        "click tracking was off. Needs the `read` scope.",
        responses=CampaignLinksSerializer,
        tags=TAGS,
    )
    def get(self, request, campaign_id):
        campaign = campaign_or_404(request.organization, campaign_id)
        links = selectors.campaign_links(organization=request.organization, campaign=campaign)
        return Response(
            {
                "total_clicks": sum(link.clicks for link in links),
                "results": [
                    {
                        "index": link.index,
                        "url": link.url,
                        "clicks": link.clicks,
                        "unique_clicks": link.unique_clicks,
                        "bot_clicks": link.bot_clicks,
                        "share": _rate(link.share),
                    }
                    for link in links
                ],
            }
        )
