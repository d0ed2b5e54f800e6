from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "engagex.monitoring"
    label = "monitoring"
