from django.urls import include, path

urlpatterns = [
    path("", include("engagex.monitoring.urls")),
    path("", include("engagex.web.urls")),
    path("jobs/", include("engagex.jobs.urls")),
    # DEBUG only: every view there answers 404 when DEBUG is off.
    path("devmail/", include("engagex.devmail.urls")),
]

handler400 = "engagex.web.errors.bad_request"
handler403 = "engagex.web.errors.permission_denied"
handler404 = "engagex.web.errors.page_not_found"
handler500 = "engagex.web.errors.server_error"
