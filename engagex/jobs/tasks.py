"""Background tasks of the jobs app. Thin: they call services."""

from __future__ import annotations

import time

from procrastinate import builtin_tasks
from procrastinate.contrib.django import app

from engagex.jobs import services

# Seconds field last (croniter's 6-field form): every 10 s, well inside the 60 s
# after which /health reports the worker down.
HEARTBEAT_CRON = "* * * * * */10"


@app.periodic(cron=HEARTBEAT_CRON, periodic_id="worker_heartbeat")
@app.task(queue="default", queueing_lock="worker_heartbeat")
def worker_heartbeat(timestamp: int) -> None:
    services.heartbeat_record()


@app.periodic(cron="17 * * * *", periodic_id="remove_old_jobs")
@app.task(queue="default", queueing_lock="remove_old_jobs", pass_context=True)
async def remove_old_jobs(context, timestamp: int) -> None:
    # Finished queue rows are bookkeeping only; job status lives in our Job table.
    await builtin_tasks.remove_old_jobs(
        context, max_hours=72, remove_failed=True, remove_cancelled=True, remove_aborted=True
    )


@app.task(queue="default")
def demo_progress(job_id: str, steps: int = 20, step_seconds: float = 0.25) -> None:
    """A job that does nothing but report progress: shows the progress machinery working."""
    with services.tracked_job(job_id):
        for step in range(1, steps + 1):
            time.sleep(step_seconds)
            services.job_set_progress(
                job_id=job_id, done=step, total=steps, message=f"Step {step} of {steps}"
            )
        services.job_succeed(job_id=job_id, message=f"Finished {steps} steps")
