from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "engagex.campaigns"
    label = "campaigns"
    verbose_name = "Campaigns"
