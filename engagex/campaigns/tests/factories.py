import factory

from engagex.accounts.tests.factories import OrganizationFactory
from engagex.campaigns.models import Campaign


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    from_name = "Acme News"
    from_email = "news@acme.example"
