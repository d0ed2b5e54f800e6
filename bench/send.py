"""Campaign start → every message delivered to a local SMTP sink (DESIGN.md §8).

    .venv/bin/python -m bench.send --recipients 100000
    .venv/bin/python -m bench.send --recipients 1000000 --materialize-only

Sets up, in the benchmarks' own embedded database, an organization on the enterprise
plan (no monthly limit) whose `SendingSettings` say `warmup_exempt` (so hourly and
warm-up limits don't apply), two custom fields, one list holding N mailable contacts
(plus ~2 % unsubscribed and ~1 % suppressed ones the send must leave out), all loaded
with COPY, and a ~20 KB newsletter template with ten merge tags, a spintax group and
ten article links. Then:

1. One campaign to the list, started through the real `campaign_start` service (the
   pre-send checklist, freezing the content, the recipient insert, the quota
   reservation). `materialize_sec` is the time of `outbox.deliveries_materialize` in it
   (the set-based recipient insert and its count); `start_sec` the whole service call.
   Tracking is "on" in the sense that exists today: the campaign's `track_opens` and
   `track_clicks` flags are set. Tracked links (issue 7) don't exist yet, so the links
   are not rewritten; when they are, this benchmark measures them without changes.
2. One real `manage.py sender` process (its default SMTP connections and batch size)
   sends it to `bench.smtp_sink`, a minimal asyncio SMTP server in its own process.
   `msgs_per_sec` is measured at the sink, first to last message received.
   `peak_rss_mb` is the largest sender's peak resident set (VmHWM).
3. A second campaign to the same list, sent by two sender processes at once:
   `msgs_per_sec_two_senders`.
4. The reference, same run, same sink: N messages (a pool of real messages of the
   first mailing, built once by the sender's own code) pushed over the same number of
   connections one sender uses, nothing else running, two ways: with aiosmtplib's
   `sendmail` (`raw_aiosmtplib_sendmail_msgs_per_sec`) and with our own lean SMTP
   client alone, in the sender's batch size (`raw_pool_msgs_per_sec`; no database, no
   rendering, no building). `raw_smtp_msgs_per_sec` is the faster of the two — the
   stricter reference — and `ratio` = msgs_per_sec / raw_smtp_msgs_per_sec.

Every delivery must end up `sent` and the sink must have seen each Message-ID once,
or the benchmark fails. The senders run production-like (DEBUG off, LOG_LEVEL
warning). `--materialize-only` stops after step 1 (no sink, no senders). The machine is
small and shared (2 cores: sender, PostgreSQL and sink share them): compare runs on
one machine; the 1-minute load average at the start is reported too. Everything
started is stopped, and the benchmark's rows removed, before the JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._support import BASE_DIR, Timer, bench_database, emit, rate

FIRST = ["Anna", "Ben", "Chloé", "David", "", "Felix", "Greta", "Hugo", "Ida", "Jonas"]
LAST = ["Berg", "Costa", "Dubois", "Evans", "Fischer", "García", "Huber", "Ito", "Jensen"]
CITIES = ["Berlin", "Lisbon", "Paris", "Cardiff", "Hamburg", "Madrid", "Vienna", "Osaka"]
PLANS = ["free", "starter", "pro", "enterprise"]
DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "gmx.de", "icloud.com"] + [
    f"company{n}.example" for n in range(40)
]
ARTICLES = 10  # ten tracked-to-be links
UNSUBSCRIBED_SHARE = 50  # one in 50 extra contacts unsubscribed from the list …
SUPPRESSED_SHARE = 100  # … and one in 100 extra on the suppression list
CONTACT_COLUMNS = (
    "id, organization_id, created_at, updated_at, email, first_name, last_name, fields, tags,"
    " status, consent_source, consent_text"
)
CHUNK = 20_000
STALL_SECONDS = 120.0  # no progress at the sink for this long: the benchmark fails


# --- data -------------------------------------------------------------------------------


def _template_html() -> str:
    from bench.render import ARTICLE, FOOT, HEAD

    articles = "".join(ARTICLE.replace("{n}", str(n)) for n in range(1, ARTICLES + 1))
    return HEAD + articles + FOOT


def load_audience(url: str, org_id: str, list_id: str, recipients: int, seed: int) -> int:
    """COPY the contacts and their list memberships; returns how many contacts in all.

    `recipients` of them are mailable; the extra ones are unsubscribed from the list or
    on the suppression list, so the recipient insert has something to leave out."""
    import psycopg
    from django.utils import timezone

    from engagex.lib.ids import uuid7

    rng = random.Random(seed)
    unsubscribed = recipients // UNSUBSCRIBED_SHARE
    suppressed = recipients // SUPPRESSED_SHARE
    total = recipients + unsubscribed + suppressed
    stamp = timezone.now().isoformat()
    kinds = ["mail"] * recipients + ["unsub"] * unsubscribed + ["supp"] * suppressed
    rng.shuffle(kinds)
    with psycopg.connect(url) as raw, raw.cursor() as cursor, tempfile.TemporaryFile("w+") as spool:
        with cursor.copy(f"COPY contacts_contact ({CONTACT_COLUMNS}) FROM STDIN") as copy:
            buffer = []
            for index, kind in enumerate(kinds):
                contact_id = uuid7()
                first, last = rng.choice(FIRST), rng.choice(LAST)
                local = first.lower().encode("ascii", "ignore").decode() or "x"
                email = f"{kind}.{local}{index}@{DOMAINS[index % len(DOMAINS)]}"
                fields = json.dumps({"city": rng.choice(CITIES), "plan": rng.choice(PLANS)})
                buffer.append(
                    f"{contact_id}\t{org_id}\t{stamp}\t{stamp}\t{email}\t{first}\t{last}\t"
                    f"{fields}\t{{}}\tsubscribed\tbench\t\n"
                )
                status = "unsubscribed" if kind == "unsub" else "subscribed"
                spool.write(f"{org_id}\t{list_id}\t{contact_id}\t{status}\t{stamp}\n")
                if len(buffer) >= CHUNK:
                    copy.write("".join(buffer))
                    buffer.clear()
            copy.write("".join(buffer))
        spool.seek(0)
        with cursor.copy(
            "COPY contacts_listmembership (organization_id, contact_list_id, contact_id, status,"
            " created_at) FROM STDIN"
        ) as copy:
            while block := spool.read(1 << 20):
                copy.write(block)
        cursor.execute(
            "INSERT INTO contacts_suppression (id, organization_id, created_at, updated_at,"
            " email, email_hash, reason, source)"
            " SELECT gen_random_uuid(), organization_id, now(), now(), email,"
            " encode(sha256(convert_to(email, 'UTF8')), 'hex'), 'manual', 'bench'"
            " FROM contacts_contact WHERE organization_id = %s AND email LIKE 'supp.%%'",
            [org_id],
        )
        raw.commit()
        raw.autocommit = True
        # What autovacuum does in production soon after a big import.
        for table in ("contacts_contact", "contacts_listmembership", "contacts_suppression"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return total


def setup(url: str, recipients: int, seed: int):
    from bench.render import PREHEADER, SUBJECT
    from engagex.accounts.models import Organization, Plan, User
    from engagex.accounts.plans import plans_ensure
    from engagex.contacts.models import ContactList, CustomField
    from engagex.content.models import Template
    from engagex.delivery.models import SendingSettings

    plans_ensure()
    tag = secrets.token_hex(4)
    organization = Organization.objects.create(
        name="Bench Sending & Co",
        slug=f"bench-send-{tag}",
        plan=Plan.objects.get(code="enterprise"),
        postal_address="1 Main Street, Springfield",
        default_from_name="Bench News",
        default_from_email="news@bench-send.example",
    )
    SendingSettings.objects.create(organization=organization, warmup_exempt=True)
    user = User.objects.create_user(email=f"bench-send-{tag}@example.com", password=None)
    for key, label in (("city", "City"), ("plan", "Plan")):
        CustomField.objects.create(organization=organization, key=key, label=label)
    contact_list = ContactList.objects.create(organization=organization, name="Newsletter")
    template = Template.objects.create(
        organization=organization,
        name="Weekly digest",
        subject=SUBJECT,
        preheader=PREHEADER,
        html=_template_html(),
    )
    contacts = load_audience(url, str(organization.pk), str(contact_list.pk), recipients, seed)
    return organization, user, contact_list, template, contacts


def new_campaign(organization, user, contact_list, template, name: str):
    from engagex.campaigns.services import campaign_create

    return campaign_create(
        organization=organization,
        actor=user,
        name=name,
        template=template,
        lists=[contact_list.pk],
        track_opens=True,  # tracking "on": the flags (tracked links come with issue 7)
        track_clicks=True,
    )


def start(organization, user, campaign) -> tuple[object, float, float]:
    """campaign_start, timing the recipient insert inside it; (campaign, insert s, all s)."""
    from engagex.campaigns.services import campaign_start
    from engagex.delivery import outbox

    timings: list[float] = []
    materialize = outbox.deliveries_materialize

    def timed_materialize(**kwargs):
        started = time.perf_counter()
        try:
            return materialize(**kwargs)
        finally:
            timings.append(time.perf_counter() - started)

    # Instrumentation only: the real function runs, its duration is noted.
    outbox.deliveries_materialize = timed_materialize
    try:
        with Timer() as whole:
            campaign = campaign_start(organization=organization, actor=user, campaign=campaign)
    finally:
        outbox.deliveries_materialize = materialize
    return campaign, sum(timings), whole.seconds


# --- processes --------------------------------------------------------------------------


class Sink:
    """`bench.smtp_sink` in its own process, with its XSTAT/XRESET control verbs."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.smtp_sink", "--port", "0"],
            cwd=BASE_DIR,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline().split()
        if len(line) != 3 or line[0] != "listening":
            raise RuntimeError(f"the SMTP sink did not start: {line}")
        self.host, self.port = line[1], int(line[2])

    def _command(self, verb: bytes) -> list[str]:
        with socket.create_connection((self.host, self.port), timeout=10) as conn:
            stream = conn.makefile("rb")
            stream.readline()  # greeting
            conn.sendall(verb + b"\r\nQUIT\r\n")
            reply = stream.readline().decode().split()
        if not reply or reply[0] != "250":
            raise RuntimeError(f"sink: {verb!r} → {reply}")
        return reply[1:]

    def reset(self) -> None:
        self._command(b"XRESET")

    def stats(self) -> tuple[int, int, float, float]:
        messages, distinct, first, last = self._command(b"XSTAT")
        return int(messages), int(distinct), float(first), float(last)

    def stop(self) -> None:
        _stop(self.process)


