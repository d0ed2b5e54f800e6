import factory

from engagex.accounts.models import Membership, Organization, User
from engagex.accounts.plans import default_plan


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.django.Password("correct horse battery staple")


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    country = "DE"
    postal_address = "Hauptstraße 1\n10115 Berlin"
    default_from_name = factory.SelfAttribute("name")
    default_from_email = factory.Sequence(lambda n: f"news@org-{n}.example.com")
    time_zone = "Europe/Berlin"
    plan = factory.LazyFunction(default_plan)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.EDITOR
