from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "engagex.accounts"
    label = "accounts"

    def ready(self) -> None:
        from engagex.accounts import signals

        signals.connect()
