"""Tracking API routes, mounted under /api/v1/ by `engagex.api.urls`."""

from django.urls import path

from engagex.tracking.api import views

urlpatterns = [
    path("events", views.EventCollectionView.as_view(), name="events"),
    path(
        "contacts/<uuid:contact_id>/unsubscribe",
        views.ContactUnsubscribeView.as_view(),
        name="contact-unsubscribe",
    ),
]
