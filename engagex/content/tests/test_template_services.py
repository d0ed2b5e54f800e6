"""Template services: validation, sanitizing, versions, restore, duplicate, delete, tests."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from engagex.audit.models import AuditEntry
from engagex.contacts.tests.factories import ContactFactory
from engagex.content import services
from engagex.content.models import Template, TemplateVersion
from engagex.content.tests.factories import SIMPLE_HTML

CONTENT = {
    "name": "Monthly news",
    "category": "newsletter",
    "subject": "Hello {{ first_name }}",
    "preheader": "Our news",
    "html": SIMPLE_HTML,
}


def create(org, actor, **overrides):
    return services.template_create(organization=org, actor=actor, **{**CONTENT, **overrides})


def test_create_stores_version_one_and_audits_without_content(org, editor):
    saved = create(org, editor)

    template = saved.template
    assert (template.name, template.version_count, saved.sanitized) == ("Monthly news", 1, False)
    version = TemplateVersion.objects.get(template=template)
    assert (version.number, version.html, version.created_by) == (1, template.html, editor)
    entry = AuditEntry.objects.get(organization=org, action="content.template_created")
    assert entry.target_id == str(template.pk)
    assert "Hello" not in str(entry.metadata)


def test_scripts_and_event_handlers_are_removed_and_reported(org, editor):
    html = '<p onclick="steal()">Hi</p><script>alert(1)</script><a href="javascript:x()">x</a>'
    saved = create(org, editor, html=html)

    stored = saved.template.html
    assert saved.sanitized
    assert "<script" not in stored and "onclick" not in stored and "javascript:" not in stored
    assert "Hi" in stored


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("html", "<p>{% if first_name %}unclosed</p>", "line"),
        ("subject", "Hello {{ first_name", "subject"),
        ("html", "<p>{Hi|Hello</p>", "line"),
        ("html", "x" * (services.HTML_MAX_CHARS + 1), "limit"),
        ("html", "PK\x03\x04\x00\x00binary", "binary"),
        ("name", "   ", "name"),
        ("category", "spam", "categor"),
    ],
)
def test_bad_content_is_refused_with_a_clear_message_and_nothing_saved(
    org, editor, field, value, message
):
    with pytest.raises(ValidationError) as caught:
        create(org, editor, **{field: value})

    assert field in caught.value.message_dict
    assert message in " ".join(caught.value.message_dict[field]).lower()
    assert not Template.objects.filter(organization=org).exists()


def test_update_adds_a_version_only_when_something_changed(org, editor, owner):
    template = create(org, editor).template

    services.template_update(organization=org, actor=owner, template=template, **CONTENT)
    assert template.versions.count() == 1

    saved = services.template_update(
        organization=org, actor=owner, template=template, subject="New subject"
    )
    assert saved.template.version_count == 2
    assert saved.template.updated_by == owner
    assert list(template.versions.order_by("number").values_list("subject", flat=True)) == [
        "Hello {{ first_name }}",
        "New subject",
    ]


def test_a_broken_update_keeps_the_saved_content(org, editor):
    template = create(org, editor).template

    with pytest.raises(ValidationError):
        services.template_update(
            organization=org, actor=editor, template=template, html="{% for x in %}"
        )

    template.refresh_from_db()
    assert template.html == CONTENT["html"] and template.version_count == 1


def test_custom_text_is_kept_until_reset(org, editor):
    template = create(org, editor, text_is_custom=True, text="Plain {{ first_name }}").template
    services.template_update(organization=org, actor=editor, template=template, html="<p>New</p>")
    template.refresh_from_db()
    assert template.text == "Plain {{ first_name }}"

    services.template_update(
        organization=org, actor=editor, template=template, text_is_custom=False
    )
    template.refresh_from_db()
    assert (template.text_is_custom, template.text) == (False, "")
    assert "New" in services.render_template(template).text


def test_restore_makes_an_old_version_current_as_a_new_version(org, editor):
    template = create(org, editor).template
    services.template_update(organization=org, actor=editor, template=template, subject="Second")
    first = template.versions.get(number=1)

    saved = services.template_version_restore(
        organization=org, actor=editor, template=template, version=first
    )

    assert (saved.template.subject, saved.template.version_count) == (CONTENT["subject"], 3)
    newest = template.versions.get(number=3)
    assert newest.restored_from == 1
    assert AuditEntry.objects.filter(action="content.template_version_restored").count() == 1


def test_duplicate_and_soft_delete(org, editor):
    template = create(org, editor).template
    copy = services.template_duplicate(organization=org, actor=editor, template=template).template
    assert copy.name == "Copy of Monthly news" and copy.html == template.html
    assert copy.pk != template.pk

    services.template_delete(organization=org, actor=editor, template=template)
    services.template_delete(organization=org, actor=editor, template=template)  # idempotent

    template.refresh_from_db()
    assert template.deleted_at is not None
    assert AuditEntry.objects.filter(action="content.template_deleted").count() == 1


def test_other_organizations_objects_are_refused(org, other_org, editor):
    template = create(org, editor).template
    with pytest.raises(ValueError):
        services.template_update(organization=other_org, actor=editor, template=template, name="X")
    with pytest.raises(ValueError):
        services.template_delete(organization=other_org, actor=editor, template=template)


def test_create_from_each_preset_gives_a_renderable_template(org, editor):
    from engagex.content.presets import preset_list

    for preset in preset_list():
        saved = services.template_create_from_preset(
            organization=org, actor=editor, preset_key=preset.key
        )
        rendered = services.render_template(saved.template)
        assert "Jane" in rendered.html or "there" in rendered.html.lower(), preset.key
        assert "/m/sample-link/unsubscribe/" in rendered.html, preset.key
    with pytest.raises(ValidationError):
        services.template_create_from_preset(organization=org, actor=editor, preset_key="nope")


def test_test_send_delivers_html_and_text_with_the_contacts_data(
    org, editor, django_capture_on_commit_callbacks
):
    org.postal_address = "1 Main Street, Springfield"
    org.save()
    contact = ContactFactory(organization=org, first_name="Grace", email="grace@example.org")
    template = create(org, editor).template

    with django_capture_on_commit_callbacks(execute=True):
        sent = services.template_test_send(
            organization=org,
            actor=editor,
            template=template,
            recipients="me@example.com, Boss@Example.com",
            contact=contact,
        )

    assert sent == ["me@example.com", "boss@example.com"]
    (message,) = mail.outbox
    assert message.subject == "[Test] Hello Grace"
    assert "Grace" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "Hi Grace" in html and "1 Main Street, Springfield" in html


@pytest.mark.parametrize(
    ("recipients", "message"),
    [
        ("", "at least one"),
        ("not-an-address", "not-an-address"),
        (",".join(f"p{i}@example.com" for i in range(6)), "at most 5"),
    ],
)
def test_test_send_refuses_bad_recipients(org, editor, recipients, message):
    template = create(org, editor).template
    with pytest.raises(ValidationError) as caught:
        services.template_test_send(
            organization=org, actor=editor, template=template, recipients=recipients
        )
    assert message in " ".join(caught.value.messages)
    assert mail.outbox == []


def test_test_sends_are_limited_per_organization_per_hour(
    org, other_org, editor, django_capture_on_commit_callbacks
):
    template = create(org, editor).template
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(services.TEST_SENDS_PER_HOUR):
            services.template_test_send(
                organization=org, actor=editor, template=template, recipients="me@example.com"
            )
    with pytest.raises(ValidationError, match="last hour"):
        services.template_test_send(
            organization=org, actor=editor, template=template, recipients="me@example.com"
        )
    assert len(mail.outbox) == services.TEST_SENDS_PER_HOUR
    assert services.test_sends_left(other_org) == services.TEST_SENDS_PER_HOUR


def test_unclosed_html_tags_are_closed_the_way_a_browser_would(org, editor):
    html = "<table><tr><td><p>Hi <b>{{ first_name }}<div>open"
    template = create(org, editor, html=html).template

    stored = template.html
    for tag in ("b", "p", "div", "td", "tr", "table"):
        assert stored.count(f"<{tag}>") == stored.count(f"</{tag}>") >= 1, tag
    assert "Hi <b>Jane" in services.render_template(template).html
