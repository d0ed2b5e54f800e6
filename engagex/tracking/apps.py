from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "engagex.tracking"
    label = "tracking"
    verbose_name = "Tracking"
