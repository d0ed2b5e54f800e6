"""The recipients CSV: the current tab and search, every cell safe for spreadsheets,
editors only, audited."""

import csv
import io

from django.urls import reverse

from engagex.analytics.tests.conftest import ANN, BOB, CAT, EVE, FAY, FORMULA, GUS
from engagex.audit.models import AuditEntry


def export_url(campaign):
    return reverse("campaigns:report-recipients-csv", args=[campaign.pk])


def rows(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_export_of_a_tab(login, editor, established_org, story):
    response = login(editor, established_org).get(export_url(story), {"activity": "opened"})
    assert 'filename="spring-sale-opened.csv"' in response["Content-Disposition"]
    exported = rows(response)
    assert sorted(row["email"] for row in exported) == [ANN, BOB]
    ann = next(row for row in exported if row["email"] == ANN)
    assert ann["status"] == "sent" and ann["opened_at"] and ann["clicked_at"]
    assert list(ann) == [
        "email",
        "status",
        "sent_at",
        "opened_at",
        "clicked_at",
        "bounced_at",
        "bounce_type",
        "unsubscribed_at",
        "complained_at",
    ]


def test_export_is_safe_to_open_in_a_spreadsheet(login, editor, established_org, story):
    client = login(editor, established_org)
    exported = rows(client.get(export_url(story), {"activity": "not_opened"}))
    assert sorted(row["email"] for row in exported) == sorted([CAT, EVE, FAY, GUS, "'" + FORMULA])


def test_export_follows_the_search(login, editor, established_org, story):
    client = login(editor, established_org)
    exported = rows(client.get(export_url(story), {"activity": "all", "q": "fay"}))
    assert [row["email"] for row in exported] == [FAY]
    entry = AuditEntry.objects.get(action="campaigns.report_exported")
    assert entry.target_id == str(story.pk)
    assert entry.metadata == {"activity": "all", "searched": True}


def test_viewers_cannot_export(login, viewer, established_org, story):
    assert login(viewer, established_org).get(export_url(story)).status_code == 403
    assert not AuditEntry.objects.filter(action="campaigns.report_exported").exists()


def test_another_organizations_export_is_404(login, outsider, other_org, story):
    assert login(outsider, other_org).get(export_url(story)).status_code == 404
