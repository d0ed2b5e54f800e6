from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "engagex.contacts"
    label = "contacts"
    verbose_name = "Contacts"
