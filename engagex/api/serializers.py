"""Request and response shapes of the API. Validation only: writes go through services."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers

from engagex.accounts.models import ApiKey, Organization


class MeOrganizationSerializer(serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "plan", "status"]
        read_only_fields = fields


class MeApiKeySerializer(serializers.ModelSerializer):
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=ApiKey.Scope.choices), read_only=True
    )

    class Meta:
        model = ApiKey
        fields = ["name", "prefix", "scopes"]
        read_only_fields = fields


class MeSerializer(serializers.Serializer):
    organization = MeOrganizationSerializer(read_only=True)
    api_key = MeApiKeySerializer(read_only=True)


# What PATCH /api/v1/organization may change: the sender defaults and profile, never the
# slug, plan or status (the operator's) or the country (set in the web app).
EDITABLE_ORGANIZATION_FIELDS = [
    "name",
    "postal_address",
    "default_from_name",
    "default_from_email",
    "reply_to_email",
    "time_zone",
]


class OrganizationSerializer(serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(slug_field="code", read_only=True)
    country = serializers.CharField(source="country.code", read_only=True)

    class Meta:
        model = Organization
        fields = [
            "id",
            "slug",
            "plan",
            "status",
            "country",
            *EDITABLE_ORGANIZATION_FIELDS,
            "created_at",
        ]
        read_only_fields = ["id", "slug", "plan", "status", "country", "created_at"]

    def validate(self, attrs):
        # DRF silently drops unknown keys; a typo ("reply_to") must not look like success.
        if isinstance(self.initial_data, dict):
            unknown = sorted(set(self.initial_data) - set(EDITABLE_ORGANIZATION_FIELDS))
            if unknown:
                raise serializers.ValidationError(
                    {field: [_("Unknown or read-only field.")] for field in unknown}
                )
        return attrs
