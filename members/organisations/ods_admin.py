"""The admin's screens for the NHS organisations: the data, read-only (it
comes from the ODS files), and the imports, started by uploading the files
(``OdsImportAdmin.add_view``), each followed on its progress page."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from members.models import NHSOrganisation, OdsImport

from .ods_forms import OdsImportForm
from .ods_import import ods_import_queue

RUN_PERMISSION = "members.run_ods_import"


@admin.register(NHSOrganisation)
class NHSOrganisationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "status", "town", "postcode", "pcn", "icb"]
    list_filter = ["kind", "status"]
    list_select_related = ["pcn", "icb"]
    search_fields = ["code", "name", "town", "postcode"]
    readonly_fields = [
        "code",
        "kind",
        "name",
        "status",
        "address",
        "town",
        "postcode",
        "phone",
        "opened_on",
        "closed_on",
        "sub_icb",
        "pcn",
        "icb",
        "created_at",
        "updated_at",
    ]
    fields = readonly_fields

    # Reference data: loaded from the ODS files, never typed in here.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(OdsImport)
class OdsImportAdmin(admin.ModelAdmin):
    list_display = ["__str__", "created_at", "started_by_label", "status", "practices_summary"]
    list_filter = ["status"]

    @admin.display(description="practices")
    def practices_summary(self, record: OdsImport) -> str:
        counts = record.report.get("practices")
        if not counts:
            return ""
        return (
            f"{counts['added']} added, {counts['changed']} changed, "
            f"{counts['moved']} moved, {counts['closed']} closed"
        )

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(RUN_PERMISSION) or super().has_view_permission(request, obj)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RUN_PERMISSION)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        """Upload the files; the import then runs on a worker, and the
        browser goes to its progress page."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = OdsImportForm(
            request.POST if request.method == "POST" else None,
            request.FILES if request.method == "POST" else None,
        )
        if request.method == "POST" and form.is_valid():
            record = ods_import_queue(
                practices_file=form.cleaned_data["practices_file"],
                pcn_file=form.cleaned_data["pcn_file"],
                by=request.user,
            )
            return redirect("members:staff_ods_import", import_id=record.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "Import NHS organisations from the ODS files",
            "form": form,
            "opts": self.model._meta,
            "latest": OdsImport.objects.filter(status=OdsImport.Status.DONE).first(),
            **(extra_context or {}),
        }
        return TemplateResponse(
            request,
            "admin/members/odsimport/upload.html",
            context,
            status=400 if form.errors else 200,
        )

    def change_view(self, request: HttpRequest, object_id: str, form_url="", extra_context=None):
        """An import's page is its progress and report page."""
        if not self.has_view_permission(request):
            return super().change_view(request, object_id, form_url, extra_context)
        if not object_id.isdecimal():
            return HttpResponse(status=404)
        return redirect(reverse("members:staff_ods_import", args=[int(object_id)]))
