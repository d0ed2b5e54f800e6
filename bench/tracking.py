"""Open pixel and click redirect under a production server (DESIGN.md §8, issue 7).

    .venv/bin/python -m bench.tracking --requests 20000
    .venv/bin/python -m bench.tracking --requests 20000 --workers 4 --concurrency 32

Sets up, in the benchmarks' own embedded database, a real sent campaign: the
organization, list and ~20 KB newsletter of `bench.send` (ten article links), started
through the real `campaign_start` service, its links numbered by the senders' own
`tracked_html` (`TrackedLink` rows) and every delivery marked sent an hour ago.

Then gunicorn (sync workers, `--workers`, by default 2 per core; DEBUG off,
ENGAGEX_ENV=production, the database connection kept between requests for
`--conn-max-age` seconds, LOG_LEVEL `--log-level`) serves
`bench._tracking_app`: EngageX's own WSGI application plus one bench-only URL,
`/bench/noop`, a trivial view returning a 2-byte response through the same middleware.
A load generator in its own process (`bench._http_load`: asyncio, HTTP/1.1, keep-alive
where the server allows it) runs `--concurrency` clients against it:

- the tracking load: `--requests` hits with valid tokens, half `/t/o/<token>` (expects
  200 and the GIF) and half `/t/c/<token>` (expects the 302, not followed), spread
  over all deliveries and links, with a mail client's user agent;
- the reference: the same number of `/bench/noop` requests, same clients, same server.

Both are warmed up first, then measured in `--rounds` alternating rounds (reference
first in even rounds, tracking first in odd ones), so the machine's noise hits both.
`req_per_sec` and `reference_req_per_sec` are requests over the summed seconds of each
kind's rounds; `ratio` is their quotient. Latencies (`p50_ms`, `p99_ms`) are measured
by the load generator, from sending a request (or connecting: sync workers close each
connection) to having the whole response. On a shared machine the rates swing with
other work; `cpu_ms_per_req` (CPU per request of the gunicorn workers, of PostgreSQL and
of the load generator, read from /proc around each round) is steadier, and `cpu_ratio`
(reference CPU per request over tracking CPU per request) is what `ratio` tends to when
the machine is saturated. `--profile DIR` writes each worker's cProfile statistics there.

Afterwards the benchmark checks that the database holds exactly one tracking event per
successful tracking request (warm-up included): `events_recorded`. Any failed request
or a missing event fails the benchmark. The machine is small and shared (2 cores:
server workers, PostgreSQL and the load generator share them): compare runs on one
machine. gunicorn, the load generator and the benchmark's rows are gone before the
JSON line, also on an error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._support import BASE_DIR, BENCH_DATA_DIR, Timer, bench_database, emit, rate

OPEN_STATUS, CLICK_STATUS, NOOP_STATUS = 200, 302, 200
NOOP_PATH = "/bench/noop"
START_TIMEOUT = 60.0
CLIENT_TIMEOUT = 1800.0


# --- data -------------------------------------------------------------------------------


def setup(url: str, recipients: int, seed: int):
    """A started campaign whose every delivery was sent an hour ago, with tracked links.

    Returns (organization, user, mailing, delivery ids, number of links)."""
    from django.db import connection

    from bench.send import new_campaign
    from bench.send import setup as send_setup
    from engagex.campaigns.services import campaign_start
    from engagex.delivery.models import Delivery, Mailing
    from engagex.tracking.links import tracked_html

    organization, user, contact_list, template, _contacts = send_setup(url, recipients, seed)
    try:
        campaign = new_campaign(organization, user, contact_list, template, "Bench tracking")
        campaign = campaign_start(organization=organization, actor=user, campaign=campaign)
        mailing = campaign.mailing
        links = len(tracked_html(mailing, mailing.html).links)  # as the first sender does
        if links < 1:
            raise RuntimeError("the bench newsletter has no tracked links")
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Delivery._meta.db_table} SET status = 'sent', attempts = 1,"
                " sent_at = now() - interval '1 hour', smtp_code = 250"
                " WHERE organization_id = %s AND mailing_id = %s",
                [organization.pk, mailing.pk],
            )
            cursor.execute("VACUUM ANALYZE " + Delivery._meta.db_table)
        Mailing.objects.filter(pk=mailing.pk).update(
            status=Mailing.Status.DONE, sent_count=recipients
        )
        ids = list(
            Delivery.objects.filter(organization_id=organization.pk, mailing=mailing).values_list(
                "id", flat=True
            )
        )
    except BaseException:
        _remove(url, organization, user)
        raise
    return organization, user, mailing, ids, links


def tracking_requests(ids: list[int], links: int, count: int, rng: random.Random) -> list:
    """`count` [path, expected status, label] hits: half opens, half clicks, random
    deliveries and links."""
    from engagex.tracking.tokens import TokenMaker

    maker = TokenMaker()
    requests = []
    for number in range(count):
        delivery = rng.choice(ids)
        if number % 2 == 0:
            requests.append([f"/t/o/{maker.open(delivery)}", OPEN_STATUS, "open"])
        else:
            token = maker.clicks(delivery, links)[rng.randrange(links)]
            requests.append([f"/t/c/{token}", CLICK_STATUS, "click"])
    rng.shuffle(requests)
    return requests


def events_recorded(mailing) -> dict[str, int]:
    from django.db.models import Count

    from engagex.tracking.models import TrackingEvent

    rows = (
        TrackingEvent.objects.filter(organization_id=mailing.organization_id, mailing=mailing)
        .values("kind", "is_bot")
        .annotate(n=Count("id"))
    )
    counts = {"open": 0, "click": 0, "bot": 0}
    for row in rows:
        counts[row["kind"]] = counts.get(row["kind"], 0) + row["n"]
        if row["is_bot"]:
            counts["bot"] += row["n"]
    return counts


# --- processes --------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    try:
        return [
            int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Server:
    """gunicorn serving `bench._tracking_app` on a socket this process bound."""

    def __init__(self, args, url: str, workdir: Path, secret_key: str) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(2048)
        self.listener.set_inheritable(True)
        self.host, self.port = self.listener.getsockname()
        self.workers = args.workers
        self.log = workdir / "gunicorn.log"
        env = dict(
            os.environ,
            DATABASE_URL=url,
            DJANGO_SETTINGS_MODULE="engagex.settings",
            ENGAGEX_ENV="production",
            DEBUG="false",
            SECRET_KEY=secret_key,  # the tokens are made here with the same key
            SITE_URL=f"http://{self.host}:{self.port}",
            ALLOWED_HOSTS=self.host,
            EMAIL_HOST="127.0.0.1",  # required in production; nothing is sent
            LOG_LEVEL=args.log_level,
            DATABASE_CONN_MAX_AGE=str(args.conn_max_age),
            # The configuration README recommends for a pool serving the tracking host.
            DATABASE_CONN_HEALTH_CHECKS="1" if args.health_checks else "0",
        )
        if args.profile:
            env["BENCH_PROFILE_DIR"] = str(Path(args.profile).resolve())
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "bench._tracking_app:application",
            "--bind",
            f"fd://{self.listener.fileno()}",
            "--workers",
            str(args.workers),
            "--worker-class",
            args.worker_class,
            "--log-level",
            "info",  # gunicorn's own messages (boot, worker exits); no access log
            "--graceful-timeout",
            "10",
        ]
        if args.worker_class == "gthread":
            command += ["--threads", str(args.threads)]
        self.worker_pids: set[int] = set()
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                pass_fds=(self.listener.fileno(),),
            )
        # gunicorn has its own copy: should it die, clients are refused, not queued.
        self.listener.close()

    def wait_ready(self) -> None:
        """Every worker forked and the application answering."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited:\n" + self.output())
            self.worker_pids.update(_children(self.process.pid))
            if len(self.worker_pids) >= self.workers and self._answers():
                return
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start:\n" + self.output())
            time.sleep(0.2)

    def _answers(self) -> bool:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            connection.request("GET", NOOP_PATH)
            return connection.getresponse().status == NOOP_STATUS
        except OSError:
            return False
        finally:
            connection.close()

    def output(self) -> str:
        return self.log.read_text()[-4000:] if self.log.exists() else ""

    def stop(self) -> None:
        self.worker_pids.update(_children(self.process.pid))
        _stop(self.process)
        # A master that had to be killed leaves its workers to notice on their own.
        for pid in self.worker_pids:
            if _alive(pid) and Path(f"/proc/{pid}/cmdline").read_bytes().find(b"gunicorn") >= 0:
                os.kill(pid, signal.SIGKILL)


