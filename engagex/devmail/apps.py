from django.apps import AppConfig


class DevmailConfig(AppConfig):
    name = "engagex.devmail"
    label = "devmail"
    verbose_name = "Dev mail capture"
