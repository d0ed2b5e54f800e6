import factory

from engagex.accounts.tests.factories import OrganizationFactory
from engagex.delivery.models import Mailing


class MailingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mailing

    organization = factory.SubFactory(OrganizationFactory)
    owner_type = "campaign"
    owner_id = factory.Sequence(lambda n: f"c{n}")
    subject = "Hello {{ first_name }}"
    html = "<p>Hi {{ first_name }}</p>"
    from_name = "Acme"
    from_email = "news@acme.example"
