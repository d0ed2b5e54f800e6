"""Routes of the campaign report, included by `engagex.campaigns.urls` under
`<uuid:pk>/report/`; the names join the campaigns namespace (`campaigns:report`)."""

from django.urls import path

from engagex.analytics import views

urlpatterns = [
    path("", views.campaign_report, name="report"),
    path("recipients.csv", views.report_recipients_csv, name="report-recipients-csv"),
    path("resend/", views.report_resend, name="report-resend"),
]
