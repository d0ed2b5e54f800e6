"""The campaign wizard: content → audience → settings → schedule → review.

Each step is a page at `/campaigns/<id>/edit/<step>/`. "Next" saves the step and moves
on, "Back" saves and goes back (so nothing typed is lost), the stepper links jump
anywhere. A campaign that has started is shown read-only (the services refuse edits
too). The review step shows the pre-send checklist; "Send now" and "Schedule" post to
`detail.campaign_send` / `detail.campaign_schedule`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from engagex.accounts.tenancy import organization_required
from engagex.campaigns import services
from engagex.campaigns.audience import audience_count, audience_resolve
from engagex.campaigns.checks import campaign_checklist
from engagex.campaigns.forms import (
    DATETIME_LOCAL_FORMAT,
    PRESET_PREFIX,
    TEMPLATE_PREFIX,
    AudienceForm,
    ContentForm,
    ScheduleForm,
    SettingsForm,
    apply_service_errors,
)
from engagex.campaigns.models import Campaign
from engagex.campaigns.views import campaign_for, schedule_session_key
from engagex.contacts.selectors.lists import list_member_counts
from engagex.content import services as content_services


@dataclass(frozen=True)
class Step:
    key: str
    title: str


STEPS = (
    Step("content", gettext_lazy("Content")),
    Step("audience", gettext_lazy("Audience")),
    Step("settings", gettext_lazy("Settings")),
    Step("schedule", gettext_lazy("Schedule")),
    Step("review", gettext_lazy("Review")),
)
STEP_KEYS = [step.key for step in STEPS]


def _neighbour(step: str, offset: int) -> str:
    index = STEP_KEYS.index(step) + offset
    return STEP_KEYS[max(0, min(index, len(STEP_KEYS) - 1))]


def _is_editable(request, campaign) -> bool:
    return request.membership.can_write and campaign.status in services.EDITABLE


def stored_schedule(request, campaign) -> dt.datetime | str | None:
    """What the schedule step chose: an aware datetime, "now", or None (not chosen yet).
    A scheduled campaign's own time counts until the step chooses another."""
    value = request.session.get(schedule_session_key(campaign))
    if value == ScheduleForm.NOW:
        return ScheduleForm.NOW
    try:
        chosen = dt.datetime.fromisoformat(value) if value else None
    except ValueError:
        chosen = None
    if chosen is None and campaign.status == Campaign.Status.SCHEDULED:
        return campaign.scheduled_at
    return chosen


def _step_states(request, campaign, current: str) -> list[dict]:
    done = {
        "content": campaign.template_id is not None,
        "audience": bool(campaign.lists or campaign.segments),
        "settings": bool(campaign.from_name and campaign.from_email),
        "schedule": stored_schedule(request, campaign) is not None,
        "review": False,
    }
    return [
        {
            "key": step.key,
            "title": step.title,
            "number": number,
            "state": "current" if step.key == current else ("done" if done[step.key] else "todo"),
        }
        for number, step in enumerate(STEPS, start=1)
    ]


# --------------------------------------------------------------------------- steps
# Each returns (form, extra context) for GET, and on a valid POST saves and returns None
# as the form (the caller redirects).


def _content_step(request, campaign, data):
    initial = {"subject": campaign.subject, "preheader": campaign.preheader}
    if campaign.template_id:
        initial["choice"] = f"{TEMPLATE_PREFIX}{campaign.template_id}"
    form = ContentForm(data, organization=request.organization, initial=initial)
    if campaign.template is not None:
        for name in ("subject", "preheader"):
            form.fields[name].widget.attrs["placeholder"] = getattr(campaign.template, name)
    if data is None or not form.is_valid():
        return form, {}
    template = form.chosen_template()
    try:
        # Both or neither: no orphan template when the campaign refuses the change.
        with transaction.atomic():
            template, created = _content_save(request, campaign, form, template)
    except ValidationError as error:
        apply_service_errors(form, error)
        return form, {}
    if created:
        messages.info(
            request,
            _("Template “%(name)s” created from the design: edit it any time.")
            % {"name": template.name},
        )
    return None, {}


def _content_save(request, campaign, form, template):
    created = template is None
    if created:
        template = content_services.template_create_from_preset(
            organization=request.organization,
            actor=request.user,
            preset_key=form.chosen_preset_key(),
            name=campaign.name,
        ).template
    services.campaign_update(
        organization=request.organization,
        actor=request.user,
        campaign=campaign,
        template=template,
        subject=form.cleaned_data["subject"],
        preheader=form.cleaned_data["preheader"],
    )
    return template, created


