"""The benchmark harness runs standalone, prints JSON last, and leaves nothing running.

Timing figures are not asserted (machines are noisy); their shape is.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from engagex.lib.embedded_postgres import EmbeddedPostgres

BASE_DIR = Path(__file__).resolve().parents[1]


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
