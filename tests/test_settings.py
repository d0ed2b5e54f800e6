"""Configuration fails loudly, naming the variable, instead of starting half-configured."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "ENGAGEX_ENV": "production",
    "SECRET_KEY": "x" * 50,
    "ALLOWED_HOSTS": "app.example.com",
    "DATABASE_URL": "postgresql://app:pw@db.example.com:5432/engagex",
    "EMAIL_HOST": "smtp.example.com",
    "SITE_URL": "https://app.example.com",
}


def load_settings(**env) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in PRODUCTION and key not in {"DEBUG", "DJANGO_SETTINGS_MODULE"}
    }
    environment.update(env, DJANGO_SETTINGS_MODULE="engagex.settings")
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS)",
        ],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_complete_production_configuration_is_secure_by_default():
    result = load_settings(**PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "31536000"]


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("SECRET_KEY", "SECRET_KEY must be set when ENGAGEX_ENV=production"),
        ("ALLOWED_HOSTS", "ALLOWED_HOSTS must be set when ENGAGEX_ENV=production"),
        ("DATABASE_URL", "DATABASE_URL must be set when ENGAGEX_ENV=production"),
        ("EMAIL_HOST", "EMAIL_HOST must be set when ENGAGEX_ENV=production"),
        ("SITE_URL", "SITE_URL must be set when ENGAGEX_ENV=production"),
    ],
)
def test_production_refuses_to_start_without(missing, message):
    env = {key: value for key, value in PRODUCTION.items() if key != missing}
    result = load_settings(**env)
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {message}" in result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({**PRODUCTION, "DEBUG": "1"}, "DEBUG must be off when ENGAGEX_ENV=production"),
        (
            {**PRODUCTION, "ENGAGEX_ENV": "staging"},
            "ENGAGEX_ENV must be one of development, production",
        ),
        ({**PRODUCTION, "DATABASE_URL": "postgresql://host-only"}, "DATABASE_URL is malformed"),
        ({**PRODUCTION, "DEVMAIL_PORT": "seventy"}, "DEVMAIL_PORT must be an integer"),
    ],
)
def test_bad_values_are_named(env, message):
    result = load_settings(**env)
    assert result.returncode != 0
    assert message in result.stderr
