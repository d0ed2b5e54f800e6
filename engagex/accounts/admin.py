"""Django admin for platform staff only (`is_staff`); tenants never see it.

Secrets stay secret here too: API key hashes and invitation token hashes are not shown.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from engagex.accounts.models import (
    ApiKey,
    EmailUsage,
    Invitation,
    Membership,
    Organization,
    Plan,
    User,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["full_name"]}),
        ("Platform access", {"fields": ["is_active", "is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    filter_horizontal: list[str] = []


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "plan", "status", "country", "created_at"]
    list_filter = ["status", "plan"]
    search_fields = ["name", "slug"]
    readonly_fields = ["id", "created_at"]
    inlines = [MembershipInline]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "max_contacts",
        "monthly_emails",
        "hourly_emails",
        "daily_emails",
        "price_cents",
    ]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["organization", "role", "state", "expires_at", "created_at"]
    exclude = ["token_hash"]
    readonly_fields = ["organization", "email", "role", "invited_by", "accepted_by"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "organization", "last_used_at", "revoked_at"]
    exclude = ["key_hash"]
    readonly_fields = ["organization", "name", "prefix", "scopes", "created_by", "last_used_at"]


@admin.register(EmailUsage)
class EmailUsageAdmin(admin.ModelAdmin):
    list_display = ["organization", "month", "emails_sent"]
    readonly_fields = ["organization", "month"]
