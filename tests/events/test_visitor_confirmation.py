"""A visitor's registration: the emailed single-use confirmation link, the
private management token apart from the door's check-in code, requests
that hold no place, rate limits, and the purge of lapsed requests."""

import datetime
import hashlib
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from events import services
from events.models import CHECKIN_ALPHABET, Registration
from events.services import (
    RegistrationRefused,
    registration_confirm_email,
    registration_create,
    unconfirmed_registrations_purge,
)
from members.models import AuditEntry
from tests.factories import (
    StaffFactory,
    active_member,
    confirm_token_issue,
    event,
    member_registration,
)

Status = Registration.Status


def details(email="sam@example.org", **extra) -> dict:
    return {
        "name": "Sam Patel",
        "email": email,
        "organisation": "Riverside Surgery",
        "role": "Practice Manager",
        **extra,
    }


def member_at(email: str):
    """A member in good standing whose account address is ``email``."""
    user = active_member()
    user.email = email
    user.save(update_fields=["email"])
    return user


def visitor(ev, email="sam@example.org") -> Registration:
    return registration_create(event=ev, **details(email))


def confirm_token(message) -> str:
    return re.search(r"/registrations/confirm/([\w-]+)/", message.body).group(1)


def sent_token(ev, email="sam@example.org", capture=None) -> tuple[Registration, str]:
    """A visitor registers through the service; the token from their email."""
    mail.outbox.clear()
    with capture(execute=True):
        registration = visitor(ev, email)
    [message] = [m for m in mail.outbox if m.to == [email]]
    return registration, confirm_token(message)


# The attack, over HTTP.


@pytest.mark.django_db
def test_registering_then_confirming_from_the_redirect_is_refused(
    client, django_capture_on_commit_callbacks
):
    """The probe: register any address, then confirm it with what the
    redirect gave. The redirect names nothing; every code the row has is
    refused as a confirmation, on the old path and the new one."""
    ev = event(capacity=1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("events:detail", args=[ev.slug]), details())
    registration = Registration.objects.get()
    location = response["Location"]
    assert location == reverse("events:check_email", args=[ev.slug])
    page = client.get(location)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Check your email" in html
    for secret in (registration.manage_token, registration.checkin_code):
        assert secret not in location
        assert secret not in html

    guesses = [ev.slug, registration.manage_token, registration.checkin_code, str(registration.pk)]
    for guess in guesses:
        assert client.post(reverse("events:confirm", args=[guess])).status_code == 404
        # The old form of the link, with the registration's own code.
        assert client.post(f"/registrations/{guess}/confirm/").status_code == 404
    registration.refresh_from_db()
    assert registration.status == Status.UNCONFIRMED

    # The address's owner, a member, is not blocked: the place is theirs.
    owner = member_at("sam@example.org")
    client.force_login(owner)
    response = client.post(reverse("events:detail", args=[ev.slug]), details())
    mine = Registration.objects.get(user=owner)
    assert response["Location"] == mine.get_absolute_url()
    assert mine.status == Status.CONFIRMED
    assert not Registration.objects.filter(pk=registration.pk).exists()


@pytest.mark.django_db
def test_the_old_confirmation_path_no_longer_exists(client):
    registration = visitor(event())
    old = f"/registrations/{registration.manage_token}/confirm/"
    assert client.get(old).status_code == 404
    assert client.post(old).status_code == 404
    registration.refresh_from_db()
    assert registration.status == Status.UNCONFIRMED


# The confirmation token.


@pytest.mark.django_db
def test_only_a_hash_of_the_emailed_token_is_stored(django_capture_on_commit_callbacks):
    registration, token = sent_token(event(), capture=django_capture_on_commit_callbacks)
    registration.refresh_from_db()
    assert registration.confirm_token_hash == hashlib.sha256(token.encode()).hexdigest()
    row = Registration.objects.filter(pk=registration.pk).values().get()
    assert token not in [str(value) for value in row.values()]
    assert token not in (registration.manage_token, registration.checkin_code)


