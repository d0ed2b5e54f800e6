"""Helpers of the delivery tests: queue a mailing, run a sender until it has no work."""

from engagex.contacts.models import Contact
from engagex.delivery import outbox
from engagex.delivery.killswitch import KillSwitchCache
from engagex.delivery.sender import Sender
from engagex.delivery.tests.factories import MailingFactory


def drain(sender, rounds=50):
    for _ in range(rounds):
        if not sender.run_once():
            return


def queue(org, contacts, **mailing_options):
    mailing = MailingFactory(organization=org, **mailing_options)
    outbox.deliveries_materialize(
        mailing=mailing, contacts=Contact.objects.filter(pk__in=[c.pk for c in contacts])
    )
    return mailing


def new_sender(smtp, worker="w1"):
    return Sender(worker=worker, smtp=smtp, batch_size=20, killswitches=KillSwitchCache(ttl=0))
