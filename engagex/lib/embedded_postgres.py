"""Embedded PostgreSQL for development, tests and benchmarks.

`pgserver` ships PostgreSQL 16 binaries as a wheel; we use those binaries but run
the server's lifecycle ourselves. pgserver's own handle list keeps the pid of any
process killed by a signal (honcho stops children with SIGTERM), after which the
server is never stopped. Our rule instead:

- a process that needs the server *attaches*: under a file lock it starts the
  server if it is not running and records its pid in `<data dir>.users`;
- at exit it *detaches*: removes its pid, drops pids of processes that no longer
  exist, and if nobody is left it stops the server.

The server listens on a Unix socket only (no TCP port to collide with).
PostgreSQL refuses to run as root, so as root the server runs as the system
user `pgserver` (created on first use, as pgserver itself does).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import shlex
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

DATABASE_NAME = "engagex"
SUPERUSER = "postgres"
_SYSTEM_USER_WHEN_ROOT = "pgserver"
# Unix socket paths are limited to ~107 bytes; leave room for ".s.PGSQL.5432".
_MAX_SOCKET_DIR_LENGTH = 90


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be started or reached; the message says why."""


@dataclass(frozen=True)
class EmbeddedPostgres:
    data_dir: Path

    @property
    def socket_dir(self) -> Path:
        if len(str(self.data_dir)) <= _MAX_SOCKET_DIR_LENGTH:
            return self.data_dir
        digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"engagex-pg-{digest}"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    def url(self, database: str = DATABASE_NAME) -> str:
        return f"postgresql://{SUPERUSER}@/{database}?host={quote(str(self.socket_dir))}"

    def django_database(self, database: str = DATABASE_NAME) -> dict:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": database,
            "USER": SUPERUSER,
            "PASSWORD": "",
            "HOST": str(self.socket_dir),
            "PORT": "",
            "OPTIONS": {},
        }

    # -- lifecycle ---------------------------------------------------------------

    def is_running(self) -> bool:
        if not (self.data_dir / "PG_VERSION").exists():
            return False
        result = self._pg("pg_ctl", "status", "-D", str(self.data_dir), check=False)
        return result.returncode == 0

    def attach(self) -> str:
        """Start the server if needed, register this process as a user, return its URL."""
        with self._lock():
            self._ensure_initialized()
            if not self.is_running():
                self._start()
            self._ensure_database()
            users = self._read_users()
            if os.getpid() not in users:
                self._write_users([*users, os.getpid()])
        atexit.register(self.detach)
        return self.url()

    def detach(self) -> None:
        """Forget this process; stop the server when no living process uses it."""
        atexit.unregister(self.detach)
        with self._lock():
            users = [pid for pid in self._read_users() if pid != os.getpid() and _alive(pid)]
            self._write_users(users)
            if not users and self.is_running():
                self.stop()

    def stop(self) -> None:
        self._pg("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60")

    # -- internals -----------------------------------------------------------------

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.data_dir.with_name(self.data_dir.name + ".lock")
        with open(lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @property
    def _users_file(self) -> Path:
        return self.data_dir.with_name(self.data_dir.name + ".users")

    def _read_users(self) -> list[int]:
        try:
            return [int(pid) for pid in json.loads(self._users_file.read_text())]
        except (FileNotFoundError, ValueError, TypeError):
            return []

    def _write_users(self, pids: list[int]) -> None:
        self._users_file.write_text(json.dumps(pids))

    def _ensure_initialized(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            self._prepare_permissions()
            return
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise EmbeddedPostgresError(
                f"{self.data_dir} is not empty but holds no PostgreSQL data directory; "
                "move it away or delete it"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._prepare_permissions()
        self._pg(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            error="could not initialise the data directory",
        )

    def _prepare_permissions(self) -> None:
        """As root, hand the data and socket directories to the unprivileged server user."""
        if os.geteuid() != 0:
            self.socket_dir.mkdir(parents=True, exist_ok=True)
            return
        uid, gid = _system_user_ids(_SYSTEM_USER_WHEN_ROOT)
        # The server user must be able to traverse to the data directory and read the binaries.
        for path in (self.data_dir, _binaries_dir()):
            for parent in path.parents:
                parent.chmod(parent.stat().st_mode | 0o055)
        for root, dirs, files in os.walk(_binaries_dir().parent):
            for name in dirs + files:
                target = Path(root) / name
                if not target.is_symlink():
                    target.chmod(target.stat().st_mode | 0o055)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        for path in {self.data_dir, self.socket_dir}:
            os.chown(path, uid, gid)
        self.data_dir.chmod(0o700)

    def _start(self) -> None:
        server_options = " ".join(
            [
                "-c listen_addresses=''",
                f"-c unix_socket_directories={shlex.quote(str(self.socket_dir))}",
                "-c max_connections=200",
                # PostgreSQL's defaults (128 MB of buffers, a checkpoint every 1 GB of
                # WAL) are sized for tiny machines: a million-recipient campaign start
                # would spend most of its time writing evicted pages and checkpointing.
                "-c shared_buffers=512MB",
                "-c max_wal_size=4GB",
            ]
        )
        log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        self._pg(
            "pg_ctl",
            "start",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            "60",
            "-o",
            server_options,
            error="failed to start",
            log_offset=log_offset,
        )

    def _ensure_database(self) -> None:
        import psycopg

        try:
            with psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=10) as conn:
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
                ).fetchone()
                if not exists:
                    conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
        except psycopg.Error as error:
            raise EmbeddedPostgresError(f"server started but is not reachable: {error}") from None

    def _pg(
        self,
        program: str,
        *args: str,
        check: bool = True,
        error: str = "failed",
        log_offset: int | None = None,
    ) -> subprocess.CompletedProcess:
        run_as = _SYSTEM_USER_WHEN_ROOT if os.geteuid() == 0 else None
        # pg_ctl keeps the server's stdout open; a temporary file avoids a pipe that never closes.
        with tempfile.TemporaryFile("w+") as output:
            result = subprocess.run(
                [str(_binaries_dir() / program), *args],
                stdout=output,
                stderr=subprocess.STDOUT,
                text=True,
                user=run_as,
                cwd=tempfile.gettempdir(),
                check=False,
            )
            output.seek(0)
            result.stdout = output.read()
        if check and result.returncode != 0:
            detail = self._explain(result.stdout, log_offset)
            raise EmbeddedPostgresError(f"PostgreSQL {error}: {detail}")
        return result

    def _explain(self, output: str, log_offset: int | None) -> str:
        """The most useful line: the server log's last error, else the tool's own output."""
        lines: list[str] = []
        if log_offset is not None and self.log_file.exists():
            with open(self.log_file, errors="replace") as log:
                log.seek(log_offset)
                lines = [line for line in log if "FATAL" in line or "ERROR" in line]
        if not lines:
            lines = [line for line in output.splitlines() if line.strip()]
        detail = lines[-1].strip() if lines else "no output"
        return f"{detail} (data directory {self.data_dir}, log {self.log_file})"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _binaries_dir() -> Path:
    # Located without importing pgserver, whose import has side effects (runtime dirs, locks).
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError("the pgserver package is not installed (run `make install`)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _system_user_ids(name: str) -> tuple[int, int]:
    import pwd

    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", name], check=True)
        entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid
