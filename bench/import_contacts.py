"""CSV → contacts through the real import pipeline, against a raw COPY + upsert (DESIGN.md §8).

    .venv/bin/python -m bench.import_contacts --rows 1000000

Writes a CSV of N rows (email, first name, last name, a custom field, tags) with ~5 %
in-file duplicates and ~0.2 % invalid addresses; half of the distinct addresses already
exist as contacts (with other last names, so they really get updated). Then:

- the pipeline: the same services the web page and the background task use —
  `contact_import_upload` → `contact_import_start` → `contact_import_run`: streamed
  file read, per-row validation, COPY into the staging table, set-based merge;
- the reference, in the same run, on a second organization holding the same
  existing contacts: the file COPYed straight into a temp table (no validation, no
  normalization) and upserted with one `INSERT … SELECT DISTINCT ON … ON CONFLICT DO
  UPDATE`, new ids made by the same UUIDv7 SQL expression.

The last line is `{"rows": N, "rows_per_sec": …, "reference_rows_per_sec": …,
"ratio": …, "peak_rss_mb": …}` (plus details). `peak_rss_mb` is the whole process's peak,
file generation included. The machine is small and shared: the 1-minute load average
at the start is reported too; compare runs on one machine, not across machines.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import tempfile
from pathlib import Path

from bench._support import Timer, bench_database, emit, peak_rss_mb, rate

DUPLICATE_SHARE = 0.05
INVALID_SHARE = 0.002
CITIES = ["Berlin", "Paris", "Lisboa", "Kraków", "São Paulo", "Zürich", "Oslo", "Tokyo"]
FIRST = ["Anna", "Ben", "Chloé", "David", "Emma", "Felix", "Greta", "Hugo", "Ida", "Jonas"]
LAST = ["Berg", "Costa", "Dubois", "Evans", "Fischer", "García", "Huber", "Ito", "Jensen"]
TAGS = ["", "", "", "customer", "lead", "vip, customer", "newsletter"]
EXISTING_COLUMNS = (
    "id, organization_id, created_at, updated_at, email, first_name, last_name, fields, tags,"
    " status, consent_source, consent_text"
)


def _address(index: int) -> str:
    return f"person{index}@example{index % 97}.com"


def write_csv(path: Path, rows: int, rng: random.Random) -> int:
    """Stream the bench file to disk; returns how many distinct addresses it holds."""
    distinct = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("Email,First name,Last name,City,Tags\n")
        buffer = []
        for _row in range(rows):
            draw = rng.random()
            if draw < INVALID_SHARE:
                email = f"broken-address-{distinct}"
            elif draw < INVALID_SHARE + DUPLICATE_SHARE and distinct:
                email = _address(rng.randrange(distinct))
            else:
                email = _address(distinct)
                distinct += 1
            tags = rng.choice(TAGS)
            buffer.append(
                f'{email},{rng.choice(FIRST)},{rng.choice(LAST)},{rng.choice(CITIES)},"{tags}"\n'
            )
            if len(buffer) >= 10_000:
                out.write("".join(buffer))
                buffer.clear()
        out.write("".join(buffer))
    return distinct


def load_existing(cursor, org_id: str, distinct: int, now) -> None:
    """Every other address of the file already exists as a contact (COPY, fast)."""
    from engagex.lib.ids import uuid7

    stamp = now.isoformat()
    with cursor.copy(f"COPY contacts_contact ({EXISTING_COLUMNS}) FROM STDIN") as copy:
        buffer = []
        for index in range(0, distinct, 2):
            buffer.append(
                f"{uuid7()}\t{org_id}\t{stamp}\t{stamp}\t{_address(index)}\tOld\tName\t"
                '{"city": "Nowhere"}\t{old}\tsubscribed\tbench\t\n'
            )
            if len(buffer) >= 10_000:
                copy.write("".join(buffer))
                buffer.clear()
        copy.write("".join(buffer))


REFERENCE_STAGE = (
    "CREATE TEMP TABLE reference_stage (email text, first_name text, last_name text,"
    " city text, tags text) ON COMMIT DROP"
)
REFERENCE_UPSERT = """
INSERT INTO contacts_contact (
    id, organization_id, created_at, updated_at, email, first_name, last_name, fields, tags,
    status, consent_source, consent_at, consent_text
)
SELECT DISTINCT ON (email)
    UUID7_EXPRESSION, %(org)s, now(), now(), email, first_name, last_name,
    jsonb_build_object('city', city), coalesce(string_to_array(nullif(tags, ''), ', '), '{}'),
    'subscribed', 'reference', now(), ''
FROM reference_stage
ORDER BY email
ON CONFLICT (organization_id, email) DO UPDATE SET
    first_name = excluded.first_name,
    last_name = excluded.last_name,
    fields = contacts_contact.fields || excluded.fields,
    tags = contacts_contact.tags || excluded.tags,
    updated_at = excluded.updated_at
