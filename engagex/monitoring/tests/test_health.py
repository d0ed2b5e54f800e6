from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from engagex.jobs.models import WorkerHeartbeat
from engagex.jobs.tasks import demo_progress

URL = "/health"


def _beat(seconds_ago: float) -> None:
    WorkerHeartbeat.objects.create(
        worker="test:1", last_seen=timezone.now() - timedelta(seconds=seconds_ago)
    )


@pytest.mark.django_db
def test_healthy_when_database_and_worker_are_up(client):
    _beat(5)
    demo_progress.defer(job_id="00000000-0000-0000-0000-000000000000")
    response = client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("status", "database", "worker", "queue_depth")} == {
        "status": "ok",
        "database": "ok",
        "worker": "ok",
        "queue_depth": 1,
    }
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
@pytest.mark.parametrize("seconds_ago", [61, None])
def test_stale_or_missing_heartbeat_means_worker_down(client, seconds_ago):
    if seconds_ago is not None:
        _beat(seconds_ago)
    response = client.get(URL)
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"], body["worker"], body["down"]) == (
        "error",
        "ok",
        "down",
        ["worker"],
    )


@pytest.mark.django_db(transaction=True)
def test_unreachable_database_is_reported(client):
    original_host = connection.settings_dict["HOST"]
    connection.close()
    connection.settings_dict["HOST"] = "/nonexistent-socket-dir"
    try:
        response = client.get(URL)
    finally:
        connection.close()
        connection.settings_dict["HOST"] = original_host
    assert response.status_code == 503
    body = response.json()
    assert (body["database"], body["worker"], body["down"]) == (
        "down",
        "unknown",
        ["database", "worker"],
    )
    assert body["queue_depth"] is None


@pytest.mark.django_db
def test_health_only_answers_reads(client):
    assert client.post(URL).status_code == 405
