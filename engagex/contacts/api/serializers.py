"""Request and response shapes of the contacts API. Validation of shape only: meaning
(known custom fields, plan limits, suppression) is checked by the services."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from engagex.contacts.models import (
    FIELD_KEY_MAX_LENGTH,
    TAG_MAX_LENGTH,
    Contact,
    ContactImport,
    ContactList,
    CustomField,
    Segment,
    Suppression,
)
from engagex.contacts.services.bulk import MAX_BATCH

MAX_IDS_PER_CALL = 1000


class StrictSerializer(serializers.Serializer):
    """Refuses unknown keys: DRF drops them silently, and a typo must not look like success."""

    def validate(self, attrs):
        if isinstance(self.initial_data, dict):
            unknown = sorted(set(self.initial_data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({k: [_("Unknown field.")] for k in unknown})
        return attrs


class ContactListRefSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="contact_list.id")
    name = serializers.CharField(source="contact_list.name")
    status = serializers.CharField()


class ConsentSerializer(serializers.Serializer):
    source = serializers.CharField(source="consent_source")
    at = serializers.DateTimeField(source="consent_at", allow_null=True)
    ip = serializers.IPAddressField(source="consent_ip", allow_null=True)
    text = serializers.CharField(source="consent_text")


class ContactSerializer(serializers.ModelSerializer):
    lists = ContactListRefSerializer(source="memberships", many=True, read_only=True)
    consent = ConsentSerializer(source="*", read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "status",
            "fields",
            "tags",
            "lists",
            "consent",
            "last_activity_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


def tag_list(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=TAG_MAX_LENGTH), max_length=100, **kwargs
    )


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "New subscriber",
            value={
                "email": "ada@example.com",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "fields": {"plan": "pro", "signup_date": "2026-11-01"},
                "tags": ["customer"],
                "list_ids": ["0193a1e2-7c4b-7a10-9d2e-5f6a7b8c9d0e"],
                "consent_source": "Checkout form",
            },
            request_only=True,
        )
    ]
)
class ContactCreateSerializer(StrictSerializer):
    email = serializers.CharField(max_length=320)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    status = serializers.ChoiceField(
        choices=[Contact.Status.SUBSCRIBED, Contact.Status.UNSUBSCRIBED], required=False
    )
    fields = serializers.DictField(required=False)
    tags = tag_list(required=False)
    list_ids = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=100)
    consent_source = serializers.CharField(max_length=200, required=False, allow_blank=True)
    consent_text = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ContactUpdateSerializer(StrictSerializer):
    email = serializers.CharField(max_length=320, required=False)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    status = serializers.ChoiceField(
        choices=[Contact.Status.SUBSCRIBED, Contact.Status.UNSUBSCRIBED], required=False
    )
    fields = serializers.DictField(required=False)
    tags = tag_list(required=False)


class BulkContactSerializer(serializers.Serializer):
    """One item of a bulk upsert; checked in depth by the service (all or nothing)."""

    email = serializers.CharField(max_length=320)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    status = serializers.ChoiceField(
        choices=[Contact.Status.SUBSCRIBED, Contact.Status.UNSUBSCRIBED], required=False
    )
    fields = serializers.DictField(required=False)
    tags = tag_list(required=False)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Sync two customers",
            value={
                "contacts": [
                    {"email": "ada@example.com", "first_name": "Ada", "tags": ["customer"]},
                    {"email": "alan@example.com", "fields": {"plan": "free"}},
                ],
                "update_existing": True,
            },
            request_only=True,
        )
    ]
)
class BulkUpsertSerializer(StrictSerializer):
    contacts = BulkContactSerializer(many=True, allow_empty=False, max_length=MAX_BATCH)
    update_existing = serializers.BooleanField(default=True)
    list_id = serializers.UUIDField(required=False, allow_null=True)


class BulkUpsertResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    suppressed = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Indexes of items whose address is on the suppression list: stored, "
        "but never subscribed.",
    )
    contacts = serializers.ListField(child=serializers.DictField())


class TagChangeSerializer(StrictSerializer):
    add = tag_list(required=False)
    remove = tag_list(required=False)


class ListSerializer(serializers.ModelSerializer):
    subscribed = serializers.IntegerField(read_only=True, default=0)
    unconfirmed = serializers.IntegerField(read_only=True, default=0)
    unsubscribed = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = ContactList
        fields = [
            "id",
            "name",
            "description",
            "opt_in",
            "subscribed",
            "unconfirmed",
            "unsubscribed",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class ListWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    opt_in = serializers.ChoiceField(choices=ContactList.OptIn.choices, required=False)


class ContactIdsSerializer(StrictSerializer):
    contact_ids = serializers.ListField(
        child=serializers.UUIDField(), allow_empty=False, max_length=MAX_IDS_PER_CALL
    )


class CountSerializer(serializers.Serializer):
    count = serializers.IntegerField()


class SegmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Segment
        fields = ["id", "name", "description", "rules", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Subscribed VIPs at Gmail",
            value={
                "name": "Gmail VIPs",
                "rules": {
                    "match": "all",
                    "rules": [
                        {"field": "status", "operator": "is", "value": "subscribed"},
                        {"field": "domain", "operator": "equals", "value": "gmail.com"},
                        {"field": "tags", "operator": "has_any", "value": ["vip"]},
                    ],
                },
            },
            request_only=True,
        )
    ]
)
class SegmentWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    rules = serializers.DictField()


class SuppressionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Suppression
        fields = ["id", "email", "reason", "source", "created_at"]
        read_only_fields = fields
        extra_kwargs = {
            "email": {"help_text": "Blank for an anonymized contact (only a hash is kept)"},
            "reason": {"help_text": "Why the address is never mailed"},
            "source": {
                "help_text": "Details: a bounce's status and diagnostic, a complaint's "
                "channel, or the note given when it was added"
            },
            "created_at": {"help_text": "When the address was suppressed"},
        }


class SuppressionCreateSerializer(StrictSerializer):
    email = serializers.CharField(max_length=320)
    source = serializers.CharField(max_length=200, required=False, allow_blank=True)


class CustomFieldSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomField
        fields = ["id", "key", "label", "type", "created_at"]
        read_only_fields = fields


class CustomFieldCreateSerializer(StrictSerializer):
    label = serializers.CharField(max_length=100)
    type = serializers.ChoiceField(choices=CustomField.Type.choices)
    key = serializers.CharField(max_length=FIELD_KEY_MAX_LENGTH, required=False)


class ImportCreateSerializer(StrictSerializer):
    file = serializers.FileField()
    mapping = serializers.JSONField(
        required=False,
        help_text='One target per column: "" (ignore), email, first_name, last_name, tags, '
        "field:<key>, new:<type>:<label>. Omitted: guessed from the header.",
    )
    list_id = serializers.UUIDField(required=False)
    tags = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    existing = serializers.ChoiceField(choices=ContactImport.Existing.choices, required=False)
    consent_text = serializers.CharField(required=False, allow_blank=True, max_length=300)


class ImportSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactImport
        fields = [
            "id",
            "original_name",
            "status",
            "total_rows",
            "created_count",
            "updated_count",
            "skipped_count",
            "rejected_count",
            "error",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields
