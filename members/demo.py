"""Demo data for a local portal, seeded by ``manage.py seed_demo``.

This is an extension point: each app seeds its own part from its own
``demo.py`` with ``register``, and ``seed_demo`` runs the parts in layer
order (members' first, then each app in INSTALLED_APPS order), so a part
can rely on what the layers under it made. Each part is safe to run again.
"""

import datetime
import io
from collections.abc import Callable

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from pypdf import PdfWriter

from members.billing.services.membership import membership_apply
from members.billing.services.payments import payment_create, payment_fulfil
from members.models import AutoRenewal, CareBoard, Grade, Membership, Payment, Profile, User

# Filled by ``register``, in the order ``seed_demo`` runs them.
PARTS: list[Callable[[], None]] = []


def register(seed: Callable[[], None]) -> Callable[[], None]:
    """Add an app's part of the demo data (a function taking nothing);
    usable as a decorator."""
    if seed in PARTS:
        raise ImproperlyConfigured(f"{seed.__qualname__} is in the demo data twice.")
    PARTS.append(seed)
    return seed


STAFF_EMAIL = "staff@igpm.example"
STAFF_PASSWORD = "igpm-staff-demo"  # noqa: S105 - demo only, refused unless DEBUG
# A fixed secret so the demo's authenticator entry survives a reset of var/.
STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXPIGPMDEMO"  # noqa: S105
MEMBER_PASSWORD = "igpm-member-demo"  # noqa: S105

MEMBERS = [
    {
        "email": "amara.okafor@example.org",
        "first_name": "Amara",
        "last_name": "Okafor",
        "profile": {
            "job_title": "Practice Manager",
            "role": Profile.Role.PRACTICE_MANAGER,
            "organisation_name": "Riverside Medical Centre",
            "ods_code": "A81001",
            "pcn_name": "Riverside PCN",
            "board": "NHS North East and North Cumbria ICB",
            "years_in_role": 6,
            "show_in_directory": True,
        },
    },
    {
        "email": "dylan.hughes@example.org",
        "first_name": "Dylan",
        "last_name": "Hughes",
        "profile": {
            "job_title": "Deputy Practice Manager",
            "role": Profile.Role.ASSISTANT_MANAGER,
            "organisation_name": "Taff Valley Surgery",
            "ods_code": "W97001",
            "pcn_name": "",
            "board": "Cwm Taf Morgannwg University Health Board",
            "years_in_role": 2,
            "show_in_directory": False,
        },
    },
    {
        "email": "grace.adeyemi@example.org",
        "first_name": "Grace",
        "last_name": "Adeyemi",
        "profile": {
            "job_title": "Head of Primary Care Operations",
            "role": Profile.Role.FEDERATION_ICB_MANAGER,
            "organisation_name": "Thames Valley GP Federation",
            "ods_code": "",
            "pcn_name": "",
            "board": "NHS Buckinghamshire, Oxfordshire and Berkshire West ICB",
            "years_in_role": 14,
            "show_in_directory": True,
        },
    },
    {
        "email": "priya.shah@example.org",
        "first_name": "Priya",
        "last_name": "Shah",
        "profile": None,
    },
]


def demo_pdf(name: str) -> SimpleUploadedFile:
    """A blank one-page PDF to stand in for a scanned certificate: evidence
    must parse as a PDF."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    content = io.BytesIO()
    writer.write(content)
    return SimpleUploadedFile(name, content.getvalue(), content_type="application/pdf")


@register
def accounts_seed() -> None:
    """The staff account, with two-factor set up and every staff team, and
    the members (one without a profile yet)."""
    with transaction.atomic():
        staff = _account(STAFF_EMAIL, STAFF_PASSWORD, "Sam", "Reid", is_staff=True)
        staff.is_superuser = True
        staff.save(update_fields=["is_superuser"])
        if not Authenticator.objects.filter(user=staff).exists():
            TOTP.activate(staff, STAFF_TOTP_SECRET)
            RecoveryCodes.activate(staff)
        for member in MEMBERS:
            user = _account(
                member["email"], MEMBER_PASSWORD, member["first_name"], member["last_name"]
            )
            details = member["profile"]
            if details and not Profile.objects.filter(user=user).exists():
                details = dict(details)
                board = CareBoard.objects.get(name=details.pop("board"))
                Profile.objects.create(user=user, care_board=board, **details)
    staff.groups.add(
        *Group.objects.filter(
            name__in=[
                "Administrators",
                "Membership team",
                "Accreditation assessors",
                "Events team",
            ]
        )
    )


@register
def memberships_seed() -> None:
    """An active member, an unpaid invoice and a fellowship to decide,
    so every staff queue has something in it."""
    if Membership.objects.exists():
        return
    amara = User.objects.get(email="amara.okafor@example.org")
    membership = membership_apply(user=amara, grade=Grade.objects.get(slug="member"))
    payment = payment_create(membership=membership, method=Payment.Method.OFFLINE, by=amara)
    payment_fulfil(payment_id=payment.pk, actor_label="demo data")

    dylan = User.objects.get(email="dylan.hughes@example.org")
    membership = membership_apply(user=dylan, grade=Grade.objects.get(slug="associate"))
    payment_create(
        membership=membership,
        method=Payment.Method.INVOICE,
        by=dylan,
        invoice_organisation="Taff Valley Surgery",
        invoice_purchase_order="TVS-2026-114",
    )

    grace = User.objects.get(email="grace.adeyemi@example.org")
    membership_apply(user=grace, grade=Grade.objects.get(slug="fellow"))


@register
def auto_renewal_seed() -> None:
    """Amara renews automatically by card, as Stripe would report it once
    Checkout is done: with the offline test provider her dashboard can
    simulate the next collection."""
    membership = Membership.objects.filter(
        user__email="amara.okafor@example.org", status=Membership.Status.ACTIVE
    ).first()
    if membership is None or AutoRenewal.objects.filter(membership=membership).exists():
        return
    AutoRenewal.objects.create(
        membership=membership,
        grade=membership.grade,
        method=AutoRenewal.Method.CARD,
        status=AutoRenewal.Status.ACTIVE,
        next_collection_on=membership.expires_on + datetime.timedelta(days=1),
        next_amount_pence=membership.grade.annual_fee_pence,
        card_brand="visa",
        card_last4="4242",
        card_exp_month=12,
        card_exp_year=membership.expires_on.year + 2,
    )


def _account(email, password, first, last, is_staff=False) -> User:
    user, created = User.objects.get_or_create(
        email=email,
        defaults={"first_name": first, "last_name": last, "is_staff": is_staff},
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user
