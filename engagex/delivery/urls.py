from django.urls import path

from engagex.delivery import settings_views

app_name = "delivery"
urlpatterns = [
    path("", settings_views.sending_settings, name="sending-settings"),
    path("test/", settings_views.sending_test, name="sending-test"),
]
