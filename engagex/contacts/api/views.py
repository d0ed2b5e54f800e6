"""Contacts REST API: thin views over the same services and selectors as the web app.

Changes made through the API are audited without a person (`actor=None`); the API key is
the organization's.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from engagex.accounts.tenancy import get_for_org
from engagex.contacts.api import serializers as s
from engagex.contacts.emails import InvalidEmail, email_hash, normalize_email
from engagex.contacts.importer.mapping import guess_mapping
from engagex.contacts.models import (
    Contact,
    ContactImport,
    ContactList,
    CustomField,
    ListMembership,
    Segment,
    Suppression,
)
from engagex.contacts.selectors.contacts import contacts_filter
from engagex.contacts.selectors.lists import list_member_counts
from engagex.contacts.selectors.segments import segment_contacts
from engagex.contacts.services import contacts as contact_services
from engagex.contacts.services import fields as field_services
from engagex.contacts.services import imports as import_services
from engagex.contacts.services import lists as list_services
from engagex.contacts.services import segments as segment_services
from engagex.contacts.services import suppressions as suppression_services
from engagex.contacts.services.bulk import contacts_upsert_many

CONTACTS = ["Contacts"]
LISTS = ["Lists"]
SEGMENTS = ["Segments"]
SUPPRESSIONS = ["Suppressions"]
IMPORTS = ["Imports"]


class NewestFirst(CursorPagination):
    """Opaque `cursor` links (`next`/`previous`): stable and fast at any depth."""

    ordering = "-created_at"
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 500


def call_service(function, **kwargs):
    """Run a service; its ValidationError becomes a 400 with the same messages."""
    try:
        return function(**kwargs)
    except DjangoValidationError as error:
        raise serializers.ValidationError(serializers.as_serializer_error(error)) from None


def _with_lists(contacts):
    return contacts.prefetch_related(
        Prefetch(
            "memberships",
            queryset=ListMembership.objects.select_related("contact_list").order_by(
                "contact_list__name"
            ),
        )
    )


def _contact_response(organization, contact_id, code=status.HTTP_200_OK):
    contact = _with_lists(Contact.objects.filter(organization=organization)).get(pk=contact_id)
    return Response(s.ContactSerializer(contact).data, status=code)


def _paginated_contacts(request, view, contacts):
    paginator = NewestFirst()
    page = paginator.paginate_queryset(_with_lists(contacts), request, view=view)
    return paginator.get_paginated_response(s.ContactSerializer(page, many=True).data)


def _live_contact(organization, contact_id) -> Contact:
    return get_for_org(Contact.objects.filter(deleted_at__isnull=True), organization, contact_id)


class ContactCollectionView(APIView):
    @extend_schema(
        operation_id="contacts_list",
        summary="List and search contacts",
        description="Newest first, cursor-paginated (`next`/`previous` links). Soft-deleted "
        "contacts are not listed. Needs the `read` scope.",
        parameters=[
            OpenApiParameter("q", str, description="Email prefix, name, or exact tag"),
            OpenApiParameter("status", str, enum=Contact.Status.values),
            OpenApiParameter("list", str, description="List id"),
            OpenApiParameter("tag", str),
            OpenApiParameter("limit", int, description="Page size, at most 500 (default 100)"),
        ],
        responses=s.ContactSerializer(many=True),
        tags=CONTACTS,
    )
    def get(self, request):
        params = request.query_params
        status_filter = params.get("status", "")
        if status_filter and status_filter not in Contact.Status.values:
            raise serializers.ValidationError({"status": ["Unknown status."]})
        list_id = params.get("list") or None
        if list_id:
            list_id = get_for_org(ContactList, request.organization, _uuid(list_id, "list")).pk
        contacts = contacts_filter(
            organization=request.organization,
            search=params.get("q", "")[:200],
            status=status_filter,
            list_id=list_id,
            tag=params.get("tag", "")[:64],
        )
        return _paginated_contacts(request, self, contacts)

    @extend_schema(
        operation_id="contacts_create",
        summary="Create a contact",
        description="The address is validated and normalized. Unknown custom fields, a "
        "duplicate address or a suppressed address give 400 and change nothing. Lists "
        "with double opt-in send a confirmation email. Needs the `write` scope.",
        request=s.ContactCreateSerializer,
        responses={201: s.ContactSerializer},
        tags=CONTACTS,
    )
    def post(self, request):
        data = _valid(s.ContactCreateSerializer, request.data)
        for list_id in data.get("list_ids", []):
            get_for_org(ContactList, request.organization, list_id)
        contact = call_service(
            contact_services.contact_create,
            organization=request.organization,
            actor=None,
            email=data["email"],
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
            fields=data.get("fields") or {},
            tags=data.get("tags", []),
            status=data.get("status", Contact.Status.SUBSCRIBED),
            list_ids=data.get("list_ids", []),
            consent_source=data.get("consent_source", "") or "API",
            consent_ip=None,
            consent_text=data.get("consent_text", ""),
        )
        return _contact_response(request.organization, contact.pk, status.HTTP_201_CREATED)


class ContactDetailView(APIView):
    @extend_schema(
        operation_id="contacts_retrieve",
        summary="One contact",
        responses=s.ContactSerializer,
        tags=CONTACTS,
    )
    def get(self, request, contact_id):
        contact = _live_contact(request.organization, contact_id)
        return _contact_response(request.organization, contact.pk)

    @extend_schema(
        operation_id="contacts_partial_update",
        summary="Change a contact",
        description="Send only what changes. `fields` are merged (a null value removes "
        "one); `tags` replaces the tags. Needs the `write` scope.",
        request=s.ContactUpdateSerializer,
        responses=s.ContactSerializer,
        tags=CONTACTS,
    )
    def patch(self, request, contact_id):
        contact = _live_contact(request.organization, contact_id)
        data = _valid(s.ContactUpdateSerializer, request.data)
        call_service(
            contact_services.contact_update,
            organization=request.organization,
            actor=None,
            contact=contact,
            **data,
        )
        return _contact_response(request.organization, contact.pk)

    @extend_schema(
        operation_id="contacts_destroy",
        summary="Delete a contact (restorable for 30 days)",
        responses={204: None},
        tags=CONTACTS,
    )
    def delete(self, request, contact_id):
        contact = _live_contact(request.organization, contact_id)
        contact_services.contacts_delete(
            organization=request.organization, actor=None, contact_ids=[contact.pk]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContactTagsView(APIView):
    @extend_schema(
        operation_id="contacts_tags_change",
        summary="Add and remove tags of a contact",
        request=s.TagChangeSerializer,
        responses=s.ContactSerializer,
        tags=CONTACTS,
    )
    def post(self, request, contact_id):
        contact = _live_contact(request.organization, contact_id)
        data = _valid(s.TagChangeSerializer, request.data)
        if not data.get("add") and not data.get("remove"):
            raise serializers.ValidationError(["Send tags to `add` and/or `remove`."])
        common = {"organization": request.organization, "actor": None, "contact_ids": [contact.pk]}
        if data.get("add"):
            call_service(contact_services.contacts_tag, tags=data["add"], **common)
        if data.get("remove"):
            call_service(contact_services.contacts_untag, tags=data["remove"], **common)
        return _contact_response(request.organization, contact.pk)


class ContactBulkView(APIView):
    @extend_schema(
        operation_id="contacts_bulk_upsert",
        summary="Create or update up to 1,000 contacts by email address",
        description="All or nothing: one invalid item gives 400 naming it "
        "(`contacts[3]`) and nothing changes. Existing contacts are updated unless "
        "`update_existing` is false; deleted ones are restored. Addresses on the "
        "suppression list are stored but never subscribed (their indexes are returned in "
        "`suppressed`). Needs the `write` scope.",
        request=s.BulkUpsertSerializer,
        responses=s.BulkUpsertResultSerializer,
        tags=CONTACTS,
    )
    def post(self, request):
        data = _valid(s.BulkUpsertSerializer, request.data)
        contact_list = None
        if data.get("list_id"):
            contact_list = get_for_org(ContactList, request.organization, data["list_id"])
        result = call_service(
            contacts_upsert_many,
            organization=request.organization,
            actor=None,
            items=request.data["contacts"],
            update_existing=data["update_existing"],
            contact_list=contact_list,
        )
        return Response(
            {
                "created": len(result.created),
                "updated": len(result.updated),
                "suppressed": sorted(result.suppressed),
                "contacts": [
                    {"id": str(c.pk), "email": c.email, "created": True} for c in result.created
                ]
                + [{"id": str(c.pk), "email": c.email, "created": False} for c in result.updated],
            }
        )


def _lists_data(organization, contact_lists) -> list[dict]:
    """Lists with member counts from the same selector as the lists page (live contacts)."""
    contact_lists = list(contact_lists)
    counts = list_member_counts(
        organization=organization, list_ids=[contact_list.pk for contact_list in contact_lists]
    )
    empty = {state: 0 for state in ListMembership.Status.values}
    data = []
    for contact_list in contact_lists:
        for state, count in counts.get(contact_list.pk, empty).items():
            setattr(contact_list, state, count)
        data.append(s.ListSerializer(contact_list).data)
    return data


def _list_response(organization, list_id, code=status.HTTP_200_OK):
    contact_list = ContactList.objects.filter(organization=organization).get(pk=list_id)
    return Response(_lists_data(organization, [contact_list])[0], status=code)


class ListCollectionView(APIView):
    @extend_schema(
        operation_id="lists_list",
        summary="All lists with member counts",
        responses=s.ListSerializer(many=True),
        tags=LISTS,
    )
    def get(self, request):
        lists = ContactList.objects.filter(organization=request.organization).order_by("name")
        return Response(_lists_data(request.organization, lists))

    @extend_schema(
        operation_id="lists_create",
        summary="Create a list",
        request=s.ListWriteSerializer,
        responses={201: s.ListSerializer},
        tags=LISTS,
    )
    def post(self, request):
        data = _valid(s.ListWriteSerializer, request.data)
        contact_list = call_service(
            list_services.list_create, organization=request.organization, actor=None, **data
        )
        return _list_response(request.organization, contact_list.pk, status.HTTP_201_CREATED)


class ListDetailView(APIView):
    @extend_schema(
        operation_id="lists_retrieve", summary="One list", responses=s.ListSerializer, tags=LISTS
    )
    def get(self, request, list_id):
        contact_list = get_for_org(ContactList, request.organization, list_id)
        return _list_response(request.organization, contact_list.pk)

    @extend_schema(
        operation_id="lists_partial_update",
        summary="Rename a list or change its opt-in",
        request=s.ListWriteSerializer(partial=True),
        responses=s.ListSerializer,
        tags=LISTS,
    )
    def patch(self, request, list_id):
        contact_list = get_for_org(ContactList, request.organization, list_id)
        data = _valid(s.ListWriteSerializer, request.data, partial=True)
        call_service(
            list_services.list_update,
            organization=request.organization,
            actor=None,
            contact_list=contact_list,
            **data,
        )
        return _list_response(request.organization, contact_list.pk)

    @extend_schema(
        operation_id="lists_destroy",
        summary="Delete a list (its contacts stay)",
        responses={204: None},
        tags=LISTS,
    )
    def delete(self, request, list_id):
        contact_list = get_for_org(ContactList, request.organization, list_id)
        list_services.list_delete(
            organization=request.organization, actor=None, contact_list=contact_list
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ListMembersView(APIView):
    @extend_schema(
        operation_id="lists_members_list",
        summary="Contacts on a list",
        responses=s.ContactSerializer(many=True),
        tags=LISTS,
    )
    def get(self, request, list_id):
        contact_list = get_for_org(ContactList, request.organization, list_id)
        contacts = contacts_filter(organization=request.organization, list_id=contact_list.pk)
        return _paginated_contacts(request, self, contacts)

    @extend_schema(
        operation_id="lists_members_add",
        summary="Add up to 1,000 contacts to a list",
        description="Contacts who opted out or are suppressed are not added. Double opt-in "
        "lists email a confirmation. Returns how many were newly added.",
        request=s.ContactIdsSerializer,
        responses=s.CountSerializer,
        tags=LISTS,
    )
    def post(self, request, list_id):
        return self._change(request, list_id, list_services.list_members_add)

    @staticmethod
    def _change(request, list_id, service):
        contact_list = get_for_org(ContactList, request.organization, list_id)
        data = _valid(s.ContactIdsSerializer, request.data)
        ids = _own_contact_ids(request.organization, data["contact_ids"])
        count = call_service(
            service,
            organization=request.organization,
            actor=None,
            contact_list=contact_list,
            contact_ids=ids,
        )
        return Response({"count": count})


class ListMembersRemoveView(APIView):
    @extend_schema(
        operation_id="lists_members_remove",
        summary="Remove up to 1,000 contacts from a list",
        request=s.ContactIdsSerializer,
        responses=s.CountSerializer,
        tags=LISTS,
    )
    def post(self, request, list_id):
        return ListMembersView._change(request, list_id, list_services.list_members_remove)


def _own_contact_ids(organization, ids) -> list:
    """The ids must all be this organization's live contacts: a 400 names the others."""
    found = set(
        Contact.objects.filter(
            organization=organization, deleted_at__isnull=True, pk__in=ids
        ).values_list("pk", flat=True)
    )
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise serializers.ValidationError({"contact_ids": [f"Unknown contact: {missing[0]}"]})
    return list(found)


