"""Secrets at rest: encrypted with the first key, readable with any, rotated, and a bad
key configuration fails at start-up naming the variable (never the key)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from engagex.lib import secretbox

BASE_DIR = Path(__file__).resolve().parents[3]


def test_round_trip_never_stores_the_plaintext(settings):
    settings.SECRETS_KEYS = []
    token = secretbox.encrypt("hunter2-päss")
    assert "hunter2" not in token
    assert token != secretbox.encrypt("hunter2-päss")  # random IV: equal secrets don't show
    assert secretbox.decrypt(token) == "hunter2-päss"


def test_without_keys_the_key_comes_from_secret_key(settings):
    settings.SECRETS_KEYS = []
    token = secretbox.encrypt("s3cret")
    settings.SECRET_KEY = "another-secret-key-entirely-" * 2
    with pytest.raises(secretbox.SecretDecryptError, match="enter it again"):
        secretbox.decrypt(token)


def test_rotation_first_key_encrypts_all_keys_decrypt(settings):
    old, new = secretbox.generate_key(), secretbox.generate_key()
    settings.SECRETS_KEYS = [old]
    stored = secretbox.encrypt("api-key-1")
    settings.SECRETS_KEYS = [new, old]
    assert secretbox.decrypt(stored) == "api-key-1"
    rotated = secretbox.rotate(stored)
    assert Fernet(new.encode()).decrypt(rotated.encode()) == b"api-key-1"
    settings.SECRETS_KEYS = [new]
    assert secretbox.decrypt(rotated) == "api-key-1"
    with pytest.raises(secretbox.SecretDecryptError):
        secretbox.decrypt(stored)  # only the dropped key could open it


def test_secrets_stored_before_keys_were_configured_stay_readable(settings):
    settings.SECRETS_KEYS = []
    stored = secretbox.encrypt("from-before")
    settings.SECRETS_KEYS = [secretbox.generate_key()]
    assert secretbox.decrypt(stored) == "from-before"
    assert secretbox.decrypt(secretbox.rotate(stored)) == "from-before"


def test_tampered_token_is_refused(settings):
    settings.SECRETS_KEYS = [secretbox.generate_key()]
    token = secretbox.encrypt("x")
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(secretbox.SecretDecryptError):
        secretbox.decrypt(tampered)
    with pytest.raises(secretbox.SecretDecryptError):
        secretbox.decrypt("not a token")


def test_validate_keys_names_the_position_not_the_value():
    secretbox.validate_keys([secretbox.generate_key()])
    with pytest.raises(ValueError, match="key 2 is not a Fernet key") as error:
        secretbox.validate_keys([secretbox.generate_key(), "too-short-secret"])
    assert "too-short-secret" not in str(error.value)


def test_bad_env_key_fails_at_start_up():
    environment = {
        key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="engagex.settings",
        DATABASE_URL="postgresql://app:pw@db.example.com:5432/engagex",
        ENGAGEX_SECRETS_KEYS=f"{secretbox.generate_key()},nope",
    )
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ENGAGEX_SECRETS_KEYS: key 2 is not a Fernet key" in result.stderr
