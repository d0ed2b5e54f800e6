"""Job progress written from a side thread, on that thread's own database connection.

The import runs in one transaction (all or nothing), so progress written on its own
connection would stay invisible to the polling page until the very end. A single worker
thread writes it instead; it only touches the `Job` row, which the import's transaction
never locks, so the two cannot wait on each other.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from django.db import connections

from engagex.jobs.services import job_set_progress


class BackgroundProgress:
    """`progress(percent, message)` callable for `contact_import_run`; call `close()` after."""

    def __init__(self, job_id) -> None:
        self._job_id = job_id
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="job-progress")
        self._last: tuple[int, str] | None = None

    def __call__(self, percent: int, message: str = "") -> None:
        if (percent, message) == self._last:
            return
        self._last = (percent, message)
        self._executor.submit(
            job_set_progress, job_id=self._job_id, done=percent, total=100, message=message
        )

    def close(self) -> None:
        # The thread's connection is its own: close it there, then stop the thread.
        self._executor.submit(connections.close_all)
        self._executor.shutdown(wait=True)

    def __enter__(self) -> BackgroundProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
