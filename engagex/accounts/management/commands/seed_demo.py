"""Create the demo organization the first time `make run` starts; later runs change nothing."""

from django.core.management.base import BaseCommand

from engagex.accounts.services.organizations import demo_organization_ensure


class Command(BaseCommand):
    help = "Seed demo data (idempotent: does nothing when the demo organization exists)."

    def handle(self, *args, **options):
        organization, created = demo_organization_ensure()
        if created:
            self.stdout.write(f"Seeded demo organization {organization.name!r}.")
        elif options["verbosity"] >= 2:
            self.stdout.write("Demo data already present; nothing to do.")
