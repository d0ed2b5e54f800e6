import factory

from engagex.accounts.tests.factories import OrganizationFactory
from engagex.content.models import Template

SIMPLE_HTML = (
    "<html><body><p>Hi {{ first_name|default('there') }},</p>"
    '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a> {{ organization_address }}</p>'
    "</body></html>"
)


class TemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Template

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Template {n}")
    category = "newsletter"
    subject = "News for {{ first_name|default('you') }}"
    preheader = "What happened this month"
    html = SIMPLE_HTML