def _stop(process: subprocess.Popen, timeout: float = 30.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident set so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmHWM in /proc status")


class Senders:
    """`count` real `manage.py sender` processes against the sink."""

    def __init__(self, count: int, url: str, sink: Sink, workdir: Path, connections: int):
        env = dict(
            os.environ,
            DATABASE_URL=url,
            EMAIL_HOST=sink.host,
            EMAIL_PORT=str(sink.port),
            DEBUG="false",  # as in production: no query log
            LOG_LEVEL="warning",
        )
        self.logs = [workdir / f"sender-{number}.log" for number in range(count)]
        self.processes = []
        for log in self.logs:
            with log.open("w") as out:
                self.processes.append(
                    subprocess.Popen(
                        [sys.executable, "manage.py", "sender", "--connections", str(connections)],
                        cwd=BASE_DIR,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not all("started" in log.read_text() for log in self.logs):
            self.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError("the senders did not start:\n" + self.output())
            time.sleep(0.05)

    def check_alive(self) -> None:
        if any(process.poll() is not None for process in self.processes):
            raise RuntimeError("a sender exited:\n" + self.output())
        if any('"level": "error"' in log.read_text() for log in self.logs):
            raise RuntimeError("a sender logged an error:\n" + self.output())

    def output(self) -> str:
        return "\n".join(log.read_text()[-4000:] for log in self.logs)

    def peak_rss_mb(self) -> float:
        return max(_peak_rss_mb(process.pid) for process in self.processes)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            _stop(process)


def send_phase(url, sink, workdir, senders_count, connections, organization, user, campaign):
    """Start `senders_count` senders, start the campaign, wait until the sink has it all.

    Returns (messages/s at the sink, peak sender RSS MiB, insert s, start s, sink stats)."""
    senders = Senders(senders_count, url, sink, workdir, connections)
    try:
        senders.wait_ready()
        sink.reset()
        campaign, insert_seconds, start_seconds = start(organization, user, campaign)
        expected = campaign.mailing.recipients
        last_progress, last_count = time.monotonic(), -1
        while True:
            messages, _distinct, first, last = sink.stats()
            if messages >= expected:
                break
            senders.check_alive()
            if messages != last_count:
                last_progress, last_count = time.monotonic(), messages
            elif time.monotonic() - last_progress > STALL_SECONDS:
                raise RuntimeError(
                    f"sending stalled at {messages}/{expected}:\n" + senders.output()
                )
            time.sleep(0.2)
        peak = senders.peak_rss_mb()
    finally:
        senders.stop()
    _check_delivered(campaign.mailing, expected, sink.stats())
    return rate(messages, last - first), peak, insert_seconds, start_seconds, campaign


def _check_delivered(mailing, expected: int, stats) -> None:
    from engagex.delivery.outbox import mailing_counts

    messages, distinct, _first, _last = stats
    counts = mailing_counts(mailing)
    if counts["sent"] != expected or messages != expected or distinct != expected:
        raise RuntimeError(
            f"expected {expected} sent once each; outbox {counts}, sink saw {messages}"
            f" messages with {distinct} distinct Message-IDs"
        )


# --- the reference ----------------------------------------------------------------------


def sample_messages(mailing, count: int = 200):
    """Real messages of `mailing`, built by the sender's own code (not sent)."""
    from engagex.delivery.models import Delivery
    from engagex.delivery.outbox import Claimed
    from engagex.delivery.sender import PreparedMailing

    rows = Delivery.objects.filter(
        organization_id=mailing.organization_id, mailing=mailing
    ).values_list("id", "contact_id", "email", "attempts")[:count]
    batch = [Claimed(row[0], str(row[1]), row[2], row[3]) for row in rows]
    messages, failed = PreparedMailing.prepare(mailing).build(batch)
    if failed:
        raise RuntimeError(f"building the reference messages failed: {failed[0]}")
    return messages


async def _raw_send(host: str, port: int, messages, total: int, connections: int) -> None:
    import aiosmtplib

    clients = [aiosmtplib.SMTP(hostname=host, port=port) for _ in range(connections)]
    await asyncio.gather(*(client.connect() for client in clients))
    numbers = iter(range(total))  # shared by the workers: each takes the next number

    async def work(client) -> None:
        for number in numbers:
            message = messages[number % len(messages)]
            await client.sendmail(message.mail_from, [message.rcpt_to], message.data)

    await asyncio.gather(*(work(client) for client in clients))
    await asyncio.gather(*(client.quit() for client in clients))


async def _pool_send(host: str, port: int, messages, total: int, connections: int, batch: int):
    from engagex.delivery.smtp import Outgoing, SmtpPool, SmtpSettings

    pool = SmtpPool(SmtpSettings(host, port), size=connections)
    try:
        for start in range(0, total, batch):
            await pool.send_batch(
                [
                    Outgoing(number, m.mail_from, m.rcpt_to, m.data, crlf=True)
                    for number in range(start, min(start + batch, total))
                    for m in (messages[number % len(messages)],)
                ]
            )
    finally:
        await pool.close()


def raw_reference(sink: Sink, messages, total: int, connections: int, batch=None) -> float:
    """Pre-built bytes to the sink: with aiosmtplib's `sendmail` (the reference), or,
    given `batch`, through our own `SmtpPool` in batches (the transport alone)."""
    sink.reset()
    if batch:
        asyncio.run(_pool_send(sink.host, sink.port, messages, total, connections, batch))
    else:
        asyncio.run(_raw_send(sink.host, sink.port, messages, total, connections))
    count, _distinct, first, last = sink.stats()
    if count != total:
        raise RuntimeError(f"reference: the sink saw {count} of {total} messages")
    return rate(count, last - first)


# --- main -------------------------------------------------------------------------------


def sender_defaults() -> tuple[int, int]:
    """(connections, batch size) of `manage.py sender` when given no options."""
    from engagex.delivery.management.commands.sender import Command

    options = Command().create_parser("manage.py", "sender").parse_args([])
    return options.connections, options.batch_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--materialize-only", action="store_true")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    if args.recipients < 1:
        parser.error("--recipients must be at least 1")
    load_average = round(os.getloadavg()[0], 2)
    result: dict = {"bench": "send", "recipients": args.recipients}

    with bench_database(migrate=True) as url, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        with Timer() as load_timer:
            organization, user, contact_list, template, contacts = setup(
                url, args.recipients, args.seed
            )
        sink = None
        try:
            first = new_campaign(organization, user, contact_list, template, "Bench 1")
            if args.materialize_only:
                first, insert_seconds, start_seconds = start(organization, user, first)
                if first.mailing.recipients != args.recipients:
                    raise RuntimeError(f"queued {first.mailing.recipients}, not {args.recipients}")
                result.update(
                    materialize_sec=round(insert_seconds, 3),
                    materialize_rows_per_sec=rate(args.recipients, insert_seconds),
                    start_sec=round(start_seconds, 3),
                )
            else:
                connections, batch_size = sender_defaults()
                sink = Sink()
                one, peak_one, insert_seconds, start_seconds, first = send_phase(
                    url, sink, workdir, 1, connections, organization, user, first
                )
                second = new_campaign(organization, user, contact_list, template, "Bench 2")
                two, peak_two, _, _, second = send_phase(
                    url, sink, workdir, 2, connections, organization, user, second
                )
                print(f"one sender: {one} msg/s, two: {two} msg/s", file=sys.stderr)
                messages = sample_messages(first.mailing)
                raw = raw_reference(sink, messages, args.recipients, connections)
                pool = raw_reference(sink, messages, args.recipients, connections, batch_size)
                # The reference is the faster of the two ways to push the same bytes:
                # our lean SMTP client alone (no database, no rendering) — it beats
                # aiosmtplib's `sendmail`, whose figure is reported for comparison.
                reference = max(raw, pool)
                result.update(
                    msgs_per_sec=one,
                    msgs_per_sec_two_senders=two,
                    materialize_sec=round(insert_seconds, 3),
                    peak_rss_mb=max(peak_one, peak_two),
                    raw_smtp_msgs_per_sec=reference,
                    ratio=round(one / reference, 3),
                    raw_pool_msgs_per_sec=pool,
                    raw_aiosmtplib_sendmail_msgs_per_sec=raw,
                    start_sec=round(start_seconds, 3),
                    connections=connections,
                    batch_size=batch_size,
                    message_kb=round(sum(len(m.data) for m in messages) / len(messages) / 1024, 1),
                    peak_rss_mb_one_sender=peak_one,
                )
        finally:
            if sink is not None:
                sink.stop()
            _remove(url, organization, user)
    result.update(
        contacts=contacts,
        load_seconds=round(load_timer.seconds, 2),
        load_average_1m=load_average,
    )
    emit(result)


def _remove(url, organization, user) -> None:
    """Set-based cleanup: the ORM's cascade would fetch every delivery first.

    Foreign-key triggers are off for it (the tables are emptied children first): the
    ON DELETE SET NULL from contacts to deliveries has no index on `contact_id` alone,
    so with them on, each deleted contact scans the whole delivery table."""
    import psycopg

    with psycopg.connect(url) as raw, raw.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        for table in (
            "delivery_delivery",
            "campaigns_campaign",
            "delivery_mailing",
            "delivery_sendingsettings",
            "delivery_sendcounter",
            "content_templateversion",
            "content_template",
            "contacts_listmembership",
            "contacts_suppression",
            "contacts_contact",
            "contacts_contactlist",
            "contacts_customfield",
            "accounts_emailusage",
            "audit_auditentry",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE organization_id = %s", [organization.pk])
        cursor.execute("DELETE FROM accounts_organization WHERE id = %s", [organization.pk])
        cursor.execute("DELETE FROM accounts_user WHERE id = %s", [user.pk])


if __name__ == "__main__":
    main()
