"""Invoices: asking again, changed details, VOID stamps, emailing, and staff
marking an invoice paid (including a cancelled one, and two clicks at once)."""

import io
import threading

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from members.billing.services import invoices
from members.billing.services.invoices import InvoiceDetails, invoice_mark_paid, invoice_request
from members.billing.services.payments import payment_create
from members.billing.tasks import invoice_email_task
from members.exceptions import InvoiceAlreadyPaid
from members.models import (
    AuditEntry,
    InvoiceEmail,
    Membership,
    MembershipPeriod,
    Payment,
    User,
)
from tests.factories import MembershipFactory, grade
from tests.factories import team_member as seeded_team_member

pytestmark = pytest.mark.django_db

DETAILS = {
    "method": "invoice",
    "invoice_organisation": "Riverside Surgery",
    "invoice_address": "1 Mill Lane\nBury BL9 0AA",
    "invoice_purchase_order": "PO-1",
    "invoice_accounts_email": "accounts@riverside.example.org",
}


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def team_member(**names):
    staff = seeded_team_member("Membership team")
    if names:
        User.objects.filter(pk=staff.pk).update(**names)
        staff.refresh_from_db()
    return staff


@pytest.fixture
def team_client(client):
    client.force_login(team_member(first_name="Sam", last_name="Patel"))
    return client


@pytest.fixture
def member(client):
    membership = MembershipFactory()
    member_client = Client()
    member_client.force_login(membership.user)
    member_client.membership = membership
    return member_client


def ask(member_client, captured, **changes):
    with captured(execute=True):
        response = member_client.post(reverse("members:pay"), {**DETAILS, **changes})
    return response


def test_asking_again_with_the_same_details_resends_the_same_invoice(
    member, django_capture_on_commit_callbacks
):
    ask(member, django_capture_on_commit_callbacks)
    first = Payment.objects.get()
    response = ask(member, django_capture_on_commit_callbacks)

    assert response["Location"] == reverse("members:payment_detail", args=[first.pk])
    again = Payment.objects.get()
    assert (again.pk, again.invoice_number, again.status) == (
        first.pk,
        first.invoice_number,
        Payment.Status.PENDING,
    )
    assert [m.attachments[0][0] for m in mail.outbox] == [f"{first.invoice_number}.pdf"] * 2
    sends = list(InvoiceEmail.objects.filter(payment=first).order_by("pk"))
    assert [s.reason for s in sends] == ["issued", "resent"]
    assert all(s.sent_at for s in sends)
    assert AuditEntry.objects.filter(target_id=first.pk, action="invoice_resent").count() == 1
    page = member.get(response["Location"], follow=True).content.decode()
    assert "sent again" in page


def test_case_and_spacing_are_not_a_change_of_details(member, django_capture_on_commit_callbacks):
    ask(member, django_capture_on_commit_callbacks)
    ask(
        member,
        django_capture_on_commit_callbacks,
        invoice_organisation="  Riverside Surgery ",
        invoice_accounts_email="Accounts@Riverside.example.org",
    )
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"invoice_organisation": "Riverside Medical Practice"},
        {"invoice_address": "2 Mill Lane\nBury BL9 0AA"},
        {"invoice_purchase_order": "PO-2"},
        {"invoice_purchase_order": ""},
        {"invoice_accounts_email": "finance@riverside.example.org"},
    ],
)
def test_changed_details_cancel_the_old_invoice_and_issue_a_new_number(
    member, django_capture_on_commit_callbacks, changes
):
    ask(member, django_capture_on_commit_callbacks)
    old = Payment.objects.get()
    ask(member, django_capture_on_commit_callbacks, **changes)

    old.refresh_from_db()
    new = Payment.objects.exclude(pk=old.pk).get()
    assert old.status == Payment.Status.CANCELLED
    assert old.invoice_replaced_by == new
    assert new.status == Payment.Status.PENDING
    assert new.invoice_number != old.invoice_number
    entry = AuditEntry.objects.get(target_id=old.pk, action="invoice_cancelled")
    assert new.invoice_number in entry.reason
    # The new invoice says which one it replaces.
    assert f"replaces invoice {old.invoice_number}" in mail.outbox[-1].body


