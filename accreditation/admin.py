from django.contrib import admin

from .models import Application, Certificate, CpdEntry, Pathway


@admin.register(Pathway)
class PathwayAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "awarding_body",
        "route_type",
        "rqf_level",
        "validity_years",
        "cpd_hours_required",
        "is_active",
    ]
    list_filter = ["route_type", "is_active"]
    search_fields = ["name", "awarding_body"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    """Read-only here: decisions go through the review queue, which audits them."""

    list_display = ["pk", "applicant", "pathway", "kind", "status", "submitted_at", "assessor"]
    list_filter = ["status", "kind", "pathway"]
    search_fields = ["applicant__email", "applicant__last_name"]
    list_select_related = ["applicant", "pathway", "assessor"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = ["number", "holder_name", "pathway", "issued_on", "expires_on", "status"]
    list_filter = ["status", "pathway"]
    search_fields = ["number", "holder_name", "holder__email"]
    exclude = ["verification_code", "pdf"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(CpdEntry)
class CpdEntryAdmin(admin.ModelAdmin):
    list_display = ["user", "date", "activity", "hours", "category", "source"]
    list_filter = ["category", "source"]
    search_fields = ["user__email", "activity"]
    list_select_related = ["user"]
