"""`manage.py killswitch on|off [--org SLUG] [--reason TEXT]`: stop or resume sending."""

from django.core.management.base import BaseCommand, CommandError

from engagex.accounts.models import Organization
from engagex.delivery.killswitch import killswitch_set, killswitch_state


class Command(BaseCommand):
    help = "Turn the global kill switch, or one organization's, on or off (or show them)."

    def add_arguments(self, parser):
        parser.add_argument("state", choices=["on", "off", "status"])
        parser.add_argument("--org", help="the organization's slug (default: global switch)")
        parser.add_argument("--reason", default="", help="why (shown to operators, audited)")

    def handle(self, *args, state, org, reason, **options):
        if state == "status":
            current = killswitch_state()
            self.stdout.write(f"global: {'on' if current.global_on else 'off'}")
            for slug in Organization.objects.filter(pk__in=current.organizations_on).values_list(
                "slug", flat=True
            ):
                self.stdout.write(f"organization {slug}: on")
            return
        organization = None
        if org:
            organization = Organization.objects.filter(slug=org).first()
            if organization is None:
                raise CommandError(f"No organization with the slug {org!r}.")
        killswitch_set(actor=None, on=state == "on", organization=organization, reason=reason)
        scope = f"organization {org}" if org else "global"
        self.stdout.write(f"Kill switch ({scope}) is now {state}.")
