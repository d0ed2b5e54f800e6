"""Provider webhooks: /webhooks/<provider>/<organization token>/tracking (see webhooks.py).
The trailing slash is optional: providers keep the URL exactly as pasted."""

from django.urls import re_path

from engagex.tracking import webhooks

app_name = "webhooks"
urlpatterns = [
    re_path(
        r"^webhooks/(?P<provider>[a-z]{2,20})/(?P<token>[0-9a-f]{32}\.[A-Za-z0-9_-]{22})/tracking/?$",
        webhooks.tracking_webhook,
        name="tracking",
    ),
]
