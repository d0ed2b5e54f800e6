"""A second connection merging half of every chunk, so a big import uses two database cores.

One PostgreSQL backend runs one statement on one core, and the merge is bound by index
maintenance on that core: a raw `COPY` + upsert of a million rows tops out near 40,000
rows/s on a 2-core machine. Big files are therefore split by address (see
`pipeline.ChunkReader`): the import's own connection merges one partition of each chunk
while this partner merges the other, in its own transaction, on its own thread.

Why it is safe:
- An address always lands in the same partition, so the two transactions never touch
  the same contact, membership or unique key and never wait on each other. The partner
  never writes shared rows (tags are registered by the main connection).
- The partner commits last thing before the main transaction does, and rolls back if
  anything failed. What is left is the instant between the two commits: a crash exactly
  there would keep the partner's half. A single connection can't give more than that
  without two-phase commit, which stock PostgreSQL servers have switched off.
- Its statements only see committed rows, so it is used for big uploads only (an
  import's organization, list and fields were committed long before).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import psycopg
from django.db import connection

from engagex.contacts.importer.staging import MergeCounts, Merger


class PartnerMerger:
    """Use as a context manager; `submit` a payload per chunk, then `commit` at the end."""

    def __init__(self, **merger_options) -> None:
        self._options = merger_options
        self._connection: psycopg.Connection | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._pending: Future | None = None
        self._merger: Merger | None = None

    def __enter__(self) -> PartnerMerger:
        # The same settings as Django's connection, but a connection of its own: Django's
        # are per thread and this one is used from the partner's thread only.
        self._connection = psycopg.connect(**connection.get_connection_params())
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-merge")
        cursor = self._connection.cursor()
        cursor.execute("SET work_mem = '64MB'")
        self._merger = Merger(cursor=cursor, **self._options)
        self._merger.create()
        return self

    def submit(self, payload: bytes) -> Future:
        """Start merging a payload on the partner's thread; `.result()` gives its counts."""
        self._pending = self._executor.submit(self._merger.merge_chunk, payload)
        return self._pending

    def commit(self) -> None:
        self._merger.drop()
        self._connection.commit()

    def __exit__(self, *exc) -> None:
        if self._pending is not None and not self._pending.done():
            self._connection.cancel()  # the main side failed mid-chunk: stop early
        self._executor.shutdown(wait=True)
        # A no-op after `commit`; otherwise nothing of the partner's half is kept.
        self._connection.rollback()
        self._connection.close()


def merge_both(
    merger: Merger, partner: PartnerMerger | None, payloads: tuple[bytes, ...]
) -> MergeCounts:
    """Merge one chunk: the partner's partition in the background, ours meanwhile."""
    pending = partner.submit(payloads[1]) if partner is not None else None
    counts = merger.merge_chunk(payloads[0])
    if pending is not None:
        counts += pending.result()
    return counts
