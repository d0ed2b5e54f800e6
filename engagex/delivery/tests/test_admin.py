"""Operators exempt an established sender from warm-up in Django admin; the transport
and its secrets stay the organization's (read-only, never shown)."""

from django.urls import reverse

from engagex.accounts.tests.factories import UserFactory
from engagex.delivery.limits import send_limits
from engagex.delivery.models import SendingSettings
from engagex.lib import secretbox


def test_staff_exempt_an_organization_from_warm_up(client, org):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert send_limits(org).hourly == 50
    response = client.post(
        reverse("admin:delivery_sendingsettings_add"),
        {"organization": org.pk, "warmup_exempt": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert send_limits(org).hourly == 500  # the free plan's own pace


def test_the_change_page_never_shows_secrets_nor_lets_staff_change_the_transport(client, org):
    row = SendingSettings.objects.create(
        organization=org,
        transport="smtp",
        smtp_host="mx.acme.example",
        smtp_password_encrypted=secretbox.encrypt("hunter2"),
    )
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:delivery_sendingsettings_change", args=[org.pk])
    page = client.get(url).content.decode()
    assert "mx.acme.example" in page
    assert "hunter2" not in page and row.smtp_password_encrypted not in page
    client.post(url, {"warmup_exempt": "on", "transport": "platform", "smtp_host": "evil"})
    row.refresh_from_db()
    assert row.warmup_exempt and (row.transport, row.smtp_host) == ("smtp", "mx.acme.example")
