"""Create the demo organization and its team (owner, editor, viewer) for `make run`."""

from django.core.management.base import BaseCommand

from engagex.accounts.services.organizations import demo_organization_ensure


class Command(BaseCommand):
    help = "Seed demo data (idempotent: adds only what is missing)."

    def handle(self, *args, **options):
        organization, created = demo_organization_ensure()
        if created:
            self.stdout.write(
                f"Seeded demo organization {organization.name!r} with demo@example.com "
                "(owner), editor@example.com and viewer@example.com."
            )
        elif options["verbosity"] >= 2:
            self.stdout.write("Demo data already present; nothing to do.")
