"""REST API: /api/v1/templates (CRUD, presets, versions, restore, render, test sends)."""

from email import message_from_bytes, policy

import pytest
import yaml
from django.core import mail
from django.test import Client

from engagex import audit
from engagex.audit.models import AuditEntry
from engagex.contacts.tests.factories import ContactFactory, CustomFieldFactory
from engagex.content import services
from engagex.content.models import Template, TemplateVersion
from engagex.content.tests.factories import SIMPLE_HTML
from engagex.devmail.models import CapturedMessage

URL = "/api/v1/templates"
CONTENT = {
    "name": "Monthly news",
    "category": "newsletter",
    "subject": "Hello {{ first_name }}",
    "preheader": "Our news",
    "html": SIMPLE_HTML,
}


@pytest.fixture
def write_key(make_key):
    return make_key("read", "write")[1]


@pytest.fixture
def read_key(make_key):
    return make_key("read")[1]


@pytest.fixture
def send_key(make_key):
    return make_key("read", "send")[1]


def create(org, **overrides) -> Template:
    return services.template_create(
        organization=org, actor=None, **{**CONTENT, **overrides}
    ).template


def test_crud_round_trip(api, write_key, org):
    response = api.post(URL, write_key, json=CONTENT)
    assert response.status_code == 201, response.json()
    body = response.json()
    template_id = body["id"]
    assert (body["name"], body["version"], body["sanitized"]) == ("Monthly news", 1, False)
    assert body["html"] == Template.objects.get(pk=template_id).html
    assert body["unknown_tags"] == [] and body["warnings"] == []
    assert body["updated_by_name"] is None  # made through the API, not by a person

    listed = api.get(URL, write_key).json()["results"]
    assert [item["id"] for item in listed] == [template_id]
    assert "html" not in listed[0] and "text" not in listed[0]
    assert listed[0]["subject"] == "Hello {{ first_name }}"
    assert listed[0]["version"] == 1 and listed[0]["updated_at"]

    detail = api.get(f"{URL}/{template_id}", write_key).json()
    assert detail["html"] == body["html"] and detail["preheader"] == "Our news"

    changed = api.patch(f"{URL}/{template_id}", write_key, json={"subject": "Hi {{ first_name }}"})
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["subject"], changed.json()["version"]) == ("Hi {{ first_name }}", 2)

    assert api.delete(f"{URL}/{template_id}", write_key).status_code == 204
    assert Template.objects.get(pk=template_id).deleted_at is not None
    assert api.get(f"{URL}/{template_id}", write_key).status_code == 404
    assert api.patch(f"{URL}/{template_id}", write_key, json={"name": "X"}).status_code == 404
    assert api.get(URL, write_key).json()["results"] == []
    actions = set(AuditEntry.objects.filter(organization=org).values_list("action", flat=True))
    assert {"content.template_created", "content.template_deleted"} <= actions


def test_list_search_filter_order_and_pagination(api, read_key, org, other_org):
    old = create(org, name="Spring sale", category="promotional", subject="Save 20%")
    create(org, name="Welcome aboard", category="welcome", subject="Glad you joined")
    gone = create(org, name="Gone", subject="Spring is gone")
    services.template_delete(organization=org, actor=None, template=gone)
    create(other_org, name="Spring elsewhere")

    def names(query=""):
        response = api.get(f"{URL}{query}", read_key)
        assert response.status_code == 200, response.json()
        return [item["name"] for item in response.json()["results"]]

    assert names() == ["Welcome aboard", "Spring sale"]
    services.template_update(organization=org, actor=None, template=old, subject="Save 30%")
    assert names() == ["Spring sale", "Welcome aboard"]  # most recently edited first
    assert names("?q=spring") == ["Spring sale"]
    assert names("?q=glad") == ["Welcome aboard"]
    assert names("?category=welcome") == ["Welcome aboard"]
    assert api.get(f"{URL}?category=spam", read_key).status_code == 400

    for number in range(5):
        create(org, name=f"Batch {number}")
    seen, url = [], f"{URL}?limit=3"
    while url:
        body = api.get(url, read_key).json()
        seen += [item["id"] for item in body["results"]]
        url = body["next"]
    assert len(seen) == 7 == len(set(seen))


