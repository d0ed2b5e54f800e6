"""Background tasks of the contacts app (procrastinate discovers this package).

One module per area; importing them here registers their tasks with the app.
"""

from engagex.contacts.tasks import exports, imports, maintenance, optin  # noqa: F401
