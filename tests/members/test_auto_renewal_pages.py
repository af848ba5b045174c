"""The member's side of automatic renewal: the choice on the pay and
check pages with the plain statement of what will happen, the dashboard's
states and buttons (query count pinned), and the offline demo button."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from members.billing.services.membership import period_end
from members.models import AutoRenewal, Membership
from tests.factories import MembershipFactory, ProfileFactory, active_member
from tests.members.test_dashboard import DASHBOARD_QUERIES

pytestmark = pytest.mark.django_db

Status = AutoRenewal.Status
NOW = datetime.datetime(2026, 6, 15, 11, 0, tzinfo=datetime.UTC)


@pytest.fixture
def offline(settings):
    """No Stripe: the offline test provider collects."""
    settings.STRIPE_SECRET_KEY = ""
    settings.PAYMENTS_OFFLINE_PROVIDER = True


@pytest.fixture
def at_noon():
    with time_machine.travel(NOW, tick=False):
        yield


def renewing(membership, method="card", status=Status.ACTIVE, **fields) -> AutoRenewal:
    membership.refresh_from_db()
    defaults = {
        "next_collection_on": (membership.expires_on or NOW.date()) + datetime.timedelta(days=1),
        "next_amount_pence": membership.grade.annual_fee_pence,
        "card_brand": "visa" if method == "card" else "",
        "card_last4": "4242" if method == "card" else "",
        "card_exp_month": 12 if method == "card" else None,
        "card_exp_year": 2029 if method == "card" else None,
        "ended_at": timezone.now() if status == Status.ENDED else None,
    }
    return AutoRenewal.objects.create(
        membership=membership,
        grade=membership.grade,
        method=method,
        status=status,
        **{**defaults, **fields},
    )


def html_of(client, name="members:dashboard") -> str:
    response = client.get(reverse(name))
    assert response.status_code == 200
    return response.content.decode()


# --- The choice -------------------------------------------------------------------


def test_joining_pay_page_states_amount_dates_reminders_and_how_to_stop(client, offline, at_noon):
    membership = MembershipFactory()
    client.force_login(membership.user)
    html = html_of(client, "members:pay")
    renews_on = period_end(NOW.date()) + datetime.timedelta(days=1)  # 15 June next year
    assert renews_on == datetime.date(2027, 6, 15)
    assert html.count(f'action="{reverse("members:auto_renewal_start")}"') == 2
    assert 'name="method" value="card"' in html
    assert 'name="method" value="bacs_debit"' in html
    assert "£95.00 a year (Member)" in html
    assert "Today, then every year on 15 June" in html
    assert "First collection from today, then every year on 15 June" in html  # Direct Debit
    assert "An email at least" in html
    assert "One click on your dashboard or in any of those emails" in html
    assert "refunded in full" in html
    assert "Your bank confirms it in about 4 working days" in html
    assert "Or pay once for this year" in html


def test_renewing_early_says_nothing_is_taken_until_the_year_ends(client, offline):
    with time_machine.travel(datetime.datetime(2025, 7, 1, 11, tzinfo=datetime.UTC)):
        user = active_member()
    expires = Membership.objects.get(user=user).expires_on
    with time_machine.travel(
        datetime.datetime.combine(expires - datetime.timedelta(days=20), datetime.time(11))
    ):
        client.force_login(user)
        html = html_of(client, "members:pay")
    first = expires + datetime.timedelta(days=1)
    assert (
        f"First on {first.day} {first:%B %Y}, the day after your current year ends, "
        f"then every year on {first.day} {first:%B}. Nothing is taken today"
    ) in html


def test_a_member_already_renewing_automatically_is_told_not_offered_it_again(client, offline):
    with time_machine.travel(datetime.datetime(2025, 7, 1, 11, tzinfo=datetime.UTC)):
        user = active_member()
        renewing(user.membership)
    expires = Membership.objects.get(user=user).expires_on
    with time_machine.travel(
        datetime.datetime.combine(expires - datetime.timedelta(days=20), datetime.time(11))
    ):
        client.force_login(user)
        html = html_of(client, "members:pay")
    first = expires + datetime.timedelta(days=1)
    assert f"already renews automatically on {first.day} {first:%B %Y}" in html
    assert reverse("members:auto_renewal_start") not in html


def test_a_failing_renewal_warns_against_paying_twice(client, offline):
    with time_machine.travel(datetime.datetime(2025, 7, 1, 11, tzinfo=datetime.UTC)):
        user = active_member()
        renewing(user.membership, status=Status.PAST_DUE)
    expires = Membership.objects.get(user=user).expires_on
    with time_machine.travel(
        datetime.datetime.combine(expires - datetime.timedelta(days=2), datetime.time(11))
    ):
        client.force_login(user)
        html = html_of(client, "members:pay")
    assert "first stop automatic renewal" in html
    assert "so you are not charged twice" in html
    assert "already renews automatically" not in html


def test_with_no_provider_only_paying_once_is_offered(client, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.PAYMENTS_OFFLINE_PROVIDER = False
    membership = MembershipFactory()
    client.force_login(membership.user)
    html = html_of(client, "members:pay")
    assert reverse("members:auto_renewal_start") not in html
    assert "Or pay once" not in html
    assert "Invoice to my practice" in html


def test_check_page_says_in_one_line_what_automatic_renewal_does(client, offline, at_noon):
    membership = MembershipFactory()
    client.force_login(membership.user)
    html = html_of(client, "members:join_check")
    assert "<strong>renew automatically</strong> by card or Direct Debit: £95.00 now" in html
    assert "then every year on 15 June" in html
    assert "<strong>pay once</strong>" in html


# --- The dashboard ----------------------------------------------------------------


def test_dashboard_card_renewal_says_when_and_offers_stop_and_change(client, offline):
    user = active_member()
    renewal = renewing(user.membership)
    client.force_login(user)
    html = html_of(client)
    day = renewal.next_collection_on
    assert f"Renews automatically on {day.day} {day:%B %Y}" in html
    assert "Visa card ending 4242, expires 12/2029" in html
    assert f'action="{reverse("members:auto_renewal_stop")}"' in html
    assert "Stop automatic renewal" in html
    assert f'action="{reverse("members:auto_renewal_payment_method")}"' in html
    assert "Change card" in html
    assert "Renew your membership" not in html  # nothing to do by hand
    assert "Simulate the next automatic collection" in html


def test_dashboard_direct_debit_being_confirmed(client, offline):
    user = active_member()
    renewal = renewing(user.membership, "bacs_debit", mandate_status=AutoRenewal.Mandate.PENDING)
    client.force_login(user)
    day = renewal.next_collection_on
    assert (
        f"Direct Debit set up, first collection on {day.day} {day:%B %Y}, confirmed in about "
        "4 working days"
    ) in html_of(client)


def test_dashboard_active_direct_debit_names_the_account(client, offline):
    user = active_member()
    renewing(
        user.membership, "bacs_debit", mandate_status=AutoRenewal.Mandate.ACTIVE,
        mandate_reference="IGPM-DD-7", bank_last4="2345",
    )  # fmt: skip
    client.force_login(user)
    html = html_of(client)
    assert "Direct Debit from the account ending 2345, reference IGPM-DD-7" in html
    assert "Change bank account" in html


def test_dashboard_failed_collection_says_what_to_do(client, offline):
    user = active_member()
    renewing(
        user.membership, status=Status.PAST_DUE, last_failure_at=timezone.now(),
        last_failure_message="Your card was declined.",
    )  # fmt: skip
    client.force_login(user)
    html = html_of(client)
    assert "Your last collection did not go through." in html
    assert "Your card was declined." in html
    assert "pay once by card or invoice" in html
    assert "Stop automatic renewal" in html


def test_dashboard_after_stopping_says_when_the_membership_ends(client, offline):
    user = active_member()
    renewing(user.membership, status=Status.STOPPING, stopped_at=timezone.now())
    client.force_login(user)
    html = html_of(client)
    expires = Membership.objects.get(user=user).expires_on
    assert f"Your membership ends on {expires.day} {expires:%B %Y}." in html
    assert "Stop automatic renewal" not in html
    assert "Renews automatically on" not in html


def test_dashboard_unfinished_set_up_offers_to_finish(client, offline):
    membership = MembershipFactory()
    renewing(membership, status=Status.SETTING_UP, card_last4="")
    client.force_login(membership.user)
    html = html_of(client)
    assert "did not finish. Nothing has been collected." in html
    assert "Finish setting up automatic renewal" in html


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("mandate_revoked", "Your Direct Debit was cancelled"),
        ("retries_ended", "We could not collect your renewal"),
    ],
)
def test_dashboard_after_a_failed_end_offers_card_or_invoice(client, offline, reason, words):
    with time_machine.travel(datetime.datetime(2025, 7, 1, 11, tzinfo=datetime.UTC)):
        user = active_member()
    membership = Membership.objects.get(user=user)
    after_expiry = datetime.datetime.combine(
        membership.expires_on + datetime.timedelta(days=3), datetime.time(11)
    )
    with time_machine.travel(after_expiry):
        Membership.objects.filter(pk=membership.pk).update(status=Membership.Status.IN_GRACE)
        renewing(membership, "bacs_debit", Status.ENDED, end_reason=reason)
        client.force_login(user)
        html = html_of(client)
    assert words in html
    assert "Pay by card or invoice" in html


def test_dashboard_says_nothing_of_a_renewal_stopped_long_ago(client, offline):
    user = active_member()
    renewing(
        user.membership, status=Status.ENDED, end_reason="stopped",
        ended_at=timezone.now() - datetime.timedelta(days=400),
    )  # fmt: skip
    client.force_login(user)
    html = html_of(client)
    assert 'id="auto-renewal"' not in html


def test_no_simulate_button_when_stripe_collects(client, settings):
    user = active_member()
    settings.PAYMENTS_OFFLINE_PROVIDER = False
    renewing(user.membership, stripe_subscription_id="sub_123")
    client.force_login(user)
    html = html_of(client)
    assert "Renews automatically on" in html
    assert "Simulate the next automatic collection" not in html


@pytest.mark.parametrize("others", [0, 30])
def test_dashboard_with_automatic_renewal_query_count_is_pinned(
    client, offline, django_assert_num_queries, others
):
    for _ in range(others):
        renewing(active_member().membership, status=Status.PAST_DUE)
    user = active_member()
    renewing(user.membership)
    client.force_login(user)
    # The dashboard's queries, the member's payments and certificates, and
    # the latest automatic renewal.
    with django_assert_num_queries(DASHBOARD_QUERIES + 3):
        response = client.get(reverse("members:dashboard"))
    assert "Renews automatically on" in response.content.decode()


def test_dashboard_without_a_membership_reads_no_renewal(client, django_assert_num_queries):
    client.force_login(ProfileFactory().user)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        client.get(reverse("members:dashboard"))


# --- The offline demo -------------------------------------------------------------


def test_simulated_collection_buys_the_next_year(client, offline):
    user = active_member()
    renewal = renewing(user.membership)
    expires = Membership.objects.get(user=user).expires_on
    client.force_login(user)
    response = client.post(reverse("members:auto_renewal_simulate"), {"outcome": "paid"})
    assert response.status_code == 302
    assert response["Location"] == reverse("members:dashboard")
    membership = Membership.objects.get(user=user)
    assert membership.expires_on == period_end(expires + datetime.timedelta(days=1))
    renewal.refresh_from_db()
    assert renewal.next_collection_on == membership.expires_on + datetime.timedelta(days=1)
    assert membership.payments.filter(auto_renewal=renewal).count() == 1
    html = html_of(client)
    assert "Simulated: the automatic collection went through" in html


def test_simulated_failure_shows_the_failed_state(client, offline):
    user = active_member()
    renewing(user.membership)
    client.force_login(user)
    client.post(reverse("members:auto_renewal_simulate"), {"outcome": "failed"})
    html = html_of(client)
    assert "Your last collection did not go through." in html


def test_simulate_is_refused_without_the_offline_provider(client, settings):
    user = active_member()
    settings.PAYMENTS_OFFLINE_PROVIDER = False
    renewing(user.membership)
    client.force_login(user)
    assert client.post(reverse("members:auto_renewal_simulate")).status_code == 404


def test_simulate_needs_a_signed_in_post(client, offline):
    url = reverse("members:auto_renewal_simulate")
    assert client.post(url).status_code == 302  # to sign in
    client.force_login(active_member())
    assert client.get(url).status_code == 405
    response = client.post(url)  # nothing to simulate
    assert response.status_code == 302
    assert "no automatic collection to simulate" in html_of(client)
