"""The public view-online page: signed token, the version as sent, forged tokens 404."""

from django.urls import reverse

from engagex.contacts.tests.factories import ContactFactory
from engagex.content import services
from engagex.content.tests.factories import SIMPLE_HTML
from engagex.content.view_online import view_online_token, view_online_url


def test_view_online_shows_the_version_for_the_contact_without_login(client, org, editor):
    contact = ContactFactory(organization=org, first_name="Ada")
    template = services.template_create(
        organization=org, actor=editor, name="T", html=SIMPLE_HTML
    ).template
    link = view_online_url(template, contact=contact)
    services.template_update(
        organization=org, actor=editor, template=template, html="<p>Changed {{ first_name }}</p>"
    )

    response = client.get(link)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Hi Ada" in body and "Changed" not in body  # version 1, as it was sent
    assert "sandbox" in response["Content-Security-Policy"]


def test_forged_or_altered_tokens_get_404(client, org, editor):
    template = services.template_create(
        organization=org, actor=editor, name="T", html=SIMPLE_HTML
    ).template
    token = view_online_token(template)
    for bad in (token[:-2] + "xx", "nonsense", token.replace(":", "")):
        assert client.get(reverse("content_public:view_online", args=[bad])).status_code == 404


def test_sample_links_explain_themselves(client):
    response = client.get(reverse("content_public:sample_link", args=["unsubscribe"]))
    assert response.status_code == 200
    assert "Nobody was unsubscribed" in response.content.decode()
    assert client.get(reverse("content_public:sample_link", args=["other"])).status_code == 404
