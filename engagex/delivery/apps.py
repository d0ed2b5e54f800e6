from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "engagex.delivery"
    label = "delivery"
    verbose_name = "Delivery"
