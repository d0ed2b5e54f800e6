"""Staging COPY and the set-based merge: where a million rows become contacts in seconds.

Valid rows arrive in chunks (see `pipeline.py`). Each chunk is streamed with psycopg 3's
`COPY` into a TEMP table (no WAL, private to the session) and merged with a few
statements — never one per row:

1. `_PREPARE`: de-duplicate inside the chunk (first occurrence in the file wins:
   `DISTINCT ON (email)` ordered by row number) and look every address up once: the
   existing contact, whether it is soft-deleted, its status, whether it is on the
   suppression list, and whether this import already handled it in an earlier chunk.
2. `_MERGE`: one statement inserts the new contacts, updates (or skips) the existing
   ones and adds every imported contact to the chosen list.

"Already handled" needs no per-row bookkeeping: every contact this import writes gets
`updated_at` = the import's own timestamp, so a later chunk recognises it. Only
addresses matched but left unchanged are remembered, in a small temp table.

Everything runs inside the caller's transaction: a failure anywhere leaves nothing behind.

New contact ids are UUIDv7. Measured both ways on 1M rows: an SQL expression (PostgreSQL
16 has no `uuidv7()`; `UUID7_SQL` below, ~1.8 µs a row on the database's critical path)
against `uuid_utils.uuid7()` on the reader thread (~0.2 µs, off the critical path, one
more COPY column): Python-side ids cut the merge from ~18 s to ~16.5 s, so the reader
makes them. `UUID7_SQL` remains for the few tag rows inserted here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from uuid_utils import uuid7

UUID7_SQL = (
    "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing "
    "substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) "
    "FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid"
)

_TABLES = "contact_import_stage, contact_import_rows, contact_import_seen"
_CREATE_STAGE = """
CREATE TEMP TABLE contact_import_stage (
    n integer NOT NULL,
    new_id uuid NOT NULL,
    email text NOT NULL,
    first_name text,
    last_name text,
    fields jsonb,
    tags varchar[]
) ON COMMIT DROP
"""
_CREATE_ROWS = """
CREATE TEMP TABLE contact_import_rows (
    n integer NOT NULL,
    new_id uuid NOT NULL,
    email text NOT NULL,
    first_name text,
    last_name text,
    fields jsonb,
    tags varchar[],
    contact_id uuid,
    was_deleted boolean,
    old_status varchar(12),
    seen boolean NOT NULL,
    changes boolean NOT NULL,
    suppressed varchar(12)
) ON COMMIT DROP
"""
_CREATE_SEEN = "CREATE TEMP TABLE contact_import_seen (email text PRIMARY KEY) ON COMMIT DROP"
_COPY_STAGE = (
    "COPY contact_import_stage (n, new_id, email, first_name, last_name, fields, tags) FROM STDIN"
)

# Suppressions are keyed by the SHA-256 of the address (they survive anonymization);
# PostgreSQL computes the same digest as `engagex.contacts.emails.email_hash`.
_PREPARE = """
INSERT INTO contact_import_rows
SELECT DISTINCT ON (s.email)
    s.n, s.new_id, s.email, s.first_name, s.last_name, s.fields, t.tags,
    c.id,
    c.deleted_at IS NOT NULL,
    c.status,
    coalesce(c.updated_at = %(now)s, false)
        OR EXISTS (SELECT 1 FROM contact_import_seen u WHERE u.email = s.email),
    coalesce(
        s.first_name <> c.first_name
        OR s.last_name <> c.last_name
        OR NOT c.fields @> s.fields
        OR NOT c.tags @> t.tags,
        false
    ),
    CASE WHEN %(check_suppressions)s THEN (
        SELECT p.reason FROM contacts_suppression p
        WHERE p.organization_id = %(org)s
          AND p.email_hash = encode(sha256(convert_to(s.email, 'UTF8')), 'hex')
    ) END
FROM contact_import_stage s
CROSS JOIN LATERAL (SELECT coalesce(s.tags, %(extra_tags)s::varchar[]) AS tags) t
-- LATERAL: one index lookup per staged row, whatever the size of the contacts table.
LEFT JOIN LATERAL (
    SELECT id, deleted_at, status, updated_at, first_name, last_name, fields, tags
    FROM contacts_contact
    WHERE organization_id = %(org)s AND email = s.email
    LIMIT 1  -- also keeps the planner from turning this into a join over all contacts
) c ON true
ORDER BY s.email, s.n
"""

# The tags this chunk writes: registered (for pickers and filters) by the caller, on the
# import's main connection only — two connections inserting the same new tag name would
# wait on each other's open transaction for ever.
_WRITTEN_TAGS = """
SELECT DISTINCT unnest(tags) FROM contact_import_rows
WHERE NOT seen AND (contact_id IS NULL OR was_deleted OR %(update)s)
"""
_REGISTER_TAGS = f"""
INSERT INTO contacts_tag (id, organization_id, name, created_at, updated_at)
SELECT {UUID7_SQL}, %(org)s, name, %(now)s, %(now)s
FROM unnest(%(names)s::varchar[]) AS name
ON CONFLICT (organization_id, name) DO NOTHING
"""  # noqa: S608 - a constant expression, no user input


def tags_register(cursor, *, organization_id, now, names) -> None:
    """Add tag names to the organization's tag registry (existing ones are kept)."""
    if names:
        cursor.execute(_REGISTER_TAGS, {"org": organization_id, "now": now, "names": sorted(names)})


