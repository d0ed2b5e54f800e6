"""`make run`: everything EngageX needs for development, started together.

Order matters so a failure leaves nothing half-started: check ports → start the
embedded database → migrate → seed → run web, worker, sender, dev mail and the
inbound mail server under honcho (Procfile). Ctrl-C stops honcho's processes, then the
database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

from dotenv import load_dotenv

from engagex.lib.net import port_is_free

BASE_DIR = Path(__file__).resolve().parent.parent


def fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def read_port(name: str, default: int) -> int:
    raw = os.environ.get(name) or str(default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        fail(f"{name} must be a TCP port number (1-65535), got {raw!r}")
    return int(raw)


def prepare_database() -> tuple[str, str]:
    """Migrate and seed; returns the demo login (email, password) to print."""
    import django
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import call_command
    from django.db import DatabaseError

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "engagex.settings")
    try:
        django.setup()
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo", verbosity=1)  # says so only when it seeds
        from engagex.accounts.services.organizations import DEMO_OWNER_EMAIL, demo_password

        return DEMO_OWNER_EMAIL, demo_password()
    except ImproperlyConfigured as error:
        fail(str(error))
    except DatabaseError as error:
        fail(f"cannot use the database: {str(error).strip().splitlines()[0]}")


def run_processes(environment: dict[str, str]) -> int:
    honcho = subprocess.Popen(
        [sys.executable, "-m", "honcho", "start", "-f", "Procfile"],
        cwd=BASE_DIR,
        env=environment,
    )
    # Ctrl-C reaches honcho too (same process group); a signal to this process alone
    # is passed on (honcho ignores a repeat). Honcho stops its children and exits; we
    # wait for that, then stop the database. An interrupted run is a normal stop.
    interrupted = []

    def stop(signum, frame):
        interrupted.append(signum)
        honcho.terminate()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    returncode = honcho.wait()
    return 0 if interrupted else returncode


def main() -> int:
    # A SIGTERM before honcho runs still unwinds through `finally` and stops the database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.chdir(BASE_DIR)
    load_dotenv(BASE_DIR / ".env", override=False)
    os.environ.setdefault("DEBUG", "1")
    port = read_port("PORT", 8000)
    devmail_port = read_port("DEVMAIL_PORT", 1025)
    inbound_port = read_port("INBOUND_SMTP_PORT", 2526)
    ports = (("PORT", port), ("DEVMAIL_PORT", devmail_port), ("INBOUND_SMTP_PORT", inbound_port))
    for name, value in ports:
        if not port_is_free("127.0.0.1", value):
            fail(f"port {value} is already in use; stop what uses it or set {name} to another port")

    embedded = None
    if not os.environ.get("DATABASE_URL"):
        from engagex.lib.embedded_postgres import EmbeddedPostgres, EmbeddedPostgresError

        var_dir = (BASE_DIR / (os.environ.get("ENGAGEX_VAR_DIR") or "var")).resolve()
        embedded = EmbeddedPostgres(var_dir / "postgres")
        try:
            # Children get DATABASE_URL: this process owns the server and stops it last.
            os.environ["DATABASE_URL"] = embedded.attach()
        except EmbeddedPostgresError as error:
            fail(f"the embedded {error}")
    try:
        demo_email, demo_pass = prepare_database()
        environment = dict(
            os.environ,
            PORT=str(port),
            DEVMAIL_PORT=str(devmail_port),
            INBOUND_SMTP_PORT=str(inbound_port),
        )
        # Procfile commands say `python`: make it this virtualenv's.
        environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
        environment.setdefault("PYTHONUNBUFFERED", "1")
        print(
            f"\n  EngageX is starting: http://127.0.0.1:{port}/\n"
            f"  Dev inbox:  http://127.0.0.1:{port}/devmail/   "
            f"Styleguide: http://127.0.0.1:{port}/styleguide/\n"
            f"  Health:     http://127.0.0.1:{port}/health   "
            f"Bounces (inbound SMTP): 127.0.0.1:{inbound_port}\n"
            f"  Demo login: {demo_email} / {demo_pass}  "
            "(also editor@example.com and viewer@example.com)\n"
            "  Press Ctrl-C to stop everything.\n",
            flush=True,
        )
        return run_processes(environment)
    finally:
        if embedded is not None:
            embedded.detach()


if __name__ == "__main__":
    sys.exit(main())
