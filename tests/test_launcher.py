"""`make run` for real: the launcher starts everything, answers, and stops everything.

Each test uses its own var/ directory (ENGAGEX_VAR_DIR) and free ports, so it never
touches the developer's database or a running `make run`.
"""

import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import free_port
from engagex.lib.embedded_postgres import EmbeddedPostgres

BASE_DIR = Path(__file__).resolve().parents[1]


def launcher_env(tmp_path, **overrides) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DEBUG"):
        env.pop(name, None)
    env.update(
        ENGAGEX_VAR_DIR=str(tmp_path / "var"),
        PORT=str(free_port()),
        DEVMAIL_PORT=str(free_port()),
        INBOUND_SMTP_PORT=str(free_port()),
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def run_launcher(env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "engagex.launcher"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def get(url: str, timeout: float = 5) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (local URL)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_busy_port_is_a_one_line_error_and_nothing_starts(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_launcher(launcher_env(tmp_path, PORT=str(port)))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: port {port} is already in use; stop what uses it or set PORT to another port"
    )
    assert not (tmp_path / "var" / "postgres").exists(), "the database was not started"


def test_malformed_database_url_names_the_variable(tmp_path):
    result = run_launcher(launcher_env(tmp_path, DATABASE_URL="mysql://root@db/engagex"))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: DATABASE_URL is malformed: scheme must be postgresql://, got 'mysql'"
    )


def test_database_that_cannot_start_is_a_clear_error(tmp_path):
    server = EmbeddedPostgres(tmp_path / "var" / "postgres")
    server.attach()
    server.detach()
    (server.data_dir / "PG_VERSION").write_text("9\n")  # a data directory from another version
    result = run_launcher(launcher_env(tmp_path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: the embedded PostgreSQL failed to start:")
    assert not server.is_running()


def ctrl_c(launcher) -> None:
    os.killpg(launcher.pid, signal.SIGINT)  # the terminal signals the whole foreground group


def supervisor_stop(launcher) -> None:
    launcher.send_signal(signal.SIGTERM)  # e.g. systemd or a container runtime: the launcher only


@pytest.mark.parametrize("stop", [ctrl_c, supervisor_stop])
def test_run_serves_health_and_pages_then_stops_everything(tmp_path, stop):
    env = launcher_env(tmp_path)
    port, devmail_port = int(env["PORT"]), int(env["DEVMAIL_PORT"])
    base = f"http://127.0.0.1:{port}"
    launcher = subprocess.Popen(
        [sys.executable, "-m", "engagex.launcher"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, like a terminal's foreground job
    )
    server = EmbeddedPostgres(tmp_path / "var" / "postgres")
    try:
        deadline = time.monotonic() + 60
        status = body = None
        while time.monotonic() < deadline:
            assert launcher.poll() is None, launcher.stdout.read()
            try:
                status, body = get(f"{base}/health")
            except OSError:
                status = None
            if status == 200:
                break
            time.sleep(0.5)
        assert status == 200, f"/health never became healthy: {body}"
        assert '"worker": "ok"' in body  # the periodic heartbeat job ran on the worker

        assert get(f"{base}/styleguide/")[0] == 200
        with smtplib.SMTP("127.0.0.1", devmail_port, timeout=10) as smtp:
            smtp.sendmail(
                "app@engagex.test", ["dev@example.com"], b"Subject: Captured in dev\r\n\r\nhi"
            )
        assert "Captured in dev" in get(f"{base}/devmail/")[1]
        assert server.is_running()
    finally:
        stop(launcher)
        try:
            output, _ = launcher.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(launcher.pid, signal.SIGKILL)
            raise
    assert "EngageX is starting" in output
    password = (tmp_path / "var" / "demo_password").read_text().strip()
    assert f"Demo login: demo@example.com / {password}" in output
    assert launcher.returncode == 0, "a requested stop is a clean exit"
    with pytest.raises(ProcessLookupError):
        os.killpg(launcher.pid, 0)  # no process of the group is left
    assert not server.is_running(), "the database was stopped"
    assert get_refused(f"{base}/health")


def get_refused(url: str) -> bool:
    try:
        get(url, timeout=2)
    except OSError:
        return True
    return False
