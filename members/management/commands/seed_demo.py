"""Demo data for a local portal: a staff account with two-factor set up and
a few members. Safe to run again; it never touches a production database."""

import datetime
import io
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from pypdf import PdfWriter

from members.models import CareBoard, Grade, Membership, Payment, Profile, User
from members.services.membership import membership_apply
from members.services.payments import payment_create, payment_fulfil

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


def _demo_pdf(name: str) -> SimpleUploadedFile:
    """A blank one-page PDF to stand in for a scanned certificate: evidence
    must parse as a PDF."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    content = io.BytesIO()
    writer.write(content)
    return SimpleUploadedFile(name, content.getvalue(), content_type="application/pdf")


class Command(BaseCommand):
    help = "Create demo accounts (local use only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo data is for local portals only (DEBUG is off).")
        with transaction.atomic():
            staff = self._account(STAFF_EMAIL, STAFF_PASSWORD, "Sam", "Reid", is_staff=True)
            staff.is_superuser = True
            staff.save(update_fields=["is_superuser"])
            if not Authenticator.objects.filter(user=staff).exists():
                TOTP.activate(staff, STAFF_TOTP_SECRET)
                RecoveryCodes.activate(staff)
            for member in MEMBERS:
                user = self._account(
                    member["email"], MEMBER_PASSWORD, member["first_name"], member["last_name"]
                )
                details = member["profile"]
                if details and not Profile.objects.filter(user=user).exists():
                    details = dict(details)
                    board = CareBoard.objects.get(name=details.pop("board"))
                    Profile.objects.create(user=user, care_board=board, **details)
        self._memberships()
        self._events()
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))

    def _events(self) -> None:
        """The next National Practice Manager Day with local celebrations,
        and a webinar."""
        from events.models import Event

        if Event.objects.exists():
            return
        london = ZoneInfo("Europe/London")
        now = timezone.now()
        day = datetime.date(now.year if now.month < 4 else now.year + 1, 4, 21)

        def at(hour: int, minute: int = 0, on: datetime.date = day) -> datetime.datetime:
            return datetime.datetime.combine(on, datetime.time(hour, minute), tzinfo=london)

        common = {"registration_opens_at": now, "status": Event.Status.PUBLISHED}
        npm_day = Event.objects.create(
            title=f"National Practice Manager Day {day.year}",
            slug=f"national-practice-manager-day-{day.year}",
            type=Event.Type.NPM_DAY,
            summary="A day to recognise the managers who keep general practice running.",
            description="Join the national online celebration in the morning, then "
            "find a local celebration hosted by your ICB or practice.",
            starts_at=at(9, 30),
            ends_at=at(12),
            is_online=True,
            joining_link="https://meet.example.org/npm-day",
            capacity=1000,
            registration_closes_at=at(9),
            cpd_hours=2,
            **common,
        )
        for slug, title, host, region, venue in [
            (
                "npm-day-manchester",
                "Greater Manchester celebration lunch",
                "NHS Greater Manchester ICB",
                Event.Region.NORTH_WEST,
                "Old Trafford Conference Centre, Manchester",
            ),
            (
                "npm-day-london",
                "North Central London practice managers' afternoon",
                "NHS North Central London ICB",
                Event.Region.LONDON,
                "The Wellcome Collection, Euston Road, London",
            ),
            (
                "npm-day-cardiff",
                "Cardiff and Vale celebration",
                "Cardiff and Vale UHB",
                Event.Region.WALES,
                "Cardiff City Hall",
            ),
        ]:
            Event.objects.create(
                title=title,
                slug=slug,
                type=Event.Type.NPM_DAY,
                umbrella=npm_day,
                summary=f"A National Practice Manager Day celebration, hosted by {host}.",
                description="Lunch, a talk from local leaders and time to meet colleagues.",
                starts_at=at(12, 30),
                ends_at=at(15),
                venue=venue,
                capacity=60,
                registration_closes_at=at(9),
                host_type=Event.HostType.ICB,
                host_name=host,
                region=region,
                cpd_hours=1.5,
                **common,
            )
        webinar_day = timezone.localdate() + datetime.timedelta(days=14)
        Event.objects.create(
            title="Webinar: preparing for a CQC inspection",
            slug="webinar-cqc-inspection",
            type=Event.Type.WEBINAR,
            summary="What inspectors look for, and how practice managers prepare.",
            description="An hour with a former inspector and two practice managers.",
            starts_at=at(13, on=webinar_day),
            ends_at=at(14, on=webinar_day),
            is_online=True,
            joining_link="https://meet.example.org/igpm-cqc",
            capacity=3,
            registration_closes_at=at(12, on=webinar_day),
            members_only=True,
            cpd_hours=1,
            **common,
        )

    def _memberships(self) -> None:
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
        self._accreditation(amara)

    def _accreditation(self, member: User) -> None:
        """An issued certificate, and an application in the assessors' queue."""
        from accreditation import services
        from accreditation.models import Pathway

        staff = User.objects.get(email=STAFF_EMAIL)
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
        approved = services.application_start(
            user=member, pathway=Pathway.objects.get(slug="ilm-level-7")
        )
        services.application_update(
            application=approved,
            by=member,
            qualification_title="Level 7 Diploma in Leadership and Management",
            awarding_body="Institute of Leadership & Management",
            certificate_number="ILM-7-204411",
            date_achieved=datetime.date(2024, 7, 15),
        )
        services.evidence_add(application=approved, upload=_demo_pdf("ilm-diploma.pdf"), by=member)
        services.application_submit(application=approved, by=member)
        services.application_assign(application=approved, assessor=staff)
        services.application_approve(application=approved, by=staff)

        waiting = services.application_start(
            user=member, pathway=Pathway.objects.get(slug="napc-diploma")
        )
        services.application_update(
            application=waiting,
            by=member,
            qualification_title="Diploma in Advanced Primary Care Management",
            awarding_body="National Association of Primary Care",
            certificate_number="NAPC-D-3391",
            date_achieved=datetime.date(2025, 9, 1),
        )
        services.evidence_add(application=waiting, upload=_demo_pdf("napc-diploma.pdf"), by=member)
        services.application_submit(application=waiting, by=member)

    def _account(self, email, password, first, last, is_staff=False) -> User:
        user, created = User.objects.get_or_create(
            email=email,
            defaults={"first_name": first, "last_name": last, "is_staff": is_staff},
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        return user
