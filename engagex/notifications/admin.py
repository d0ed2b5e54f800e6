from django.contrib import admin

from engagex.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "organization", "level", "kind", "title", "read_at")
    list_filter = ("level", "kind")
    search_fields = ("title", "organization__name")
    list_select_related = ("organization",)
    readonly_fields = ("created_at", "updated_at")
