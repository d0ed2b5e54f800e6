"""Campaigns API routes, mounted under /api/v1/ by `engagex.api.urls`."""

from django.urls import include, path

from engagex.campaigns.api import views

_ID = "campaigns/<uuid:campaign_id>"

urlpatterns = [
    path("campaigns", views.CampaignCollectionView.as_view(), name="campaigns"),
    path(
        "campaigns/audience-count",
        views.AudienceCountPreviewView.as_view(),
        name="campaigns-audience-count",
    ),
    path(_ID, views.CampaignDetailView.as_view(), name="campaign"),
    path(f"{_ID}/duplicate", views.DuplicateView.as_view(), name="campaign-duplicate"),
    path(
        f"{_ID}/audience-count", views.AudienceCountView.as_view(), name="campaign-audience-count"
    ),
    path(f"{_ID}/checklist", views.ChecklistView.as_view(), name="campaign-checklist"),
    path(f"{_ID}/schedule", views.ScheduleView.as_view(), name="campaign-schedule"),
    path(f"{_ID}/unschedule", views.UnscheduleView.as_view(), name="campaign-unschedule"),
    path(f"{_ID}/send", views.SendView.as_view(), name="campaign-send"),
    path(f"{_ID}/pause", views.PauseView.as_view(), name="campaign-pause"),
    path(f"{_ID}/resume", views.ResumeView.as_view(), name="campaign-resume"),
    path(f"{_ID}/cancel", views.CancelView.as_view(), name="campaign-cancel"),
    path(f"{_ID}/retry-failed", views.RetryFailedView.as_view(), name="campaign-retry-failed"),
    path(f"{_ID}/progress", views.ProgressView.as_view(), name="campaign-progress"),
    path(f"{_ID}/deliveries", views.DeliveriesView.as_view(), name="campaign-deliveries"),
    # The report's numbers (stats, links) live with the report, in engagex.analytics.
    path(f"{_ID}/", include("engagex.analytics.api_urls")),
]
