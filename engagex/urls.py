from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

# Django admin is for platform staff only, and signs in through allauth (so MFA and the
# sign-in rate limits apply there too).
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "EngageX administration"

urlpatterns = [
    path("", include("engagex.monitoring.urls")),
    path("", include("engagex.web.urls")),
    path("", include("engagex.accounts.urls")),
    path("settings/sending/", include("engagex.delivery.urls")),
    path("accounts/", include("allauth.urls")),
    path("audit/", include("engagex.audit.urls")),
    path("api/", include("engagex.api.urls")),
    path("jobs/", include("engagex.jobs.urls")),
    path("notifications/", include("engagex.notifications.urls")),
    path("contacts/", include("engagex.contacts.urls")),
    path("confirm/", include("engagex.contacts.public_urls")),
    path("templates/", include("engagex.content.urls")),
    path("campaigns/", include("engagex.campaigns.urls")),
    path("m/", include("engagex.content.public_urls")),
    path("", include("engagex.delivery.public_urls")),  # /u/… and /m/mail/…
    path("", include("engagex.tracking.urls")),  # /t/o/… and /t/c/…
    path("", include("engagex.tracking.webhook_urls")),  # /webhooks/<provider>/<token>/tracking
    path("admin/", admin.site.urls),
    # DEBUG only: every view there answers 404 when DEBUG is off.
    path("devmail/", include("engagex.devmail.urls")),
]

handler400 = "engagex.web.errors.bad_request"
handler403 = "engagex.web.errors.permission_denied"
handler404 = "engagex.web.errors.page_not_found"
handler500 = "engagex.web.errors.server_error"