def test_create_from_a_preset(api, write_key, org):
    listed = api.get(f"{URL}/presets", write_key)
    assert listed.status_code == 200
    presets = listed.json()
    assert presets and {"key", "name", "category", "subject"} <= set(presets[0])
    key = presets[0]["key"]

    response = api.post(URL, write_key, json={"preset": key, "name": "Our digest"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["name"], body["preset"], body["version"]) == ("Our digest", key, 1)
    assert "unsubscribe_url" in body["html"]

    unnamed = api.post(URL, write_key, json={"preset": key}).json()
    assert unnamed["name"] == presets[0]["name"]

    assert "preset" in api.post(URL, write_key, json={"preset": "nope"}).json()
    mixed = api.post(URL, write_key, json={"preset": key, "html": "<p>x</p>"})
    assert mixed.status_code == 400 and "html" in mixed.json()
    assert Template.objects.filter(organization=org).count() == 2


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"category": "newsletter"}, "name"),
        ({**CONTENT, "name": "   "}, "name"),
        ({**CONTENT, "category": "spam"}, "category"),
        ({**CONTENT, "colour": "blue"}, "colour"),
        ({**CONTENT, "html": 42}, "html"),
        ({**CONTENT, "subject": "Hello {{ first_name"}, "subject"),
    ],
)
def test_bad_payloads_are_400_and_save_nothing(api, write_key, org, payload, field):
    response = api.post(URL, write_key, json=payload)
    assert response.status_code == 400
    assert field in response.json()
    assert not Template.objects.filter(organization=org).exists()


def test_invalid_jinja_is_400_with_its_line_and_nothing_is_saved(api, write_key, org):
    html = "<p>Hello</p>\n<p>{% if first_name %}unclosed</p>\n"
    response = api.post(URL, write_key, json={**CONTENT, "html": html})
    assert response.status_code == 400
    message = " ".join(response.json()["html"])
    assert "line" in message.lower() and "2" in message
    assert not Template.objects.filter(organization=org).exists()

    template = create(org)
    stored = template.html
    response = api.patch(f"{URL}/{template.pk}", write_key, json={"html": html})
    assert response.status_code == 400 and "line" in " ".join(response.json()["html"]).lower()
    template.refresh_from_db()
    assert (template.html, template.version_count) == (stored, 1)

    rendered = api.post(f"{URL}/{template.pk}/render", write_key, json={"html": html})
    assert rendered.status_code == 400 and "html" in rendered.json()


def test_scripts_are_removed_on_save_and_reported(api, write_key, org):
    html = '<p onclick="steal()">Hi {{ first_name }}</p><script>alert(1)</script>'
    response = api.post(URL, write_key, json={**CONTENT, "html": html})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["sanitized"] is True and body["warnings"]
    stored = Template.objects.get(pk=body["id"]).html
    assert "<script" not in stored and "onclick" not in stored and "Hi" in stored
    assert stored == body["html"]


def test_unknown_merge_tags_are_warned_about(api, write_key, org):
    CustomFieldFactory(organization=org, key="city", type="text")
    html = "<p>{{ frist_name }} from {{ fields.city }}</p>"
    body = api.post(URL, write_key, json={**CONTENT, "html": html}).json()
    assert any("frist_name" in tag for tag in body["unknown_tags"])
    assert not any("city" in tag for tag in body["unknown_tags"])
    assert any("frist_name" in warning for warning in body["warnings"])


def test_patch_adds_a_version_only_when_something_changed(api, write_key, org):
    template = create(org)
    html = template.html
    same = api.patch(f"{URL}/{template.pk}", write_key, json={"subject": CONTENT["subject"]})
    assert same.status_code == 200 and same.json()["version"] == 1
    assert api.patch(f"{URL}/{template.pk}", write_key, json={}).json()["version"] == 1
    assert TemplateVersion.objects.filter(template=template).count() == 1

    changed = api.patch(
        f"{URL}/{template.pk}", write_key, json={"subject": "New", "text": "Plain {{ email }}"}
    )
    assert changed.json()["version"] == 2
    assert changed.json()["text_is_custom"] is True  # sending text means "use my text"

    versions = api.get(f"{URL}/{template.pk}/versions", write_key).json()["results"]
    assert [v["number"] for v in versions] == [2, 1]
    assert [v["subject"] for v in versions] == ["New", CONTENT["subject"]]
    first = api.get(f"{URL}/{template.pk}/versions/1", write_key).json()
    assert (first["subject"], first["html"], first["text"]) == (CONTENT["subject"], html, "")
    assert api.get(f"{URL}/{template.pk}/versions/9", write_key).status_code == 404


def test_restore_makes_an_old_version_current_as_a_new_one(api, write_key, org):
    template = create(org)
    services.template_update(organization=org, actor=None, template=template, subject="Second")

    response = api.post(f"{URL}/{template.pk}/versions/1/restore", write_key)
    assert response.status_code == 200, response.json()
    assert (response.json()["subject"], response.json()["version"]) == (CONTENT["subject"], 3)
    newest = api.get(f"{URL}/{template.pk}/versions", write_key).json()["results"][0]
    assert (newest["number"], newest["restored_from"]) == (3, 1)
    assert api.post(f"{URL}/{template.pk}/versions/7/restore", write_key).status_code == 404