# Existing contacts keep their status (an unsubscribed or bounced person is never
# resubscribed by an import); new ones start subscribed — or unconfirmed when the list is
# double opt-in — unless the address is suppressed.
_NEW_STATUS = """
CASE
    WHEN r.suppressed IN ('hard_bounce', 'soft_bounce') THEN 'bounced'
    WHEN r.suppressed = 'complaint' THEN 'complained'
    WHEN r.suppressed IS NOT NULL THEN 'unsubscribed'
    WHEN %(double_opt_in)s THEN 'unconfirmed'
    ELSE 'subscribed'
END
"""
_MERGED_TAGS = "c.tags || ARRAY(SELECT t FROM unnest(r.tags) t WHERE t <> ALL(c.tags))"

_MERGE = f"""
WITH inserted AS (
    INSERT INTO contacts_contact (
        id, organization_id, created_at, updated_at, email, first_name, last_name,
        fields, tags, status, consent_source, consent_at, consent_text
    )
    SELECT
        r.new_id, %(org)s, %(now)s, %(now)s, r.email,
        coalesce(r.first_name, ''), coalesce(r.last_name, ''),
        coalesce(r.fields, '{{}}'::jsonb), coalesce(r.tags, '{{}}'::varchar[]),
        {_NEW_STATUS}, %(consent_source)s, %(now)s, %(consent_text)s
    FROM contact_import_rows r
    WHERE r.contact_id IS NULL
    ON CONFLICT (organization_id, email) DO NOTHING
    RETURNING id, status
),
updated AS (
    UPDATE contacts_contact c SET
        first_name = coalesce(r.first_name, c.first_name),
        last_name = coalesce(r.last_name, c.last_name),
        fields = CASE WHEN r.fields IS NULL THEN c.fields ELSE c.fields || r.fields END,
        tags = {_MERGED_TAGS},
        updated_at = %(now)s,
        deleted_at = NULL,
        consent_source = CASE WHEN r.was_deleted THEN %(consent_source)s
                              ELSE c.consent_source END,
        consent_at = CASE WHEN r.was_deleted THEN %(now)s ELSE c.consent_at END,
        consent_text = CASE WHEN r.was_deleted THEN %(consent_text)s ELSE c.consent_text END
    -- In id order: UUIDv7 ids follow the table's physical order, so heap pages are
    -- visited once, in sequence, instead of at random.
    FROM (SELECT * FROM contact_import_rows ORDER BY contact_id) r
    WHERE c.id = r.contact_id
      AND c.organization_id = %(org)s
      AND NOT r.seen
      AND (r.was_deleted OR (%(update)s AND r.changes))
    RETURNING c.id, r.was_deleted
),
unchanged AS (
    INSERT INTO contact_import_seen (email)
    SELECT r.email FROM contact_import_rows r
    WHERE %(update)s AND r.contact_id IS NOT NULL AND NOT r.seen AND NOT r.was_deleted
      AND NOT r.changes
),
joined AS (
    SELECT id, status, false AS suppressed FROM inserted
    UNION ALL
    SELECT r.contact_id, r.old_status, r.suppressed IS NOT NULL
    FROM contact_import_rows r
    WHERE r.contact_id IS NOT NULL AND NOT r.seen AND (r.was_deleted OR %(update)s)
),
members AS (
    INSERT INTO contacts_listmembership (
        organization_id, contact_list_id, contact_id, status, created_at
    )
    SELECT
        %(org)s, %(list_id)s, j.id,
        CASE
            WHEN j.suppressed OR j.status NOT IN ('subscribed', 'unconfirmed')
                THEN 'unsubscribed'
            WHEN %(double_opt_in)s THEN 'unconfirmed'
            ELSE 'subscribed'
        END,
        %(now)s
    FROM joined j
    WHERE %(list_id)s::uuid IS NOT NULL
    ON CONFLICT (organization_id, contact_list_id, contact_id) DO NOTHING
    RETURNING status
)
SELECT
    (SELECT count(*) FROM inserted),
    (SELECT count(*) FILTER (WHERE was_deleted) FROM updated),
    (SELECT count(*) FILTER (WHERE NOT was_deleted) FROM updated),
    (SELECT count(*) FROM members),
    (SELECT count(*) FILTER (WHERE status = 'unconfirmed') FROM members)
"""  # noqa: S608 - constant SQL fragments, every value is a parameter


