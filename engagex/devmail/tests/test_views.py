import pytest
from django.urls import reverse

from engagex.devmail import services
from engagex.devmail.models import CapturedMessage

MULTIPART = (
    b"From: Acme <news@acme.test>\r\nTo: jane@example.com\r\nSubject: Spring sale\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=XX\r\n\r\n"
    b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlain body here\r\n"
    b"--XX\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    b"<p style='color:red'>HTML body</p><script>alert(1)</script>\r\n--XX--\r\n"
)


@pytest.fixture
def captured(db):
    return services.message_store(
        raw=MULTIPART, mail_from="news@acme.test", recipients=["jane@example.com"]
    )


def test_everything_is_404_without_debug(client, captured, settings):
    settings.DEBUG = False
    for url in (
        reverse("devmail:inbox"),
        reverse("devmail:detail", args=[captured.id]),
        reverse("devmail:html", args=[captured.id]),
    ):
        assert client.get(url).status_code == 404
    assert client.post(reverse("devmail:clear")).status_code == 404
    assert CapturedMessage.objects.count() == 1


def test_inbox_lists_and_searches(client, captured, debug_on):
    services.message_store(
        raw=b"Subject: Password reset\r\n\r\nx",
        mail_from="no-reply@e.test",
        recipients=["bob@x.test"],
    )
    page = client.get(reverse("devmail:inbox")).content.decode()
    assert "Spring sale" in page and "Password reset" in page
    assert "2 emails captured" in page
    found = client.get(reverse("devmail:inbox"), {"q": "bob@x"}).content.decode()
    assert "Password reset" in found and "Spring sale" not in found
    nothing = client.get(reverse("devmail:inbox"), {"q": "zzz"}).content.decode()
    assert "Nothing matches your search" in nothing


def test_inbox_htmx_search_returns_only_the_results(client, captured, debug_on):
    response = client.get(
        reverse("devmail:inbox"),
        {"q": "spring"},
        headers={"HX-Request": "true", "HX-Target": "inbox-results"},
    )
    body = response.content.decode()
    assert 'id="inbox-results"' in body and "Spring sale" in body
    assert "<html" not in body and "table-toolbar" not in body


def test_empty_inbox_explains_itself(client, debug_on, db):
    page = client.get(reverse("devmail:inbox")).content.decode()
    assert "No emails captured yet" in page


def test_detail_views(client, captured, debug_on):
    url = reverse("devmail:detail", args=[captured.id])
    html_tab = client.get(url).content.decode()
    assert f'src="{reverse("devmail:html", args=[captured.id])}"' in html_tab
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in html_tab
    assert "Plain body here" in client.get(url, {"view": "text"}).content.decode()
    raw = client.get(url, {"view": "raw"}).content.decode()
    assert "Content-Type: multipart/alternative" in raw
    assert "&lt;script&gt;" in raw  # escaped, never live markup
    headers = client.get(url, {"view": "headers"}).content.decode()
    assert "MIME-Version" in headers


def test_html_body_is_served_sandboxed(client, captured, debug_on):
    response = client.get(reverse("devmail:html", args=[captured.id]))
    assert b"<p style='color:red'>HTML body</p>" in response.content
    policy = response["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy
    assert "script-src" not in policy  # falls back to default-src 'none': scripts never run
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_text_only_message_opens_on_the_text_tab(client, debug_on, db):
    message = services.message_store(
        raw=b"Subject: Plain\r\n\r\nJust text", mail_from="a@b.test", recipients=["c@d.test"]
    )
    page = client.get(reverse("devmail:detail", args=[message.id])).content.decode()
    assert "Just text" in page
    html_tab = client.get(reverse("devmail:detail", args=[message.id]), {"view": "html"})
    assert "No HTML part" in html_tab.content.decode()


def test_unknown_message_is_404(client, debug_on, db):
    assert client.get(reverse("devmail:detail", args=[999999])).status_code == 404


def test_delete_and_clear(client, captured, debug_on):
    other = services.message_store(
        raw=b"Subject: B\r\n\r\nx", mail_from="", recipients=["c@d.test"]
    )
    assert client.get(reverse("devmail:delete", args=[captured.id])).status_code == 405
    response = client.post(reverse("devmail:delete", args=[captured.id]), follow=True)
    assert "Email deleted" in response.content.decode()
    assert list(CapturedMessage.objects.values_list("id", flat=True)) == [other.id]
    response = client.post(reverse("devmail:clear"), follow=True)
    assert "Inbox cleared (1 emails deleted)" in response.content.decode()
    assert not CapturedMessage.objects.exists()
