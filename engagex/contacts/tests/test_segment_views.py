"""Segment pages: list with lazy counts, builder (with and without JavaScript), live
count, detail, duplicate, delete — and who may do what."""

import pytest
from django.utils import timezone

from engagex.audit.models import AuditEntry
from engagex.contacts.models import Segment
from engagex.contacts.tests.factories import (
    ContactFactory,
    ContactListFactory,
    SegmentFactory,
)

LIST = "/contacts/segments/"
NEW = "/contacts/segments/new/"
PREVIEW = "/contacts/segments/preview/"
VIP = {"match": "all", "rules": [{"field": "tags", "operator": "has_any", "value": ["vip"]}]}


def url(segment, action=""):
    return f"/contacts/segments/{segment.pk}/" + (f"{action}/" if action else "")


@pytest.fixture
def audience(org):
    ContactFactory(organization=org, email="anna@gmail.com", tags=["vip"])
    ContactFactory(organization=org, email="ben@gmail.com", tags=["vip"], status="bounced")
    ContactFactory(organization=org, email="cleo@yahoo.com", tags=[])
    ContactFactory(
        organization=org, email="gone@gmail.com", tags=["vip"], deleted_at=timezone.now()
    )
    return org


def builder_post(name="Gmail VIPs", **extra):
    data = {
        "name": name,
        "description": "",
        "match": "all",
        "rules-0-field": "domain",
        "rules-0-operator": "equals",
        "rules-0-value": "gmail.com",
        "rules-4-match": "any",
        "rules-4-rules-2-field": "tags",
        "rules-4-rules-2-operator": "has_any",
        "rules-4-rules-2-value": "vip, fan",
        "rules-4-rules-7-field": "first_name",
        "rules-4-rules-7-operator": "is_set",
    }
    data.update(extra)
    return data


# -- list -------------------------------------------------------------------------------


def test_empty_state_explains_segments(login, editor, org):
    html = login(editor, org).get(LIST).content.decode()
    assert "No segments yet" in html
    assert "evaluated fresh" in html
    assert f'href="{NEW}"' in html


def test_viewer_sees_list_and_counts_but_no_write_buttons(login, viewer, audience):
    segment = SegmentFactory(organization=audience, name="VIPs", rules=VIP)
    client = login(viewer, audience)
    html = client.get(LIST).content.decode()
    assert "VIPs" in html and "Tags has any of vip" in html
    assert url(segment, "count") in html  # counted lazily
    assert NEW not in html and url(segment, "delete") not in html
    count = client.get(url(segment, "count")).content.decode()
    assert ">2<" in count  # anna and ben; the deleted contact never counts


def test_list_search_filter_and_query_count(
    login, editor, owner, org, django_assert_max_num_queries
):
    SegmentFactory(organization=org, name="Newsletter fans", rules=VIP, created_by=editor)
    SegmentFactory(organization=org, name="Churn risk", rules=VIP, created_by=owner)
    for number in range(10):
        SegmentFactory(organization=org, name=f"Extra {number}", rules=VIP)
    client = login(editor, org)
    with django_assert_max_num_queries(12):
        assert client.get(LIST).status_code == 200
    html = client.get(LIST, {"q": "churn"}).content.decode()
    assert "Churn risk" in html and "Newsletter fans" not in html
    html = client.get(LIST, {"owner": "mine"}).content.decode()
    assert "Newsletter fans" in html and "Churn risk" not in html


def test_count_cell_flags_segments_whose_rules_went_stale(login, editor, org):
    newsletter = ContactListFactory(organization=org)
    rules = {
        "match": "all",
        "rules": [{"field": "list", "operator": "member_of", "value": str(newsletter.pk)}],
    }
    segment = SegmentFactory(organization=org, rules=rules)
    newsletter.delete()
    html = login(editor, org).get(url(segment, "count")).content.decode()
    assert "Needs fixing" in html
    assert "does not exist" in html


# -- builder ----------------------------------------------------------------------------


def test_builder_starts_with_one_rule_and_the_live_count(login, editor, audience):
    html = login(editor, audience).get(NEW).content.decode()
    assert 'name="rules-0-field"' in html
    assert 'id="segment-catalog"' in html
    assert '<option value="no_open">Has not opened</option>' in html  # activity rules offered
    assert "Matching contacts" in html
    assert ">2<" in html  # "status is subscribed": anna and cleo


def test_create_without_javascript_saves_the_indexed_rules(login, editor, audience):
    response = login(editor, audience).post(NEW, builder_post(), follow=True)
    segment = Segment.objects.get()
    assert response.redirect_chain[-1][0] == url(segment)
    assert segment.rules == {
        "match": "all",
        "rules": [
            {"field": "domain", "operator": "equals", "value": ["gmail.com"]},
            {
                "match": "any",
                "rules": [
                    {"field": "tags", "operator": "has_any", "value": ["vip", "fan"]},
                    {"field": "first_name", "operator": "is_set", "value": None},
                ],
            },
        ],
    }
    html = response.content.decode()
    assert "Segment “Gmail VIPs” saved" in html
    assert "anna@gmail.com" in html and "ben@gmail.com" in html
    assert "cleo@yahoo.com" not in html and "gone@gmail.com" not in html
    assert AuditEntry.objects.filter(action="contacts.segment_created").count() == 1


