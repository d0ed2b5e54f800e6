"""Segment count time on N contacts (DESIGN.md §8).

    .venv/bin/python -m bench.segment --contacts 1000000

Loads N realistic contacts into one organization (plus 10% more in a second one, so
tenant filtering is exercised) with COPY: varied domains, statuses, tags, custom
fields and list memberships. Then times `rules_contacts(...).count()` for a 3-rule
segment — status is subscribed AND domain is gmail.com AND tags has any of [vip] —
warm, as the median of several runs. The rows are removed afterwards.

The last line is `{"contacts": N, "ms": …, …}`. The machine is shared and small
(2 cores): compare runs on the same machine, not absolute numbers across machines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import secrets
import statistics
import tempfile
import time

from bench._support import Timer, bench_database, emit, peak_rss_mb

RULES = {
    "match": "all",
    "rules": [
        {"field": "status", "operator": "is", "value": "subscribed"},
        {"field": "domain", "operator": "equals", "value": "gmail.com"},
        {"field": "tags", "operator": "has_any", "value": ["vip"]},
    ],
}
# The same shape with a tag half the contacts carry: no index narrows it, so this is
# close to the worst case for a simple segment (reported as "broad_*", for reference).
BROAD_RULES = {
    "match": "all",
    "rules": [
        *RULES["rules"][:2],
        {"field": "tags", "operator": "has_any", "value": ["newsletter"]},
    ],
}
DOMAINS = (
    [("gmail.com", 30), ("yahoo.com", 8), ("outlook.com", 8), ("hotmail.com", 5)]
    + [("icloud.com", 4), ("gmx.de", 3), ("web.de", 2), ("mail.com", 2)]
    + [(f"company{n}.example", 0.19) for n in range(200)]
)
STATUSES = [
    ("subscribed", 80),
    ("unsubscribed", 10),
    ("bounced", 4),
    ("unconfirmed", 4),
    ("complained", 2),
]
# (tag, probability a contact has it)
TAGS = [
    ("vip", 0.05),
    ("customer", 0.3),
    ("newsletter", 0.5),
    ("lead", 0.2),
    ("webinar-2025", 0.08),
    ("trial", 0.1),
]
FIRST = ["Anna", "Ben", "Chloé", "David", "Emma", "Felix", "Greta", "Hugo", "Ida", "Jonas"]
LAST = ["Berg", "Costa", "Dubois", "Evans", "Fischer", "García", "Huber", "Ito", "Jensen"]
PLANS = ["free", "starter", "pro", "enterprise"]
COLUMNS = (
    "id, organization_id, created_at, updated_at, email, first_name, last_name, fields, tags,"
    " status, consent_source, consent_text"
)
CHUNK = 20_000


def _weighted(pairs, rng, count):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights, k=count)


def _contact_rows(org_id, count, rng, now, prefix):
    """Yield (contact_id, TSV line) for COPY (text format; no value needs escaping)."""
    from engagex.lib.ids import uuid7

    domains = _weighted(DOMAINS, rng, count)
    statuses = _weighted(STATUSES, rng, count)
    for index in range(count):
        contact_id = uuid7()
        first, last = rng.choice(FIRST), rng.choice(LAST)
        created = now - dt.timedelta(seconds=rng.randrange(3 * 365 * 86400))
        tags = [tag for tag, chance in TAGS if rng.random() < chance]
        fields = {"plan": rng.choice(PLANS), "score": rng.randrange(100)}
        if rng.random() < 0.7:
            fields["signup"] = (created.date() - dt.timedelta(days=rng.randrange(30))).isoformat()
        line = "\t".join(
            (
                str(contact_id),
                org_id,
                created.isoformat(),
                created.isoformat(),
                f"{first.lower()}.{last.lower()}.{prefix}{index}@{domains[index]}",
                first,
                last,
                json.dumps(fields),
                "{" + ",".join(tags) + "}",
                statuses[index],
                "bench",
                "",
            )
        )
        yield contact_id, line


def _load(cursor, org_id, count, rng, now, prefix, lists):
    """COPY contacts and their memberships (60% on the first list, 20% on the second)."""
    # Memberships are spooled to disk, so memory stays flat whatever N is.
    with tempfile.TemporaryFile("w+") as memberships:
        with cursor.copy(f"COPY contacts_contact ({COLUMNS}) FROM STDIN") as contacts:
            buffer = []
            for contact_id, line in _contact_rows(org_id, count, rng, now, prefix):
                buffer.append(line)
                for list_id, chance in lists:
                    if rng.random() < chance:
                        status = "subscribed" if rng.random() < 0.9 else "unsubscribed"
                        memberships.write(
                            f"{org_id}\t{list_id}\t{contact_id}\t{status}\t{now.isoformat()}\n"
                        )
                if len(buffer) >= CHUNK:
                    contacts.write("\n".join(buffer) + "\n")
                    buffer.clear()
            if buffer:
                contacts.write("\n".join(buffer) + "\n")
        memberships.seek(0)
        with cursor.copy(
            "COPY contacts_listmembership (organization_id, contact_list_id, contact_id, status,"
            " created_at) FROM STDIN"
        ) as copy:
            while block := memberships.read(1 << 20):
                copy.write(block)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()

    with bench_database(migrate=True) as url:
        import psycopg
        from django.db import connection
        from django.utils import timezone

        from engagex.accounts.models import Organization
        from engagex.accounts.plans import default_plan
        from engagex.contacts.models import ContactList
        from engagex.contacts.selectors.segments import rules_contacts

        rng = random.Random(args.seed)
        now = timezone.now()
        tag = secrets.token_hex(4)
        plan = default_plan()
        org = Organization.objects.create(name="Bench segments", slug=f"bench-seg-{tag}", plan=plan)
        other = Organization.objects.create(name="Bench other", slug=f"bench-oth-{tag}", plan=plan)
        orgs = [org, other]
        try:
            with Timer() as load_timer, psycopg.connect(url) as raw, raw.cursor() as cursor:
                for number, (organization, count) in enumerate(
                    [(org, args.contacts), (other, max(args.contacts // 10, 1))]
                ):
                    lists = [
                        ContactList.objects.create(organization=organization, name=name)
                        for name in ("Newsletter", "Product updates")
                    ]
                    _load(
                        cursor,
                        str(organization.pk),
                        count,
                        rng,
                        now,
                        f"o{number}x",
                        [(str(lists[0].pk), 0.6), (str(lists[1].pk), 0.2)],
                    )
                raw.commit()
                # What autovacuum does in production soon after a big import.
                raw.autocommit = True
                cursor.execute("VACUUM ANALYZE contacts_contact")
                cursor.execute("VACUUM ANALYZE contacts_listmembership")

            matched, timings = _time_count(rules_contacts, org, RULES, args.runs)
            broad_matched, broad_timings = _time_count(rules_contacts, org, BROAD_RULES, args.runs)
            plan_lines = _plan(connection, rules_contacts(organization=org, rules=RULES))
        finally:
            _remove(url, orgs)

    print("\n".join(plan_lines))
    emit(
        {
            "bench": "segment",
            "contacts": args.contacts,
            "ms": round(statistics.median(timings), 1),
            "min_ms": round(min(timings), 1),
            "max_ms": round(max(timings), 1),
            "runs": args.runs,
            "matched": matched,
            "broad_ms": round(statistics.median(broad_timings), 1),
            "broad_matched": broad_matched,
            "other_org_contacts": max(args.contacts // 10, 1),
            "load_seconds": round(load_timer.seconds, 1),
            "peak_rss_mb": peak_rss_mb(),
        }
    )


def _time_count(rules_contacts, org, rules, runs) -> tuple[int, list[float]]:
    """Median-ready timings of `rules_contacts(...).count()` after one warm-up run."""
    matched = rules_contacts(organization=org, rules=rules).count()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        count = rules_contacts(organization=org, rules=rules).count()
        timings.append((time.perf_counter() - started) * 1000)
        if count != matched:
            raise RuntimeError(f"count changed between runs: {matched} → {count}")
    return matched, timings


def _plan(connection, queryset) -> list[str]:
    sql, params = queryset.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN SELECT count(*) FROM ({sql}) AS matched", params)
        return [row[0] for row in cursor.fetchall()]


def _remove(url, orgs) -> None:
    """Set-based cleanup: the ORM's cascade would fetch a million rows first."""
    import psycopg

    ids = [org.pk for org in orgs]
    with psycopg.connect(url) as raw, raw.cursor() as cursor:
        for table in ("contacts_listmembership", "contacts_contact", "contacts_contactlist"):
            cursor.execute(f"DELETE FROM {table} WHERE organization_id = ANY(%s)", [ids])
        cursor.execute("DELETE FROM audit_auditentry WHERE organization_id = ANY(%s)", [ids])
        cursor.execute("DELETE FROM accounts_organization WHERE id = ANY(%s)", [ids])


if __name__ == "__main__":
    main()
