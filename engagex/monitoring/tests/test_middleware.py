import json
import logging

import pytest


@pytest.mark.django_db
def test_every_response_carries_a_request_id(client):
    first = client.get("/health")["X-Request-ID"]
    second = client.get("/health")["X-Request-ID"]
    assert len(first) == 32 and first != second


@pytest.mark.django_db
def test_a_sane_incoming_request_id_is_kept(client):
    response = client.get("/health", headers={"X-Request-ID": "lb-7f3a9c21-0001"})
    assert response["X-Request-ID"] == "lb-7f3a9c21-0001"


@pytest.mark.django_db
@pytest.mark.parametrize("incoming", ["short", "x" * 65, "bad id\r\nSet-Cookie: a=b", "<script>"])
def test_a_dubious_incoming_request_id_is_replaced(client, incoming):
    response = client.get("/health", headers={"X-Request-ID": incoming})
    assert response["X-Request-ID"] != incoming
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_request_log_line_is_structured_and_carries_the_id(client, caplog):
    caplog.set_level(logging.INFO, logger="engagex.request")
    response = client.get("/", headers={"X-Request-ID": "trace-0123456789"})
    records = [r for r in caplog.records if r.name == "engagex.request"]
    assert records, "the request was logged"
    event = records[-1].msg  # structlog hands the event dict to the stdlib formatter
    assert event["event"] == "request"
    assert event["request_id"] == "trace-0123456789"
    assert (event["method"], event["path"], event["status"]) == ("GET", "/", response.status_code)
    assert event["route"] == "/"
    json.dumps(event, default=str)  # renders as one JSON line in production
