from django.urls import path

from . import staff_views, views

app_name = "events"

urlpatterns = [
    path("events/", views.event_list, name="list"),
    path("my-events/", views.my_events, name="my_events"),
    path("events/calendar.ics", views.events_feed, name="feed"),
    path("events/<slug:slug>/", views.event_detail, name="detail"),
    path("events/<slug:slug>/event.ics", views.event_ics, name="ics"),
    path("events/<slug:slug>/check-your-email/", views.check_email, name="check_email"),
    # The confirmation link's token is not a registration's key: its own
    # path, so the old /registrations/<code>/confirm/ form cannot be used.
    path("registrations/confirm/<str:token>/", views.confirm_email, name="confirm"),
    path("registrations/<str:token>/", views.registration_detail, name="registration"),
    path("registrations/<str:token>/cancel/", views.registration_cancel_view, name="cancel"),
    path("registrations/<str:token>/accept/", views.offer_claim_view, name="accept"),
    path(
        "registrations/<str:token>/certificate.pdf",
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
