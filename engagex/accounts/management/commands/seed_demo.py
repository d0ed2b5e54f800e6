"""Create the demo organization and its team (owner, editor, viewer) for `make run`, and
its demo contacts, template and a campaign ready to send."""

from django.core.management.base import BaseCommand

from engagex.accounts.models import Membership
from engagex.accounts.services.organizations import demo_organization_ensure
from engagex.campaigns.demo import demo_campaign_ensure


class Command(BaseCommand):
    help = "Seed demo data (idempotent: adds only what is missing)."

    def handle(self, *args, **options):
        organization, created = demo_organization_ensure()
        if created:
            self.stdout.write(
                f"Seeded demo organization {organization.name!r} with demo@example.com "
                "(owner), editor@example.com and viewer@example.com."
            )
        owner = organization.memberships.filter(role=Membership.Role.OWNER).first()
        if demo_campaign_ensure(organization, owner.user if owner else None):
            self.stdout.write(
                "Seeded demo contacts and a campaign ready to send (Campaigns → "
                "“Welcome to EngageX (demo)”); the messages arrive in the dev inbox."
            )
        elif options["verbosity"] >= 2:
            self.stdout.write("Demo data already present; nothing to do.")
