from django.urls import path

from . import staff_views, views

app_name = "events"

urlpatterns = [
    path("events/", views.event_list, name="list"),
    path("events/calendar.ics", views.events_feed, name="feed"),
    path("events/<slug:slug>/", views.event_detail, name="detail"),
    path("events/<slug:slug>/event.ics", views.event_ics, name="ics"),
    path("registrations/<str:code>/", views.registration_detail, name="registration"),
    path("registrations/<str:code>/confirm/", views.confirm_email, name="confirm"),
    path("registrations/<str:code>/cancel/", views.registration_cancel_view, name="cancel"),
    path("registrations/<str:code>/accept/", views.offer_claim_view, name="accept"),
    path(
        "registrations/<str:code>/certificate.pdf",
        views.attendance_certificate,
        name="certificate",
    ),
    path("staff/events/", staff_views.event_overview, name="staff_overview"),
    path("staff/events/<int:event_id>/", staff_views.attendees, name="staff_attendees"),
    path("staff/events/<int:event_id>/check-in/", staff_views.check_in, name="staff_check_in"),
    path(
        "staff/events/<int:event_id>/attendees.csv",
        staff_views.attendees_csv,
        name="staff_attendees_csv",
    ),
]
