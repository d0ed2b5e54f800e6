"""Database round trips per second through Django, against raw psycopg in the same run.

    .venv/bin/python -m bench.db_roundtrips --roundtrips 20000

The ratio shows what Django's connection layer costs per query on top of the
driver; a regression in our database settings or middleware-free query path
shows up here first.
"""

from __future__ import annotations

import argparse

from bench._support import Timer, bench_database, emit, peak_rss_mb, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--roundtrips", type=int, default=20_000)
    args = parser.parse_args()

    with bench_database() as url:
        import psycopg
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")  # connect outside the timed loop
            with Timer() as django_timer:
                for _ in range(args.roundtrips):
                    cursor.execute("SELECT 1")
                    cursor.fetchone()

        with psycopg.connect(url) as raw, raw.cursor() as cursor:
            cursor.execute("SELECT 1")
            with Timer() as raw_timer:
                for _ in range(args.roundtrips):
                    cursor.execute("SELECT 1")
                    cursor.fetchone()

    django_rate = rate(args.roundtrips, django_timer.seconds)
    reference_rate = rate(args.roundtrips, raw_timer.seconds)
    emit(
        {
            "bench": "db_roundtrips",
            "roundtrips": args.roundtrips,
            "roundtrips_per_sec": django_rate,
            "reference_roundtrips_per_sec": reference_rate,
            "ratio": round(django_rate / reference_rate, 3),
            "peak_rss_mb": peak_rss_mb(),
        }
    )


if __name__ == "__main__":
    main()
