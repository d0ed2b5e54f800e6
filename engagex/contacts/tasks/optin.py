"""Tasks: double opt-in confirmation emails. Thin: the work is in `services.optin`."""

from __future__ import annotations

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from engagex.contacts.services import optin


# A failed batch is retried (its stamps rolled back, so it is sent again); the task always
# continues with whatever is still pending, so retries never skip anyone.
@app.task(queue="default", retry=RetryStrategy(max_attempts=5, wait=60))
def send_list_confirmations(organization_id: str, list_id: str) -> None:
    optin.confirmations_send(organization_id=organization_id, list_id=list_id)
