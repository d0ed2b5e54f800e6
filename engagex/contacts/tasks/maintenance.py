"""Tasks: maintenance. Periodic upkeep of contact data; thin, they call services."""

from __future__ import annotations

from procrastinate.contrib.django import app

from engagex.contacts.services.contacts import contacts_purge_deleted


# Daily at 03:41 UTC: off the hour, when few people work and few jobs are due.
@app.periodic(cron="41 3 * * *", periodic_id="contacts_purge_deleted")
@app.task(queue="default", queueing_lock="contacts_purge_deleted")
def purge_deleted_contacts(timestamp: int) -> int:
    """Remove for good the contacts deleted more than the restore window ago."""
    return contacts_purge_deleted()