def _stop(process: subprocess.Popen, timeout: float = 30.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_load(server: Server, plan: dict, workdir: Path) -> dict:
    """`bench._http_load` in its own process; returns its report."""
    plan_file = workdir / "plan.json"
    plan_file.write_text(json.dumps(dict(plan, host=server.host, port=server.port)))
    out_file, err_file = workdir / "load.out", workdir / "load.err"
    with out_file.open("w") as out, err_file.open("w") as err:
        client = subprocess.Popen(
            [sys.executable, "-m", "bench._http_load", str(plan_file)],
            cwd=BASE_DIR,
            stdout=out,
            stderr=err,
        )
    deadline = time.monotonic() + CLIENT_TIMEOUT
    try:
        while client.poll() is None:
            if server.process.poll() is not None:
                raise RuntimeError("gunicorn exited during the run:\n" + server.output())
            if time.monotonic() > deadline:
                raise RuntimeError("the load generator did not finish in time")
            time.sleep(0.2)
    finally:
        _stop(client, timeout=5)
    if client.returncode != 0:
        raise RuntimeError(f"the load generator failed:\n{err_file.read_text()[-4000:]}")
    return json.loads(out_file.read_text().strip().splitlines()[-1])


def schedule(requests: int, warmup: int, rounds: int) -> list:
    steps = [["reference_warmup", warmup], ["tracking_warmup", warmup]]
    share, extra = divmod(requests, rounds)
    for number in range(rounds):
        count = share + (1 if number < extra else 0)
        pair = [["reference", count], ["tracking", count]]
        steps += pair if number % 2 == 0 else pair[::-1]
    return steps


def _postmaster_pid() -> int:
    return int((BENCH_DATA_DIR / "postmaster.pid").read_text().split()[0])


def _cpu_ms_per_request(report: dict) -> dict[str, float]:
    """CPU ms per request of gunicorn (all workers), PostgreSQL (all processes) and the
    load generator, and their total."""
    requests = max(report["requests"], 1)
    cpu = {key: round(value * 1000 / requests, 3) for key, value in report["cpu_seconds"].items()}
    cpu["total"] = round(sum(cpu.values()), 3)
    return cpu


# --- main -------------------------------------------------------------------------------


def _gunicorn_version() -> str:
    from importlib.metadata import version

    return version("gunicorn")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--recipients", type=int, default=10_000, help="sent deliveries")
    parser.add_argument(
        "--workers", type=int, default=2 * (os.cpu_count() or 1), help="default: 2 per core"
    )
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--threads", type=int, default=4, help="per gthread worker")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients")
    parser.add_argument("--warmup", type=int, default=1_000, help="requests of each kind")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--conn-max-age", type=int, default=600, help="DATABASE_CONN_MAX_AGE")
    parser.add_argument(
        "--health-checks",
        action="store_true",
        help="DATABASE_CONN_HEALTH_CHECKS on (off by default, as for a tracking-host pool)",
    )
    parser.add_argument("--log-level", default="warning", help="the server's LOG_LEVEL")
    parser.add_argument("--profile", metavar="DIR", help="cProfile each worker into DIR")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.requests < args.rounds or args.recipients < 1 or args.workers < 1:
        parser.error("--requests must be at least --rounds; --recipients and --workers ≥ 1")
    # A plain `kill` stops the benchmark the way Ctrl-C does: everything is cleaned up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    load_average = round(os.getloadavg()[0], 2)
    rng = random.Random(args.seed)
    result: dict = {"bench": "tracking", "requests": args.requests}

    with bench_database(migrate=True) as url, tempfile.TemporaryDirectory() as tmp:
        from django.conf import settings

        workdir = Path(tmp)
        organization = user = None
        server = None
        try:
            with Timer() as setup_timer:
                organization, user, mailing, ids, links = setup(url, args.recipients, args.seed)
                sets = {
                    "tracking_warmup": tracking_requests(ids, links, args.warmup, rng),
                    "tracking": tracking_requests(ids, links, args.requests, rng),
                    "reference_warmup": [[NOOP_PATH, NOOP_STATUS, "noop"]],
                    "reference": [[NOOP_PATH, NOOP_STATUS, "noop"]],
                }
            server = Server(args, url, workdir, settings.SECRET_KEY)
            server.wait_ready()
            plan = {
                # CPU used by gunicorn (master, workers) and PostgreSQL (every process).
                "cpu_pids": {"gunicorn": server.process.pid, "postgres": _postmaster_pid()},
                "concurrency": args.concurrency,
                "sets": sets,
                "schedule": schedule(args.requests, args.warmup, args.rounds),
            }
            report = run_load(server, plan, workdir)
            server.stop()  # before counting: every response's write is committed
            server_log = server.output()
            server = None
            tracking, reference = report["tracking"], report["reference"]
            warm = report["tracking_warmup"]
            events = events_recorded(mailing)
            recorded = events["open"] + events["click"]
            successful = tracking["ok"] + warm["ok"]
            errors = tracking["errors"] + reference["errors"] + warm["errors"]
            errors += report["reference_warmup"]["errors"]
            if errors or recorded != successful:
                raise RuntimeError(
                    f"{errors} failed requests ({tracking['error_kinds']},"
                    f" {reference['error_kinds']}); {recorded} events recorded for"
                    f" {successful} successful tracking requests\n{server_log}"
                )
            req_per_sec = rate(tracking["requests"], tracking["seconds"])
            reference_req_per_sec = rate(reference["requests"], reference["seconds"])
            labels = tracking["labels"]
            cpu = _cpu_ms_per_request(tracking)
            reference_cpu = _cpu_ms_per_request(reference)
            result.update(
                req_per_sec=req_per_sec,
                p99_ms=tracking["p99_ms"],
                reference_req_per_sec=reference_req_per_sec,
                ratio=round(req_per_sec / reference_req_per_sec, 3),
                p50_ms=tracking["p50_ms"],
                p90_ms=tracking["p90_ms"],
                max_ms=tracking["max_ms"],
                reference_p50_ms=reference["p50_ms"],
                reference_p99_ms=reference["p99_ms"],
                opens=labels["open"]["requests"],
                clicks=labels["click"]["requests"],
                open_p99_ms=labels["open"]["p99_ms"],
                click_p99_ms=labels["click"]["p99_ms"],
                cpu_ms_per_req=cpu,
                reference_cpu_ms_per_req=reference_cpu,
                cpu_ratio=round(reference_cpu["total"] / cpu["total"], 3),
                errors=errors,
                events_recorded=recorded,
                events_expected=successful,
                bot_events=events["bot"],
                server=f"gunicorn {_gunicorn_version()} {args.worker_class}",
                workers=args.workers,
                threads=args.threads if args.worker_class == "gthread" else 1,
                concurrency=args.concurrency,
                conn_max_age=args.conn_max_age,
                conn_health_checks=args.health_checks,
                log_level=args.log_level,
                rounds=args.rounds,
                warmup=args.warmup,
                deliveries=len(ids),
                links=links,
                setup_seconds=round(setup_timer.seconds, 2),
            )
        finally:
            if server is not None:
                server.stop()
            if organization is not None:
                _remove(url, organization, user)
    result.update(load_average_1m=load_average)
    emit(result)


def _remove(url, organization, user) -> None:
    """The tracking rows, then what `bench.send` set up (set-based, as it does)."""
    import psycopg

    from bench.send import _remove as send_remove

    with psycopg.connect(url) as raw, raw.cursor() as cursor:
        for table in (
            "tracking_trackingevent",
            "tracking_trackedlink",
            "tracking_mailingstats",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE organization_id = %s", [organization.pk])
    send_remove(url, organization, user)


if __name__ == "__main__":
    main()
