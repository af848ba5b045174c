import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from members.models import CareBoard, Grade, Membership, Profile, User

PASSWORD = "correct-horse-battery-staple"


def care_board(name: str = "NHS Greater Manchester ICB") -> CareBoard:
    """A board from the seeded reference data (recreated after a flush)."""
    board, _ = CareBoard.objects.get_or_create(
        name=name,
        defaults={"kind": "icb", "nation": "england", "region": "North West"},
    )
    return board


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"member{n}@example.org")
    first_name = factory.Faker("first_name", locale="en_GB")
    last_name = factory.Faker("last_name", locale="en_GB")

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.create(
                user=self,
                email=self.email,
                primary=True,
                verified=True if extracted is None else extracted,
            )


class StaffFactory(UserFactory):
    is_staff = True

    @factory.post_generation
    def mfa(self, create, extracted, **kwargs):
        if create and extracted:
            TOTP.activate(self, generate_totp_secret())


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile

    user = factory.SubFactory(UserFactory)
    job_title = "Practice Manager"
    role = Profile.Role.PRACTICE_MANAGER
    organisation_name = factory.Sequence(lambda n: f"Surgery {n}")
    ods_code = factory.Sequence(lambda n: f"A{81000 + n % 10000:05d}")
    pcn_name = "Central PCN"
    care_board = factory.LazyFunction(care_board)
    years_in_role = 4
    phone = "0161 496 0000"


class MembershipFactory(factory.django.DjangoModelFactory):
    """A membership waiting for payment, for a member with a full profile."""

    class Meta:
        model = Membership

    user = factory.LazyFunction(lambda: ProfileFactory().user)
    grade = factory.LazyFunction(lambda: grade("member"))
    status = Membership.Status.AWAITING_PAYMENT


def grade(slug: str = "member") -> Grade:
    """A seeded grade (recreated after a flush)."""
    defaults = {
        "student": ("Student or Apprentice", 2500, False),
        "associate": ("Associate", 6500, False),
        "member": ("Member", 9500, False),
        "fellow": ("Fellow", 15000, True),
        "retired": ("Retired", 3000, False),
    }[slug]
    obj, _ = Grade.objects.get_or_create(
        slug=slug,
        defaults={
            "name": defaults[0],
            "annual_fee_pence": defaults[1],
            "requires_approval": defaults[2],
            "eligibility": "Seeded for tests.",
        },
    )
    return obj


def active_member() -> User:
    """A member in good standing: profile complete, a paid year."""
    from members.billing.services.payments import payment_create, payment_fulfil

    membership = MembershipFactory()
    payment = payment_create(membership=membership, method="offline", by=membership.user)
    payment_fulfil(payment_id=payment.pk)
    return membership.user


def assessor() -> User:
    from django.contrib.auth.models import Group

    user = StaffFactory(mfa=True)
    group, _ = Group.objects.get_or_create(name="Accreditation assessors")
    if not group.permissions.exists():
        from django.contrib.auth.models import Permission

        group.permissions.add(
            *Permission.objects.filter(codename__in=["review_application", "revoke_certificate"])
        )
    user.groups.add(group)
    return user


def event(**fields):
    """A published event open for registration, a week away."""
    import datetime

    from django.utils import timezone

    from events.models import Event

    now = timezone.now()
    starts = fields.pop("starts_at", now + datetime.timedelta(days=7))
    slug = fields.pop("slug", f"event-{Event.objects.count() + 1}-{int(now.timestamp())}")
    defaults = {
        "title": "Managing winter pressures",
        "type": Event.Type.WEBINAR,
        "summary": "A webinar for practice managers.",
        "description": "What works in practices like yours.",
        "starts_at": starts,
        "ends_at": starts + datetime.timedelta(hours=1, minutes=30),
        "is_online": True,
        "joining_link": "https://meet.example.org/igpm-winter",
        "capacity": 50,
        "registration_opens_at": min(now, starts) - datetime.timedelta(days=1),
        "registration_closes_at": starts,
        "status": Event.Status.PUBLISHED,
        "cpd_hours": 1.5,
    }
    return Event.objects.create(slug=slug, **{**defaults, **fields})


def member_registration(event, user):
    """``user`` registers for ``event`` in one step, as a signed-in member."""
    from events.services import registration_create

    return registration_create(
        event=event,
        user=user,
        name=user.get_full_name(),
        email=user.email,
        organisation="Riverside Surgery",
        role="Practice Manager",
    )


def confirm_token_issue(registration) -> str:
    """A fresh confirmation token for an unconfirmed visitor's registration,
    as the emailed link would carry (tests that are not about the email)."""
    import secrets

    from events.models import token_hash

    token = secrets.token_urlsafe(32)
    registration.confirm_token_hash = token_hash(token)
    registration.save(update_fields=["confirm_token_hash"])
    return token


def visitor_confirm(registration):
    """The visitor follows their confirmation link."""
    from events.services import registration_confirm_email

    return registration_confirm_email(token=confirm_token_issue(registration))


SEEDING_MIGRATIONS = [
    "members.migrations.0004_seed_grades_and_membership_team",
    "accreditation.migrations.0002_seed_pathways_and_assessors",
    "events.migrations.0002_events_team",
    "members.migrations.0007_staff_roles",
    "members.migrations.0014_policy_team",
    "members.migrations.0023_ods_import",
]


def team_member(group_name: str) -> User:
    """Staff with two-factor in one of the seeded teams. Transactional tests
    flush the seeded groups; the migrations' own seeding puts them back."""
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group

    if not Group.objects.filter(name=group_name, permissions__isnull=False).exists():
        for module in SEEDING_MIGRATIONS:
            importlib.import_module(module).seed(apps, None)
    user = StaffFactory(mfa=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user