"""


def reference_import(url: str, path: Path, org_id: str) -> None:
    import psycopg

    from engagex.contacts.importer.staging import UUID7_SQL

    with psycopg.connect(url) as raw, raw.cursor() as cursor:
        cursor.execute("SET work_mem = '64MB'")
        cursor.execute(REFERENCE_STAGE)
        with (
            cursor.copy("COPY reference_stage FROM STDIN (FORMAT csv, HEADER)") as copy,
            path.open("rb") as source,
        ):
            while block := source.read(1 << 20):
                copy.write(block)
        cursor.execute(REFERENCE_UPSERT.replace("UUID7_EXPRESSION", UUID7_SQL), {"org": org_id})
        raw.commit()


def pipeline_import(path: Path, organization, user, mapping):
    from django.core.files import File

    from engagex.contacts.services.imports import (
        contact_import_run,
        contact_import_start,
        contact_import_upload,
    )

    with path.open("rb") as source:
        upload = File(source, name="bench.csv")
        upload.size = path.stat().st_size
        contact_import = contact_import_upload(
            organization=organization, actor=user, uploaded_file=upload
        )
    contact_import = contact_import_start(
        organization=organization, actor=user, contact_import=contact_import, mapping=mapping
    )
    return contact_import_run(contact_import=contact_import)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    load_average = round(os.getloadavg()[0], 2)

    with bench_database(migrate=True) as url, tempfile.TemporaryDirectory() as workdir:
        import psycopg
        from django.utils import timezone

        from engagex.accounts.models import Organization, Plan, User
        from engagex.accounts.plans import plans_ensure
        from engagex.contacts.models import CustomField

        path = Path(workdir) / "contacts.csv"
        distinct = write_csv(path, args.rows, random.Random(args.seed))
        plans_ensure()
        unlimited = Plan.objects.get(code="enterprise")
        tag = secrets.token_hex(4)
        orgs = [
            Organization.objects.create(name=name, slug=f"bench-{slug}-{tag}", plan=unlimited)
            for name, slug in (("Bench import", "imp"), ("Bench reference", "ref"))
        ]
        organization, reference_org = orgs
        user = User.objects.create_user(email=f"bench-{tag}@example.com", password=None)
        CustomField.objects.create(organization=organization, key="city", label="City")
        try:
            now = timezone.now()
            with psycopg.connect(url) as raw, raw.cursor() as cursor:
                for org in orgs:
                    load_existing(cursor, str(org.pk), distinct, now)
                raw.commit()
                raw.autocommit = True
                cursor.execute("VACUUM ANALYZE contacts_contact")

            mapping = ["email", "first_name", "last_name", "field:city", "tags"]
            with Timer() as pipeline_timer:
                done = pipeline_import(path, organization, user, mapping)
            if done.status != "done":
                raise RuntimeError(f"import failed: {done.error}")
            for stored in (done.file, done.rejected_file):
                if stored:
                    stored.delete(save=False)
            with Timer() as reference_timer:
                reference_import(url, path, str(reference_org.pk))
        finally:
            _remove(url, orgs, user)

    rows_per_sec = rate(args.rows, pipeline_timer.seconds)
    reference_rows_per_sec = rate(args.rows, reference_timer.seconds)
    emit(
        {
            "bench": "import_contacts",
            "rows": args.rows,
            "rows_per_sec": rows_per_sec,
            "reference_rows_per_sec": reference_rows_per_sec,
            "ratio": round(rows_per_sec / reference_rows_per_sec, 3),
            "peak_rss_mb": peak_rss_mb(),
            "seconds": round(pipeline_timer.seconds, 2),
            "reference_seconds": round(reference_timer.seconds, 2),
            "created": done.created_count,
            "updated": done.updated_count,
            "skipped": done.skipped_count,
            "rejected": done.rejected_count,
            "load_average_1m": load_average,
        }
    )


def _remove(url, orgs, user) -> None:
    """Set-based cleanup: the ORM's cascade would fetch a million rows first."""
    import psycopg

    ids = [org.pk for org in orgs]
    with psycopg.connect(url) as raw, raw.cursor() as cursor:
        for table in (
            "contacts_listmembership",
            "contacts_contact",
            "contacts_contactimport",
            "contacts_customfield",
            "contacts_tag",
            "audit_auditentry",
            "jobs_job",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE organization_id = ANY(%s)", [ids])
        cursor.execute(
            "DELETE FROM procrastinate_jobs WHERE task_name = %s",
            ["engagex.contacts.tasks.imports.run_contact_import"],
        )
        cursor.execute("DELETE FROM accounts_organization WHERE id = ANY(%s)", [ids])
        cursor.execute("DELETE FROM accounts_user WHERE id = %s", [user.pk])


if __name__ == "__main__":
    main()