@pytest.mark.django_db
def test_the_link_shows_a_button_then_confirms_once(client, django_capture_on_commit_callbacks):
    registration, token = sent_token(event(), capture=django_capture_on_commit_callbacks)
    url = reverse("events:confirm", args=[token])
    page = client.get(url)
    assert page.status_code == 200
    assert "sam@example.org" in page.content.decode()
    registration.refresh_from_db()
    assert registration.status == Status.UNCONFIRMED  # a GET changes nothing

    response = client.post(url)
    assert response["Location"] == registration.get_absolute_url()
    again = client.get(url)
    assert again.status_code == 404
    assert "This confirmation link does not work" in again.content.decode()
    with pytest.raises(RegistrationRefused, match="expired or has been used"):
        registration_confirm_email(token=token)


@pytest.mark.django_db
@pytest.mark.parametrize(("hours", "setting"), [(48, None), (2, 2)])
def test_the_link_lapses_after_the_configured_hours(
    client, settings, django_capture_on_commit_callbacks, hours, setting
):
    if setting is not None:
        settings.EVENTS_CONFIRM_HOURS = setting
    registration, token = sent_token(event(), capture=django_capture_on_commit_callbacks)
    url = reverse("events:confirm", args=[token])
    start = timezone.now()
    with time_machine.travel(start + datetime.timedelta(hours=hours, minutes=-1)):
        assert client.get(url).status_code == 200
    with time_machine.travel(start + datetime.timedelta(hours=hours, minutes=1)):
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    registration.refresh_from_db()
    assert registration.status == Status.UNCONFIRMED


@pytest.mark.django_db
def test_the_confirmation_email_cannot_be_sent_without_its_token():
    """A worker re-running the email without the token sends nothing: the
    token was never stored, so no link could be built."""
    from events.tasks import registration_email_task

    registration = visitor(event())
    assert registration_email_task(registration.pk, "confirm_email") is False
    assert mail.outbox == []


# The management token and the check-in code.


@pytest.mark.django_db
def test_the_check_in_code_is_short_readable_and_not_the_management_token():
    ev = event()
    codes = [member_registration(ev, active_member()).checkin_code for _ in range(20)]
    codes.append(visitor(ev).checkin_code)
    for code in codes:
        assert len(code) == 8
        assert set(code) <= set(CHECKIN_ALPHABET)
        assert not set(code) & set("01IOL_-abcdefghijklmnopqrstuvwxyz")
    assert len(set(codes)) == len(codes)
    registration = Registration.objects.first()
    assert registration.manage_token != registration.checkin_code
    assert len(registration.manage_token) >= 32


@pytest.mark.django_db
def test_the_database_keeps_check_in_codes_unique():
    ev = event()
    first = member_registration(ev, active_member())
    second = member_registration(ev, active_member())
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.filter(pk=second.pk).update(checkin_code=first.checkin_code)


@pytest.mark.django_db
def test_door_staff_check_in_by_code_and_never_see_the_management_token(client):
    ev = event()
    registration = member_registration(ev, active_member())
    staff = StaffFactory(mfa=True)
    staff.groups.add(Group.objects.get(name="Events team"))
    client.force_login(staff)
    page = client.get(reverse("events:staff_attendees", args=[ev.pk])).content.decode()
    assert registration.checkin_code in page
    assert registration.manage_token not in page

    url = reverse("events:staff_check_in", args=[ev.pk])
    client.post(url, {"code": registration.manage_token})
    registration.refresh_from_db()
    assert registration.checked_in_at is None

    code = registration.checkin_code
    typed = f"{code[:4].lower()} {code[4:]}"  # as read out at the door
    client.post(url, {"code": typed})
    registration.refresh_from_db()
    assert registration.checked_in_at is not None
    found = client.get(reverse("events:staff_attendees", args=[ev.pk]), {"q": code.lower()})
    assert registration.name in found.content.decode()


@pytest.mark.django_db
def test_the_check_in_code_opens_nothing(client):
    registration = member_registration(event(), active_member())
    for name in ("events:registration", "events:certificate"):
        assert client.get(reverse(name, args=[registration.checkin_code])).status_code == 404
    for name in ("events:cancel", "events:accept"):
        assert client.post(reverse(name, args=[registration.checkin_code])).status_code == 404
    registration.refresh_from_db()
    assert registration.status == Status.CONFIRMED


