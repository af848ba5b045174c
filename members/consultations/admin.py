from django.contrib import admin

from .models import Consultation, Question


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0
    fields = ["order", "kind", "text", "required"]
    readonly_fields = fields
    can_delete = False


@admin.register(Consultation)
class ConsultationAdmin(admin.ModelAdmin):
    """Read-only here: consultations change through the Policy team's pages,
    which audit every change."""

    list_display = ["title", "status", "anonymity", "opens_at", "closes_at"]
    list_filter = ["status", "anonymity"]
    search_fields = ["title"]
    # The document is served only through members:consultation_document;
    # the admin would link straight to storage.
    exclude = ["document"]
    inlines = [QuestionInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
