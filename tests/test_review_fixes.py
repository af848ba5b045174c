"""Regression tests for problems found in review."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from accreditation.models import Application, CertificateNotice, Evidence
from accreditation.notices import certificate_notices_sweep
from accreditation.services import (
    AccreditationError,
    application_approve,
    application_assign,
    application_request_info,
    application_submit,
    revalidation_apply,
)
from events.models import RegistrationEmail
from events.reminders import event_emails_sweep
from events.services import registration_create
from members.billing.services.payments import payment_create, payment_fulfil
from members.billing.services.refunds import refund_record
from members.models import Membership, Payment, StripeEvent
from tests.accreditation.conftest import PDF, upload
from tests.accreditation.test_applications import submitted_application
from tests.factories import MembershipFactory, StaffFactory, active_member, assessor, event

pytestmark = pytest.mark.django_db


def test_csv_cells_cannot_become_spreadsheet_formulas(client):
    staff = StaffFactory(mfa=True)
    staff.groups.add(Group.objects.get(name="Events team"))
    client.force_login(staff)
    ev = event()
    registration_create(
        event=ev,
        name='=HYPERLINK("http://x")',
        email="a@example.org",
        organisation="@SUM(1)",
        role="+1",
        dietary_requirements="-2",
    )
    body = b"".join(
        client.get(reverse("events:staff_attendees_csv", args=[ev.pk])).streaming_content
    ).decode()
    row = body.splitlines()[1]
    assert row.startswith("\"'=HYPERLINK")
    assert ",'@SUM(1)," in row
    assert ",'+1," in row
    assert ",'-2," in row


def test_a_second_refund_on_one_payment_does_not_take_off_another_year():
    membership = MembershipFactory()
    staff = StaffFactory(mfa=True)
    today = timezone.localdate()
    first = payment_create(membership=membership, method="offline", by=membership.user)
    payment_fulfil(payment_id=first.pk)
    Membership.objects.filter(pk=membership.pk).update(
        expires_on=today + datetime.timedelta(days=20)
    )
    membership.periods.update(ends_on=today + datetime.timedelta(days=20))
    membership.refresh_from_db()
    second = payment_create(membership=membership, method="offline", by=membership.user)
    payment_fulfil(payment_id=second.pk)
    membership.refresh_from_db()
    refund_record(payment=second, amount_pence=1000, reason="part", effect="shorten", by=staff)
    membership.refresh_from_db()
    after_first_refund = membership.expires_on
    refund_record(payment=second, amount_pence=1000, reason="part", effect="shorten", by=staff)
    membership.refresh_from_db()
    assert membership.expires_on == after_first_refund
    assert Payment.objects.get(pk=second.pk).refunded_pence == 2000


def test_a_certificate_is_revalidated_once(client, pathway, django_capture_on_commit_callbacks):
    application = submitted_application(client, pathway)
    reviewer = assessor()
    application_assign(application=application, assessor=reviewer)
    certificate = application_approve(application=application, by=reviewer)
    pathway.cpd_hours_required = 0
    pathway.save()
    revalidation = revalidation_apply(certificate=certificate, by=certificate.holder)
    application_assign(application=revalidation, assessor=reviewer)
    application_approve(application=revalidation, by=reviewer)
    with pytest.raises(AccreditationError, match="already applied"):
        revalidation_apply(certificate=certificate, by=certificate.holder)


def test_a_decision_email_names_the_decision_even_after_a_resubmission(
    client, pathway, mailoutbox
):
    from accreditation.tasks import application_decision_email_task

    application = submitted_application(client, pathway)
    reviewer = assessor()
    application_assign(application=application, assessor=reviewer)
    application_request_info(application=application, by=reviewer, reason="Add the transcript.")
    application_submit(application=application, by=application.applicant)
    assert Application.objects.get(pk=application.pk).status == "in_review"
    application_decision_email_task(application.pk, "more_info")
    assert "more information" in mailoutbox[-1].subject


def test_an_error_while_handling_a_webhook_stores_nothing(client, stripe_fake, monkeypatch):
    from members.billing import stripe_gateway
    from tests.stripe_fake import signed_event

    membership = MembershipFactory()
    client.force_login(membership.user)
    client.post(reverse("members:pay"), {"method": "stripe"})
    payment = Payment.objects.get()
    stripe_fake.set_session(payment.stripe_session_id, payment_status="paid")

    def broken(session_id):
        raise RuntimeError("Stripe is down")

    monkeypatch.setattr(stripe_gateway, "checkout_session_retrieve", broken)
    body, signature = signed_event(
        event_id="evt_retry_me",
        event_type="checkout.session.completed",
        session=stripe_fake.sessions[payment.stripe_session_id],
        secret="whsec_test_secret",
    )
    with pytest.raises(RuntimeError):
        client.post(
            "/payments/stripe/webhook/",
            body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=signature,
        )
    assert not StripeEvent.objects.exists()  # so Stripe's retry is processed


def test_unsent_certificate_and_event_emails_are_queued_again(client, pathway):
    application = submitted_application(client, pathway)
    reviewer = assessor()
    application_assign(application=application, assessor=reviewer)
    certificate = application_approve(application=application, by=reviewer)
    notice = CertificateNotice.objects.create(certificate=certificate, kind="expiry_90")
    CertificateNotice.objects.filter(pk=notice.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=2)
    )
    queued: list[int] = []
    assert certificate_notices_sweep(enqueue=queued.extend)["requeued"] == 1
    assert queued == [notice.pk]

    registration = registration_create(
        event=event(),
        user=active_member(),
        name="A",
        email="a@example.org",
        organisation="O",
        role="R",
    )
    record = RegistrationEmail.objects.create(registration=registration, kind="reminder_7d")
    RegistrationEmail.objects.filter(pk=record.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=2)
    )
    again: list = []
    event_emails_sweep(enqueue=lambda kind, ids: again.append((kind, ids)))
    assert ("reminder_7d", [registration.pk]) in again


def test_assessors_cannot_open_evidence_on_a_draft(client, pathway):
    member = active_member()
    client.force_login(member)
    client.post(reverse("accreditation:apply"), {"pathway": pathway.pk})
    draft = Application.objects.get()
    client.post(
        reverse("accreditation:application", args=[draft.pk]),
        {"evidence-file": upload("draft.pdf", PDF), "upload": "1"},
    )
    evidence = Evidence.objects.get()
    client.force_login(assessor())
    url = reverse("accreditation:evidence_download", args=[evidence.pk])
    assert client.get(url).status_code == 404


def test_the_membership_team_needs_two_factor_for_someone_elses_payment(client):
    owner = MembershipFactory()
    payment = payment_create(membership=owner, method="offline", by=owner.user)
    no_mfa = StaffFactory(mfa=False)
    no_mfa.groups.add(Group.objects.get(name="Membership team"))
    client.force_login(no_mfa)
    assert client.get(reverse("members:payment_detail", args=[payment.pk])).status_code == 403
    with_mfa = StaffFactory(mfa=True)
    with_mfa.groups.add(Group.objects.get(name="Membership team"))
    client.force_login(with_mfa)
    assert client.get(reverse("members:payment_detail", args=[payment.pk])).status_code == 200


def test_an_unknown_membership_record_is_404(client):
    staff = StaffFactory(mfa=True)
    staff.groups.add(Group.objects.get(name="Membership team"))
    client.force_login(staff)
    assert client.get(reverse("members:staff_membership", args=[999999])).status_code == 404