@pytest.mark.django_db
def test_emails_link_the_management_token_and_print_the_check_in_code(
    django_capture_on_commit_callbacks,
):
    ev, member = event(), active_member()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        registration = member_registration(ev, member)
    [message] = mail.outbox
    assert registration.get_absolute_url() in message.body
    assert f"check-in code at the door: {registration.checkin_code}" in message.body


# Requests that hold no place.


@pytest.mark.django_db
def test_unconfirmed_requests_take_no_place_and_no_place_in_the_queue(client):
    ev = event(capacity=2)
    for n in range(10):
        visitor(ev, f"visitor{n}@example.org")
    first, second, third = (member_registration(ev, active_member()) for _ in range(3))
    assert (first.status, second.status, third.status) == ("confirmed", "confirmed", "waiting")
    assert services.places_taken(ev) == 2
    page = client.get(ev.get_absolute_url()).content.decode()
    assert "Full: you can join the waiting list" in page


@pytest.mark.django_db
def test_a_member_with_the_address_replaces_an_unconfirmed_request(
    client, django_capture_on_commit_callbacks
):
    ev = event(capacity=1)
    stale, token = sent_token(ev, "mo@example.org", capture=django_capture_on_commit_callbacks)
    owner = member_at("mo@example.org")
    mine = member_registration(ev, owner)
    assert mine.status == Status.CONFIRMED
    assert not Registration.objects.filter(pk=stale.pk).exists()
    entry = AuditEntry.objects.get(action="registration_superseded")
    assert (entry.target_id, entry.actor, entry.reason) == (stale.pk, owner, "member registered")
    # The earlier email's link is dead.
    assert client.get(reverse("events:confirm", args=[token])).status_code == 404


@pytest.mark.django_db
def test_registering_again_replaces_the_request_and_its_link(
    client, django_capture_on_commit_callbacks
):
    ev = event()
    _first, first_token = sent_token(ev, capture=django_capture_on_commit_callbacks)
    second, second_token = sent_token(ev, capture=django_capture_on_commit_callbacks)
    assert first_token != second_token
    assert list(Registration.objects.values_list("pk", flat=True)) == [second.pk]
    assert client.get(reverse("events:confirm", args=[first_token])).status_code == 404
    assert client.get(reverse("events:confirm", args=[second_token])).status_code == 200


@pytest.mark.django_db
def test_a_live_place_still_refuses_a_second_registration():
    ev = event()
    member_registration(ev, member_at("kim@example.org"))
    with pytest.raises(RegistrationRefused, match="already registered"):
        visitor(ev, "kim@example.org")


@pytest.mark.django_db
def test_a_request_confirmed_after_a_member_took_the_address_is_refused(
    django_capture_on_commit_callbacks,
):
    """Confirmation re-checks the address under the lock."""
    ev = event()
    registration, token = sent_token(ev, capture=django_capture_on_commit_callbacks)
    Registration.objects.create(
        event=ev,
        name="Someone",
        email="sam@example.org",
        organisation="x",
        role="y",
        status=Status.CONFIRMED,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        # Without the service's check, the constraint would refuse it.
        Registration.objects.filter(pk=registration.pk).update(status=Status.CONFIRMED)
    with pytest.raises(RegistrationRefused, match="already registered"):
        registration_confirm_email(token=token)


@pytest.mark.django_db
def test_the_one_per_address_constraints_cover_only_live_and_unconfirmed_rows():
    ev = event()
    base = {"event": ev, "name": "A", "email": "a@example.org", "organisation": "o", "role": "r"}
    Registration.objects.create(**base, status=Status.CANCELLED)
    Registration.objects.create(**base, status=Status.CANCELLED)
    Registration.objects.create(**base, status=Status.UNCONFIRMED)
    Registration.objects.create(**base, status=Status.WAITING)
    for status in (Status.CONFIRMED, Status.WAITING, Status.UNCONFIRMED):
        with pytest.raises(IntegrityError), transaction.atomic():
            Registration.objects.create(**base, status=status)


def race_for_one_address(ev, owner, token, *, workers: int = 12) -> list[str]:
    """Half the threads confirm the visitor's link, half register the
    member with the same address, all released at once."""
    barrier = threading.Barrier(workers)

    def work(n):
        try:
            barrier.wait()
            if n % 2:
                return registration_confirm_email(token=token).status
            return member_registration(ev, owner).status
        except RegistrationRefused:
            return "refused"
        except IntegrityError:
            return "integrity"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(work, range(workers)))


