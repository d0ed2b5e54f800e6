"""Tasks of the tracking app: thin, they call services."""

from __future__ import annotations

from procrastinate.contrib.django import app

from engagex.tracking import inbound_tasks  # noqa: F401  (the inbound mail jobs)
from engagex.tracking.rollup import events_rollup


# Every minute: new opens, clicks and feedback into the counters (DESIGN.md §6).
@app.periodic(cron="* * * * *", periodic_id="tracking_rollup")
@app.task(queue="default", queueing_lock="tracking_rollup")
def tracking_rollup(timestamp: int) -> dict:
    return {"counted": events_rollup()}
