"""The report's recipients as CSV, streamed: rows come from a server-side cursor a
chunk at a time and go out as they are written, so a million-row export neither builds
in memory nor keeps the browser waiting for the first byte.

Every cell goes through the shared CSV safety helper (`engagex.lib.csv_safety`): an
address like `=cmd@x.com` reaches the spreadsheet as text, never as a formula.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet

from engagex.delivery.models import Delivery
from engagex.lib.csv_safety import SafeCsvWriter

COLUMNS = (
    "email",
    "status",
    "sent_at",
    "opened_at",
    "clicked_at",
    "bounced_at",
    "bounce_type",
    "unsubscribed_at",
    "complained_at",
)
CHUNK = 2_000  # rows per fetch from the cursor
LINES_PER_CHUNK = 500  # lines per piece of the response


class _Buffer:
    """Collects what the csv writer writes until the response takes it."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, value: str) -> None:
        self.parts.append(value)

    def take(self) -> str:
        text, self.parts = "".join(self.parts), []
        return text


def _cell(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def recipients_csv(rows: QuerySet[Delivery]) -> Iterator[str]:
    """Header, then one line per recipient of `rows` (in their order)."""
    buffer = _Buffer()
    writer = SafeCsvWriter(buffer)
    writer.writerow(COLUMNS)
    yield buffer.take()
    for number, values in enumerate(rows.values_list(*COLUMNS).iterator(chunk_size=CHUNK), 1):
        writer.writerow([_cell(value) for value in values])
        if number % LINES_PER_CHUNK == 0:
            yield buffer.take()
    yield buffer.take()