def test_bad_rules_are_shown_on_their_row_and_nothing_is_saved(login, editor, org):
    data = builder_post(**{"rules-4-rules-2-operator": "greater", "rules-0-value": "nodot"})
    response = login(editor, org).post(NEW, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "The segment was not saved" in html
    assert "Rule 1 (Email domain): “nodot” is not a domain" in html
    assert "Group 2, rule 1 (Tags): “greater” does not apply to this field." in html
    assert 'value="Gmail VIPs"' in html  # what was typed stays
    assert not Segment.objects.exists()


def test_missing_name_and_no_rules(login, editor, org):
    response = login(editor, org).post(NEW, {"name": "", "match": "all"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Give the segment a name." in html
    assert "Add at least one rule." in html
    assert not Segment.objects.exists()


def test_add_and_remove_buttons_work_without_javascript(login, editor, org):
    client = login(editor, org)
    html = client.post(NEW, builder_post(add="group")).content.decode()
    assert 'name="rules-2-rules-0-field"' in html  # a new group with one rule
    html = client.post(NEW, builder_post(add="rules-4")).content.decode()
    assert 'name="rules-1-rules-2-field"' in html  # a third rule in the group
    html = client.post(NEW, builder_post(remove="rules-4-rules-2")).content.decode()
    assert 'name="rules-1-rules-1-field"' not in html
    assert 'value="Gmail VIPs"' in html
    assert not Segment.objects.exists()


def test_live_count_and_preview(login, editor, audience):
    client = login(editor, audience)
    html = client.post(PREVIEW, builder_post(), HTTP_HX_REQUEST="true").content.decode()
    assert ">2<" in html
    assert "anna@gmail.com" in html and "cleo@yahoo.com" not in html
    html = client.post(PREVIEW, builder_post(**{"rules-0-value": ""})).content.decode()
    assert "Rule 1 (Email domain): Enter a value." in html


def test_edit_saves_changes(login, editor, audience):
    segment = SegmentFactory(organization=audience, name="VIPs", rules=VIP)
    client = login(editor, audience)
    html = client.get(url(segment, "edit")).content.decode()
    assert 'value="VIPs"' in html and 'value="vip"' in html
    response = client.post(url(segment, "edit"), builder_post(name="Gmail only"))
    assert response.status_code == 302
    segment.refresh_from_db()
    assert segment.name == "Gmail only"
    assert segment.rules["rules"][0]["field"] == "domain"


# -- detail, duplicate, delete ------------------------------------------------------------


def test_detail_shows_count_rules_and_matching_contacts(login, viewer, audience):
    segment = SegmentFactory(organization=audience, name="VIPs", rules=VIP)
    html = login(viewer, audience).get(url(segment)).content.decode()
    assert "Tags has any of vip" in html
    assert "anna@gmail.com" in html and "ben@gmail.com" in html
    assert "cleo@yahoo.com" not in html and "gone@gmail.com" not in html
    assert "Showing 1\u20132 of 2" in html
    assert url(segment, "edit") not in html  # viewers read only


def test_duplicate_and_delete(login, editor, org):
    segment = SegmentFactory(organization=org, name="VIPs", rules=VIP)
    client = login(editor, org)
    response = client.post(url(segment, "duplicate"))
    copy = Segment.objects.get(name="Copy of VIPs")
    assert response["Location"] == url(copy, "edit")
    response = client.post(url(segment, "delete"), follow=True)
    assert "Segment “VIPs” deleted" in response.content.decode()
    assert list(Segment.objects.values_list("name", flat=True)) == ["Copy of VIPs"]


# -- access -------------------------------------------------------------------------------


def test_viewer_gets_403_on_every_write(login, viewer, org):
    segment = SegmentFactory(organization=org, rules=VIP)
    client = login(viewer, org)
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, builder_post()).status_code == 403
    assert client.get(url(segment, "edit")).status_code == 403
    assert client.post(url(segment, "edit"), builder_post()).status_code == 403
    assert client.post(url(segment, "duplicate")).status_code == 403
    assert client.post(url(segment, "delete")).status_code == 403
    assert Segment.objects.count() == 1
    assert Segment.objects.get().rules == VIP


def test_outsider_gets_404_for_another_organizations_segment(login, outsider, other_org, org):
    segment = SegmentFactory(organization=org, rules=VIP)
    client = login(outsider, other_org)
    for action in ("", "edit", "count"):
        assert client.get(url(segment, action)).status_code == 404
    for action in ("edit", "duplicate", "delete"):
        assert client.post(url(segment, action), builder_post()).status_code == 404
    assert Segment.objects.filter(pk=segment.pk, name=segment.name).exists()


def test_live_count_never_sees_another_organizations_contacts_or_lists(
    login, outsider, other_org, audience
):
    foreign_list = ContactListFactory(organization=audience)
    client = login(outsider, other_org)
    html = client.post(PREVIEW, builder_post()).content.decode()
    assert "anna@gmail.com" not in html
    assert ">0<" in html
    data = {
        "match": "all",
        "rules-0-field": "list",
        "rules-0-operator": "member_of",
        "rules-0-value": str(foreign_list.pk),
    }
    html = client.post(PREVIEW, data).content.decode()
    assert "That list does not exist (any more) in this organization." in html


def test_anonymous_visitors_sign_in_first(client, org):
    segment = SegmentFactory(organization=org, rules=VIP)
    for path in (LIST, NEW, url(segment)):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response["Location"]
