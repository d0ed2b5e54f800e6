from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "engagex.api"
    verbose_name = "REST API"