def test_render_fills_merge_tags_with_sample_data_and_overrides(api, read_key, org):
    org.postal_address = "1 Main Street, Springfield"
    org.save()
    CustomFieldFactory(organization=org, key="city", type="text")
    template = create(org, html="<p>Hi {{ first_name }} in {{ fields.city }}</p>{{ oops }}")

    sample = api.post(f"{URL}/{template.pk}/render", read_key, json={})
    assert sample.status_code == 200, sample.json()
    assert sample.json()["subject"] == "Hello Jane"
    assert "Hi Jane in Sample text" in sample.json()["html"]
    assert any("oops" in tag for tag in sample.json()["unknown_tags"])

    data = {"first_name": "Ada", "fields": {"city": "London"}}
    response = api.post(f"{URL}/{template.pk}/render", read_key, json={"data": data})
    body = response.json()
    assert body["subject"] == "Hello Ada"
    assert "Hi Ada in London" in body["html"] and "Ada" in body["text"]
    assert set(body) == {"subject", "preheader", "html", "text", "unknown_tags"}

    draft = api.post(
        f"{URL}/{template.pk}/render",
        read_key,
        json={"subject": "Draft for {{ first_name }}", "html": "<p>{{ organization_address }}</p>"},
    )
    assert draft.json()["subject"] == "Draft for Jane"
    assert "1 Main Street, Springfield" in draft.json()["html"]
    template.refresh_from_db()
    assert (template.subject, template.version_count) == (CONTENT["subject"], 1)  # unsaved

    bad = api.post(f"{URL}/{template.pk}/render", read_key, json={"data": {"firstname": "A"}})
    assert bad.status_code == 400 and "firstname" in str(bad.json())


def test_render_as_a_contact(api, read_key, org, other_org):
    contact = ContactFactory(organization=org, first_name="Grace", fields={})
    template = create(org)
    response = api.post(
        f"{URL}/{template.pk}/render", read_key, json={"contact_id": str(contact.pk)}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["subject"] == "Hello Grace"
    assert "Hi Grace" in response.json()["html"]

    overridden = api.post(
        f"{URL}/{template.pk}/render",
        read_key,
        json={"contact_id": str(contact.pk), "data": {"first_name": "Ada"}},
    )
    assert overridden.json()["subject"] == "Hello Ada"

    theirs = ContactFactory(organization=other_org, first_name="Mallory")
    refused = api.post(f"{URL}/{template.pk}/render", read_key, json={"contact_id": str(theirs.pk)})
    assert refused.status_code == 400 and "contact_id" in refused.json()


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("{{ ''.__class__.__mro__ }}", 400),
        ("{{ ''['__class__'] }}", 400),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", 400),
        ("{{ cycler.__init__.__globals__ }}", 400),
        ("{{ lipsum }}{{ range(10) }}", 400),
        ("{{ request }}{{ settings.SECRET_KEY }}{{ config }}{{ fields.items }}", 200),
    ],
)
def test_template_injection_renders_harmlessly(api, write_key, org, settings, payload, code):
    """Reaching Python objects is refused with the line (400); names that are not merge
    tags render as nothing. Either way nothing of the server shows."""
    template = create(org)
    response = api.post(
        f"{URL}/{template.pk}/render",
        write_key,
        json={"subject": payload, "html": f"<p>{payload}</p>"},
    )
    assert response.status_code == code
    body = response.content.decode()
    for leak in ("<class", "object", "__builtins__", "subprocess", settings.SECRET_KEY):
        assert leak not in body
    if code == 400:
        assert "line 1" in " ".join(response.json()["subject"])
    else:
        assert response.json()["subject"] == ""
    saved = api.post(URL, write_key, json={**CONTENT, "html": f"<p>{payload}</p>"})
    assert saved.status_code == (201 if code == 200 else 400)
    assert "<class" not in saved.content.decode()


