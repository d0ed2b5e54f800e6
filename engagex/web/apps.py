from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "engagex.web"
    label = "web"
