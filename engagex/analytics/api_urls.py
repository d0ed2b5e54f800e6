"""Report routes of the API, included by `engagex.campaigns.api.urls` under
`campaigns/<uuid:campaign_id>/` (so under /api/v1/)."""

from django.urls import path

from engagex.analytics import api

urlpatterns = [
    path("stats", api.CampaignStatsView.as_view(), name="campaign-stats"),
    path("links", api.CampaignLinksView.as_view(), name="campaign-links"),
]
