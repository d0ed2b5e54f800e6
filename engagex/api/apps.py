from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "engagex.api"
    verbose_name = "REST API"

    def ready(self) -> None:
        # Registers the OpenAPI extension for API key auth with drf-spectacular.
        from engagex.api import schema  # noqa: F401
