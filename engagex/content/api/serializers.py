"""Request and response shapes of the templates API. Validation of shape only: lengths,
syntax, sanitizing and the test-send limits are checked by the services (one place for
the web app and the API)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from engagex.contacts.api.serializers import StrictSerializer
from engagex.content.models import Category, Template, TemplateVersion
from engagex.content.services import HTML_MAX_CHARS, TEXT_MAX_CHARS

# The services give the real limits with a clear message; these only stop absurd bodies
# before any work is done.
_LINE_MAX = 2000
MAX_RECIPIENTS_IN_BODY = 50
MAX_SAMPLE_FIELDS = 200
SAMPLE_VALUE_MAX_LENGTH = 2000

EXAMPLE_HTML = (
    "<p>Hi {{ first_name|default('there') }},</p>"
    "<p>{Big|Huge} news from {{ organization_name }}.</p>"
    '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a> · {{ organization_address }}</p>'
)


class TextField(serializers.CharField):
    """A JSON string only: DRF's CharField turns `42` into "42", which hides a mistake."""

    default_error_messages = {"not_text": _("Send text (a JSON string).")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_text")
        return super().to_internal_value(data)


def _user_name(user) -> str | None:
    # A name, never an address: an API key outlives memberships, and the person may have
    # left the organization since.
    return (user.full_name or None) if user is not None else None


class TemplateListItemSerializer(serializers.ModelSerializer):
    """A template without its HTML and text: enough for lists and pickers."""

    preset = serializers.CharField(source="preset_key", read_only=True)
    version = serializers.IntegerField(source="version_count", read_only=True)
    updated_by_name = serializers.SerializerMethodField()

    class Meta:
        model = Template
        fields = [
            "id",
            "name",
            "category",
            "subject",
            "preheader",
            "preset",
            "version",
            "updated_by_name",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_updated_by_name(self, template) -> str | None:
        return _user_name(template.updated_by)


class TemplateSerializer(TemplateListItemSerializer):
    class Meta(TemplateListItemSerializer.Meta):
        fields = [
            *TemplateListItemSerializer.Meta.fields[:5],
            "html",
            "text_is_custom",
            "text",
            *TemplateListItemSerializer.Meta.fields[5:],
        ]
        read_only_fields = fields


class TemplateSavedSerializer(TemplateSerializer):
    """What a create, change or restore answers: the template and what the save noticed."""

    sanitized = serializers.BooleanField(
        read_only=True,
        help_text="Unsafe markup (scripts, event handlers, javascript: links, forms, frames) "
        "was removed from the HTML before saving.",
    )
    unknown_tags = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Merge tags that are neither built in nor a custom field: they render "
        "empty (or their default).",
    )
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta(TemplateSerializer.Meta):
        fields = [*TemplateSerializer.Meta.fields, "sanitized", "unknown_tags", "warnings"]
        read_only_fields = fields


class _ContentFields(StrictSerializer):
    subject = TextField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=_LINE_MAX
    )
    preheader = TextField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=_LINE_MAX
    )
    html = TextField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=HTML_MAX_CHARS * 2
    )
    text_is_custom = serializers.BooleanField(required=False)
    text = TextField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=TEXT_MAX_CHARS * 2,
        help_text="A hand-written plain-text part; used only with `text_is_custom` true "
        "(otherwise the plain text is generated from the HTML).",
    )


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Blank template",
            value={
                "name": "Monthly news",
                "category": "newsletter",
                "subject": "News for {{ first_name|default('you') }}",
                "preheader": "What happened in November",
                "html": EXAMPLE_HTML,
            },
            request_only=True,
        ),
        OpenApiExample(
            "From a preset",
            value={"preset": "newsletter", "name": "Weekly digest"},
            request_only=True,
        ),
    ]
)
class TemplateCreateSerializer(_ContentFields):
    name = TextField(required=False, allow_blank=True, max_length=_LINE_MAX)
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    preset = TextField(
        required=False,
        max_length=40,
        help_text="Start from a ready-made preset (`GET /api/v1/templates/presets`); only "
        "`name` may be sent with it.",
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if "preset" in attrs:
            extra = sorted(set(attrs) - {"preset", "name"})
            if extra:
                message = _("Not allowed with a preset: create it, then change it with PATCH.")
                raise serializers.ValidationError({field: [message] for field in extra})
        elif "name" not in attrs:
            raise serializers.ValidationError({"name": [_("Give the template a name.")]})
        return attrs


class TemplateUpdateSerializer(_ContentFields):
    name = TextField(required=False, allow_blank=True, max_length=_LINE_MAX)
    category = serializers.ChoiceField(choices=Category.choices, required=False)


class VersionListItemSerializer(serializers.ModelSerializer):
    created_by_name = serializers.SerializerMethodField()

    class Meta:
        model = TemplateVersion
        fields = ["number", "name", "subject", "restored_from", "created_by_name", "created_at"]
        read_only_fields = fields

    def get_created_by_name(self, version) -> str | None:
        return _user_name(version.created_by)


class VersionSerializer(VersionListItemSerializer):
    class Meta(VersionListItemSerializer.Meta):
        fields = [
            "number",
            "name",
            "category",
            "subject",
            "preheader",
            "html",
            "text_is_custom",
            "text",
            "restored_from",
            "created_by_name",
            "created_at",
        ]
        read_only_fields = fields


class SampleDataSerializer(serializers.Serializer):
    email = TextField(required=False, allow_blank=True, max_length=320)
    first_name = TextField(required=False, allow_blank=True, max_length=100)
    last_name = TextField(required=False, allow_blank=True, max_length=100)
    fields = serializers.DictField(
        required=False,
        help_text="Custom field values by key, merged over the sample (or the contact's) "
        "values: `{{ fields.city }}`.",
    )

    def to_internal_value(self, data):
        # Nested, so StrictSerializer's check (on `initial_data`) can't run: refuse unknown
        # keys here; a typo ("firstname") must not look like it worked.
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({k: [_("Unknown field.")] for k in unknown})
        return super().to_internal_value(data)

    def validate_fields(self, value: dict) -> dict:
        if len(value) > MAX_SAMPLE_FIELDS:
            raise serializers.ValidationError(
                _("At most %(max)s fields.") % {"max": MAX_SAMPLE_FIELDS}
            )
        for key, item in value.items():
            if item is not None and not isinstance(item, str | int | float | bool):
                raise serializers.ValidationError(
                    {key: [_("Use text, a number, true/false or null.")]}
                )
            if isinstance(item, str) and len(item) > SAMPLE_VALUE_MAX_LENGTH:
                raise serializers.ValidationError({key: [_("This value is too long.")]})
        return value


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "As a sample person",
            value={"data": {"first_name": "Ada", "fields": {"city": "London"}}},
            request_only=True,
        ),
        OpenApiExample(
            "As a contact",
            value={"contact_id": "0193a1e2-7c4b-7a10-9d2e-5f6a7b8c9d0e"},
            request_only=True,
        ),
        OpenApiExample(
            "Unsaved changes",
            value={"subject": "Try {{ first_name }}", "html": "<p>Draft for {{ first_name }}</p>"},
            request_only=True,
        ),
    ]
)
class RenderRequestSerializer(_ContentFields):
    contact_id = serializers.UUIDField(
        required=False, help_text="Fill the merge tags with this contact's data."
    )
    data = SampleDataSerializer(
        required=False,
        help_text="Values that replace the sample person's (or the contact's) for this "
        "preview only.",
    )


class RenderedSerializer(serializers.Serializer):
    subject = serializers.CharField()
    preheader = serializers.CharField()
    html = serializers.CharField(help_text="Email-ready: CSS inlined, hidden preheader.")
    text = serializers.CharField()
    unknown_tags = serializers.ListField(child=serializers.CharField())


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "To two colleagues",
            value={"recipients": ["me@example.com", "boss@example.com"]},
            request_only=True,
        )
    ]
)
class TestSendSerializer(StrictSerializer):
    recipients = serializers.ListField(
        child=TextField(max_length=320),
        max_length=MAX_RECIPIENTS_IN_BODY,
        help_text="Up to 5 addresses.",
    )
    contact_id = serializers.UUIDField(
        required=False,
        help_text="Fill the merge tags with this contact's data (default: a sample person).",
    )


class TestSentSerializer(serializers.Serializer):
    sent_to = serializers.ListField(child=serializers.EmailField())


class PresetSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    subject = serializers.CharField()
