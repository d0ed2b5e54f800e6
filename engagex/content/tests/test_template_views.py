"""Template pages: grid, create from preset, editor save/preview/check, history, test send;
who may; isolation."""

import pytest
from django.core import mail
from django.urls import reverse

from engagex.content.models import Template
from engagex.content.tests.factories import TemplateFactory

INDEX_URL = reverse("content:index")
CREATE_URL = reverse("content:create")


def url(name, template, *args):
    return reverse(f"content:{name}", args=[template.pk, *args])


@pytest.fixture
def template(org):
    return TemplateFactory(organization=org, name="Spring news", version_count=0)


@pytest.fixture
def saved(org, editor):
    from engagex.content.services import template_create
    from engagex.content.tests.factories import SIMPLE_HTML

    return template_create(
        organization=org,
        actor=editor,
        name="Spring news",
        category="newsletter",
        subject="Hi {{ first_name }}",
        html=SIMPLE_HTML,
    ).template


def form_data(template, **overrides):
    return {
        "name": template.name,
        "category": template.category,
        "subject": template.subject,
        "preheader": template.preheader,
        "html": template.html,
        "text": "",
        **overrides,
    }


def test_empty_page_offers_the_presets(login, editor, org):
    html = login(editor, org).get(INDEX_URL).content.decode()
    assert "No templates yet" in html
    assert "Newsletter" in html and "Use this design" in html and "Blank template" in html


def test_grid_filters_by_category_and_search(login, viewer, org):
    TemplateFactory(organization=org, name="Spring news", category="newsletter")
    TemplateFactory(organization=org, name="Black Friday", category="promotional")
    client = login(viewer, org)

    html = client.get(INDEX_URL, {"category": "promotional"}).content.decode()
    assert "Black Friday" in html and "Spring news" not in html
    html = client.get(INDEX_URL, {"q": "spring"}).content.decode()
    assert "Spring news" in html and "Black Friday" not in html
    assert "Use this design" not in html  # a viewer can't create


def test_create_from_preset_opens_the_editor(login, editor, org):
    response = login(editor, org).post(CREATE_URL, {"preset": "newsletter"})
    template = Template.objects.get(organization=org)
    assert response.status_code == 302 and response.url == url("edit", template)
    assert template.preset_key == "newsletter" and template.version_count == 1


def test_save_adds_a_version_and_refuses_broken_syntax_keeping_the_input(login, editor, org, saved):
    client = login(editor, org)
    response = client.post(url("edit", saved), form_data(saved, subject="New {{ first_name }}"))
    assert response.status_code == 302
    saved.refresh_from_db()
    assert saved.version_count == 2

    broken = "<p>{% if first_name %}never closed</p>"
    response = client.post(url("edit", saved), form_data(saved, html=broken))
    assert response.status_code == 422
    page = response.content.decode()
    assert "line 1" in page.lower()
    assert "never closed" in page  # what was typed is still in the editor
    saved.refresh_from_db()
    assert saved.version_count == 2 and "never closed" not in saved.html


def test_preview_is_sandboxed_and_renders_unsaved_content(login, editor, org, saved):
    client = login(editor, org)
    response = client.post(
        url("preview", saved),
        form_data(saved, html="<p>Hey {{ first_name }}</p><script>x()</script>"),
    )
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp and "script-src" not in csp
    body = response.content.decode()
    assert "Hey Jane" in body and "<script" not in body
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_dark_preview_turns_on_dark_rules(login, viewer, org, saved):
    saved.html = "<style>@media (prefers-color-scheme: dark) { p { color: white } }</style><p>x</p>"
    saved.save()
    body = login(viewer, org).get(url("preview", saved), {"dark": "1"}).content.decode()
    assert "prefers-color-scheme" not in body and "color-scheme:dark" in body


