import factory

from engagex.accounts.tests.factories import OrganizationFactory
from engagex.contacts.emails import email_hash
from engagex.contacts.models import (
    Contact,
    ContactList,
    CustomField,
    ListMembership,
    Segment,
    Suppression,
)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"contact{n}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")


class ContactListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactList

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"List {n}")


class ListMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ListMembership

    contact_list = factory.SubFactory(ContactListFactory)
    organization = factory.SelfAttribute("contact_list.organization")
    contact = factory.SubFactory(
        ContactFactory, organization=factory.SelfAttribute("..organization")
    )


class CustomFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomField

    organization = factory.SubFactory(OrganizationFactory)
    key = factory.Sequence(lambda n: f"field_{n}")
    label = factory.Sequence(lambda n: f"Field {n}")
    type = CustomField.Type.TEXT


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Segment {n}")
    rules = factory.LazyFunction(lambda: {"match": "all", "rules": []})


class SuppressionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Suppression

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"suppressed{n}@example.org")
    email_hash = factory.LazyAttribute(lambda o: email_hash(o.email))
    reason = Suppression.Reason.MANUAL
