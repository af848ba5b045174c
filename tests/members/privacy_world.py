"""A member with a row in every table that can hold a member's data, under
a name, email address and phone number found nowhere else, so a search of
the whole database for them means something."""

import datetime
from dataclasses import dataclass

from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.utils import timezone

from accreditation.models import CertificateNotice, Pathway
from accreditation.services import (
    application_approve,
    application_assign,
    application_start,
    application_submit,
    application_update,
    certificate_set_listing,
    cpd_entry_create,
    evidence_add,
)
from events.services import registration_create
from members.audit import audit_record
from members.billing.services.payments import payment_create, payment_fulfil
from members.billing.services.refunds import refund_record
from members.models import (
    AutoRenewal,
    CollectionNotice,
    DataExport,
    InvoiceEmail,
    Membership,
    MembershipNotice,
    MembershipPeriod,
    Payment,
    PaymentNotice,
    RefundIntent,
    StripeEvent,
    User,
)
from members.privacy.services import erasure_request
from tests.accreditation.conftest import PDF, upload
from tests.factories import (
    MembershipFactory,
    ProfileFactory,
    UserFactory,
    event,
    member_registration,
    team_member,
)

FIRST = "Zephyrine"
LAST = "Quillfeather"
EMAIL = "zephyrine.quillfeather@example.org"
PHONE = "07700 900461"
# The member's name in free text staff typed about them.
MENTION = f"agreed with {FIRST} {LAST} on {PHONE}"


def administrator() -> User:
    """Staff in the Administrators group (erasure included), two-factor on."""
    return team_member("Administrators")


@dataclass
class World:
    user: User
    staff: User
    certificate_id: int
    draft_application_id: int
    evidence_names: list[str]
    certificate_pdf: str
    export_file: str