def test_check_lists_unknown_tags_and_shows_the_rendered_subject(login, editor, org, saved):
    response = login(editor, org).post(
        url("check", saved), form_data(saved, html="<p>{{ frist_name }}</p>")
    )
    html = response.content.decode()
    assert "frist_name" in html and "Unknown merge tags" in html
    assert "Hi Jane" in html


def test_history_restore(login, editor, org, saved):
    client = login(editor, org)
    client.post(url("edit", saved), form_data(saved, subject="Second", html="<p>Second body</p>"))
    response = client.post(url("restore", saved, 1))
    assert response.status_code == 302
    saved.refresh_from_db()
    assert (saved.subject, saved.version_count) == ("Hi {{ first_name }}", 3)
    html = client.get(url("edit", saved)).content.decode()
    assert "restored from version 1" in html
    # Each version previews as it was saved.
    second = client.get(url("preview", saved), {"version": 2}).content.decode()
    assert "Second body" in second
    assert "Second body" not in client.get(url("preview", saved)).content.decode()
    assert client.get(url("preview", saved), {"version": 99}).status_code == 404


def test_test_send_from_the_editor(login, editor, org, saved, django_capture_on_commit_callbacks):
    client = login(editor, org)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("test-send", saved), {"recipients": "me@example.com"})
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.subject == "[Test] Hi Jane" and message.to == ["me@example.com"]

    response = client.post(
        url("test-send", saved),
        {"recipients": "me@example.com", "contact": "nobody@example.com"},
        follow=True,
    )
    assert "No contact with that address" in response.content.decode()
    assert len(mail.outbox) == 1


def test_duplicate_and_delete(login, editor, org, saved):
    client = login(editor, org)
    client.post(url("duplicate", saved))
    assert Template.objects.filter(organization=org, name="Copy of Spring news").exists()
    response = client.post(url("delete", saved), follow=True)
    assert "deleted" in response.content.decode()
    assert client.get(url("edit", saved)).status_code == 404


def test_viewer_reads_but_gets_403_on_every_write(login, viewer, org, saved):
    client = login(viewer, org)
    assert client.get(url("edit", saved)).status_code == 200
    assert client.get(url("preview", saved)).status_code == 200
    assert client.post(CREATE_URL, {"preset": "newsletter"}).status_code == 403
    assert client.post(url("edit", saved), form_data(saved, name="X")).status_code == 403
    assert client.post(url("duplicate", saved)).status_code == 403
    assert client.post(url("delete", saved)).status_code == 403
    assert client.post(url("restore", saved, 1)).status_code == 403
    assert client.post(url("test-send", saved), {"recipients": "a@example.com"}).status_code == 403
    assert Template.objects.filter(organization=org).count() == 1
    assert mail.outbox == []


def test_outsider_gets_404_everywhere(login, outsider, other_org, saved):
    client = login(outsider, other_org)
    for name in ("edit", "preview"):
        assert client.get(url(name, saved)).status_code == 404
    for name in ("edit", "preview", "check", "duplicate", "delete", "test-send"):
        assert client.post(url(name, saved), form_data(saved)).status_code == 404
    assert client.post(url("restore", saved, 1)).status_code == 404
    assert "Spring news" not in client.get(INDEX_URL).content.decode()
    saved.refresh_from_db()
    assert saved.deleted_at is None and mail.outbox == []


def test_visual_document_is_sanitized_and_cannot_run_anything(login, editor, viewer, org, saved):
    client = login(editor, org)
    response = client.post(
        url("visual", saved),
        {"html": "<p>Hi {{ first_name }}</p><script>x()</script><img src=x onerror=y()>"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Hi {{ first_name }}" in body  # merge tags as typed, to edit
    assert "<script" not in body and "onerror" not in body
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "frame-ancestors 'self'" in csp
    assert login(viewer, org).post(url("visual", saved), {"html": "<p>x</p>"}).status_code == 403


def test_outsider_gets_404_for_the_visual_document(login, outsider, other_org, saved):
    client = login(outsider, other_org)
    assert client.post(url("visual", saved), {"html": "<p>x</p>"}).status_code == 404
