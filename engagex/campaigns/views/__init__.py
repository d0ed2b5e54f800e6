"""HTML pages of campaigns: the list (`list.py`), the wizard (`wizard.py`) and the
campaign page with its lifecycle actions and live progress (`detail.py`).

Thin views: access check → form → service or selector → render. Everyone in the
organization reads; editors and up write (POST by a viewer is a 403); another
organization's campaign is a 404.
"""

from __future__ import annotations

from engagex.accounts.tenancy import get_for_org
from engagex.campaigns.models import Campaign


def campaign_for(request, pk) -> Campaign:
    return get_for_org(
        Campaign.objects.select_related("organization", "template", "mailing"),
        request.organization,
        pk,
    )


def schedule_session_key(campaign) -> str:
    """The schedule step's choice lives in the session until the review sends it:
    a draft has nowhere else to keep "send at 9:00 tomorrow" (scheduling is the act)."""
    return f"campaigns:schedule:{campaign.pk}"
