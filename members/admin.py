from allauth.mfa.admin import AuthenticatorAdmin as BaseAuthenticatorAdmin
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from .models import CareBoard, Grade, Profile, User


class UserChangeFormByEmail(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


class UserCreationFormByEmail(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("email",)


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    autocomplete_fields = ["care_board"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeFormByEmail
    add_form = UserCreationFormByEmail
    inlines = [ProfileInline]
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Name", {"fields": ("first_name", "last_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )


@admin.register(CareBoard)
class CareBoardAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "nation", "region", "is_active"]
    list_filter = ["nation", "kind", "region", "is_active"]
    search_fields = ["name"]


@admin.register(Grade)
class GradeAdmin(admin.ModelAdmin):
    """Grades are data: names, fees, eligibility and approval are set here,
    never in code. A grade with members is retired (not offered to new
    members) rather than deleted: deleting one still held is refused."""

    list_display = ["name", "fee_display", "requires_approval", "is_active", "display_order"]
    list_editable = ["display_order"]
    prepopulated_fields = {"slug": ["name"]}

    @admin.display(description="annual fee")
    def fee_display(self, grade: Grade) -> str:
        return grade.fee_display

    def save_model(self, request, obj: Grade, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "annual_fee_pence" in form.changed_data:
            # Automatic renewals collect the new fee from their next
            # collection (their upcoming notice shows it).
            from members.billing.tasks import auto_renewals_reprice_task

            auto_renewals_reprice_task.delay_on_commit(obj.pk)


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "organisation_name", "ods_code", "care_board"]
    list_filter = ["role", "care_board__nation"]
    list_select_related = ["user", "care_board"]
    search_fields = ["user__email", "user__last_name", "organisation_name", "ods_code"]
    autocomplete_fields = ["care_board"]
    raw_id_fields = ["user"]


# allauth's screen shows an authenticator's data, which holds its (sealed)
# secret. Staff need only see who has which method and may delete one (a
# lost phone); nothing here adds or edits a secret.
admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(BaseAuthenticatorAdmin):
    fields = ("user", "type", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False
