"""Django admin for operators: kill switches (toggled through the audited service)."""

from django.contrib import admin

from engagex.delivery.killswitch import killswitch_set
from engagex.delivery.models import KillSwitch


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
