"""Settings → API keys page: list, create (shown once), revoke, and who may do it."""

import re

import pytest

from engagex.accounts.models import ApiKey, Membership
from engagex.accounts.services.api_keys import api_key_create
from engagex.accounts.tests.factories import MembershipFactory
from engagex.audit.models import AuditEntry

PAGE = "/settings/api-keys/"
CREATE = "/settings/api-keys/new/"
KEY_PATTERN = re.compile(r"ex_[a-z0-9]{8}_[A-Za-z0-9_-]{43}")


@pytest.fixture
def admin(org):
    return MembershipFactory(organization=org, role=Membership.Role.ADMIN).user


def revoke_url(api_key):
    return f"/settings/api-keys/{api_key.pk}/revoke/"


def form_token(response) -> str:
    match = re.search(r'name="form_token" value="([^"]+)"', response.content.decode())
    assert match
    return match.group(1)


def test_empty_state_explains_keys_and_links_the_docs(login, admin, org):
    response = login(admin, org).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "No API keys yet" in html
    assert 'href="/api/docs/"' in html
    assert 'id="create-key"' in html


def test_admin_sees_the_list(login, admin, org, owner, django_assert_max_num_queries):
    for i in range(3):
        api_key_create(organization=org, actor=owner, name=f"Key {i}", scopes=["read", "send"])
    key = ApiKey.objects.get(name="Key 1")
    client = login(admin, org)
    with django_assert_max_num_queries(10):
        response = client.get(PAGE)
    html = response.content.decode()
    for i in range(3):
        assert f"Key {i}" in html
    assert f"{key.prefix}…" in html
    assert "Never" in html
    assert owner.display_name in html
    assert ">send<" in html


def test_search_and_status_filter(login, admin, org, owner):
    api_key_create(organization=org, actor=owner, name="Webshop", scopes=["read"])
    old, _ = api_key_create(organization=org, actor=owner, name="Old CRM", scopes=["read"])
    client = login(admin, org)
    client.post(revoke_url(old), follow=True)  # the toast is shown on that page
    html = client.get(PAGE, {"q": "websh"}).content.decode()
    assert "Webshop" in html and "Old CRM" not in html
    html = client.get(PAGE, {"status": "revoked"}).content.decode()
    assert "Old CRM" in html and "Webshop" not in html
    html = client.get(PAGE, {"sort": "-last_used_at"}).content.decode()
    assert "Old CRM" in html and "Webshop" in html


def test_owner_creates_a_key_shown_exactly_once(login, owner, org):
    client = login(owner, org)
    token = form_token(client.get(PAGE))
    response = client.post(
        CREATE, {"name": "Shop", "scopes": ["read", "write"], "form_token": token}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    secrets_shown = set(KEY_PATTERN.findall(html))
    assert len(secrets_shown) == 1
    secret = secrets_shown.pop()
    assert "only time the key is shown" in html
    assert "data-copy-target" in html
    assert "API key “Shop” created" in html  # the toast

    api_key = ApiKey.objects.get(organization=org)
    assert api_key.name == "Shop"
    assert api_key.scopes == ["read", "write"]
    assert api_key.created_by == owner
    assert AuditEntry.objects.filter(organization=org, action="api_key.created").count() == 1

    # Reloading the list, or re-submitting the same form, never shows it again.
    assert secret not in client.get(PAGE).content.decode()
    again = client.post(
        CREATE, {"name": "Shop", "scopes": ["read", "write"], "form_token": token}, follow=True
    )
    assert secret not in again.content.decode()
    assert not KEY_PATTERN.search(again.content.decode())
    assert "already created" in again.content.decode()
    assert ApiKey.objects.count() == 1
    # The secret is in no session either.
    assert secret not in str(dict(client.session))

    # And the key works.
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.json()["api_key"]["name"] == "Shop"


def test_get_on_the_create_url_goes_to_the_list(login, admin, org):
    response = login(admin, org).get(CREATE, {"sort": "name"})
    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}?sort=name"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"name": "", "scopes": ["read"]}, "This field is required."),
        ({"name": "   ", "scopes": ["read"]}, "This field is required."),
        ({"name": "x" * 101, "scopes": ["read"]}, "at most 100 characters"),
        ({"name": "CI"}, "Choose at least one scope."),
        ({"name": "CI", "scopes": ["admin"]}, "Unknown scope: admin."),
        ({"name": "CI", "scopes": ["read", "root"]}, "Unknown scope: root."),
    ],
)
def test_invalid_input_shows_an_error_and_creates_nothing(login, admin, org, data, error):
    response = login(admin, org).post(CREATE, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert error in html
    assert "The key was not created" in html
    assert not KEY_PATTERN.search(html)
    assert not ApiKey.objects.exists()


def test_admin_revokes_a_key(login, admin, org, owner):
    api_key, secret = api_key_create(organization=org, actor=owner, name="Old", scopes=["read"])
    client = login(admin, org)
    html = client.get(PAGE).content.decode()
    assert revoke_url(api_key) in html
    assert "data-confirm=" in html  # asks in the confirm modal first
    response = client.post(revoke_url(api_key), follow=True)
    assert response.redirect_chain == [(PAGE, 302)]
    assert "API key “Old” revoked" in response.content.decode()
    api_key.refresh_from_db()
    assert not api_key.is_active
    assert "Revoked" in response.content.decode()
    assert revoke_url(api_key) not in response.content.decode()
    entry = AuditEntry.objects.get(action="api_key.revoked")
    assert entry.actor == admin
    # Revoking again changes nothing.
    again = client.post(revoke_url(api_key), follow=True)
    assert "already revoked" in again.content.decode()
    assert AuditEntry.objects.filter(action="api_key.revoked").count() == 1
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    )


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_editor_and_viewer_get_403_everywhere(request, login, org, owner, role):
    user = request.getfixturevalue(role)
    api_key, _ = api_key_create(organization=org, actor=owner, name="K", scopes=["read"])
    client = login(user, org)
    assert client.get(PAGE).status_code == 403
    assert client.post(CREATE, {"name": "Mine", "scopes": ["read"]}).status_code == 403
    assert client.post(revoke_url(api_key)).status_code == 403
    assert ApiKey.objects.count() == 1
    api_key.refresh_from_db()
    assert api_key.is_active


def test_outsider_gets_404_revoking_another_organizations_key(
    login, org, owner, outsider, other_org
):
    api_key, _ = api_key_create(organization=org, actor=owner, name="Acme CRM", scopes=["read"])
    client = login(outsider, other_org)
    assert client.post(revoke_url(api_key)).status_code == 404
    api_key.refresh_from_db()
    assert api_key.is_active
    # Their own page does not list it.
    html = client.get(PAGE).content.decode()
    assert "Acme CRM" not in html
    assert api_key.prefix not in html


def test_unknown_key_id_is_404(login, admin, org):
    client = login(admin, org)
    assert (
        client.post("/settings/api-keys/0190a0a0-0000-7000-8000-000000000000/revoke/").status_code
        == 404
    )


def test_anonymous_is_sent_to_sign_in(client, org, owner):
    api_key, _ = api_key_create(organization=org, actor=owner, name="K", scopes=["read"])
    for response in (
        client.get(PAGE),
        client.post(CREATE, {"name": "x", "scopes": ["read"]}),
        client.post(revoke_url(api_key)),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert ApiKey.objects.count() == 1
