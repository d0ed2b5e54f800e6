"""Templates REST API: thin views over the same services and selectors as the editor.

Changes made through the API are audited without a person (`actor=None`), like the
contacts API. Scopes (see `engagex.api.permissions`): `read` for GET and for rendering a
preview (a POST that changes nothing), `write` for changes, `send` for test sends (they
email any address, so a key that may only edit content must not be able to send mail).
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from engagex.accounts.models import ApiKey
from engagex.accounts.tenancy import get_for_org
from engagex.audit.models import AuditEntry
from engagex.contacts.api.views import call_service
from engagex.contacts.models import Contact
from engagex.content import presets, selectors, services
from engagex.content.api import serializers as s
from engagex.content.context import custom_fields
from engagex.content.models import Category, Template, TemplateVersion
from engagex.content.rendering import (
    RenderLimitExceeded,
    TemplateProblem,
    check_template,
)
from engagex.web.tables import MAX_SEARCH_LENGTH

TEMPLATES = ["Templates"]


class NewestEditedFirst(CursorPagination):
    """Opaque `cursor` links (`next`/`previous`), most recently edited first."""

    ordering = ("-updated_at", "-id")
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 500


class NewestVersionFirst(NewestEditedFirst):
    ordering = "-number"


def _valid(serializer_class, data) -> dict:
    if not isinstance(data, dict):
        raise serializers.ValidationError([_("Send a JSON object.")])
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _content(data: dict) -> dict:
    """The content fields of a request; a `text` sent alone means "use my own text"."""
    content = {field: data[field] for field in Template.CONTENT_FIELDS if field in data}
    if "text" in content and "text_is_custom" not in content:
        content["text_is_custom"] = bool(content["text"])
    return content


def _live_template(organization, template_id) -> Template:
    return get_for_org(
        selectors.templates_live(organization=organization), organization, template_id
    )


def _version(organization, template, number) -> TemplateVersion:
    try:
        return selectors.template_version_get(
            organization=organization, template=template, number=number
        )
    except TemplateVersion.DoesNotExist:
        raise Http404 from None


def _body_contact(organization, contact_id) -> Contact | None:
    """A contact named in the body: an unknown one (or another organization's) is a 400."""
    if contact_id is None:
        return None
    contact = Contact.objects.filter(
        organization=organization, deleted_at__isnull=True, pk=contact_id
    ).first()
    if contact is None:
        raise serializers.ValidationError({"contact_id": [_("Unknown contact.")]})
    return contact


def _unknown_tags(organization, content: dict) -> list[str]:
    check = check_template(
        subject=content.get("subject", ""),
        preheader=content.get("preheader", ""),
        html=content.get("html", ""),
        text=content.get("text", "") if content.get("text_is_custom") else "",
        known_fields=[field.key for field in custom_fields(organization)],
    )
    return [str(tag) for tag in check.unknown_tags]


def _saved_response(organization, saved: services.Saved, code=status.HTTP_200_OK) -> Response:
    template = saved.template
    unknown = _unknown_tags(organization, template.content())
    warnings = [
        _(
            "Unknown merge tag “%(tag)s”: it is neither built in nor a custom field, so it "
            "renders empty (or its default)."
        )
        % {"tag": tag}
        for tag in unknown
    ]
    if saved.sanitized:
        warnings.insert(
            0,
            _("Unsafe markup (scripts, event handlers, forms or frames) was removed."),
        )
    data = {
        **s.TemplateSerializer(template).data,
        "sanitized": saved.sanitized,
        "unknown_tags": unknown,
        "warnings": warnings,
    }
    return Response(data, status=code)


class TemplateCollectionView(APIView):
    @extend_schema(
        operation_id="templates_list",
        summary="List and search templates",
        description="Most recently edited first, cursor-paginated (`next`/`previous` "
        "links). Items leave out the HTML and plain text: fetch one template for those. "
        "Deleted templates are not listed. Needs the `read` scope.",
        parameters=[
            OpenApiParameter("q", str, description="Part of the name or subject"),
            OpenApiParameter("category", str, enum=Category.values),
            OpenApiParameter("limit", int, description="Page size, at most 500 (default 100)"),
        ],
        responses=s.TemplateListItemSerializer(many=True),
        tags=TEMPLATES,
    )
    def get(self, request):
        params = request.query_params
        category = params.get("category", "")
        if category and category not in Category.values:
            raise serializers.ValidationError({"category": [_("Unknown category.")]})
        templates = selectors.templates_filter(
            organization=request.organization,
            search=params.get("q", "").strip()[:MAX_SEARCH_LENGTH],
            category=category,
        )
        paginator = NewestEditedFirst()
        page = paginator.paginate_queryset(templates, request, view=self)
        return paginator.get_paginated_response(s.TemplateListItemSerializer(page, many=True).data)

    @extend_schema(
        operation_id="templates_create",
        summary="Create a template (blank or from a preset)",
        description="The HTML is sanitized (scripts, event handlers, javascript: links, "
        "forms and frames are removed; `sanitized` says whether anything was). Merge tags "
        "and spintax must compile: a problem gives 400 naming the part and line, and "
        "nothing is saved. `unknown_tags`/`warnings` list merge tags that are neither "
        "built in nor a custom field. Sending `text` without `text_is_custom` makes it the "
        "plain-text part. Or send `preset` (and optionally `name`) to start from a "
        "ready-made template. Needs the `write` scope.",
        request=s.TemplateCreateSerializer,
        responses={201: s.TemplateSavedSerializer},
        tags=TEMPLATES,
    )
    def post(self, request):
        data = _valid(s.TemplateCreateSerializer, request.data)
        if "preset" in data:
            saved = call_service(
                services.template_create_from_preset,
                organization=request.organization,
                actor=None,
                preset_key=data["preset"],
                name=data.get("name") or None,
            )
        else:
            saved = call_service(
                services.template_create,
                organization=request.organization,
                actor=None,
                **_content(data),
            )
        return _saved_response(request.organization, saved, status.HTTP_201_CREATED)


class PresetCollectionView(APIView):
    @extend_schema(
        operation_id="templates_presets_list",
        summary="Ready-made templates to start from",
        description="Use a `key` as `preset` when creating a template. Needs the `read` scope.",
        responses=s.PresetSerializer(many=True),
        tags=TEMPLATES,
    )
    def get(self, request):
        return Response(s.PresetSerializer(presets.preset_list(), many=True).data)


class TemplateDetailView(APIView):
    @extend_schema(
        operation_id="templates_retrieve",
        summary="One template with its HTML and plain text",
        responses=s.TemplateSerializer,
        tags=TEMPLATES,
    )
    def get(self, request, template_id):
        template = _live_template(request.organization, template_id)
        return Response(s.TemplateSerializer(template).data)

    @extend_schema(
        operation_id="templates_partial_update",
        summary="Change a template",
        description="Send only what changes. A change that alters the content adds a "
        "version; sending the same content again adds none. Checked like a create: a "
        "problem gives 400 and the saved template stays as it was. Needs the `write` "
        "scope.",
        request=s.TemplateUpdateSerializer,
        responses=s.TemplateSavedSerializer,
        tags=TEMPLATES,
    )
    def patch(self, request, template_id):
        template = _live_template(request.organization, template_id)
        data = _valid(s.TemplateUpdateSerializer, request.data)
        saved = call_service(
            services.template_update,
            organization=request.organization,
            actor=None,
            template=template,
            **_content(data),
        )
        return _saved_response(request.organization, saved)

    @extend_schema(
        operation_id="templates_destroy",
        summary="Delete a template",
        description="It disappears from the API and the app (404 afterwards); campaigns "
        "that already used it keep their copy. Needs the `write` scope.",
        responses={204: None},
        tags=TEMPLATES,
    )
    def delete(self, request, template_id):
        template = _live_template(request.organization, template_id)
        services.template_delete(organization=request.organization, actor=None, template=template)
        return Response(status=status.HTTP_204_NO_CONTENT)


class VersionCollectionView(APIView):
    @extend_schema(
        operation_id="templates_versions_list",
        summary="Version history of a template",
        description="Newest first, cursor-paginated. Every save that changed something is "
        "a version; `restored_from` names the version a restore copied. Authors are given "
        "by name only (`created_by_name`, null for API changes). Needs the `read` scope.",
        parameters=[
            OpenApiParameter("limit", int, description="Page size, at most 500 (default 100)")
        ],
        responses=s.VersionListItemSerializer(many=True),
        tags=TEMPLATES,
    )
    def get(self, request, template_id):
        template = _live_template(request.organization, template_id)
        versions = selectors.template_versions(organization=request.organization, template=template)
        paginator = NewestVersionFirst()
        page = paginator.paginate_queryset(versions, request, view=self)
        return paginator.get_paginated_response(s.VersionListItemSerializer(page, many=True).data)


class VersionDetailView(APIView):
    @extend_schema(
        operation_id="templates_versions_retrieve",
        summary="One version's full content",
        responses=s.VersionSerializer,
        tags=TEMPLATES,
    )
    def get(self, request, template_id, number):
        template = _live_template(request.organization, template_id)
        version = _version(request.organization, template, number)
        return Response(s.VersionSerializer(version).data)


class VersionRestoreView(APIView):
    @extend_schema(
        operation_id="templates_versions_restore",
        summary="Make an older version current again",
        description="The old content becomes a new version (history is never rewritten). "
        "Answers with the template. Needs the `write` scope.",
        request=None,
        responses=s.TemplateSavedSerializer,
        tags=TEMPLATES,
    )
    def post(self, request, template_id, number):
        template = _live_template(request.organization, template_id)
        version = _version(request.organization, template, number)
        saved = call_service(
            services.template_version_restore,
            organization=request.organization,
            actor=None,
            template=template,
            version=version,
        )
        return _saved_response(request.organization, saved)


def _with_sample_data(context: dict, data: dict) -> dict:
    """The render context with the request's `data` laid over the person's values."""
    context = dict(context)
    for key in ("email", "first_name", "last_name"):
        if key in data:
            context[key] = data[key]
    if "first_name" in data or "last_name" in data:
        context["full_name"] = " ".join(
            part for part in (context.get("first_name"), context.get("last_name")) if part
        )
    if "fields" in data:
        fields = {**(context.get("fields") or {}), **data["fields"]}
        context["fields"] = {key: value for key, value in fields.items() if value is not None}
    return context


def render_with_data(organization, content: dict, *, contact=None, data=None) -> services.Rendered:
    """`services.render_content` with sample values replaced by `data` (previews only)."""
    return services.render_content(
        organization,
        content,
        contact=contact,
        adjust_context=(lambda context: _with_sample_data(context, data)) if data else None,
    )


class TemplateRenderView(APIView):
    # A preview changes nothing: a read-only key may render.
    required_scope = ApiKey.Scope.READ.value

    @extend_schema(
        operation_id="templates_render",
        summary="Render a template (a preview; nothing is saved or sent)",
        description="Merge tags are filled with a sample person, a contact (`contact_id`), "
        "and/or the values in `data`. Send `subject`, `preheader`, `html`, `text` or "
        "`text_is_custom` to preview unsaved changes; they are checked and sanitized as a "
        "save would be. A syntax problem gives 400 naming the part and line. "
        "`unknown_tags` lists merge tags that are neither built in nor a custom field. "
        "Needs the `read` scope.",
        request=s.RenderRequestSerializer,
        responses={
            200: s.RenderedSerializer,
            400: OpenApiResponse(description="Invalid merge tags or spintax, or bad input"),
        },
        tags=TEMPLATES,
    )
    def post(self, request, template_id):
        organization = request.organization
        template = _live_template(organization, template_id)
        data = _valid(s.RenderRequestSerializer, request.data)
        contact = _body_contact(organization, data.get("contact_id"))
        content, _sanitized = call_service(
            services.clean_content, content={**template.content(), **_content(data)}
        )
        try:
            rendered = render_with_data(
                organization, content, contact=contact, data=data.get("data")
            )
        except TemplateProblem as problem:
            raise serializers.ValidationError({problem.part: [str(problem)]}) from None
        except RenderLimitExceeded as error:
            raise serializers.ValidationError([str(error)]) from None
        return Response(
            {
                "subject": rendered.subject,
                "preheader": rendered.preheader,
                "html": rendered.html,
                "text": rendered.text,
                "unknown_tags": _unknown_tags(organization, content),
            }
        )


def _test_send_limit_reached(organization) -> exceptions.Throttled:
    """429 with `Retry-After`: when the oldest test send of the last hour stops counting."""
    now = timezone.now()
    oldest = (
        AuditEntry.objects.filter(
            organization=organization,
            action=services.TEST_SEND_ACTION,
            created_at__gte=now - timedelta(hours=1),
        )
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    wait = (oldest + timedelta(hours=1) - now).total_seconds() if oldest else 60
    return exceptions.Throttled(
        wait=max(1, math.ceil(wait)),
        detail=_("Your organization has sent %(max)s tests in the last hour.")
        % {"max": services.TEST_SENDS_PER_HOUR},
    )


class TemplateTestSendView(APIView):
    required_scope = ApiKey.Scope.SEND.value

    @extend_schema(
        operation_id="templates_test_send",
        summary="Send a test of the saved template",
        description="To at most 5 addresses, with the subject marked “[Test]”, merge tags "
        "filled with a sample person or a contact (`contact_id`). Unsubscribe links in a "
        "test unsubscribe nobody. An organization may send 20 tests an hour: over that, "
        "429 with `Retry-After`. A bad or missing address, or more than 5, gives 400. "
        "Needs the `send` scope.",
        request=s.TestSendSerializer,
        responses={
            202: s.TestSentSerializer,
            400: OpenApiResponse(description="Bad recipients or unknown contact"),
            429: OpenApiResponse(description="20 tests in the last hour: see Retry-After"),
        },
        tags=TEMPLATES,
    )
    def post(self, request, template_id):
        organization = request.organization
        template = _live_template(organization, template_id)
        data = _valid(s.TestSendSerializer, request.data)
        contact = _body_contact(organization, data.get("contact_id"))
        # Checked here to answer 429; the service checks again under a lock (a request
        # that loses that race gets its 400 with the same message).
        if services.test_sends_left(organization) <= 0:
            raise _test_send_limit_reached(organization)
        sent = call_service(
            services.template_test_send,
            organization=organization,
            actor=None,
            template=template,
            recipients=data["recipients"],
            contact=contact,
        )
        return Response({"sent_to": sent}, status=status.HTTP_202_ACCEPTED)
