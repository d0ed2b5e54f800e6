"""API endpoints (DESIGN.md §3 "api.py"): thin, they call the same services as the web app."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from engagex.accounts.services.organizations import organization_update
from engagex.api.serializers import MeSerializer, OrganizationSerializer


class MeView(APIView):
    @extend_schema(
        operation_id="me_retrieve",
        summary="The API key in use and its organization",
        description="Check a key: which organization it belongs to and what it may do. "
        "Needs the `read` scope.",
        responses=MeSerializer,
        tags=["Account"],
    )
    def get(self, request):
        return Response(
            MeSerializer({"organization": request.organization, "api_key": request.auth}).data
        )


class OrganizationView(APIView):
    @extend_schema(
        operation_id="organization_retrieve",
        summary="The organization's profile and sender defaults",
        description="Needs the `read` scope.",
        responses=OrganizationSerializer,
        tags=["Account"],
    )
    def get(self, request):
        return Response(OrganizationSerializer(request.organization).data)

    @extend_schema(
        operation_id="organization_partial_update",
        summary="Change the organization's profile and sender defaults",
        description="Send only the fields to change. Unknown or read-only fields are "
        "refused (400) and nothing is changed. Needs the `write` scope.",
        request=OrganizationSerializer,
        responses=OrganizationSerializer,
        tags=["Account"],
    )
    def patch(self, request):
        organization = request.organization
        serializer = OrganizationSerializer(organization, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            # actor=None: the audit log records API changes without a person.
            organization_update(organization=organization, actor=None, **serializer.validated_data)
        except DjangoValidationError as error:
            organization.refresh_from_db()
            raise serializers.ValidationError(serializers.as_serializer_error(error)) from None
        return Response(OrganizationSerializer(organization).data)
