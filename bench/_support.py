"""Shared benchmark plumbing: a private embedded database, Django, JSON output."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import time
from collections.abc import Iterator
from pathlib import Path

from engagex.lib.embedded_postgres import EmbeddedPostgres

BASE_DIR = Path(__file__).resolve().parents[1]
VAR_DIR = (BASE_DIR / (os.environ.get("ENGAGEX_VAR_DIR") or "var")).resolve()
BENCH_DATA_DIR = VAR_DIR / "bench" / "postgres"


@contextlib.contextmanager
def bench_database(*, migrate: bool = False) -> Iterator[str]:
    """Start the benchmarks' own embedded PostgreSQL (never the development one),
    point Django at it, and stop it afterwards."""
    server = EmbeddedPostgres(BENCH_DATA_DIR)
    url = server.attach()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "engagex.settings")
    os.environ.setdefault("LOG_LEVEL", "warning")
    try:
        import django

        django.setup()
        if migrate:
            from django.core.management import call_command

            call_command("migrate", interactive=False, verbosity=0)
        yield url
    finally:
        from django.db import connections

        connections.close_all()
        server.detach()


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else float("inf")


class Timer:
    def __enter__(self) -> Timer:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.started


def emit(result: dict) -> None:
    """The contract: one JSON object on the last line of output."""
    print(json.dumps(result), flush=True)