def _audience_step(request, campaign, data):
    initial = {
        "lists": campaign.lists,
        "segments": campaign.segments,
        "excluded_lists": campaign.excluded_lists,
        "excluded_segments": campaign.excluded_segments,
    }
    form = AudienceForm(data, organization=request.organization, initial=initial)
    if data is not None and form.is_valid():
        try:
            services.campaign_update(
                organization=request.organization,
                actor=request.user,
                campaign=campaign,
                **form.service_fields(),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            return None, {}
    list_counts = list_member_counts(
        organization=request.organization,
        list_ids=[row.pk for row in form.fields["lists"].queryset],
    )
    if data is None:
        live = audience_live(campaign)
    else:
        unsaved = AudienceForm(data, organization=request.organization, require_selection=False)
        live = audience_live_for(request.organization, unsaved)
    options = {
        name: form.options(name, list_counts if "lists" in name else None)
        for name in ("lists", "segments", "excluded_lists", "excluded_segments")
    }
    return form, {"options": options, "live": live}


def _settings_step(request, campaign, data):
    initial = {
        "from_name": campaign.from_name,
        "from_email": campaign.from_email,
        "reply_to": campaign.reply_to,
        "track_opens": campaign.track_opens,
        "track_clicks": campaign.track_clicks,
    }
    form = SettingsForm(data, initial=initial)
    if data is None or not form.is_valid():
        return form, {}
    try:
        services.campaign_update(
            organization=request.organization,
            actor=request.user,
            campaign=campaign,
            **form.cleaned_data,
        )
    except ValidationError as error:
        apply_service_errors(form, error)
        return form, {}
    return None, {}


def _schedule_step(request, campaign, data):
    stored = stored_schedule(request, campaign)
    initial = {"when": ScheduleForm.NOW}
    if isinstance(stored, dt.datetime):
        initial = {
            "when": ScheduleForm.LATER,
            "send_at": timezone.localtime(stored).strftime(DATETIME_LOCAL_FORMAT),
        }
    form = ScheduleForm(data, initial=initial, time_zone_name=request.organization.time_zone)
    if data is None or not form.is_valid():
        return form, {}
    send_at = form.cleaned_data["send_at"]
    # Applied by the review step's button (a scheduled campaign keeps its time till then).
    request.session[schedule_session_key(campaign)] = (
        send_at.isoformat() if send_at else ScheduleForm.NOW
    )
    return None, {}


def _review_step(request, campaign, data):
    audience = audience_resolve(campaign)
    try:
        checklist = campaign_checklist(campaign, audience)
        checklist_problem = ""
    except ValidationError as error:  # e.g. a segment whose rules no longer compile
        checklist = None
        checklist_problem = " ".join(error.messages)
    schedule = stored_schedule(request, campaign)
    return None, {
        "audience": audience,
        "checklist": checklist,
        "checklist_problem": checklist_problem,
        "schedule": schedule,
        "send_at_value": timezone.localtime(schedule).strftime(DATETIME_LOCAL_FORMAT)
        if isinstance(schedule, dt.datetime)
        else "",
        "can_send": bool(checklist and checklist.ok) and _is_editable(request, campaign),
    }


STEP_HANDLERS = {
    "content": _content_step,
    "audience": _audience_step,
    "settings": _settings_step,
    "schedule": _schedule_step,
    "review": _review_step,
}


# --------------------------------------------------------------------------- views


@require_GET
@organization_required()
def campaign_edit_start(request, pk):
    campaign = campaign_for(request, pk)
    return redirect("campaigns:edit", campaign.pk, "content")


@require_http_methods(["GET", "POST"])
@organization_required()
def campaign_edit(request, pk, step):
    if step not in STEP_HANDLERS:
        raise Http404
    campaign = campaign_for(request, pk)
    editable = _is_editable(request, campaign)
    if request.method == "POST":
        if not request.membership.can_write:
            raise PermissionDenied
        if step == "review":
            return redirect("campaigns:edit", campaign.pk, step)
        if not editable:
            messages.error(request, _("This campaign has started; it can no longer be edited."))
            return redirect("campaigns:edit", campaign.pk, step)
    data = request.POST if request.method == "POST" else None
    form, extra = STEP_HANDLERS[step](request, campaign, data)
    if data is not None and form is None:
        if "back" in request.POST:
            return redirect("campaigns:edit", campaign.pk, _neighbour(step, -1))
        if "stay" in request.POST:
            messages.success(request, _("Saved."))
            return redirect("campaigns:edit", campaign.pk, step)
        return redirect("campaigns:edit", campaign.pk, _neighbour(step, 1))
    if form is not None and not editable:
        for field in form.fields.values():
            field.disabled = True
    campaign.refresh_from_db()
    index = STEP_KEYS.index(step)
    context = {
        "campaign": campaign,
        "form": form,
        "step": step,
        "step_number": index + 1,
        "step_count": len(STEPS),
        "step_title": STEPS[index].title,
        "steps": _step_states(request, campaign, step),
        "previous_step": STEP_KEYS[index - 1] if index else "",
        "next_step": STEP_KEYS[index + 1] if index + 1 < len(STEPS) else "",
        "editable": editable,
        "can_write": request.membership.can_write,
        "time_zone": request.organization.time_zone,
        "TEMPLATE_PREFIX": TEMPLATE_PREFIX,
        "PRESET_PREFIX": PRESET_PREFIX,
        **extra,
    }
    status = 400 if form is not None and form.errors else 200
    return render(request, f"campaigns/wizard_{step}.html", context, status=status)


# --------------------------------------------------------------------------- live count


@dataclass(frozen=True)
class LiveCount:
    count: int | None
    selected: bool
    problem: str = ""


def audience_live(campaign) -> LiveCount:
    selected = bool(campaign.lists or campaign.segments)
    if not selected:
        return LiveCount(0, False)
    try:
        return LiveCount(audience_count(campaign), True)
    except ValidationError as error:
        return LiveCount(None, True, " ".join(error.messages))


def audience_live_for(organization, form: AudienceForm) -> LiveCount:
    """The exact count for a selection that is not saved yet (the form as it is now)."""
    if not form.is_valid():
        problems = [error for errors in form.errors.values() for error in errors]
        return LiveCount(None, True, " ".join(problems))
    draft = Campaign(organization=organization, **form.service_fields())
    return audience_live(draft)


@require_GET
@organization_required()
def audience_count_view(request, pk):
    """htmx: the live recipient count for the ticked lists and segments."""
    campaign_for(request, pk)  # the campaign must be this organization's
    form = AudienceForm(request.GET, organization=request.organization, require_selection=False)
    live = audience_live_for(request.organization, form)
    return render(request, "campaigns/_audience_count.html", {"live": live})
