from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "engagex.jobs"
    label = "jobs"
