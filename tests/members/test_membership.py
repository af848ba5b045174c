"""Joining, approval, invoices, refunds, overrides, and who may do what."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from members.billing.services.payments import payment_create, payment_fulfil
from members.models import AuditEntry, Membership, MembershipPeriod, Payment, Refund
from tests.factories import MembershipFactory, ProfileFactory, StaffFactory, grade

pytestmark = pytest.mark.django_db


@pytest.fixture
def membership_team(client):
    staff = StaffFactory(mfa=True)
    staff.groups.add(Group.objects.get(name="Membership team"))
    client.force_login(staff)
    return staff


def pay_offline(client, membership, captured) -> Payment:
    client.force_login(membership.user)
    response = client.post(reverse("members:pay"), {"method": "offline"})
    payment = Payment.objects.get(membership=membership, status="pending")
    assert response["Location"] == reverse("members:payment_offline", args=[payment.pk])
    with captured(execute=True):
        client.post(reverse("members:payment_offline", args=[payment.pk]))
    payment.refresh_from_db()
    return payment


def test_grades_page_lists_the_seeded_grades_and_fees(client):
    html = client.get(reverse("members:grades")).content.decode()
    for name, fee in [("Member", "£95.00"), ("Fellow", "£150.00"), ("Retired", "£30.00")]:
        assert name in html
        assert fee in html


def test_joining_needs_a_complete_profile(client, member):
    client.force_login(member)
    response = client.get(reverse("members:join"))
    assert response["Location"].startswith(reverse("members:profile"))


def test_join_and_pay_with_the_offline_provider(client, django_capture_on_commit_callbacks):
    user = ProfileFactory().user
    client.force_login(user)
    response = client.post(reverse("members:join"), {"grade": grade("member").pk})
    assert response["Location"] == reverse("members:join_check")
    membership = Membership.objects.get(user=user)
    assert membership.status == Membership.Status.AWAITING_PAYMENT

    payment = pay_offline(client, membership, django_capture_on_commit_callbacks)
    membership.refresh_from_db()
    assert payment.status == Payment.Status.PAID
    assert membership.status == Membership.Status.ACTIVE
    # The first number the sequence gives out (billing/services/numbers.py).
    assert membership.number == "IGPM-000001"
    [receipt] = mail.outbox
    assert receipt.to == [user.email]
    assert membership.number in receipt.body
    name, content, mimetype = receipt.attachments[0]
    assert name == f"{payment.receipt_number}.pdf"
    assert mimetype == "application/pdf"
    assert content.startswith(b"%PDF")

    dashboard = client.get(reverse("members:dashboard")).content.decode()
    assert "Active" in dashboard
    assert membership.number in dashboard
    pdf = client.get(reverse("members:payment_receipt", args=[payment.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith("attachment;")
    assert client.get(reverse("members:certificate")).content.startswith(b"%PDF")


def test_joining_with_nothing_chosen_is_explained(client):
    client.force_login(ProfileFactory().user)
    response = client.post(reverse("members:join"), {})
    assert 'id="id_grade_error"' in response.content.decode()
    assert not Membership.objects.exists()


def test_invoice_needs_the_paying_organisation_and_keeps_the_po(client):
    membership = MembershipFactory()
    client.force_login(membership.user)
    response = client.post(
        reverse("members:pay"), {"method": "invoice", "invoice_purchase_order": "PO-778"}
    )
    html = response.content.decode()
    assert 'id="id_invoice_organisation_error"' in html
    assert 'value="PO-778"' in html
    assert not Payment.objects.exists()


def test_invoice_is_issued_and_membership_waits_for_staff(
    client, membership_team, django_capture_on_commit_callbacks
):
    membership = MembershipFactory()
    member_client = type(client)()
    member_client.force_login(membership.user)
    response = member_client.post(
        reverse("members:pay"),
        {
            "method": "invoice",
            "invoice_organisation": "Riverside Surgery",
            "invoice_purchase_order": "PO-1",
        },
    )
    payment = Payment.objects.get()
    assert response["Location"] == reverse("members:payment_detail", args=[payment.pk])
    assert payment.invoice_number.startswith("INV-")
    invoice = member_client.get(reverse("members:payment_invoice", args=[payment.pk]))
    assert invoice.content.startswith(b"%PDF")
    membership.refresh_from_db()
    assert membership.status == Membership.Status.AWAITING_PAYMENT

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("members:staff_payment_mark_paid", args=[payment.pk]))
    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE
    entry = AuditEntry.objects.get(target_type="payment", action="payment_received")
    assert entry.actor == membership_team
    # Marking it paid again changes nothing.
    client.post(reverse("members:staff_payment_mark_paid", args=[payment.pk]))
    assert MembershipPeriod.objects.count() == 1


def test_fellowship_waits_for_approval_then_can_be_paid(
    client, membership_team, django_capture_on_commit_callbacks
):
    applicant = ProfileFactory().user
    applicant_client = type(client)()
    applicant_client.force_login(applicant)
    applicant_client.post(reverse("members:join"), {"grade": grade("fellow").pk})
    membership = Membership.objects.get(user=applicant)
    assert membership.status == Membership.Status.PENDING_APPROVAL
    assert applicant_client.get(reverse("members:pay"))["Location"] == reverse("members:dashboard")

    queue = client.get(reverse("members:staff_approvals")).content.decode()
    assert escape(applicant.get_full_name()) in queue

    url = reverse("members:staff_membership_decision", args=[membership.pk])
    response = client.post(url, {"decision": "decline", "reason": ""})
    assert response.status_code == 400
    assert "Give the member a reason for declining." in response.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"decision": "approve", "reason": "Welcome, Fellow."})
    membership.refresh_from_db()
    assert membership.status == Membership.Status.AWAITING_PAYMENT
    assert "approved" in mail.outbox[0].subject
    entry = AuditEntry.objects.get(target_type="membership", action="approved")
    assert (entry.from_state, entry.to_state, entry.actor) == (
        "pending_approval",
        "awaiting_payment",
        membership_team,
    )
    # Deciding twice is refused.
    assert client.post(url, {"decision": "decline", "reason": "x"}).status_code == 400


def test_decline_emails_the_reason(client, membership_team, django_capture_on_commit_callbacks):
    membership = MembershipFactory(grade=grade("fellow"), status="pending_approval")
    url = reverse("members:staff_membership_decision", args=[membership.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"decision": "decline", "reason": "Ten years in post are needed."})
    membership.refresh_from_db()
    assert membership.status == Membership.Status.CANCELLED
    assert "Ten years in post are needed." in mail.outbox[0].body


def test_refund_removes_the_year_it_bought(client, membership_team):
    membership = MembershipFactory()
    first = payment_create(membership=membership, method="offline", by=membership.user)
    payment_fulfil(payment_id=first.pk)
    # Bring the first year near its end, so renewal is open.
    today = timezone.localdate()
    MembershipPeriod.objects.filter(payment=first).update(
        starts_on=today - datetime.timedelta(days=345), ends_on=today + datetime.timedelta(days=20)
    )
    Membership.objects.filter(pk=membership.pk).update(
        expires_on=today + datetime.timedelta(days=20)
    )
    membership.refresh_from_db()
    first.refresh_from_db()
    second = payment_create(membership=membership, method="offline", by=membership.user)
    payment_fulfil(payment_id=second.pk)
    membership.refresh_from_db()
    two_years = membership.expires_on

    url = reverse("members:staff_payment_refund", args=[second.pk])
    prefix = f"refund-{second.pk}"
    too_much = client.post(
        url, {f"{prefix}-amount": "95.01", f"{prefix}-effect": "shorten", f"{prefix}-reason": "x"}
    )
    assert too_much.status_code == 400
    assert "Enter no more than £95.00" in too_much.content.decode()

    client.post(
        url,
        {
            f"{prefix}-amount": "95.00",
            f"{prefix}-effect": "shorten",
            f"{prefix}-reason": "Paid twice",
        },
    )
    membership.refresh_from_db()
    second.refresh_from_db()
    assert second.status == Payment.Status.REFUNDED
    assert membership.expires_on == first.period.ends_on
    assert membership.expires_on < two_years
    assert membership.status == Membership.Status.ACTIVE
    assert Refund.objects.get().recorded_by == membership_team


def test_refund_can_end_the_membership(client, membership_team):
    membership = MembershipFactory()
    payment = payment_create(membership=membership, method="offline", by=membership.user)
    payment_fulfil(payment_id=payment.pk)
    prefix = f"refund-{payment.pk}"
    client.post(
        reverse("members:staff_payment_refund", args=[payment.pk]),
        {f"{prefix}-amount": "40.00", f"{prefix}-effect": "end_now", f"{prefix}-reason": "Left"},
    )
    membership.refresh_from_db()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PARTIALLY_REFUNDED
    assert payment.refunded_pence == 4000
    assert membership.status == Membership.Status.CANCELLED


def test_status_override_needs_a_reason_and_is_audited(client, membership_team):
    membership = MembershipFactory()
    payment_fulfil(
        payment_id=payment_create(membership=membership, method="offline", by=membership.user).pk
    )
    url = reverse("members:staff_membership_override", args=[membership.pk])
    assert client.post(url, {"status": "lapsed", "reason": ""}).status_code == 400
    client.post(url, {"status": "lapsed", "reason": "Asked to leave"})
    membership.refresh_from_db()
    assert membership.status == Membership.Status.LAPSED
    entry = AuditEntry.objects.get(action="status_overridden")
    assert (entry.from_state, entry.to_state, entry.reason) == (
        "active",
        "lapsed",
        "Asked to leave",
    )


def test_audit_entries_cannot_be_changed_or_deleted():
    membership = MembershipFactory()
    entry = AuditEntry.objects.create(
        actor_label="system", target_type="membership", target_id=membership.pk, action="x"
    )
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()


# --- Who may see and do what ------------------------------------------------


def test_a_member_cannot_see_another_members_payments(client):
    owner = MembershipFactory()
    payment = payment_create(
        membership=owner, method="invoice", by=owner.user, invoice_organisation="Org"
    )
    payment_fulfil(payment_id=payment.pk)
    client.force_login(ProfileFactory().user)
    for name in ("payment_detail", "payment_receipt", "payment_invoice", "payment_offline"):
        response = client.get(reverse(f"members:{name}", args=[payment.pk]))
        assert response.status_code == 404, name


STAFF_ACTIONS = [
    ("get", "members:staff_approvals", False),
    ("get", "members:staff_membership", True),
    ("post", "members:staff_membership_decision", True),
    ("post", "members:staff_membership_override", True),
    ("post", "members:staff_payment_mark_paid", "payment"),
    ("post", "members:staff_payment_refund", "payment"),
]


@pytest.mark.parametrize(("method", "name", "arg"), STAFF_ACTIONS)
def test_only_the_membership_team_may_act(client, method, name, arg):
    membership = MembershipFactory(grade=grade("fellow"), status="pending_approval")
    invoice = Payment.objects.create(
        membership=membership,
        user=membership.user,
        grade=membership.grade,
        purpose="join",
        method="invoice",
        amount_pence=15000,
        invoice_number="INV-TEST-1",
    )
    args = {True: [membership.pk], "payment": [invoice.pk], False: []}[arg]
    url = reverse(name, args=args)
    data = {"decision": "approve", "status": "active", "reason": "x"}

    client.force_login(StaffFactory(mfa=True))  # staff, but not in the team
    assert getattr(client, method)(url, data).status_code == 403
    client.force_login(membership.user)
    assert getattr(client, method)(url, data).status_code == 403

    membership.refresh_from_db()
    invoice.refresh_from_db()
    assert membership.status == Membership.Status.PENDING_APPROVAL
    assert invoice.status == Payment.Status.PENDING


def test_offline_provider_is_refused_when_switched_off(client, settings):
    settings.PAYMENTS_OFFLINE_PROVIDER = False
    membership = MembershipFactory()
    client.force_login(membership.user)
    response = client.post(reverse("members:pay"), {"method": "offline"})
    assert response.status_code == 200
    assert 'id="id_method_error"' in response.content.decode()
    assert "Offline test provider" not in response.content.decode()
