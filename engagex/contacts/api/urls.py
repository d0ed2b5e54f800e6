"""Contacts API routes, mounted under /api/v1/ by `engagex.api.urls`."""

from django.urls import path

from engagex.contacts.api import views

urlpatterns = [
    path("contacts", views.ContactCollectionView.as_view(), name="contacts"),
    path("contacts/bulk", views.ContactBulkView.as_view(), name="contacts-bulk"),
    path("contacts/<uuid:contact_id>", views.ContactDetailView.as_view(), name="contact"),
    path("contacts/<uuid:contact_id>/tags", views.ContactTagsView.as_view(), name="contact-tags"),
    path("fields", views.CustomFieldCollectionView.as_view(), name="fields"),
    path("lists", views.ListCollectionView.as_view(), name="lists"),
    path("lists/<uuid:list_id>", views.ListDetailView.as_view(), name="list"),
    path("lists/<uuid:list_id>/members", views.ListMembersView.as_view(), name="list-members"),
    path(
        "lists/<uuid:list_id>/members/remove",
        views.ListMembersRemoveView.as_view(),
        name="list-members-remove",
    ),
    path("segments", views.SegmentCollectionView.as_view(), name="segments"),
    path("segments/<uuid:segment_id>", views.SegmentDetailView.as_view(), name="segment"),
    path(
        "segments/<uuid:segment_id>/count", views.SegmentCountView.as_view(), name="segment-count"
    ),
    path(
        "segments/<uuid:segment_id>/members",
        views.SegmentMembersView.as_view(),
        name="segment-members",
    ),
    path("imports", views.ImportCollectionView.as_view(), name="imports"),
    path("imports/<uuid:import_id>", views.ImportDetailView.as_view(), name="import"),
    path("suppressions", views.SuppressionCollectionView.as_view(), name="suppressions"),
    path(
        "suppressions/<uuid:suppression_id>",
        views.SuppressionDetailView.as_view(),
        name="suppression",
    ),
]
