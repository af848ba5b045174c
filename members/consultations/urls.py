"""Consultation routes, included in ``members.urls`` (names ``members:...``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("consultations/", views.consultation_list, name="consultations"),
    path("consultations/<int:consultation_id>/", views.consultation_answer, name="consultation"),
    path(
        "consultations/<int:consultation_id>/done/",
        views.consultation_done,
        name="consultation_done",
    ),
    path(
        "consultations/<int:consultation_id>/summary/",
        views.consultation_summary,
        name="consultation_summary",
    ),
    path(
        "consultations/<int:consultation_id>/document/",
        views.consultation_document,
        name="consultation_document",
    ),
    path(
        "consultations/reminders/stop/<str:token>/",
        views.consultation_reminders_stop,
        name="consultation_reminders_stop",
    ),
    path("staff/consultations/", views.staff_consultations, name="staff_consultations"),
    path("staff/consultations/new/", views.staff_consultation_new, name="staff_consultation_new"),
    path(
        "staff/consultations/<int:consultation_id>/",
        views.staff_consultation,
        name="staff_consultation",
    ),
    path(
        "staff/consultations/<int:consultation_id>/questions/",
        views.staff_question_add,
        name="staff_question_add",
    ),
    path(
        "staff/consultations/questions/<int:question_id>/",
        views.staff_question,
        name="staff_question",
    ),
    path(
        "staff/consultations/questions/<int:question_id>/move/",
        views.staff_question_move,
        name="staff_question_move",
    ),
    path(
        "staff/consultations/<int:consultation_id>/state/",
        views.staff_consultation_state,
        name="staff_consultation_state",
    ),
    path(
        "staff/consultations/<int:consultation_id>/results/",
        views.staff_results,
        name="staff_consultation_results",
    ),
    path(
        "staff/consultations/<int:consultation_id>/results.csv",
        views.staff_results_csv,
        name="staff_consultation_results_csv",
    ),
    path(
        "staff/consultations/<int:consultation_id>/publish/",
        views.staff_publish,
        name="staff_consultation_publish",
    ),
]
