"""Tasks of the campaigns app: thin, they call services."""

from __future__ import annotations

from procrastinate.contrib.django import app

from engagex.campaigns.services import campaigns_follow_mailings, campaigns_start_due


# Every minute: a scheduled campaign starts within a minute of its time, and campaign
# statuses follow their mailings (sent, throttled).
@app.periodic(cron="* * * * *", periodic_id="campaigns_tick")
@app.task(queue="default", queueing_lock="campaigns_tick")
def campaigns_tick(timestamp: int) -> dict:
    return {"started": campaigns_start_due(), "followed": campaigns_follow_mailings()}