def test_test_send_arrives_with_html_and_text_and_filled_tags(
    api, send_key, org, capture_server, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = capture_server.hostname
    settings.EMAIL_PORT = capture_server.port
    contact = ContactFactory(organization=org, first_name="Grace", email="grace@example.org")
    template = create(org)

    response = api.post(
        f"{URL}/{template.pk}/test",
        send_key,
        json={"recipients": ["me@example.com", "Boss@Example.com"], "contact_id": str(contact.pk)},
    )

    assert response.status_code == 202, response.json()
    assert response.json() == {"sent_to": ["me@example.com", "boss@example.com"]}
    (captured,) = CapturedMessage.objects.all()
    recipients = {address.strip() for address in captured.recipients.split(",")}
    assert recipients == {"me@example.com", "boss@example.com"}
    message = message_from_bytes(bytes(captured.raw), policy=policy.default)
    assert message["Subject"] == "[Test] Hello Grace"
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Hi Grace" in html and "Grace" in text
    assert "{{" not in html and "{{" not in text
    assert AuditEntry.objects.filter(action=services.TEST_SEND_ACTION).count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"recipients": [f"p{i}@example.com" for i in range(6)]}, "recipients"),
        ({"recipients": ["not-an-address"]}, "recipients"),
        ({"recipients": []}, "recipients"),
        ({"recipients": "me@example.com"}, "recipients"),
        ({"recipients": ["me@example.com"], "contact_id": "nope"}, "contact_id"),
        ({"recipients": ["me@example.com"], "cc": ["x@example.com"]}, "cc"),
    ],
)
def test_test_send_refuses_bad_input_and_sends_nothing(
    api, send_key, org, django_capture_on_commit_callbacks, payload, field
):
    template = create(org)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{URL}/{template.pk}/test", send_key, json=payload)
    assert response.status_code == 400
    assert field in response.json()
    assert mail.outbox == []


def test_test_sends_over_the_hourly_limit_are_429(
    api, send_key, org, other_org, django_capture_on_commit_callbacks
):
    template = create(org)
    for _ in range(services.TEST_SENDS_PER_HOUR - 1):
        audit.record(org, None, services.TEST_SEND_ACTION, "template", template.pk)
    url = f"{URL}/{template.pk}/test"
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(url, send_key, json={"recipients": ["a@example.com"]}).status_code == 202
        response = api.post(url, send_key, json={"recipients": ["a@example.com"]})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert "last hour" in response.json()["detail"]
    assert len(mail.outbox) == 1


def test_scopes(api, make_key, read_key, write_key, org):
    template = create(org)
    url = f"{URL}/{template.pk}"
    assert api.get(url, read_key).status_code == 200
    assert api.post(f"{url}/render", read_key, json={}).status_code == 200  # changes nothing
    assert api.post(URL, read_key, json=CONTENT).status_code == 403
    assert api.patch(url, read_key, json={"name": "X"}).status_code == 403
    assert api.delete(url, read_key).status_code == 403
    assert api.post(f"{url}/versions/1/restore", read_key).status_code == 403
    test_send = {"recipients": ["me@example.com"]}
    assert api.post(f"{url}/test", read_key, json=test_send).status_code == 403
    assert api.post(f"{url}/test", write_key, json=test_send).status_code == 403  # needs send
    assert api.get(url).status_code == 401
    template.refresh_from_db()
    assert (template.name, template.deleted_at, template.version_count) == (
        "Monthly news",
        None,
        1,
    )
    assert mail.outbox == []
    assert Template.objects.filter(organization=org).count() == 1


def test_another_organizations_template_is_404_everywhere(api, make_key, org, other_org):
    theirs = create(other_org)
    _, secret = make_key("read", "write", "send")
    url = f"{URL}/{theirs.pk}"
    assert api.get(url, secret).status_code == 404
    assert api.patch(url, secret, json={"name": "Mine now"}).status_code == 404
    assert api.delete(url, secret).status_code == 404
    assert api.get(f"{url}/versions", secret).status_code == 404
    assert api.get(f"{url}/versions/1", secret).status_code == 404
    assert api.post(f"{url}/versions/1/restore", secret).status_code == 404
    assert api.post(f"{url}/render", secret, json={}).status_code == 404
    test_send = {"recipients": ["me@example.com"]}
    assert api.post(f"{url}/test", secret, json=test_send).status_code == 404
    assert api.get(URL, secret).json()["results"] == []
    theirs.refresh_from_db()
    assert (theirs.name, theirs.deleted_at, theirs.version_count) == ("Monthly news", None, 1)
    assert mail.outbox == []


def test_schema_documents_the_template_endpoints(db):
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    paths = yaml.safe_load(response.content)["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/templates"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/templates/{template_id}"])
    for path in (
        "/api/v1/templates/presets",
        "/api/v1/templates/{template_id}/versions",
        "/api/v1/templates/{template_id}/versions/{number}",
        "/api/v1/templates/{template_id}/versions/{number}/restore",
        "/api/v1/templates/{template_id}/render",
        "/api/v1/templates/{template_id}/test",
    ):
        assert path in paths, path
    test_send = paths["/api/v1/templates/{template_id}/test"]["post"]
    assert {"202", "400", "429"} <= set(test_send["responses"])
    create_body = paths["/api/v1/templates"]["post"]["requestBody"]["content"]["application/json"]
    assert create_body["examples"]
