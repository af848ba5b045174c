"""Joining as a guided flow: the steps, check your answers, confirmation."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from members.billing.services.membership import membership_next_period_start
from members.billing.services.payments import payment_create, payment_fulfil
from members.models import Membership, Payment
from tests.factories import ProfileFactory, active_member, grade

pytestmark = pytest.mark.django_db

CHECK = "/membership/join/check/"


def choose(client, slug="member"):
    return client.post(reverse("members:join"), {"grade": grade(slug).pk})


def test_each_step_says_where_the_member_is(client, member):
    client.force_login(member)
    start = client.get(reverse("members:join"))
    # An incomplete profile is step 1, and saving it continues the flow.
    assert start["Location"] == f"{reverse('members:profile')}?next={reverse('members:join')}"
    profile = client.get(start["Location"]).content.decode()
    assert "Step 1 of 4" in profile
    assert "Save and continue" in profile

    user = ProfileFactory().user
    client.force_login(user)
    assert "Step 2 of 4" in client.get(reverse("members:join")).content.decode()
    assert choose(client)["Location"] == reverse("members:join_check")
    assert "Step 3 of 4" in client.get(reverse("members:join_check")).content.decode()
    assert "Step 4 of 4" in client.get(reverse("members:pay")).content.decode()


def test_the_profile_page_outside_joining_shows_no_step(client):
    client.force_login(ProfileFactory().user)
    html = client.get(reverse("members:profile")).content.decode()
    assert "Step 1 of" not in html
    assert "Save profile" in html


def renewal_due() -> Membership:
    membership = Membership.objects.get(user=active_member())
    membership.expires_on = timezone.localdate() + datetime.timedelta(days=30)
    membership.save(update_fields=["expires_on"])
    return membership


def test_renewing_early_is_not_a_joining_step(client):
    client.force_login(renewal_due().user)
    html = client.get(reverse("members:pay")).content.decode()
    assert "Renew your membership" in html
    assert "Step 4 of 4" not in html


def test_check_your_answers_shows_profile_grade_fee_and_the_start_of_the_year(client):
    profile = ProfileFactory(job_title="Practice Manager & Partner")
    client.force_login(profile.user)
    choose(client, "member")
    response = client.get(reverse("members:join_check"))
    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("members:join_check") == CHECK
    for shown in (
        profile.user.get_full_name(),
        profile.job_title,
        profile.organisation_name,
        profile.ods_code,
        profile.care_board.name,
        "Member",
        "£95.00 for 12 months",
    ):
        assert escape(shown) in html, shown
    membership = Membership.objects.get(user=profile.user)
    start = membership_next_period_start(membership=membership, paid_on=timezone.localdate())
    assert escape(start.ahead()) in html
    assert f'href="{reverse("members:pay")}">Continue to payment' in html


def test_change_links_come_back_to_check_your_answers(client):
    profile = ProfileFactory()
    client.force_login(profile.user)
    choose(client)
    html = client.get(CHECK).content.decode()
    change_profile = f"{reverse('members:profile')}?next={CHECK}"
    assert f'href="{change_profile}"' in html
    assert f'href="{reverse("members:join")}"' in html

    assert "Step 1 of 4" in client.get(change_profile).content.decode()
    saved = client.post(
        change_profile,
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "job_title": "Operations Manager",
            "role": profile.role,
            "organisation_name": profile.organisation_name,
            "ods_code": profile.ods_code,
            "care_board": profile.care_board_id,
            "years_in_role": 3,
        },
    )
    assert saved["Location"] == CHECK
    assert "Operations Manager" in client.get(CHECK).content.decode()

    assert choose(client, "retired")["Location"] == CHECK
    html = client.get(CHECK).content.decode()
    assert "Retired" in html
    assert "£30.00 for 12 months" in html


def test_nothing_to_check_goes_back_to_choosing(client):
    user = ProfileFactory().user
    client.force_login(user)
    assert client.get(CHECK)["Location"] == reverse("members:join")
    client.force_login(active_member())
    # Already a member: the join page says so and goes to the dashboard.
    assert client.get(CHECK)["Location"] == reverse("members:join")


def test_paying_shows_the_membership_number_and_what_happens_next(
    client, django_capture_on_commit_callbacks
):
    user = ProfileFactory().user
    client.force_login(user)
    choose(client)
    client.post(reverse("members:pay"), {"method": "offline"})
    payment = Payment.objects.get(membership__user=user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("members:payment_offline", args=[payment.pk]))
    assert response["Location"] == reverse("members:payment_detail", args=[payment.pk])
    html = client.get(response["Location"]).content.decode()
    membership = Membership.objects.get(user=user)
    assert "Welcome to the IGPM" in html
    assert f'<p class="confirmation-panel__number">{membership.number}</p>' in html
    assert "What happens next" in html
    assert reverse("members:certificate") in html
    period = payment.period
    assert f"{period.starts_on:%-d %B %Y} to {period.ends_on:%-d %B %Y}" in html


def test_the_card_return_page_confirms_once_paid(client):
    user = ProfileFactory().user
    client.force_login(user)
    choose(client)
    membership = Membership.objects.get(user=user)
    payment = payment_create(membership=membership, method="stripe", by=user)
    url = reverse("members:payment_return", args=[payment.pk])
    assert "confirmation-panel" not in client.get(url).content.decode()
    payment_fulfil(payment_id=payment.pk)
    html = client.get(url).content.decode()
    membership.refresh_from_db()
    assert f'<p class="confirmation-panel__number">{membership.number}</p>' in html


def test_a_renewal_is_confirmed_as_a_renewal(client):
    membership = renewal_due()
    user = membership.user
    payment = payment_create(membership=membership, method="offline", by=user)
    payment_fulfil(payment_id=payment.pk)
    client.force_login(user)
    html = client.get(reverse("members:payment_detail", args=[payment.pk])).content.decode()
    assert "Your membership is renewed" in html
    assert "Welcome to the IGPM" not in html


def test_an_unpaid_invoice_has_no_confirmation(client):
    user = ProfileFactory().user
    client.force_login(user)
    choose(client)
    client.post(
        reverse("members:pay"),
        {
            "method": "invoice",
            "invoice_organisation": "Central Surgery",
            "invoice_address": "1 High St",
        },
    )
    payment = Payment.objects.get(membership__user=user)
    html = client.get(reverse("members:payment_detail", args=[payment.pk])).content.decode()
    assert "confirmation-panel" not in html


def test_an_approved_grade_goes_on_to_check_your_answers(
    client, member, django_capture_on_commit_callbacks
):
    """A grade that staff approve (Fellow) joins the guided flow where it
    left off: the approval email leads to check your answers, not
    straight to paying."""
    from django.core import mail

    from members.billing.services.membership import membership_decide
    from tests.factories import team_member

    ProfileFactory(user=member)
    client.force_login(member)
    choose(client, "fellow")
    membership = Membership.objects.get(user=member)
    assert membership.status == Membership.Status.PENDING_APPROVAL
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        membership_decide(
            membership=membership, approve=True, reason="", by=team_member("Membership team")
        )
    [message] = mail.outbox
    assert f"http://testserver{CHECK}" in message.body
    assert client.get(CHECK).status_code == 200
