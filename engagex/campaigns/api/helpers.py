"""Helpers of the campaigns API views: looking campaigns up, turning service errors into
400s keyed by the API's field names, and telling "wrong status" (409) from bad input."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from engagex.accounts.tenancy import get_for_org
from engagex.campaigns import selectors, services
from engagex.campaigns.api import serializers as s
from engagex.campaigns.models import Campaign
from engagex.contacts.models import ContactList, Segment
from engagex.content.selectors import templates_live

Status = Campaign.Status


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


# What each action needs of the campaign's status (the services enforce the same rules
# under a lock; this only tells the client "wrong state" apart from "bad input").
ALLOWED: dict[str, tuple[Callable[[Campaign], bool], str]] = {
    "update": (
        lambda c: c.status in services.EDITABLE,
        gettext_lazy("Only a draft or scheduled campaign can be changed."),
    ),
    "delete": (
        lambda c: c.status in services.EDITABLE,
        gettext_lazy(
            "Only a draft or scheduled campaign can be deleted; a started one stays for its report."
        ),
    ),
    "schedule": (
        lambda c: c.status in services.STARTABLE,
        gettext_lazy("Only a draft or scheduled campaign can be scheduled."),
    ),
    "unschedule": (
        lambda c: c.status == Status.SCHEDULED,
        gettext_lazy("This campaign is not scheduled."),
    ),
    "send": (
        lambda c: c.status in services.STARTABLE,
        gettext_lazy("This campaign has already been sent or started."),
    ),
    "pause": (
        lambda c: c.status in (Status.SENDING, Status.THROTTLED),
        gettext_lazy("Only a campaign that is sending can be paused."),
    ),
    "resume": (
        lambda c: c.status == Status.PAUSED,
        gettext_lazy("Only a paused campaign can be resumed."),
    ),
    "cancel": (
        lambda c: c.status not in (Status.SENT, Status.CANCELLED),
        gettext_lazy("This campaign has already finished."),
    ),
    "retry_failed": (
        lambda c: bool(c.mailing_id) and c.status != Status.CANCELLED,
        gettext_lazy("Only a campaign that has sent can retry failed messages."),
    ),
}


def require_state(campaign: Campaign, action: str) -> None:
    allowed, message = ALLOWED[action]
    if not allowed(campaign):
        raise Conflict({"detail": str(message), "status": campaign.status})


def campaigns_of(organization):
    return selectors.campaigns_filter(organization=organization)


def campaign_or_404(organization, campaign_id) -> Campaign:
    return get_for_org(campaigns_of(organization), organization, campaign_id)


def campaign_response(organization, campaign_id, code=status.HTTP_200_OK) -> Response:
    campaign = campaigns_of(organization).get(pk=campaign_id)
    return Response(s.CampaignSerializer(campaign).data, status=code)


def api_error(error: DjangoValidationError) -> serializers.ValidationError:
    """A service's ValidationError as a 400, keyed by the API's field names."""
    detail = serializers.as_serializer_error(error)
    return serializers.ValidationError(
        {s.SERVICE_FIELD_NAMES.get(key, key): messages for key, messages in detail.items()}
    )


def call_service(function, **kwargs):
    try:
        return function(**kwargs)
    except DjangoValidationError as error:
        raise api_error(error) from None


def valid(serializer_class, data) -> dict:
    if not isinstance(data, dict):
        raise serializers.ValidationError([_("Send a JSON object.")])
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


AUDIENCE_MODELS = {
    "list_ids": (ContactList, gettext_lazy("Unknown list id(s): %(ids)s.")),
    "segment_ids": (Segment, gettext_lazy("Unknown segment id(s): %(ids)s.")),
    "excluded_list_ids": (ContactList, gettext_lazy("Unknown list id(s): %(ids)s.")),
    "excluded_segment_ids": (Segment, gettext_lazy("Unknown segment id(s): %(ids)s.")),
}


def audience_errors(organization, data: dict) -> dict[str, list[str]]:
    """Ids that aren't this organization's lists or segments, named (the service would
    only say that some are unknown)."""
    errors = {}
    for field, (model, message) in AUDIENCE_MODELS.items():
        ids = list(dict.fromkeys(data.get(field) or []))
        if not ids:
            continue
        found = set(
            model.objects.filter(organization=organization, pk__in=ids).values_list("pk", flat=True)
        )
        unknown = [str(value) for value in ids if value not in found]
        if unknown:
            errors[field] = [message % {"ids": ", ".join(unknown)}]
    return errors


def service_fields(organization, data: dict) -> dict:
    """The request's fields as `campaign_create`/`campaign_update` keywords."""
    errors = audience_errors(organization, data)
    fields = {}
    for key, value in data.items():
        if key == "template_id":
            template = None
            if value is not None:
                template = templates_live(organization=organization).filter(pk=value).first()
                if template is None:
                    errors["template_id"] = [_("Unknown template.")]
            fields["template"] = template
        elif key in s.AUDIENCE_FIELDS:
            fields[s.AUDIENCE_FIELDS[key]] = [str(value) for value in dict.fromkeys(value)]
        else:
            fields[key] = value
    if errors:
        raise serializers.ValidationError(errors)
    return fields
