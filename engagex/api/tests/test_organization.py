"""Scopes on a real endpoint: GET/PATCH /api/v1/organization."""

from engagex.accounts.models import Organization
from engagex.accounts.services.organizations import PROFILE_FIELDS
from engagex.api.serializers import EDITABLE_ORGANIZATION_FIELDS
from engagex.audit.models import AuditEntry

URL = "/api/v1/organization"


def test_read_key_can_get_the_organization(api, make_key, org):
    _, secret = make_key("read")
    response = api.get(URL, secret)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(org.pk)
    assert body["default_from_email"] == org.default_from_email
    assert body["plan"] == org.plan.code


def test_read_only_key_gets_403_on_a_write_and_nothing_changes(api, make_key, org):
    _, secret = make_key("read")
    response = api.patch(URL, secret, json={"default_from_name": "Changed"})
    assert response.status_code == 403
    assert "write" in response.json()["detail"]
    org.refresh_from_db()
    assert org.default_from_name == "Acme Inc"


def test_send_only_key_cannot_read(api, make_key):
    _, secret = make_key("send")
    response = api.get("/api/v1/me", secret)
    assert response.status_code == 403
    assert "“read”" in response.json()["detail"]


def test_write_key_changes_the_organization(api, make_key, org):
    api_key, secret = make_key("write")
    assert api_key.scopes == ["read", "write"]  # write implies read
    response = api.patch(
        URL,
        secret,
        json={"default_from_name": "Acme News", "reply_to_email": "help@acme.example"},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["default_from_name"] == "Acme News"
    org.refresh_from_db()
    assert org.default_from_name == "Acme News"
    assert org.reply_to_email == "help@acme.example"
    assert api.get(URL, secret).json()["reply_to_email"] == "help@acme.example"
    entry = AuditEntry.objects.get(organization=org, action="organization.updated")
    assert entry.metadata == {"fields": ["default_from_name", "reply_to_email"]}


def test_bad_input_is_400_with_field_errors_and_changes_nothing(api, make_key, org):
    _, secret = make_key("read", "write")
    before = Organization.objects.values().get(pk=org.pk)
    cases = [
        ({"reply_to_email": "not an email"}, "reply_to_email"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"default_from_name": "Good", "plan": "enterprise"}, "plan"),
        ({"default_from_name": "Good", "status": "active"}, "status"),
        ({"reply_to": "typo@example.com"}, "reply_to"),
        ({"default_from_name": ["a", "list"]}, "default_from_name"),
    ]
    for payload, field in cases:
        response = api.patch(URL, secret, json=payload)
        assert response.status_code == 400, payload
        assert field in response.json(), (payload, response.json())
    assert Organization.objects.values().get(pk=org.pk) == before
    assert not AuditEntry.objects.filter(organization=org, action="organization.updated").exists()


def test_malformed_json_is_400(api, make_key, org):
    _, secret = make_key("write")
    response = api.client.patch(
        URL,
        data="{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_a_key_changes_only_its_own_organization(api, make_key, org, other_org):
    _, secret = make_key("write", organization=other_org)
    api.patch(URL, secret, json={"default_from_name": "Hijacked"})
    org.refresh_from_db()
    other_org.refresh_from_db()
    assert org.default_from_name == "Acme Inc"
    assert other_org.default_from_name == "Hijacked"


def test_every_editable_field_goes_through_the_organization_service():
    assert set(EDITABLE_ORGANIZATION_FIELDS) <= set(PROFILE_FIELDS)