def test_a_new_fee_or_grade_is_a_change_of_details(member, django_capture_on_commit_callbacks):
    ask(member, django_capture_on_commit_callbacks)
    member_grade = grade("member")
    member_grade.annual_fee_pence = 9900
    member_grade.save()
    ask(member, django_capture_on_commit_callbacks)
    old, new = Payment.objects.order_by("pk")
    assert (old.status, new.status) == (Payment.Status.CANCELLED, Payment.Status.PENDING)
    assert (old.amount_pence, new.amount_pence) == (9500, 9900)

    membership = member.membership
    membership.grade = grade("associate")
    membership.save()
    ask(member, django_capture_on_commit_callbacks)
    assert Payment.objects.filter(status="pending").get().grade == grade("associate")
    assert Payment.objects.count() == 3


def test_the_invoice_is_emailed_to_the_member_and_the_accounts_email(
    member, django_capture_on_commit_callbacks
):
    ask(member, django_capture_on_commit_callbacks)
    payment = Payment.objects.get()
    [email] = mail.outbox
    assert email.to == [member.membership.user.email, "accounts@riverside.example.org"]
    assert payment.invoice_number in email.subject
    assert "Riverside Surgery" in email.body
    name, content, mimetype = email.attachments[0]
    assert (name, mimetype) == (f"{payment.invoice_number}.pdf", "application/pdf")
    text = pdf_text(content)
    assert payment.invoice_number in text
    assert "1 Mill Lane" in text
    assert "VOID" not in text


def test_without_an_accounts_email_only_the_member_is_sent_it(
    member, django_capture_on_commit_callbacks
):
    ask(member, django_capture_on_commit_callbacks, invoice_accounts_email="")
    [email] = mail.outbox
    assert email.to == [member.membership.user.email]


def test_each_invoice_email_is_sent_once(member, django_capture_on_commit_callbacks):
    ask(member, django_capture_on_commit_callbacks)
    send = InvoiceEmail.objects.get()
    assert invoice_email_task(send.pk) is False
    assert len(mail.outbox) == 1


