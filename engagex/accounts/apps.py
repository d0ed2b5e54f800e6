from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "engagex.accounts"
    label = "accounts"
