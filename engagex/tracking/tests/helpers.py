"""Send a real mailing through a sender into the test SMTP server, then read back what
a recipient got: the tracked links and pixel of their copy."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default as default_policy
from urllib.parse import urlsplit

from engagex.contacts.tests.factories import ContactFactory
from engagex.delivery.models import Delivery
from engagex.delivery.tests.helpers import drain, new_sender, queue

NEWSLETTER = (
    "<html><body><h1>Hi {{ first_name }}</h1>"
    '<p><a href="https://shop.example/sale?a=1&amp;b=2">Sale</a>'
    ' <a href="https://shop.example/new">New</a>'
    ' <a href="https://shop.example/sale?a=1&amp;b=2">Sale again</a>'
    ' <a href="https://shop.example/for/{{ first_name }}">Yours</a>'
    ' <a href="mailto:help@shop.example">Mail us</a>'
    ' <a href="#top">Top</a>'
    ' <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
    "</body></html>"
)
_SRC_OR_HREF = re.compile(r'(?:href|src)="([^"]+)"')


def send_newsletter(org, sink, *, people=("ann",), html=NEWSLETTER, **mailing_options):
    """A mailing to one contact per name, sent for real; returns (mailing, {name: copy})."""
    contacts = [
        ContactFactory(
            organization=org, email=f"{name}@example.com", first_name=name.title(), last_name=""
        )
        for name in people
    ]
    mailing = queue(org, contacts, html=html, **mailing_options)
    smtp, handler = sink
    drain(new_sender(smtp))
    copies = {}
    for _, rcpt, data in handler.messages:
        message = message_from_bytes(data, policy=default_policy)
        copies[rcpt.split("@")[0]] = message.get_body(("html",)).get_content()
    return mailing, copies


def paths(html: str, prefix: str) -> list[str]:
    """The paths of the links/images in a copy that start with `prefix` (e.g. /t/c/)."""
    found = []
    for url in _SRC_OR_HREF.findall(html):
        path = urlsplit(url).path
        if path.startswith(prefix):
            found.append(path)
    return found


def delivery_of(mailing, name: str) -> Delivery:
    return Delivery.objects.get(mailing=mailing, email=f"{name}@example.com")
