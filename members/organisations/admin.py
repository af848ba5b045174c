"""Configuration screens for staff: organisation grades and their fee
bands (fees are data), and the accounts."""

from django.contrib import admin

from members.models import (
    AuditEntry,
    OrganisationAccount,
    OrganisationAdministrator,
    OrganisationFeeBand,
    OrganisationGrade,
)


class FeeBandInline(admin.TabularInline):
    model = OrganisationFeeBand
    extra = 1


@admin.register(OrganisationGrade)
class OrganisationGradeAdmin(admin.ModelAdmin):
    list_display = ["name", "member_grade", "pricing", "seat_fee_pence", "is_active"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [FeeBandInline]


class AdministratorInline(admin.TabularInline):
    model = OrganisationAdministrator
    extra = 0
    raw_id_fields = ["user"]


@admin.register(OrganisationAccount)
class OrganisationAccountAdmin(admin.ModelAdmin):
    """Staff see who administers an account and change it; an account
    someone else also asked for (the same ODS code) shows who claimed it."""

    list_display = ["name", "kind", "ods_code", "list_size"]
    search_fields = ["name", "ods_code"]
    raw_id_fields = ["nhs_organisation"]
    readonly_fields = ["claimed_by"]
    inlines = [AdministratorInline]

    @admin.display(description="Also claimed by")
    def claimed_by(self, obj) -> str:
        if obj.pk is None:
            return "-"
        claims = (
            AuditEntry.objects.filter(
                action="organisation_claimed",
                target_type=obj._meta.model_name,
                target_id=obj.pk,
            )
            .order_by("created_at")
            .values_list("actor_label", "created_at")
        )
        return "; ".join(f"{who} ({when:%d %b %Y})" for who, when in claims) or "-"
