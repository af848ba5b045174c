"""Configuration screens for staff: organisation grades and their fee
bands (fees are data), and the accounts."""

from django.contrib import admin

from members.models import (
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
    list_display = ["name", "kind", "ods_code", "list_size"]
    search_fields = ["name", "ods_code"]
    raw_id_fields = ["nhs_organisation"]
    inlines = [AdministratorInline]