class SegmentCollectionView(APIView):
    @extend_schema(
        operation_id="segments_list",
        summary="All segments",
        responses=s.SegmentSerializer(many=True),
        tags=SEGMENTS,
    )
    def get(self, request):
        segments = Segment.objects.filter(organization=request.organization).order_by("name")
        return Response(s.SegmentSerializer(segments, many=True).data)

    @extend_schema(
        operation_id="segments_create",
        summary="Create a segment",
        description="Rules are validated (fields, operators and values by type); an invalid "
        "rule gives 400 naming it and nothing is saved.",
        request=s.SegmentWriteSerializer,
        responses={201: s.SegmentSerializer},
        tags=SEGMENTS,
    )
    def post(self, request):
        data = _valid(s.SegmentWriteSerializer, request.data)
        segment = call_service(
            segment_services.segment_create,
            organization=request.organization,
            actor=None,
            name=data["name"],
            description=data.get("description", ""),
            rules=data["rules"],
        )
        return Response(s.SegmentSerializer(segment).data, status=status.HTTP_201_CREATED)


class SegmentDetailView(APIView):
    @extend_schema(
        operation_id="segments_retrieve",
        summary="One segment",
        responses=s.SegmentSerializer,
        tags=SEGMENTS,
    )
    def get(self, request, segment_id):
        segment = get_for_org(Segment, request.organization, segment_id)
        return Response(s.SegmentSerializer(segment).data)

    @extend_schema(
        operation_id="segments_partial_update",
        summary="Change a segment",
        request=s.SegmentWriteSerializer(partial=True),
        responses=s.SegmentSerializer,
        tags=SEGMENTS,
    )
    def patch(self, request, segment_id):
        segment = get_for_org(Segment, request.organization, segment_id)
        data = _valid(s.SegmentWriteSerializer, request.data, partial=True)
        segment = call_service(
            segment_services.segment_update,
            organization=request.organization,
            actor=None,
            segment=segment,
            name=data.get("name", segment.name),
            description=data.get("description", segment.description),
            rules=data.get("rules", segment.rules),
        )
        return Response(s.SegmentSerializer(segment).data)

    @extend_schema(
        operation_id="segments_destroy",
        summary="Delete a segment",
        responses={204: None},
        tags=SEGMENTS,
    )
    def delete(self, request, segment_id):
        segment = get_for_org(Segment, request.organization, segment_id)
        segment_services.segment_delete(
            organization=request.organization, actor=None, segment=segment
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class SegmentCountView(APIView):
    @extend_schema(
        operation_id="segments_count",
        summary="How many contacts match now",
        responses=s.CountSerializer,
        tags=SEGMENTS,
    )
    def get(self, request, segment_id):
        segment = get_for_org(Segment, request.organization, segment_id)
        contacts = call_service(
            segment_contacts, organization=request.organization, segment=segment
        )
        return Response({"count": contacts.count()})


class SegmentMembersView(APIView):
    @extend_schema(
        operation_id="segments_members",
        summary="Contacts matching the segment now",
        responses=s.ContactSerializer(many=True),
        tags=SEGMENTS,
    )
    def get(self, request, segment_id):
        segment = get_for_org(Segment, request.organization, segment_id)
        contacts = call_service(
            segment_contacts, organization=request.organization, segment=segment
        )
        return _paginated_contacts(request, self, contacts)


class SuppressionCollectionView(APIView):
    @extend_schema(
        operation_id="suppressions_list",
        summary="Addresses that are never mailed, with why and since when",
        description="Newest first, cursor-paginated. `reason`: `hard_bounce` (the "
        "receiving server said the address doesn't exist), `soft_bounce` (3 soft bounces "
        "within 30 days), `complaint` (the recipient reported an email as spam), `manual` "
        "(added by a person or `POST /api/v1/suppressions`), `imported` (an uploaded or "
        "pasted list), `anonymized` (a contact erased for GDPR: the address is blank, "
        "only its hash is kept). `source` says more: the bounce's status code and "
        "diagnostic, the complaint's channel, or the note given when adding. "
        "`created_at` is when the address was suppressed. Needs the `read` scope.",
        parameters=[
            OpenApiParameter("q", str, description="Address prefix"),
            OpenApiParameter("reason", str, enum=Suppression.Reason.values),
        ],
        responses=s.SuppressionSerializer(many=True),
        tags=SUPPRESSIONS,
    )
    def get(self, request):
        suppressions = Suppression.objects.filter(organization=request.organization)
        if query := request.query_params.get("q", "").strip().lower()[:200]:
            suppressions = suppressions.filter(email__startswith=query)
        if reason := request.query_params.get("reason", ""):
            if reason not in Suppression.Reason.values:
                raise serializers.ValidationError({"reason": ["Unknown reason."]})
            suppressions = suppressions.filter(reason=reason)
        paginator = NewestFirst()
        page = paginator.paginate_queryset(suppressions, request, view=self)
        return paginator.get_paginated_response(s.SuppressionSerializer(page, many=True).data)

    @extend_schema(
        operation_id="suppressions_create",
        summary="Suppress an address",
        description="Idempotent: an address already suppressed is returned unchanged (200).",
        request=s.SuppressionCreateSerializer,
        responses={201: s.SuppressionSerializer, 200: s.SuppressionSerializer},
        tags=SUPPRESSIONS,
    )
    def post(self, request):
        data = _valid(s.SuppressionCreateSerializer, request.data)
        existed = _is_suppressed(request.organization, data["email"])
        suppression = call_service(
            suppression_services.suppression_add,
            organization=request.organization,
            actor=None,
            email=data["email"],
            reason=Suppression.Reason.MANUAL,
            source=data.get("source", "") or "API",
        )
        return Response(
            s.SuppressionSerializer(suppression).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )


class SuppressionDetailView(APIView):
    @extend_schema(
        operation_id="suppressions_destroy",
        summary="Remove an address from the suppression list",
        description="Entries of anonymized contacts cannot be removed (400).",
        responses={204: None},
        tags=SUPPRESSIONS,
    )
    def delete(self, request, suppression_id):
        suppression = get_for_org(Suppression, request.organization, suppression_id)
        call_service(
            suppression_services.suppression_remove,
            organization=request.organization,
            actor=None,
            suppression=suppression,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomFieldCollectionView(APIView):
    @extend_schema(
        operation_id="fields_list",
        summary="Custom fields of contacts",
        responses=s.CustomFieldSerializer(many=True),
        tags=CONTACTS,
    )
    def get(self, request):
        fields = CustomField.objects.filter(organization=request.organization).order_by("key")
        return Response(s.CustomFieldSerializer(fields, many=True).data)

    @extend_schema(
        operation_id="fields_create",
        summary="Define a custom field",
        request=s.CustomFieldCreateSerializer,
        responses={201: s.CustomFieldSerializer},
        tags=CONTACTS,
    )
    def post(self, request):
        data = _valid(s.CustomFieldCreateSerializer, request.data)
        custom_field = call_service(
            field_services.custom_field_create,
            organization=request.organization,
            actor=None,
            label=data["label"],
            type=data["type"],
            key=data.get("key"),
        )
        return Response(s.CustomFieldSerializer(custom_field).data, status=status.HTTP_201_CREATED)


class ImportCollectionView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="imports_create",
        summary="Upload a CSV or XLSX file and start importing it",
        description="multipart/form-data. The import runs in the background: poll "
        "`GET /api/v1/imports/{id}`. A whole-file problem (wrong type, empty, too large, no "
        "email column, a column mapped twice) gives 400 and nothing is stored.",
        request={"multipart/form-data": s.ImportCreateSerializer},
        responses={202: s.ImportSerializer},
        tags=IMPORTS,
    )
    def post(self, request):
        data = _valid(s.ImportCreateSerializer, request.data.dict() | request.FILES.dict())
        contact_list = None
        if data.get("list_id"):
            contact_list = get_for_org(ContactList, request.organization, data["list_id"])
        with transaction.atomic():
            contact_import = call_service(
                import_services.contact_import_upload,
                organization=request.organization,
                actor=None,
                uploaded_file=data["file"],
            )
            mapping = data.get("mapping")
            if mapping is None:
                info = import_services.contact_import_file_info(contact_import=contact_import)
                fields = list(CustomField.objects.filter(organization=request.organization))
                mapping = guess_mapping(info.header, fields)
            if not isinstance(mapping, list) or not all(isinstance(m, str) for m in mapping):
                raise serializers.ValidationError({"mapping": ["Send a list of targets."]})
            call_service(
                import_services.contact_import_start,
                organization=request.organization,
                actor=None,
                contact_import=contact_import,
                mapping=mapping,
                contact_list=contact_list,
                tags=data.get("tags", ""),
                existing=data.get("existing", ContactImport.Existing.UPDATE),
                consent_text=data.get("consent_text", ""),
            )
        contact_import.refresh_from_db()
        return Response(s.ImportSerializer(contact_import).data, status=status.HTTP_202_ACCEPTED)


class ImportDetailView(APIView):
    @extend_schema(
        operation_id="imports_retrieve",
        summary="Status and counts of an import",
        responses=s.ImportSerializer,
        tags=IMPORTS,
    )
    def get(self, request, import_id):
        contact_import = get_for_org(ContactImport, request.organization, import_id)
        return Response(s.ImportSerializer(contact_import).data)


def _is_suppressed(organization, email: str) -> bool:
    try:
        normalized = normalize_email(email)
    except InvalidEmail:
        return False  # the service refuses it with the reason
    return Suppression.objects.filter(
        organization=organization, email_hash=email_hash(normalized)
    ).exists()


def _valid(serializer_class, data, *, partial: bool = False) -> dict:
    if not isinstance(data, dict):
        raise serializers.ValidationError(["Send a JSON object."])
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _uuid(value: str, name: str):
    try:
        return uuid.UUID(value)
    except ValueError:
        raise serializers.ValidationError({name: ["Not a valid id."]}) from None
