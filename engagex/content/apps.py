from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "engagex.content"
    label = "content"
    verbose_name = "Content"
