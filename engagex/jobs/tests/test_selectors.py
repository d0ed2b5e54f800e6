from datetime import timedelta

import pytest
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from engagex.jobs import selectors
from engagex.jobs.models import WorkerHeartbeat
from engagex.jobs.tasks import demo_progress


@pytest.mark.django_db
def test_queue_depth_counts_due_waiting_jobs():
    assert selectors.queue_depth() == 0
    demo_progress.defer(job_id="00000000-0000-0000-0000-000000000000")
    demo_progress.configure(schedule_in={"hours": 1}).defer(
        job_id="00000000-0000-0000-0000-000000000000"
    )
    assert ProcrastinateJob.objects.count() == 2
    assert selectors.queue_depth() == 1  # the scheduled one is not waiting yet
    assert selectors.queue_depth_by_queue() == {"default": 1}


@pytest.mark.django_db
def test_heartbeat_age():
    assert selectors.heartbeat_age_seconds() is None
    WorkerHeartbeat.objects.create(worker="a", last_seen=timezone.now() - timedelta(seconds=90))
    WorkerHeartbeat.objects.create(worker="b", last_seen=timezone.now() - timedelta(seconds=5))
    assert 4 <= selectors.heartbeat_age_seconds() < 30  # the newest worker counts


def test_job_list_is_scoped_to_the_organization(org, other_org):
    from engagex.jobs.services import job_create

    mine = job_create(organization=org, kind="demo", title="mine")
    job_create(organization=other_org, kind="demo", title="theirs")
    assert selectors.job_list(organization=org) == [mine]
    assert selectors.job_list(organization=org, kind="contacts.import") == []
