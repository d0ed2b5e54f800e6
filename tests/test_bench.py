"""The benchmark harness runs standalone, prints JSON last, and leaves nothing running.

Timing figures are not asserted (machines are noisy); their shape is.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil

from engagex.lib.embedded_postgres import EmbeddedPostgres

BASE_DIR = Path(__file__).resolve().parents[1]


def processes_of_run(var_dir: Path) -> list[str]:
    """Live processes started for a benchmark run (they inherit its ENGAGEX_VAR_DIR)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            if process.environ().get("ENGAGEX_VAR_DIR") == str(var_dir):
                found.append(" ".join(process.info["cmdline"] or []))
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def test_db_roundtrips_reports_a_ratio_against_its_reference(tmp_path):
    env = dict(os.environ, ENGAGEX_VAR_DIR=str(tmp_path))
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "bench.db_roundtrips", "--roundtrips", "200"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["bench"] == "db_roundtrips"
    assert report["roundtrips"] == 200
    assert report["roundtrips_per_sec"] > 0 and report["reference_roundtrips_per_sec"] > 0
    expected = report["roundtrips_per_sec"] / report["reference_roundtrips_per_sec"]
    assert abs(report["ratio"] - expected) < 0.01
    assert not EmbeddedPostgres(tmp_path / "bench" / "postgres").is_running()


def test_import_contacts_reports_a_ratio_against_its_reference(tmp_path):
    env = dict(os.environ, ENGAGEX_VAR_DIR=str(tmp_path))
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "bench.import_contacts", "--rows", "2000"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["bench"] == "import_contacts"
    assert report["rows"] == 2000
    assert report["rows_per_sec"] > 0 and report["reference_rows_per_sec"] > 0
    expected = report["rows_per_sec"] / report["reference_rows_per_sec"]
    assert abs(report["ratio"] - expected) < 0.01
    assert report["peak_rss_mb"] > 0
    counted = ("created", "updated", "skipped", "rejected")
    assert sum(report[key] for key in counted) == 2000
    assert report["created"] > 0 and report["updated"] > 0 and report["skipped"] > 0
    assert not EmbeddedPostgres(tmp_path / "bench" / "postgres").is_running()


def test_render_reports_renders_per_second():
    result = subprocess.run(
        [sys.executable, "-m", "bench.render", "--messages", "300"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["bench"] == "render"
    assert report["messages"] == 300
    assert report["renders_per_sec"] > 0
    assert report["template_kb"] >= 25  # the realistic ~30 KB template, not a toy


def test_send_reports_rates_against_its_reference_and_stops_everything(tmp_path):
    env = dict(os.environ, ENGAGEX_VAR_DIR=str(tmp_path))
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "bench.send", "--recipients", "300"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["bench"] == "send"
    assert report["recipients"] == 300
    for key in (
        "msgs_per_sec",
        "msgs_per_sec_two_senders",
        "raw_smtp_msgs_per_sec",
        "raw_pool_msgs_per_sec",
        "raw_aiosmtplib_sendmail_msgs_per_sec",
        "peak_rss_mb",
        "materialize_sec",
    ):
        assert report[key] > 0, key
    expected = report["msgs_per_sec"] / report["raw_smtp_msgs_per_sec"]
    assert abs(report["ratio"] - expected) < 0.01
    assert report["raw_smtp_msgs_per_sec"] == max(
        report["raw_pool_msgs_per_sec"], report["raw_aiosmtplib_sendmail_msgs_per_sec"]
    )
    assert report["connections"] >= 1
    assert not EmbeddedPostgres(tmp_path / "bench" / "postgres").is_running()
    assert not processes_of_run(tmp_path)  # no sender, no sink left behind


def test_send_materialize_only_starts_no_sender(tmp_path):
    env = dict(os.environ, ENGAGEX_VAR_DIR=str(tmp_path))
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "bench.send", "--recipients", "500", "--materialize-only"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["recipients"] == 500 and report["materialize_sec"] > 0
    assert "msgs_per_sec" not in report
    assert not EmbeddedPostgres(tmp_path / "bench" / "postgres").is_running()