@pytest.mark.django_db(transaction=True)
def test_confirming_and_a_member_registering_at_once_leave_one_place():
    ev = event(capacity=5)
    owner = member_at("sam@example.org")
    token = confirm_token_issue(visitor(ev))
    outcomes = race_for_one_address(ev, owner, token)
    assert outcomes.count("confirmed") == 1
    assert "integrity" not in outcomes  # the lock, not the constraint, decided
    live = Registration.objects.filter(event=ev, email="sam@example.org", status__in=["confirmed"])
    assert live.count() == 1


@pytest.mark.django_db(transaction=True)
def test_without_the_lock_the_constraint_still_allows_one_place(monkeypatch):
    """Negative control for the lock: without it the race reaches the
    database, whose partial unique constraint still keeps one live row."""
    monkeypatch.setattr(
        services, "_lock_event", lambda event_id: services.Event.objects.get(pk=event_id)
    )
    ev = event(capacity=5)
    owner = member_at("sam@example.org")
    token = confirm_token_issue(visitor(ev))
    outcomes = race_for_one_address(ev, owner, token)
    assert outcomes.count("confirmed") == 1
    live = Registration.objects.filter(
        event=ev, email="sam@example.org", status__in=Registration.LIVE
    )
    assert live.count() == 1


@pytest.mark.django_db
def test_cancelling_an_event_writes_to_no_unconfirmed_address(
    django_capture_on_commit_callbacks,
):
    from events.services import event_cancel

    ev = event()
    with django_capture_on_commit_callbacks(execute=True):
        visitor(ev, "never@example.org")
        member_registration(ev, member_at("kept@example.org"))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert event_cancel(event=ev, by=StaffFactory(mfa=True)) == 1
    assert [m.to for m in mail.outbox] == [["kept@example.org"]]


# Rate limits.


def post_register(client, ev, email, **headers):
    return client.post(reverse("events:detail", args=[ev.slug]), details(email), **headers)


@pytest.mark.django_db
def test_visitor_registration_is_limited_per_client_address(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "events_register_visitor": "3/h/ip",
    }
    ev = event()
    for n in range(3):
        assert post_register(client, ev, f"v{n}@example.org").status_code == 302
    response = post_register(client, ev, "v9@example.org")
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many registrations have come from your connection" in html
    assert 'value="v9@example.org"' in html  # what was typed is kept
    assert 'value="Riverside Surgery"' in html
    assert not Registration.objects.filter(email="v9@example.org").exists()
    # Another client address has its own allowance.
    other = post_register(client, ev, "v10@example.org", REMOTE_ADDR="192.0.2.77")
    assert other.status_code == 302


@pytest.mark.django_db
def test_visitor_registration_is_limited_per_email_address(client):
    """The default: three requests an hour for one address, from anywhere."""
    ev = event()
    for n in range(3):
        response = post_register(client, ev, "Sam@Example.org", REMOTE_ADDR=f"192.0.2.{n}")
        assert response.status_code == 302
    response = post_register(client, ev, "sam@example.org", REMOTE_ADDR="192.0.2.50")
    assert response.status_code == 429
    html = response.content.decode()
    assert "This email address has been registered several times recently." in html
    assert 'aria-invalid="true"' in html
    assert Registration.objects.count() == 1


