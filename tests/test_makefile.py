"""`make` fails with one clear line when Python is missing or too old."""

import shutil
import subprocess
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def check_python(python: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "-s", "check-python", f"PYTHON={python}"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_python(tmp_path):
    result = check_python(str(tmp_path / "python3.11"))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[0] == (
        f"error: {tmp_path / 'python3.11'} not found; EngageX needs Python >= 3.11 "
        "(set PYTHON=/path/to/python3.11)"
    )


def test_python_too_old(tmp_path):
    fake = tmp_path / "python3"
    fake.write_text('#!/bin/sh\n[ "$1" = "--version" ] && echo "Python 3.9.18" && exit 0\nexit 1\n')
    fake.chmod(0o755)
    result = check_python(str(fake))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[0] == (
        f"error: EngageX needs Python >= 3.11, but {fake} is Python 3.9.18 "
        "(set PYTHON=/path/to/python3.11)"
    )


def test_current_python_is_accepted():
    import sys

    assert check_python(sys.executable).returncode == 0
