from django.contrib import admin, messages

from .models import Event, Registration
from .services import event_cancel, event_capacity_change


@admin.action(description="Cancel the selected events and tell everyone registered")
def cancel_events(modeladmin, request, queryset):
    told = sum(event_cancel(event=event, by=request.user) for event in queryset)
    messages.success(request, f"Cancelled; {told} registrations are being told by email.")


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["title", "type", "starts_at", "region", "capacity", "status", "members_only"]
    list_filter = ["status", "type", "region", "members_only", "host_type"]
    search_fields = ["title", "host_name"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["umbrella"]
    actions = [cancel_events]
    fieldsets = (
        (None, {"fields": ("title", "slug", "type", "umbrella", "status")}),
        ("What", {"fields": ("summary", "description", "cpd_hours")}),
        ("When", {"fields": ("starts_at", "ends_at")}),
        ("Where", {"fields": ("is_online", "venue", "joining_link", "region")}),
        ("Who", {"fields": ("host_type", "host_name", "members_only", "capacity")}),
        ("Registration", {"fields": ("registration_opens_at", "registration_closes_at")}),
    )

    def save_model(self, request, obj, form, change):
        """A new capacity goes through the service, which offers any new
        places to the waiting list in the admin's transaction."""
        if not (change and "capacity" in form.changed_data):
            super().save_model(request, obj, form, change)
            return
        capacity = obj.capacity
        obj.capacity = form.initial["capacity"]
        super().save_model(request, obj, form, change)
        offered = event_capacity_change(event=obj, capacity=capacity, by=request.user)
        obj.capacity = capacity
        if offered:
            told = "1 person" if len(offered) == 1 else f"{len(offered)} people"
            messages.info(request, f"{told} on the waiting list offered a place by email.")


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    """Read-only: places change through the services, under the event lock."""

    list_display = ["name", "email", "event", "status", "created_at", "checked_in_at"]
    list_filter = ["status", "event"]
    search_fields = ["name", "email", "checkin_code"]
    # The management token opens the registrant's own page: not for display.
    exclude = ["manage_token", "confirm_token_hash"]
    list_select_related = ["event"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
