"""Link rewriting: which links are tracked, and what a recipient's copy holds."""

from engagex.tracking.links import rewrite
from engagex.tracking.models import TrackedLink
from engagex.tracking.tests.helpers import NEWSLETTER, paths, send_newsletter


def test_content_links_are_numbered_once_each_and_our_own_links_are_left_alone():
    tracked = rewrite(NEWSLETTER, clicks=True, opens=True)
    assert tracked.links == [
        "https://shop.example/sale?a=1&amp;b=2",
        "https://shop.example/new",
        "https://shop.example/for/{{ first_name }}",
    ]
    html = tracked.html
    assert "mailto:help@shop.example" in html and 'href="#top"' in html
    assert 'href="{{ unsubscribe_url }}"' in html
    assert html.count("/t/c/{{ __clicks[0] }}") == 2  # the same address twice: one link
    assert html.index("/t/o/{{ __open }}") < html.index("</body>")


def test_tracking_off_leaves_the_html_as_it_was():
    assert rewrite(NEWSLETTER, clicks=False, opens=False).html == NEWSLETTER


def test_each_recipient_gets_their_own_tracked_links_and_pixel(established_org, sink):
    mailing, copies = send_newsletter(established_org, sink, people=("ann", "bob"))

    ann, bob = copies["ann"], copies["bob"]
    assert len(paths(ann, "/t/c/")) == 4 and len(set(paths(ann, "/t/c/"))) == 3
    assert len(paths(ann, "/t/o/")) == 1
    assert set(paths(ann, "/t/c/")).isdisjoint(paths(bob, "/t/c/"))
    assert "https://shop.example" not in ann  # no content link goes out untracked
    assert "/u/" in ann and "mailto:help@shop.example" in ann
    stored = TrackedLink.objects.filter(mailing=mailing).order_by("index")
    assert [link.url for link in stored] == rewrite(NEWSLETTER, clicks=True, opens=True).links
    assert {link.organization_id for link in stored} == {established_org.pk}


def test_a_mailing_without_tracking_goes_out_untracked(established_org, sink):
    _, copies = send_newsletter(established_org, sink, track_opens=False, track_clicks=False)
    assert 'href="https://shop.example/new"' in copies["ann"]
    assert paths(copies["ann"], "/t/") == []