def test_a_bad_accounts_email_is_explained_and_keeps_what_was_typed(member):
    response = member.post(
        reverse("members:pay"), {**DETAILS, "invoice_accounts_email": "accounts at riverside"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_invoice_accounts_email_error"' in html
    assert 'value="accounts at riverside"' in html
    assert "1 Mill Lane" in html
    assert not Payment.objects.exists()


def test_a_cancelled_invoice_pdf_is_stamped_void(member, django_capture_on_commit_callbacks):
    ask(member, django_capture_on_commit_callbacks)
    ask(member, django_capture_on_commit_callbacks, invoice_purchase_order="PO-2")
    old, new = Payment.objects.order_by("pk")
    old_pdf = pdf_text(member.get(reverse("members:payment_invoice", args=[old.pk])).content)
    new_pdf = pdf_text(member.get(reverse("members:payment_invoice", args=[new.pk])).content)
    assert "VOID" in old_pdf
    assert f"replaced by {new.invoice_number}" in old_pdf
    assert "VOID" not in new_pdf
    detail = member.get(reverse("members:payment_detail", args=[old.pk])).content.decode()
    assert "cancelled" in detail.lower()
    assert new.invoice_number in detail


def two_invoices(member, captured) -> tuple[Payment, Payment]:
    ask(member, captured)
    ask(member, captured, invoice_purchase_order="PO-2")
    mail.outbox.clear()
    return tuple(Payment.objects.order_by("pk"))


def test_staff_mark_a_cancelled_invoice_paid_through_a_confirmation_step(
    member, team_client, django_capture_on_commit_callbacks
):
    old, new = two_invoices(member, django_capture_on_commit_callbacks)
    record = team_client.get(reverse("members:staff_membership", args=[old.membership_id]))
    confirm_url = reverse("members:staff_payment_mark_paid_confirm", args=[old.pk])
    assert confirm_url in record.content.decode()

    # Straight to the plain button: nothing is paid, the confirmation is asked.
    response = team_client.post(reverse("members:staff_payment_mark_paid", args=[old.pk]))
    assert response["Location"] == confirm_url
    old.refresh_from_db()
    assert old.status == Payment.Status.CANCELLED

    page = team_client.get(confirm_url).content.decode()
    assert f"{new.invoice_number}" in page
    assert "will be cancelled" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = team_client.post(confirm_url, {"confirm": "yes"})
    assert response.status_code == 302
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.status == Payment.Status.PAID
    assert new.status == Payment.Status.CANCELLED
    assert new.invoice_replaced_by == old
    period = MembershipPeriod.objects.get()
    assert period.payment == old
    membership = Membership.objects.get(pk=old.membership_id)
    assert membership.status == Membership.Status.ACTIVE
    assert membership.expires_on == period.ends_on
    actions = set(
        AuditEntry.objects.filter(target_type="payment").values_list("target_id", "action")
    )
    assert {
        (old.pk, "invoice_reinstated"),
        (new.pk, "invoice_cancelled"),
        (old.pk, "payment_received"),
    } <= actions
    assert [m.subject for m in mail.outbox if "receipt" in m.subject.lower()]

    # The newer invoice can no longer buy a second year.
    team_client.post(reverse("members:staff_payment_mark_paid", args=[new.pk]))
    team_client.post(
        reverse("members:staff_payment_mark_paid_confirm", args=[new.pk]), {"confirm": "yes"}
    )
    assert MembershipPeriod.objects.count() == 1


def test_confirming_needs_the_box_ticked(member, team_client, django_capture_on_commit_callbacks):
    old, _new = two_invoices(member, django_capture_on_commit_callbacks)
    url = reverse("members:staff_payment_mark_paid_confirm", args=[old.pk])
    response = team_client.post(url, {})
    assert response.status_code == 400
    assert 'id="id_confirm_error"' in response.content.decode()
    old.refresh_from_db()
    assert old.status == Payment.Status.CANCELLED


def test_a_cancelled_invoice_is_refused_once_a_later_payment_bought_the_year(
    member, team_client, django_capture_on_commit_callbacks
):
    old, new = two_invoices(member, django_capture_on_commit_callbacks)
    staff = team_member()
    invoice_mark_paid(payment=new, by=staff)
    with pytest.raises(invoices.MembershipError, match="already paid for"):
        invoice_mark_paid(payment=old, by=staff, confirmed=True)
    old.refresh_from_db()
    assert old.status == Payment.Status.CANCELLED
    assert MembershipPeriod.objects.count() == 1


def test_a_card_payment_is_not_marked_paid_by_hand(team_client):
    membership = MembershipFactory()
    card = payment_create(membership=membership, method="offline", by=membership.user)
    response = team_client.post(reverse("members:staff_payment_mark_paid", args=[card.pk]))
    assert response.status_code == 302
    card.refresh_from_db()
    assert card.status == Payment.Status.PENDING


def test_a_second_click_says_who_already_marked_it_paid(
    member, team_client, django_capture_on_commit_callbacks
):
    ask(member, django_capture_on_commit_callbacks)
    payment = Payment.objects.get()
    url = reverse("members:staff_payment_mark_paid", args=[payment.pk])
    team_client.post(url, follow=True)
    response = team_client.post(url, follow=True)
    payment.refresh_from_db()
    paid_at = timezone.localtime(payment.paid_at)
    html = response.content.decode()
    assert (
        f"Invoice {payment.invoice_number} was already marked paid by Sam Patel at "
        f"{paid_at:%H:%M} on {paid_at.day} {paid_at:%B %Y}." in html
    )
    assert f"Invoice {payment.invoice_number} marked paid." not in html
    assert MembershipPeriod.objects.count() == 1


def test_a_stale_form_for_the_old_invoice_is_refused_with_who_paid_it(
    member, team_client, django_capture_on_commit_callbacks
):
    ask(member, django_capture_on_commit_callbacks)
    payment = Payment.objects.get()
    invoice_mark_paid(payment=payment, by=team_member(first_name="Ana", last_name="Ruiz"))
    with pytest.raises(InvoiceAlreadyPaid) as refused:
        invoice_mark_paid(payment=payment, by=team_member(), confirmed=True)
    assert "already marked paid by Ana Ruiz" in str(refused.value)


@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_mark_it_paid_once_and_tell_the_second_who_did(monkeypatch):
    membership = MembershipFactory()
    payment = invoice_request(
        membership=membership,
        by=membership.user,
        details=InvoiceDetails(organisation="Riverside Surgery"),
    ).payment
    first, second = team_member(first_name="Ana", last_name="Ruiz"), team_member()

    # The first click holds the row lock while the second one arrives.
    inside, release = threading.Event(), threading.Event()
    real_fulfil = invoices.payment_fulfil

    def slow_fulfil(**kwargs):
        done = real_fulfil(**kwargs)
        inside.set()
        release.wait(10)
        return done

    monkeypatch.setattr(invoices, "payment_fulfil", slow_fulfil)
    outcomes = {}

    def click(staff) -> None:
        try:
            invoice_mark_paid(payment=payment, by=staff)
            outcomes[staff.pk] = "paid"
        except InvoiceAlreadyPaid as exc:
            outcomes[staff.pk] = str(exc)
        finally:
            connection.close()

    one = threading.Thread(target=click, args=[first])
    one.start()
    assert inside.wait(10)
    two = threading.Thread(target=click, args=[second])
    two.start()
    two.join(0.5)
    assert two.is_alive(), "the second click must wait for the first one's lock"
    release.set()
    one.join(10)
    two.join(10)

    assert outcomes[first.pk] == "paid"
    assert "already marked paid by Ana Ruiz" in outcomes[second.pk]
    assert MembershipPeriod.objects.filter(membership=membership).count() == 1
    assert AuditEntry.objects.filter(target_id=payment.pk, action="payment_received").count() == 1


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_clicks_buy_one_year():
    membership = MembershipFactory()
    payment = invoice_request(
        membership=membership,
        by=membership.user,
        details=InvoiceDetails(organisation="Riverside Surgery"),
    ).payment
    staff = [team_member() for _ in range(10)]
    barrier = threading.Barrier(len(staff))
    results = []

    def click(person) -> None:
        try:
            barrier.wait()
            try:
                invoice_mark_paid(payment=payment, by=person)
                results.append("paid")
            except InvoiceAlreadyPaid:
                results.append("already")
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=[person]) for person in staff]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == ["already"] * 9 + ["paid"]
    assert MembershipPeriod.objects.filter(membership=membership).count() == 1


