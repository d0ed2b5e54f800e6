"""Reading and merging overlap: a thread validates chunk k+1 while PostgreSQL merges chunk k.

Per-row validation is Python work on one core; the merge is database work on the other.
Run one after the other they add up; overlapped, an import takes about as long as the
slower of the two. The reader hands over chunks through a small bounded queue, so memory
stays flat (at most a few chunks are held at once) whatever the file size.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.utils import translation

from engagex.contacts.importer.readers import RowSource
from engagex.contacts.importer.rows import RowRejected, RowValidator
from engagex.contacts.importer.staging import copy_line
from engagex.lib.csv_safety import SafeCsvWriter

CHUNK_ROWS = 50_000
QUEUED_CHUNKS = 2
_DONE = object()


@dataclass
class Chunk:
    # COPY text lines for the staging table (see `staging.copy_line`), one payload per
    # partition: an address always lands in the same partition (see `ChunkReader`).
    payloads: tuple[bytes, ...]
    rows: int
    fraction_read: float  # of the file, when the chunk was complete
    last: bool = False  # known to be the file's last chunk


@dataclass
class ReadTotals:
    rows: int = 0
    rejected: int = 0
    rejected_writer: SafeCsvWriter | None = field(default=None, repr=False)

    def reject(self, number: int, reason: str, cells: list[str] | None) -> None:
        self.rejected += 1
        if self.rejected_writer is not None:
            self.rejected_writer.writerow([number, reason, *(cells or ())])


class ChunkReader:
    """Validates rows on a background thread; iterate it for `Chunk`s in file order.

    Errors on the thread (a file that fails to decode midway) are re-raised where the
    chunks are consumed. Leaving the `with` block early stops the thread.
    """

    def __init__(
        self,
        source: RowSource,
        validate: RowValidator | Callable,
        totals: ReadTotals,
        *,
        chunk_rows: int = CHUNK_ROWS,
        partitions: int = 1,
    ) -> None:
        self._source = source
        self._partitions = partitions
        self._validate = validate
        self._totals = totals
        self._chunk_rows = chunk_rows
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUED_CHUNKS)
        self._stop = threading.Event()
        self._language = translation.get_language()
        self._thread = threading.Thread(target=self._run, name="import-reader", daemon=True)

    def __enter__(self) -> ChunkReader:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):  # unblock a reader waiting for room
                self._queue.get(timeout=0.05)
        self._thread.join()

    def __iter__(self) -> Iterator[Chunk]:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        # Rejection reasons are translated on this thread: use the caller's language.
        with translation.override(self._language):
            try:
                self._read()
            except BaseException as error:  # handed to the consuming thread
                self._put(error)
                return
        self._put(_DONE)

    def _read(self) -> None:
        source, validate, totals = self._source, self._validate, self._totals
        partitions = self._partitions
        parts: list[list[str]] = [[] for _ in range(partitions)]
        valid = 0
        rows = 0
        for number, cells, error in source.rows():
            rows += 1
            if cells is None:
                totals.reject(number, error, None)
                continue
            try:
                staged = validate(cells)
            except RowRejected as rejected:
                totals.reject(number, str(rejected), cells)
                continue
            # Partitioned by address, so each merging connection owns its addresses:
            # duplicates meet on the same connection and two never wait on each other.
            part = parts[hash(staged[0]) % partitions] if partitions > 1 else parts[0]
            part.append(copy_line(number, staged))
            valid += 1
            if not rows % 1000:
                # Hand the GIL over now rather than after the 5 ms switch interval: the
                # threads feeding PostgreSQL need it only briefly, but often.
                time.sleep(0)
            if valid >= self._chunk_rows:
                totals.rows = rows
                if not self._put(self._chunk(parts, valid, source.fraction_read())):
                    return
                parts = [[] for _ in range(partitions)]
                valid = 0
        totals.rows = rows
        if valid:
            self._put(self._chunk(parts, valid, 1.0, last=True))

    @staticmethod
    def _chunk(parts: list[list[str]], rows: int, fraction: float, *, last=False) -> Chunk:
        return Chunk(tuple("".join(lines).encode() for lines in parts), rows, fraction, last)
