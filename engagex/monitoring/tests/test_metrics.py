import re

import pytest

from engagex.jobs.tasks import demo_progress


def _sample(text: str, name: str, **labels) -> float | None:
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


@pytest.mark.django_db
def test_request_counts_latency_and_queue_depth_are_exported(client):
    before = client.get("/metrics").content.decode()
    start = _sample(before, "engagex_http_requests_total", route="/health", status="503") or 0
    client.get("/health")
    client.get("/health")
    demo_progress.defer(job_id="00000000-0000-0000-0000-000000000000")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert _sample(text, "engagex_http_requests_total", route="/health", status="503") == start + 2
    assert _sample(text, "engagex_http_request_duration_seconds_count", route="/health") >= 2
    assert _sample(text, "engagex_job_queue_depth", queue="default") == 1
    assert re.search(r"^process_resident_memory_bytes \d", text, re.MULTILINE)


@pytest.mark.django_db
def test_unknown_paths_share_one_label(client):
    client.get("/no-such-page-1")
    client.get("/no-such-page-2")
    text = client.get("/metrics").content.decode()
    assert "no-such-page" not in text
    assert _sample(text, "engagex_http_requests_total", route="<unmatched>", status="404") >= 2


@pytest.mark.django_db
def test_token_protects_metrics_when_configured(client, settings):
    settings.METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200