# COPY text format: backslash, tab, newline and carriage return are escaped; NUL cannot
# be stored in PostgreSQL text at all.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": ""})
_NULL = "\\N"


def _copy_text(value: str | None) -> str:
    if value is None:
        return _NULL
    if "\\" in value or not value.isprintable():
        return value.translate(_COPY_ESCAPES)
    return value


def _copy_array(values: list[str] | None) -> str:
    if values is None:
        return _NULL
    items = ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return _copy_text("{" + items + "}")


def copy_line(number: int, staged) -> str:
    """One staged row as a line of COPY text for `contact_import_stage`.

    Built on the reader thread, so the thread holding the database connection only
    hands whole chunks to `COPY` (per-row work there would fight the reader for the GIL).
    The id a new contact would get is made here too, off the database's critical path:
    a UUIDv7 from `uuid_utils` (monotonic, so new contacts' ids follow the file's order).
    """
    email, first_name, last_name, fields, tags = staged
    return (
        f"{number}\t{uuid7()}\t{_copy_text(email)}\t{_copy_text(first_name)}\t{_copy_text(last_name)}"
        f"\t{_copy_text(fields)}\t{_copy_array(tags)}\n"
    )


@dataclass(frozen=True)
class MergeCounts:
    inserted: int = 0
    restored: int = 0
    updated: int = 0
    memberships_added: int = 0
    memberships_unconfirmed: int = 0
    tags: frozenset[str] = frozenset()  # tag names written (when the merger collects them)

    def __add__(self, other: MergeCounts) -> MergeCounts:
        return MergeCounts(
            self.inserted + other.inserted,
            self.restored + other.restored,
            self.updated + other.updated,
            self.memberships_added + other.memberships_added,
            self.memberships_unconfirmed + other.memberships_unconfirmed,
            self.tags | other.tags,
        )

    @property
    def new(self) -> int:
        """Contacts that did not exist (live) before: what the plan limit counts."""
        return self.inserted + self.restored


@dataclass
class Merger:
    """Merges chunks of staged rows into one organization's contacts, on one cursor."""

    cursor: object
    organization_id: object
    now: object
    update: bool
    extra_tags: Sequence[str] = ()
    check_suppressions: bool = False
    collect_tags: bool = False
    list_id: object = None
    double_opt_in: bool = False
    consent_source: str = ""
    consent_text: str = ""

    def create(self) -> None:
        self.drop()
        for statement in (_CREATE_STAGE, _CREATE_ROWS, _CREATE_SEEN):
            self.cursor.execute(statement)

    def merge_chunk(self, payload: bytes) -> MergeCounts:
        """COPY one chunk (lines from `copy_line`, UTF-8) and merge it."""
        cursor = self.cursor
        cursor.execute("TRUNCATE contact_import_stage")
        with cursor.copy(_COPY_STAGE) as copy:
            copy.write(payload)
        params = {
            "org": self.organization_id,
            "now": self.now,
            "update": self.update,
            "extra_tags": list(self.extra_tags) or None,
            "check_suppressions": self.check_suppressions,
            "list_id": self.list_id,
            "double_opt_in": self.double_opt_in,
            "consent_source": self.consent_source,
            "consent_text": self.consent_text,
        }
        cursor.execute("TRUNCATE contact_import_rows")
        cursor.execute(_PREPARE, params)
        tags = frozenset()
        if self.collect_tags:
            cursor.execute(_WRITTEN_TAGS, params)
            tags = frozenset(name for (name,) in cursor.fetchall())
        # The planner prefers hashing the organization's whole contacts table to join a
        # chunk; per-id index lookups cost in proportion to the chunk instead.
        cursor.execute("SET LOCAL enable_hashjoin = off")
        cursor.execute("SET LOCAL enable_mergejoin = off")
        cursor.execute(_MERGE, params)
        counts = MergeCounts(*cursor.fetchone(), tags=tags)
        cursor.execute("RESET enable_hashjoin")
        cursor.execute("RESET enable_mergejoin")
        return counts

    def drop(self) -> None:
        self.cursor.execute(f"DROP TABLE IF EXISTS {_TABLES}")