def test_staff_send_an_open_invoice_again_as_a_new_recorded_sending(
    member, team_client, django_capture_on_commit_callbacks
):
    ask(member, django_capture_on_commit_callbacks)
    payment = Payment.objects.get()
    mail.outbox.clear()
    url = reverse("members:staff_payment_invoice_resend", args=[payment.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = team_client.post(url, follow=True)
    assert f"Invoice {payment.invoice_number} sent again to" in response.content.decode()
    [email] = mail.outbox
    assert email.to == [member.membership.user.email, "accounts@riverside.example.org"]
    assert email.attachments[0][0] == f"{payment.invoice_number}.pdf"
    sends = InvoiceEmail.objects.filter(payment=payment).order_by("pk")
    assert [s.reason for s in sends] == ["issued", "resent"]
    assert sends.last().requested_by.first_name == "Sam"
    assert AuditEntry.objects.filter(target_id=payment.pk, action="invoice_resent").exists()


def test_a_cancelled_invoice_is_not_sent_again(
    member, team_client, django_capture_on_commit_callbacks
):
    old, _new = two_invoices(member, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        team_client.post(reverse("members:staff_payment_invoice_resend", args=[old.pk]))
    assert mail.outbox == []
    assert InvoiceEmail.objects.filter(payment=old).count() == 1


@pytest.mark.django_db(transaction=True)
def test_asking_again_while_staff_mark_it_paid_waits_instead_of_deadlocking(monkeypatch):
    """Both take the invoice row before the membership, as payment_fulfil
    does, so the member's request waits and then finds the year paid."""
    membership = MembershipFactory()
    details = InvoiceDetails(organisation="Riverside Surgery")
    payment = invoice_request(membership=membership, by=membership.user, details=details).payment
    staff = team_member()
    holding, release = threading.Event(), threading.Event()
    real_fulfil = invoices.payment_fulfil

    def paused_fulfil(**kwargs):
        holding.set()  # the invoice row is locked; the membership is not yet
        release.wait(10)
        return real_fulfil(**kwargs)

    monkeypatch.setattr(invoices, "payment_fulfil", paused_fulfil)
    errors = []

    def run(work) -> None:
        try:
            work()
        except Exception as exc:  # any failure, reported below
            errors.append(exc)
        finally:
            connection.close()

    marking = threading.Thread(
        target=run, args=[lambda: invoice_mark_paid(payment=payment, by=staff)]
    )
    marking.start()
    assert holding.wait(10)
    asking = threading.Thread(
        target=run,
        args=[lambda: invoice_request(membership=membership, by=membership.user, details=details)],
    )
    asking.start()
    asking.join(0.5)
    release.set()
    marking.join(15)
    asking.join(15)

    assert [type(exc) for exc in errors] == [invoices.MembershipError]
    assert "nothing to pay" in str(errors[0])
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PAID
    assert Payment.objects.filter(membership=membership).count() == 1