@pytest.mark.django_db
def test_the_client_address_is_read_through_the_trusted_proxies(client, settings):
    """Behind one trusted proxy, each client named in X-Forwarded-For has
    its own allowance (allauth's client-address rule)."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "events_register_visitor": "1/h/ip",
    }
    ev = event()
    first = post_register(client, ev, "a@example.org", HTTP_X_FORWARDED_FOR="198.51.100.1")
    again = post_register(client, ev, "b@example.org", HTTP_X_FORWARDED_FOR="198.51.100.1")
    other = post_register(client, ev, "c@example.org", HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert (first.status_code, again.status_code, other.status_code) == (302, 429, 302)


@pytest.mark.django_db
def test_members_registering_themselves_are_not_limited(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "events_register_visitor": "1/h/ip",
    }
    post_register(client, event(), "v@example.org")
    member = active_member()
    client.force_login(member)
    response = post_register(client, event(), member.email)
    assert response.status_code == 302
    assert Registration.objects.get(user=member).status == Status.CONFIRMED


# Lapsed requests are deleted.


@pytest.mark.django_db
def test_lapsed_unconfirmed_requests_are_deleted_once():
    ev = event()
    lapsing = visitor(ev, "gone@example.org")
    kept = member_registration(ev, active_member())
    later = timezone.now() + datetime.timedelta(hours=1)
    with time_machine.travel(later):
        fresh = visitor(ev, "fresh@example.org")
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=48, minutes=30)):
        assert unconfirmed_registrations_purge() == 1
        assert unconfirmed_registrations_purge() == 0  # twice: nothing more
    remaining = set(Registration.objects.values_list("pk", flat=True))
    assert remaining == {kept.pk, fresh.pk}
    assert lapsing.pk not in remaining
    # The visitor's address goes from the audit trail with the row.
    labels = AuditEntry.objects.filter(target_type="registration", target_id=lapsing.pk)
    assert list(labels.values_list("actor_label", flat=True)) == ["visitor"]
    summary = AuditEntry.objects.get(action="unconfirmed_registrations_deleted")
    assert summary.data["count"] == 1


def test_the_purge_runs_on_a_schedule():
    from django.conf import settings

    from events.tasks import unconfirmed_registrations_purge_task

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert unconfirmed_registrations_purge_task.name in tasks


@pytest.mark.django_db
def test_the_purge_task_deletes_through_the_service():
    from events.tasks import unconfirmed_registrations_purge_task

    visitor(event())
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=49)):
        assert unconfirmed_registrations_purge_task() == 1
    assert not Registration.objects.exists()


@pytest.mark.django_db
def test_a_link_for_an_event_no_longer_open_says_so(client, django_capture_on_commit_callbacks):
    ev = event()
    registration, token = sent_token(ev, capture=django_capture_on_commit_callbacks)
    ev.status = ev.Status.DRAFT
    ev.save(update_fields=["status"])
    response = client.post(reverse("events:confirm", args=[token]))
    assert response.status_code == 409
    assert "This event is no longer open." in response.content.decode()
    registration.refresh_from_db()
    assert registration.status == Status.UNCONFIRMED


@pytest.mark.django_db
def test_a_mangled_link_is_a_plain_not_found(client):
    for token in ("%00", "x" * 500, "..%2F"):
        assert client.get(f"/registrations/confirm/{token}/").status_code == 404


@pytest.mark.django_db
def test_the_admin_shows_the_check_in_code_but_not_the_private_tokens(client):
    registration = visitor(event())
    client.force_login(StaffFactory(mfa=True, is_superuser=True))
    page = client.get(reverse("admin:events_registration_change", args=[registration.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert registration.checkin_code in html
    assert registration.manage_token not in html
    assert registration.confirm_token_hash not in html


@pytest.mark.django_db
def test_a_flood_of_anonymous_registrations_fills_nothing(client):
    """The probe's flood, over HTTP from many addresses: none of it holds a
    place or a place in the queue, and the event still shows every place."""
    ev = event(capacity=3)
    for n in range(40):
        response = post_register(client, ev, f"flood{n}@example.org", REMOTE_ADDR=f"10.0.{n}.1")
        assert response.status_code == 302
    assert Registration.objects.filter(event=ev, status=Status.UNCONFIRMED).count() == 40
    assert "3 of 3 left" in client.get(ev.get_absolute_url()).content.decode()
    member = active_member()
    client.force_login(member)
    post_register(client, ev, member.email)
    assert Registration.objects.get(user=member).status == Status.CONFIRMED
