"""Automatic renewal with the offline provider (no Stripe keys): the demo
journey end to end, set-up, a simulated collection buying one year, a
failure, stopping, and the pages that go with them."""

import datetime
import time

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from members.billing.selectors import auto_renewal_live
from members.billing.services.auto_renewal import (
    auto_renewal_offer,
    auto_renewal_start,
    auto_renewal_stop,
    offline_collection_simulate,
    offline_setup_complete,
    stop_token,
    stop_token_read,
)
from members.exceptions import MembershipError
from members.models import AutoRenewal, CollectionNotice, Membership, MembershipPeriod, Payment
from tests.factories import MembershipFactory, active_member, grade
from tests.test_celery import celery_worker as celery_worker  # the real worker fixture

START = reverse("members:auto_renewal_start")
STOP = reverse("members:auto_renewal_stop")


@pytest.fixture(autouse=True)
def offline(settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.PAYMENTS_OFFLINE_PROVIDER = True


def start(membership, method="card"):
    return auto_renewal_start(
        membership=membership,
        method=method,
        user=membership.user,
        success_url="http://testserver/ok",
        cancel_url="http://testserver/no",
    )


@pytest.mark.django_db
def test_offer_for_a_current_member_collects_the_day_after_the_year_ends():
    membership = Membership.objects.get(user=active_member())
    offer = auto_renewal_offer(membership=membership, method="card")
    assert offer.available and offer.why_not == ""
    assert offer.first_collection_on == membership.expires_on + datetime.timedelta(days=1)
    assert not offer.pays_now
    assert offer.amount_pence == 9500 and offer.amount_display == "£95.00"
    assert offer.notice_days >= 14


@pytest.mark.django_db
def test_offer_for_a_joiner_collects_today():
    membership = MembershipFactory()
    offer = auto_renewal_offer(membership=membership, method="bacs_debit")
    assert offer.available
    assert offer.pays_now and offer.first_collection_on == timezone.localdate()


@pytest.mark.django_db
def test_offer_refused_with_reasons(settings):
    pending = MembershipFactory(grade=grade("fellow"), status=Membership.Status.PENDING_APPROVAL)
    offer = auto_renewal_offer(membership=pending, method="card")
    assert not offer.available and "approval" in offer.why_not
    assert (
        "card or by Direct Debit"
        in auto_renewal_offer(membership=MembershipFactory(), method="cheque").why_not
    )
    settings.PAYMENTS_OFFLINE_PROVIDER = False
    assert (
        "not available"
        in auto_renewal_offer(membership=MembershipFactory(), method="card").why_not
    )


@pytest.mark.django_db
def test_joining_with_automatic_renewal_pays_now_and_sets_the_next_collection(
    client, django_capture_on_commit_callbacks
):
    membership = MembershipFactory()
    client.force_login(membership.user)
    response = client.post(START, {"method": "card"})
    renewal = AutoRenewal.objects.get(membership=membership)
    assert response.status_code == 302
    assert response["Location"] == reverse("members:auto_renewal_offline", args=[renewal.pk])
    assert renewal.status == AutoRenewal.Status.SETTING_UP
    page = client.get(response["Location"])
    assert b"offline test provider" in page.content and b"\xc2\xa395.00" in page.content

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(response["Location"])
    assert done["Location"] == reverse("members:dashboard")
    renewal.refresh_from_db()
    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE
    assert renewal.status == AutoRenewal.Status.ACTIVE
    assert renewal.card_last4 == "4242"
    assert renewal.next_collection_on == membership.expires_on + datetime.timedelta(days=1)
    payment = Payment.objects.get(membership=membership)
    assert payment.auto_renewal == renewal and not payment.auto_collected
    assert auto_renewal_live(membership) == renewal


@pytest.mark.django_db
def test_a_current_member_switching_pays_nothing_now_and_loses_no_days():
    membership = Membership.objects.get(user=active_member())
    expires = membership.expires_on
    renewal = start(membership)
    offline_setup_complete(auto_renewal_id=renewal.pk, actor=membership.user)
    membership.refresh_from_db()
    assert membership.expires_on == expires
    assert Payment.objects.filter(membership=membership).count() == 1
    renewal.refresh_from_db()
    assert renewal.next_collection_on == expires + datetime.timedelta(days=1)


@pytest.mark.django_db
def test_starting_twice_reuses_the_open_set_up_and_another_method_replaces_it():
    membership = Membership.objects.get(user=active_member())
    first = start(membership)
    assert start(membership).pk == first.pk
    second = start(membership, method="bacs_debit")
    first.refresh_from_db()
    assert first.status == AutoRenewal.Status.ENDED
    assert first.end_reason == AutoRenewal.EndReason.ABANDONED
    assert second.mandate_status == AutoRenewal.Mandate.PENDING
    assert AutoRenewal.objects.exclude(status="ended").count() == 1


@pytest.mark.django_db
def test_cannot_start_a_second_while_one_collects(client):
    membership = Membership.objects.get(user=active_member())
    renewal = start(membership)
    offline_setup_complete(auto_renewal_id=renewal.pk, actor=membership.user)
    with pytest.raises(MembershipError, match="already renews"):
        start(membership)
    client.force_login(membership.user)
    response = client.post(START, {"method": "card"}, follow=True)
    assert b"already renews automatically" in response.content


@pytest.mark.django_db
def test_start_view_refuses_a_bad_method_with_a_message(client):
    membership = Membership.objects.get(user=active_member())
    client.force_login(membership.user)
    response = client.post(START, {"method": "<script>"}, follow=True)
    assert response.status_code == 200
    assert b"by card or by Direct Debit" in response.content
    assert not AutoRenewal.objects.exists()


@pytest.mark.django_db
def test_simulated_collection_sends_the_notice_and_buys_exactly_one_year(
    django_capture_on_commit_callbacks,
):
    membership = Membership.objects.get(user=active_member())
    expires = membership.expires_on
    renewal = start(membership, method="bacs_debit")
    offline_setup_complete(auto_renewal_id=renewal.pk, actor=membership.user)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        offline_collection_simulate(auto_renewal_id=renewal.pk)
    membership.refresh_from_db()
    renewal.refresh_from_db()
    assert membership.expires_on == expires.replace(year=expires.year + 1)
    assert renewal.mandate_status == AutoRenewal.Mandate.ACTIVE
    collected = Payment.objects.get(membership=membership, auto_collected=True)
    assert collected.status == Payment.Status.PAID and collected.auto_renewal == renewal
    assert MembershipPeriod.objects.filter(payment=collected).count() == 1
    upcoming = [m for m in mail.outbox if "renews on" in m.subject]
    assert len(upcoming) == 1
    assert "IGPM-TEST-" in upcoming[0].body and "£95.00" in upcoming[0].body
    # The stop link is signed with the time it was made: read it back from
    # the email rather than make another one to compare.
    stop_prefix = reverse("members:auto_renewal_stop_link", args=["TOKEN"]).split("TOKEN")[0]
    token = upcoming[0].body.split(stop_prefix, 1)[1].split("/", 1)[0]
    assert stop_token_read(token) == renewal


@pytest.mark.django_db
def test_three_simulated_failures_end_it_with_three_emails_at_most(
    django_capture_on_commit_callbacks,
):
    membership = Membership.objects.get(user=active_member())
    renewal = start(membership)
    offline_setup_complete(auto_renewal_id=renewal.pk, actor=membership.user)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            offline_collection_simulate(auto_renewal_id=renewal.pk, outcome="failed")
        renewal.refresh_from_db()
        assert renewal.status == AutoRenewal.Status.PAST_DUE
        offline_collection_simulate(auto_renewal_id=renewal.pk, outcome="failed")
        with pytest.raises(MembershipError):
            offline_collection_simulate(auto_renewal_id=renewal.pk, outcome="failed")
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.ENDED
    assert renewal.end_reason == AutoRenewal.EndReason.RETRIES_ENDED
    kinds = sorted(
        CollectionNotice.objects.filter(auto_renewal=renewal).values_list("kind", flat=True)
    )
    assert kinds == ["failed", "failed", "retries_ended", "upcoming"]
    failures = [
        m for m in mail.outbox if "upcoming" not in m.subject and "renews on" not in m.subject
    ]
    assert len(failures) == 3
    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE  # runs out as any other


@pytest.mark.django_db
def test_stop_from_the_dashboard_keeps_the_year_and_is_idempotent(
    client, django_capture_on_commit_callbacks
):
    membership = Membership.objects.get(user=active_member())
    renewal = start(membership)
    offline_setup_complete(auto_renewal_id=renewal.pk, actor=membership.user)
    client.force_login(membership.user)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(STOP, follow=True)
        again = client.post(STOP, follow=True)
    assert b"Automatic renewal stopped" in response.content
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.STOPPING and renewal.stopped_at
    assert renewal.next_collection_on is None
    assert again.status_code == 200
    assert len([m for m in mail.outbox if "stopped" in m.subject]) == 1
    with pytest.raises(MembershipError):
        offline_collection_simulate(auto_renewal_id=renewal.pk)


@pytest.mark.django_db
def test_stop_within_14_days_of_an_automatic_collection_refunds_it_once(
    django_capture_on_commit_callbacks,
):
    membership = Membership.objects.get(user=active_member())
    expires = membership.expires_on
    renewal = start(membership)
    offline_setup_complete(auto_renewal_id=renewal.pk, actor=membership.user)
    offline_collection_simulate(auto_renewal_id=renewal.pk)
    with django_capture_on_commit_callbacks(execute=True):
        result = auto_renewal_stop(
            auto_renewal_id=renewal.pk, actor=membership.user, actor_label=""
        )
        second = auto_renewal_stop(
            auto_renewal_id=renewal.pk, actor=membership.user, actor_label=""
        )
    assert result.changed and result.refund is not None
    assert result.refund.amount_pence == 9500
    assert not second.changed and second.refund is None
    collected = Payment.objects.get(auto_collected=True)
    assert collected.status == Payment.Status.REFUNDED
    assert collected.refunds.count() == 1
    membership.refresh_from_db()
    assert membership.expires_on == expires  # the refunded year is taken off
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.ENDED
    assert [m.subject for m in mail.outbox if "refunded" in m.subject]


@pytest.mark.django_db
def test_stop_after_14_days_refunds_nothing():
    membership = Membership.objects.get(user=active_member())
    renewal = start(membership)
    offline_setup_complete(auto_renewal_id=renewal.pk, actor=membership.user)
    offline_collection_simulate(auto_renewal_id=renewal.pk)
    Payment.objects.filter(auto_collected=True).update(
        paid_at=timezone.now() - datetime.timedelta(days=15)
    )
    result = auto_renewal_stop(auto_renewal_id=renewal.pk, actor=None, actor_label="staff")
    assert result.changed and result.refund is None
    assert Payment.objects.get(auto_collected=True).status == Payment.Status.PAID


@pytest.mark.django_db
def test_stop_link_from_an_email_needs_no_sign_in_and_a_get_changes_nothing(client):
    membership = Membership.objects.get(user=active_member())
    renewal = start(membership)
    offline_setup_complete(auto_renewal_id=renewal.pk, actor=membership.user)
    url = reverse("members:auto_renewal_stop_link", args=[stop_token(renewal)])
    page = client.get(url)
    assert page.status_code == 200 and b"Stop automatic renewal" in page.content
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.ACTIVE
    done = client.post(url)
    assert done.status_code == 200 and b"nothing more will be collected" in done.content
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.STOPPING
    assert client.get(url + "x/").status_code == 404
    bad = reverse("members:auto_renewal_stop_link", args=["not-a-token"])
    assert client.get(bad).status_code == 404


@pytest.mark.django_db
def test_offline_page_is_the_owners_only(client):
    membership = Membership.objects.get(user=active_member())
    renewal = start(membership)
    client.force_login(active_member())
    url = reverse("members:auto_renewal_offline", args=[renewal.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.SETTING_UP


@pytest.mark.django_db
def test_payment_method_with_the_offline_provider_goes_back_to_the_dashboard(client):
    membership = Membership.objects.get(user=active_member())
    renewal = start(membership)
    offline_setup_complete(auto_renewal_id=renewal.pk, actor=membership.user)
    client.force_login(membership.user)
    response = client.post(reverse("members:auto_renewal_payment_method"))
    assert response.status_code == 302
    assert response["Location"].endswith(reverse("members:dashboard"))


@pytest.mark.django_db
def test_a_fee_change_reaches_the_next_offline_collection(django_capture_on_commit_callbacks):
    from members.billing.services.auto_renewal_events import auto_renewals_reprice

    membership = Membership.objects.get(user=active_member())
    renewal = start(membership)
    offline_setup_complete(auto_renewal_id=renewal.pk, actor=membership.user)
    member_grade = grade("member")
    member_grade.annual_fee_pence = 9900
    member_grade.save()
    assert auto_renewals_reprice(grade_id=member_grade.pk) == 1
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        offline_collection_simulate(auto_renewal_id=renewal.pk)
    assert "£99.00" in mail.outbox[0].body
    assert Payment.objects.get(auto_collected=True).amount_pence == 9900


@pytest.mark.django_db
def test_the_stop_link_is_rate_limited_per_address(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "auto_renewal_stop_link": "3/h/ip",
    }
    # Stopping (the POST) is what is counted; a signed token cannot be
    # guessed anyway, so asking (the GET) is not.
    bad = reverse("members:auto_renewal_stop_link", args=["guess"])
    statuses = [client.post(bad).status_code for _ in range(5)]
    assert statuses == [404, 404, 404, 429, 429]
    long = reverse("members:auto_renewal_stop_link", args=["x" * 5000])
    assert client.get(long).status_code == 404


def test_collection_emails_go_on_the_emails_queue_and_a_real_worker_sends_them_once(
    celery_worker,
):
    from tests.test_celery import queue_of

    assert queue_of("members.tasks.collection_notice_send_task") == "emails"
    membership = Membership.objects.get(user=active_member())
    renewal = start(membership)
    offline_setup_complete(auto_renewal_id=renewal.pk, actor=membership.user)
    mail.outbox.clear()
    offline_collection_simulate(auto_renewal_id=renewal.pk)  # queued on commit, to Redis
    notice = CollectionNotice.objects.get(auto_renewal=renewal, kind="upcoming")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        notice.refresh_from_db()
        if notice.sent_at is not None:
            break
        time.sleep(0.1)
    assert notice.sent_at is not None
    assert [m.to for m in mail.outbox if "renews on" in m.subject] == [[membership.user.email]]
    # Sending a recorded notice again sends nothing.
    from members.billing.services.collection_notices import collection_notice_send

    assert collection_notice_send(notice_id=notice.pk) is False


@pytest.mark.django_db
def test_the_daily_sweep_tells_each_member_once_within_the_notice_period(
    django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    from members.billing.services.auto_renewal import upcoming_notices_sweep

    renewals = []
    for _ in range(3):
        membership = Membership.objects.get(user=active_member())
        renewal = start(membership)
        renewals.append(offline_setup_complete(auto_renewal_id=renewal.pk, actor=membership.user))
    collection = renewals[0].next_collection_on
    too_early = collection - datetime.timedelta(days=30)
    assert upcoming_notices_sweep(today=too_early) == 0
    mail.outbox.clear()
    day = collection - datetime.timedelta(days=20)
    with django_capture_on_commit_callbacks(execute=True):
        assert upcoming_notices_sweep(today=day) == 3
    assert len(mail.outbox) == 3 and all("renews on" in m.subject for m in mail.outbox)
    # Nothing due: one query, however many arrangements there are.
    with django_assert_max_num_queries(1):
        assert upcoming_notices_sweep(today=day) == 0
