"""API key authentication: who the key is, and clear 401s for everything else."""

import datetime as dt

import pytest
from django.utils import timezone

from engagex.accounts.models import ApiKey
from engagex.accounts.services.api_keys import api_key_revoke

ME = "/api/v1/me"


def assert_unauthorized(response, *words):
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response["WWW-Authenticate"].startswith("Bearer")
    detail = response.json()["detail"]
    for word in words:
        assert word.lower() in detail.lower(), detail


def test_read_key_sees_its_organization(api, make_key, org):
    api_key, secret = make_key("read", name="Shop")
    response = api.get(ME, secret)
    assert response.status_code == 200
    assert response.json() == {
        "organization": {
            "id": str(org.pk),
            "name": "Acme Inc",
            "slug": org.slug,
            "plan": org.plan.code,
            "status": "active",
        },
        "api_key": {"name": "Shop", "prefix": api_key.prefix, "scopes": ["read"]},
    }


def test_keys_of_two_organizations_each_see_only_their_own(api, make_key, org, other_org):
    _, key_a = make_key("read", organization=org)
    _, key_b = make_key("read", organization=other_org)
    assert api.get(ME, key_a).json()["organization"]["id"] == str(org.pk)
    assert api.get(ME, key_b).json()["organization"]["id"] == str(other_org.pk)
    assert api.get("/api/v1/organization", key_a).json()["name"] == "Acme Inc"


def test_a_session_of_another_organization_does_not_change_the_key_tenant(
    api, make_key, login, outsider, other_org
):
    """The key decides the tenant, even when the browser is signed in elsewhere."""
    _, secret = make_key("read")
    client = login(outsider, other_org)
    response = client.get(ME, headers={"Authorization": f"Bearer {secret}"})
    assert response.json()["organization"]["name"] == "Acme Inc"


def test_no_header_is_401(api):
    assert_unauthorized(api.get(ME), "no api key", "Bearer")


def test_a_signed_in_web_session_is_not_enough(login, owner, org):
    client = login(owner, org)
    assert_unauthorized(client.get(ME), "no api key")


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("Bearer", ["no api key after bearer"]),
        ("Bearer ", ["no api key after bearer"]),
        ("Basic dXNlcjpwYXNz", ["scheme", "bearer"]),
        ("Token {key}", ["scheme", "bearer"]),
        ("{key}", ["scheme", "bearer"]),
        ("Bearer {key} extra", ["spaces"]),
        ("Bearer not-an-engagex-key", ["malformed api key", "ex_"]),
        ("Bearer ex_abc", ["malformed api key"]),
        ("Bearer {key}x", ["malformed api key"]),
        ("Bearer ' OR 1=1 --", ["spaces"]),
        ("Bearer <script>", ["malformed api key"]),
    ],
)
def test_malformed_headers_are_401_with_a_clear_error(api, make_key, header, words):
    _, secret = make_key("read")
    assert_unauthorized(api.get(ME, auth=header.format(key=secret)), *words)


def test_non_ascii_header_is_401(api):
    assert_unauthorized(api.get(ME, auth="Bearer ex_äöü"), "ascii")


def test_lowercase_scheme_is_accepted(api, make_key):
    _, secret = make_key("read")
    assert api.get(ME, auth=f"bearer {secret}").status_code == 200


def test_unknown_key_of_the_right_shape_is_401(api, make_key):
    _, secret = make_key("read")
    forged = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
    assert_unauthorized(api.get(ME, forged), "does not exist or has been revoked")


def test_revoked_key_is_401(api, make_key, org, owner):
    api_key, secret = make_key("read", "write")
    assert api.get(ME, secret).status_code == 200
    api_key_revoke(organization=org, actor=owner, api_key=api_key)
    assert_unauthorized(api.get(ME, secret), "revoked")
    response = api.patch("/api/v1/organization", secret, json={"default_from_name": "X"})
    assert response.status_code == 401


def test_a_suspended_organizations_key_still_authenticates(api, make_key, org):
    _, secret = make_key("read")
    org.status = org.Status.SUSPENDED
    org.save()
    response = api.get(ME, secret)
    assert response.status_code == 200
    assert response.json()["organization"]["status"] == "suspended"


def test_last_used_at_is_set_and_written_at_most_once_a_minute(api, make_key):
    api_key, secret = make_key("read")
    assert api_key.last_used_at is None
    api.get(ME, secret)
    api_key.refresh_from_db()
    first_use = api_key.last_used_at
    assert first_use is not None
    assert timezone.now() - first_use < dt.timedelta(seconds=30)

    api.get(ME, secret)
    api_key.refresh_from_db()
    assert api_key.last_used_at == first_use  # no write within the minute

    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=first_use - dt.timedelta(minutes=5))
    api.get(ME, secret)
    api_key.refresh_from_db()
    assert api_key.last_used_at > first_use - dt.timedelta(minutes=5)
