"""The embedded server for real: started, shared, stopped by its last user."""

import os
import subprocess
import sys
import textwrap

import psycopg
import pytest

from engagex.lib.embedded_postgres import EmbeddedPostgres, EmbeddedPostgresError


@pytest.fixture
def server(tmp_path):
    embedded = EmbeddedPostgres(tmp_path / "pg")
    yield embedded
    if embedded.is_running():
        embedded.stop()


def test_attach_initialises_starts_and_creates_the_database(server):
    url = server.attach()
    with psycopg.connect(url) as conn:
        database, version = conn.execute(
            "SELECT current_database(), current_setting('server_version_num')::int"
        ).fetchone()
    assert database == "engagex"
    assert version >= 160000
    # Unix socket only: no TCP port to collide with another installation.
    with psycopg.connect(url) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("",)


def test_data_survives_a_restart(server):
    with psycopg.connect(server.attach(), autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (value text)")
        conn.execute("INSERT INTO kept VALUES ('still here')")
    server.detach()
    assert not server.is_running()
    with psycopg.connect(server.attach()) as conn:
        assert conn.execute("SELECT value FROM kept").fetchone() == ("still here",)


def test_last_living_user_stops_the_server(server):
    server.attach()
    # Another process attaches, then dies without detaching (as after SIGKILL).
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from engagex.lib.embedded_postgres import EmbeddedPostgres
        EmbeddedPostgres(Path({str(server.data_dir)!r})).attach()
        os._exit(0)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=os.getcwd())
    server.detach()
    assert not server.is_running(), "a dead process must not keep the server alive"


def test_second_user_keeps_server_running(server):
    server.attach()
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from engagex.lib.embedded_postgres import EmbeddedPostgres
        EmbeddedPostgres(Path({str(server.data_dir)!r})).attach()
        print("attached", flush=True)
        sys.stdin.readline()
        """
    )
    other = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert other.stdout.readline().strip() == "attached"
        server.detach()
        assert server.is_running(), "still in use by the other process"
    finally:
        other.communicate("\n", timeout=30)
    assert not server.is_running(), "the other process was the last user and stopped it"


def test_refuses_a_directory_that_is_not_a_database(tmp_path):
    data_dir = tmp_path / "pg"
    data_dir.mkdir()
    (data_dir / "notes.txt").write_text("mine")
    with pytest.raises(EmbeddedPostgresError, match="is not empty but holds no PostgreSQL"):
        EmbeddedPostgres(data_dir).attach()
    assert (data_dir / "notes.txt").read_text() == "mine"


def test_failure_to_start_explains_why(server):
    server.attach()
    server.detach()
    (server.data_dir / "PG_VERSION").write_text("9\n")
    with pytest.raises(EmbeddedPostgresError) as error:
        server.attach()
    message = str(error.value)
    assert message.startswith("PostgreSQL failed to start")
    assert "incompatible" in message
    assert str(server.log_file) in message
