"""Django admin for operators: kill switches (toggled through the audited service) and
the warm-up exemption of sending settings."""

from django.contrib import admin

from engagex.delivery.killswitch import killswitch_set
from engagex.delivery.models import KillSwitch, SendingSettings


@admin.register(KillSwitch)
class KillSwitchAdmin(admin.ModelAdmin):
    list_display = ("__str__", "is_on", "reason", "changed_by", "changed_at")
    list_filter = ("is_on",)
    fields = ("organization", "is_on", "reason")
    autocomplete_fields = ()
    actions = ("turn_on", "turn_off")

    def save_model(self, request, obj, form, change):
        # Through the service, so the change is audited like the command's.
        saved = killswitch_set(
            actor=request.user, on=obj.is_on, organization=obj.organization, reason=obj.reason
        )
        obj.pk = saved.pk

    @admin.action(description="Turn on (stop sending)")
    def turn_on(self, request, queryset):
        for switch in queryset:
            killswitch_set(actor=request.user, on=True, organization=switch.organization)

    @admin.action(description="Turn off (resume sending)")
    def turn_off(self, request, queryset):
        for switch in queryset:
            killswitch_set(actor=request.user, on=False, organization=switch.organization)


@admin.register(SendingSettings)
class SendingSettingsAdmin(admin.ModelAdmin):
    """Operators look at how an organization sends and may exempt an established sender
    from warm-up. The transport itself is the organization's to set (Settings → Sending,
    where secrets are encrypted): here it is read-only and secrets are never shown."""

    list_display = ("organization", "transport", "warmup_exempt", "updated_at")
    list_filter = ("transport", "warmup_exempt")
    fields = ("organization", "transport", "smtp_host", "provider", "warmup_exempt")
    autocomplete_fields = ("organization",)

    def get_readonly_fields(self, request, obj=None):
        # Adding a row (to exempt an organization that never opened the page) picks the
        # organization; afterwards only the exemption is the operator's to change.
        locked = ("transport", "smtp_host", "provider")
        return locked if obj is None else ("organization", *locked)
