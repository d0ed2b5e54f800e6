import json

import pytest
from django.contrib import messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpResponse
from django.test import RequestFactory

from engagex.web.middleware import HtmxToastMiddleware


def _request(htmx: bool):
    request = RequestFactory().post("/")
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    request.htmx = htmx
    return request


def _view(status=200, trigger=None):
    def view(request):
        messages.success(request, "Contacts imported")
        response = HttpResponse(status=status)
        if trigger:
            response["HX-Trigger"] = trigger
        return response

    return view


@pytest.mark.django_db
def test_htmx_partial_carries_messages_as_toast_trigger():
    response = HtmxToastMiddleware(_view())(_request(htmx=True))
    assert json.loads(response["HX-Trigger"]) == {
        "toast": {"messages": [{"message": "Contacts imported", "level": "success"}]}
    }


@pytest.mark.django_db
def test_existing_triggers_are_kept():
    response = HtmxToastMiddleware(_view(trigger="listChanged"))(_request(htmx=True))
    triggers = json.loads(response["HX-Trigger"])
    assert "listChanged" in triggers and "toast" in triggers


@pytest.mark.django_db
@pytest.mark.parametrize(("htmx", "status"), [(False, 200), (True, 302)])
def test_full_pages_and_redirects_keep_messages_for_the_page(htmx, status):
    request = _request(htmx=htmx)
    response = HtmxToastMiddleware(_view(status=status))(request)
    assert "HX-Trigger" not in response
    assert [str(m) for m in messages.get_messages(request)] == ["Contacts imported"]
