"""API key service: format, hashing, scopes, revocation, authentication."""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from engagex.accounts.models import ApiKey
from engagex.accounts.services.api_keys import (
    api_key_authenticate,
    api_key_create,
    api_key_revoke,
)
from engagex.audit.models import AuditEntry


def test_create_returns_a_key_of_the_documented_shape(org, owner):
    api_key, secret = api_key_create(
        organization=org, actor=owner, name="  Shop  ", scopes=["read"]
    )
    assert secret.startswith(f"{api_key.prefix}_")
    assert api_key.prefix.startswith("ex_") and len(api_key.prefix) == 11
    assert len(secret) == 11 + 1 + 43
    assert api_key.name == "Shop"
    assert api_key.created_by == owner
    assert api_key.key_hash == hashlib.sha256(secret.encode()).hexdigest()


def test_the_secret_is_stored_nowhere_in_plain_text(org, owner):
    api_key, secret = api_key_create(organization=org, actor=owner, name="CI", scopes=["read"])
    secret_part = secret.split("_", 2)[2]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apikey WHERE id = %s", [api_key.pk])
        row = " ".join(str(value) for value in cursor.fetchone())
        cursor.execute("SELECT metadata::text, target_id FROM audit_auditentry")
        audit_rows = " ".join(str(value) for row in cursor.fetchall() for value in row)
    for text in (row, audit_rows):
        assert secret not in text
        assert secret_part not in text
    entry = AuditEntry.objects.get(action="api_key.created")
    assert entry.actor == owner
    assert entry.metadata == {"name": "CI", "prefix": api_key.prefix, "scopes": ["read"]}


def test_keys_are_unique(org, owner):
    secrets_ = {
        api_key_create(organization=org, actor=owner, name=f"k{i}", scopes=["read"])[1]
        for i in range(5)
    }
    assert len(secrets_) == 5
    assert ApiKey.objects.values("prefix").distinct().count() == 5


@pytest.mark.parametrize(
    ("scopes", "stored"),
    [
        (["read"], ["read"]),
        (["write"], ["read", "write"]),
        (["send"], ["send"]),
        (["send", "write", "read", "read"], ["read", "write", "send"]),
    ],
)
def test_scopes_are_normalized_and_write_implies_read(org, owner, scopes, stored):
    api_key, _ = api_key_create(organization=org, actor=owner, name="k", scopes=scopes)
    assert api_key.scopes == stored


@pytest.mark.parametrize(
    ("name", "scopes", "field"),
    [
        ("", ["read"], "name"),
        ("   ", ["read"], "name"),
        ("x" * 101, ["read"], "name"),
        ("ok", [], "scopes"),
        ("ok", ["admin"], "scopes"),
        ("ok", ["read", "delete"], "scopes"),
    ],
)
def test_invalid_input_creates_nothing(org, owner, name, scopes, field):
    with pytest.raises(ValidationError) as error:
        api_key_create(organization=org, actor=owner, name=name, scopes=scopes)
    assert field in error.value.message_dict
    assert not ApiKey.objects.exists()
    assert not AuditEntry.objects.filter(action="api_key.created").exists()


def test_revoke_is_idempotent_and_audited_once(org, owner):
    api_key, secret = api_key_create(organization=org, actor=owner, name="k", scopes=["read"])
    api_key_revoke(organization=org, actor=owner, api_key=api_key)
    first = api_key.revoked_at
    assert first is not None
    api_key_revoke(organization=org, actor=owner, api_key=api_key)
    api_key.refresh_from_db()
    assert api_key.revoked_at == first
    assert AuditEntry.objects.filter(action="api_key.revoked").count() == 1
    assert api_key_authenticate(secret) is None


def test_revoke_refuses_a_key_of_another_organization(org, other_org, owner):
    api_key, _ = api_key_create(organization=org, actor=owner, name="k", scopes=["read"])
    with pytest.raises(ValueError):
        api_key_revoke(organization=other_org, actor=owner, api_key=api_key)
    api_key.refresh_from_db()
    assert api_key.is_active


def test_authenticate(org, owner):
    api_key, secret = api_key_create(organization=org, actor=owner, name="k", scopes=["read"])
    assert api_key_authenticate(secret) == api_key
    for wrong in ["", "ex_", secret[:-1], secret + "A", secret.upper(), "x" * 60]:
        assert api_key_authenticate(wrong) is None
