"""The NHS organisation data's routes, included by ``members/urls.py``
(names in the ``members`` namespace)."""

from django.urls import path

from . import ods_views

urlpatterns = [
    path("profile/practice/", ods_views.practice_search_page, name="practice_search"),
    path(
        "staff/members/practice-codes/",
        ods_views.staff_practice_codes,
        name="staff_practice_codes",
    ),
    path(
        "staff/ods-imports/<int:import_id>/",
        ods_views.staff_ods_import,
        name="staff_ods_import",
    ),
    path(
        "staff/ods-imports/<int:import_id>/progress/",
        ods_views.staff_ods_import_progress,
        name="staff_ods_import_progress",
    ),
]
