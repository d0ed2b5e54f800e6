"""Operator views of tracking: mail the inbound server couldn't understand (to inspect
and improve the parser), read-only."""

from __future__ import annotations

from django.contrib import admin

from engagex.tracking.models import InboundMessage


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ("received_at", "source", "kind", "outcome", "subject", "envelope_from", "size")
    list_filter = ("outcome", "kind", "source")
    search_fields = ("subject", "envelope_from", "envelope_to", "note")
    date_hierarchy = "received_at"
    readonly_fields = (
        "organization",
        "received_at",
        "source",
        "envelope_from",
        "envelope_to",
        "subject",
        "kind",
        "outcome",
        "note",
        "size",
        "raw_text",
    )
    exclude = ("raw",)

    @admin.display(description="Message (first 256 KB)")
    def raw_text(self, message: InboundMessage) -> str:
        return bytes(message.raw).decode("utf-8", "replace")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