def member_with_everything(pathway: Pathway) -> World:
    """Build the member. Call inside ``django_capture_on_commit_callbacks(
    execute=True)`` so queued tasks (emails, the certificate PDF) run."""
    staff = administrator()
    user = UserFactory(email=EMAIL, first_name=FIRST, last_name=LAST)
    ProfileFactory(
        user=user,
        phone=PHONE,
        organisation_name=f"{LAST} Family Practice",
        show_in_directory=True,
        directory_show_phone=True,
        marketing_consent=True,
    )
    membership = MembershipFactory(user=user)
    paid = payment_create(membership=membership, method="offline", by=user)
    payment_fulfil(payment_id=paid.pk)
    membership = Membership.objects.get(pk=membership.pk)
    period = MembershipPeriod.objects.get(payment=paid)
    MembershipNotice.objects.create(period=period, kind="renewal_60", sent_at=timezone.now())
    PaymentNotice.objects.create(payment=paid, kind="refunded", sent_at=timezone.now())
    renewal = AutoRenewal.objects.create(
        membership=membership,
        method="card",
        grade=membership.grade,
        status="stopping",
        card_brand="visa",
        card_last4="4242",
        card_exp_month=8,
        card_exp_year=2031,
        last_failure_message=f"Card of {FIRST} {LAST} declined",
    )
    CollectionNotice.objects.create(auto_renewal=renewal, kind="stopped", sent_at=timezone.now())
    refund_record(
        payment=paid, amount_pence=500, reason=f"Goodwill, {MENTION}", effect="none", by=staff
    )
    # A refund asked of Stripe whose answer never came.
    RefundIntent.objects.create(
        payment=paid,
        amount_pence=300,
        reason=f"Second goodwill, {MENTION}",
        effect="none",
        requested_by=staff,
        stripe_key=f"igpm-refund-{paid.pk}-500-300",
    )
    invoice = Payment.objects.create(
        membership=membership,
        user=user,
        grade=membership.grade,
        purpose="renew",
        method="invoice",
        amount_pence=9500,
        invoice_number="INV-PRIVACY-1",
        invoice_organisation=f"{LAST} Family Practice",
        invoice_purchase_order="PO-ZQ-1",
        invoice_address=f"{LAST} House, 1 Mill Lane",
        invoice_accounts_email=f"accounts.{EMAIL}",
    )
    InvoiceEmail.objects.create(
        payment=invoice, reason="issued", recipients=[EMAIL, f"accounts.{EMAIL}"]
    )
    Payment.objects.create(
        membership=membership,
        user=user,
        grade=membership.grade,
        purpose="renew",
        method="stripe",
        status="expired",
        amount_pence=9500,
        stripe_session_id="cs_test_privacy",
    )
    StripeEvent.objects.create(
        event_id="evt_privacy",
        type="checkout.session.expired",
        payload={
            "id": "evt_privacy",
            "type": "checkout.session.expired",
            "data": {
                "object": {
                    "id": "cs_test_privacy",
                    "customer_email": EMAIL,
                    "customer_details": {"name": f"{FIRST} {LAST}", "phone": PHONE},
                }
            },
        },
    )

    # Accreditation: one certified application, one draft, a CPD entry;
    # evidence on each.
    application = application_start(user=user, pathway=pathway)
    application_update(
        application=application,
        by=user,
        qualification_title="Level 7 Diploma in Leadership and Management",
        awarding_body="ILM",
        certificate_number="ILM-7-ZQ",
        date_achieved=datetime.date(2024, 7, 15),
        referee_1_name="Olwen Bracegirdle",
        referee_1_email="olwen.bracegirdle@example.org",
    )
    evidence_add(application=application, upload=upload("zq-diploma.pdf", PDF), by=user)
    application_submit(application=application, by=user)
    application_assign(application=application, assessor=staff)
    certificate = application_approve(application=application, by=staff, reason=MENTION)
    CertificateNotice.objects.create(certificate=certificate, kind="expiry_90")
    certificate_set_listing(certificate=certificate, listed=True)
    draft = application_start(user=user, pathway=pathway)
    application_update(application=draft, by=user, roles_held=f"{FIRST} {LAST}: PM 2019-2024")
    evidence_add(application=draft, upload=upload("zq-portfolio.pdf", PDF), by=user)
    cpd_entry_create(
        user=user,
        date=datetime.date(2025, 3, 1),
        activity="Leading change in primary care",
        hours=3,
        category="course",
        reflection=f"Notes by {FIRST} {LAST}.",
        evidence=upload("zq-cpd.pdf", PDF),
    )

    # Events: a place booked signed in, and one booked as a visitor with
    # the same address for another event.
    member_registration(event(title="Winter pressures"), user)
    registration_create(
        event=event(title="Spring budgets"),
        name=f"{FIRST} {LAST}",
        email=EMAIL,
        organisation=f"{LAST} Family Practice",
        role="Practice Manager",
        access_requirements=f"Step-free access for {FIRST}",
        dietary_requirements="Vegetarian",
    )

    # Account: a pending email confirmation, two-factor, a staff group and a
    # permission, a session, and the admin's record of a change to them.
    address = EmailAddress.objects.get(user=user)
    EmailConfirmation.create(address)
    TOTP.activate(user, generate_totp_secret())
    user.groups.add(Group.objects.get_or_create(name="Events team")[0])
    user.user_permissions.add(Permission.objects.get(codename="view_reports"))
    Client().force_login(user)
    LogEntry.objects.log_actions(
        user_id=staff.pk,
        queryset=[user],
        action_flag=CHANGE,
        change_message=f"Changed phone for {FIRST} {LAST}.",
        single_object=True,
    )

    # Another member's record that mentions this one.
    colleague = ProfileFactory().user
    audit_record(
        actor=staff,
        subject=colleague,
        target=colleague,
        action="note_added",
        reason=f"Took over the practice from {FIRST} {LAST}.",
        data={"previous_manager": EMAIL},
    )

    # Consultations: answers to an attributed one, an anonymous one
    # answered, an invitation and a reminder opt-out.
    from members.consultations.models import ConsultationNotice, ReminderOptOut
    from members.consultations.services import response_submit
    from tests.members.consultations.world import consultation, full_answers

    attributed = consultation(by=staff)
    response_submit(
        consultation=attributed,
        user=user,
        answers=full_answers(attributed, text=f"As {FIRST} I think {MENTION} is right."),
    )
    anonymous = consultation(by=staff, anonymous=True)
    response_submit(consultation=anonymous, user=user, answers=full_answers(anonymous))
    ConsultationNotice.objects.create(
        consultation=attributed, user=user, kind="invitation", created_at=timezone.now()
    )
    ReminderOptOut.objects.create(consultation=anonymous, user=user)

    # The earlier register: their row in an uploaded file, that they were
    # imported (with the year they had paid for), and an invitation.
    from members.models import ClaimInvitation, ImportedMember, ImportRow, RegisterImport

    register = RegisterImport.objects.create(uploaded_by=staff, file_name="register.csv")
    ImportRow.objects.create(
        register_import=register,
        line=2,
        values={"name": f"{FIRST} {LAST}", "email": EMAIL, "phone": PHONE},
        action="create",
        member=user,
    )
    ImportedMember.objects.create(
        user=user, first_joined_on=period.starts_on, period=period, register_import=register
    )
    ClaimInvitation.objects.create(user=user, reason="first", sent_at=timezone.now())

    # Privacy itself: a ready data export, and a request to be erased.
    from members.privacy.services import data_export_request

    data_export_request(user=user)
    erasure_request(user=user)

    _organisation_rows(user)

    certificate.refresh_from_db()
    return World(
        user=user,
        staff=staff,
        certificate_id=certificate.pk,
        draft_application_id=draft.pk,
        evidence_names=[],
        certificate_pdf=certificate.pdf.name,
        export_file="",
    )


def _organisation_rows(user) -> None:
    """The member runs an organisation account and held one of its seats
    (a past year, before their own membership)."""
    from members.models import OrganisationMembership, Seat, SeatHolding, SeatInvitation
    from members.organisations.seats import organisation_account_create
    from tests.members.organisations.world import seat_grade

    account = organisation_account_create(by=user, name="Mill Lane Practice", kind="practice")
    today = timezone.localdate()
    year = OrganisationMembership.objects.create(
        account=account,
        grade=seat_grade(),
        seats=1,
        amount_pence=8000,
        status="active",
        starts_on=today - datetime.timedelta(days=500),
        ends_on=today - datetime.timedelta(days=136),
    )
    invitation = SeatInvitation.objects.create(
        organisation_membership=year,
        email=user.email,
        token="privacy-world-seat",
        invited_by=user,
        expires_at=timezone.now(),
        accepted_at=timezone.now(),
        accepted_by=user,
    )
    SeatHolding.objects.create(
        seat=Seat.objects.create(organisation_membership=year, number=1),
        organisation_membership=year,
        user=user,
        invitation=invitation,
        starts_on=year.starts_on,
        released_on=year.starts_on + datetime.timedelta(days=100),
        released_by=user,
    )


def world_files(world: World) -> None:
    """Record, after the on-commit tasks ran, which files the member owns."""
    from accreditation.models import Evidence

    world.evidence_names = list(
        Evidence.objects.filter(application__applicant=world.user).values_list("file", flat=True)
    ) + list(Evidence.objects.filter(cpd_entry__user=world.user).values_list("file", flat=True))
    world.export_file = DataExport.objects.get(user=world.user).file.name
    world.certificate_pdf = world.user.certificates.get().pdf.name
