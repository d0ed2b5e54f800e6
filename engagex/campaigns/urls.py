from django.urls import include, path

from engagex.campaigns.views import detail, list, wizard

app_name = "campaigns"
urlpatterns = [
    path("", list.campaign_index, name="list"),
    path("new/", list.campaign_new, name="new"),
    path("<uuid:pk>/", detail.campaign_detail, name="detail"),
    path("<uuid:pk>/progress/", detail.campaign_progress, name="progress"),
    path("<uuid:pk>/edit/", wizard.campaign_edit_start, name="edit-start"),
    path("<uuid:pk>/edit/<slug:step>/", wizard.campaign_edit, name="edit"),
    path("<uuid:pk>/audience/count/", wizard.audience_count_view, name="audience-count"),
    path("<uuid:pk>/send/", detail.campaign_send, name="send"),
    path("<uuid:pk>/schedule/", detail.campaign_schedule, name="schedule"),
    path("<uuid:pk>/unschedule/", detail.campaign_unschedule, name="unschedule"),
    path("<uuid:pk>/pause/", detail.campaign_pause, name="pause"),
    path("<uuid:pk>/resume/", detail.campaign_resume, name="resume"),
    path("<uuid:pk>/cancel/", detail.campaign_cancel, name="cancel"),
    path("<uuid:pk>/duplicate/", detail.campaign_duplicate, name="duplicate"),
    path("<uuid:pk>/delete/", detail.campaign_delete, name="delete"),
    path("<uuid:pk>/retry-failed/", detail.campaign_retry, name="retry"),
    path("<uuid:pk>/report/", include("engagex.analytics.urls")),
]
