import re

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower, Upper
from django.urls import reverse
from django.utils import timezone

ODS_PRACTICE_CODE = re.compile(r"^[A-Z][0-9]{5}$")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        return (email or "").strip().lower()

    def _create(self, email: str, password: str | None, **extra) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> "User":
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: a member, a staff member, or both.

    The email address is the login. allauth keeps the verified addresses in
    its own table; this column mirrors the primary one.
    """

    email = models.EmailField("email address", max_length=254)
    first_name = models.CharField("first name", max_length=100, blank=True)
    last_name = models.CharField("last name", max_length=100, blank=True)
    is_staff = models.BooleanField(
        "staff status",
        default=False,
        help_text="Staff can open the staff area and the admin once they "
        "have two-factor authentication set up.",
    )
    is_active = models.BooleanField("active", default=True)
    date_joined = models.DateTimeField("date joined", default=timezone.now)
    # Set when the account is erased at the member's request: the row stays
    # (payments and certificate numbers point at it) with nothing personal.
    erased_at = models.DateTimeField("erased", null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = "user"
        verbose_name_plural = "users"
        permissions = [
            ("find_members", "Can search members and read member records"),
            ("view_reports", "Can see reports and download their CSVs"),
            ("view_audit_trail", "Can read the whole audit trail"),
            ("handle_erasure", "Can confirm account erasure requests"),
        ]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="members_user_email_ci_unique"),
        ]
        # Staff search (members.backoffice.member_search) and the member
        # directory look for a word with icontains, which PostgreSQL runs as
        # UPPER(column) LIKE '%...%', or if it is shorter than three
        # characters with istartswith, LIKE '...%' (igpm.search.word_lookup):
        # trigram indexes on those same expressions answer both without
        # reading every row. PostgreSQL only (migration 0012 skips them
        # elsewhere).
        indexes = [
            GinIndex(OpClass(Upper(field), name="gin_trgm_ops"), name=f"members_user_{field}_trgm")
            for field in ("first_name", "last_name", "email")
        ]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email


class CareBoard(models.Model):
    """An NHS integrated care board, or the equivalent body in the nations.

    Reference data: staff keep the list current in the admin (boards merge
    and are renamed); members pick theirs on the profile.
    """

    class Nation(models.TextChoices):
        ENGLAND = "england", "England"
        WALES = "wales", "Wales"
        SCOTLAND = "scotland", "Scotland"
        NORTHERN_IRELAND = "northern_ireland", "Northern Ireland"

    class Kind(models.TextChoices):
        ICB = "icb", "Integrated care board"
        LOCAL_HEALTH_BOARD = "lhb", "Local health board"
        NHS_BOARD = "nhs_board", "NHS territorial board"
        HSC_TRUST = "hsc_trust", "Health and social care trust"

    name = models.CharField(max_length=150, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    nation = models.CharField(max_length=20, choices=Nation.choices)
    region = models.CharField(
        max_length=60,
        blank=True,
        help_text="NHS England region, for boards in England.",
    )
    is_active = models.BooleanField(
        default=True, help_text="Inactive boards are no longer offered to members."
    )
    # The board's code in the NHS ODS data: an ICB's (e.g. QHM), which the
    # ODS import links practices to, so a member's board follows from their
    # practice (members.organisations.ods_import, "ICBs and care boards").
    ods_code = models.CharField(
        "ODS code",
        max_length=10,
        blank=True,
        help_text="The ICB's code in the NHS ODS data, like QHM. Practices in "
        "the ODS files name their ICB by this code.",
    )

    class Meta:
        ordering = ["nation", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["ods_code"],
                condition=~models.Q(ods_code=""),
                name="members_careboard_ods_code_unique",
            ),
        ]
        verbose_name = "ICB or health board"
        verbose_name_plural = "ICBs and health boards"

    def __str__(self) -> str:
        return self.name


class Profile(models.Model):
    """A practice manager's details, completed after sign-up."""

    class Role(models.TextChoices):
        PRACTICE_MANAGER = "practice_manager", "Practice manager"
        ASSISTANT_MANAGER = "assistant_manager", "Assistant or deputy practice manager"
        BUSINESS_MANAGER = "business_manager", "Business manager"
        OPERATIONS_MANAGER = "operations_manager", "Operations manager"
        PCN_MANAGER = "pcn_manager", "PCN manager"
        FEDERATION_ICB_MANAGER = "federation_icb_manager", "Federation or ICB manager"
        NON_CLINICAL_PARTNER = "non_clinical_partner", "Non-clinical partner"
        ASPIRING = "aspiring", "Aspiring practice manager or student"
        OTHER = "other", "Other"

    # Roles based in a single GP practice, which therefore has an ODS code.
    PRACTICE_ROLES = frozenset(
        {
            Role.PRACTICE_MANAGER,
            Role.ASSISTANT_MANAGER,
            Role.BUSINESS_MANAGER,
            Role.OPERATIONS_MANAGER,
            Role.NON_CLINICAL_PARTNER,
        }
    )

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    job_title = models.CharField(max_length=120, blank=True)
    role = models.CharField(max_length=30, choices=Role.choices, blank=True)
    organisation_name = models.CharField("organisation", max_length=200, blank=True)
    ods_code = models.CharField(
        "practice ODS code",
        max_length=6,
        blank=True,
        validators=[
            RegexValidator(
                ODS_PRACTICE_CODE,
                "Enter the practice's ODS code: one letter then five digits, like A81001.",
            )
        ],
    )
    pcn_name = models.CharField("primary care network (PCN)", max_length=200, blank=True)
    # The practice the ODS code names, when the NHS data knows it (set on
    # every save and after every ODS import); a code with no practice here
    # is flagged for staff to check.
    practice = models.ForeignKey(
        "members.NHSOrganisation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="profiles",
        limit_choices_to={"kind": "practice"},
    )
    care_board = models.ForeignKey(
        CareBoard,
        verbose_name="ICB or health board",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="profiles",
    )
    years_in_role = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(60)]
    )
    phone = models.CharField("phone number", max_length=32, blank=True)
    show_in_directory = models.BooleanField("show me in the member directory", default=False)
    # What the member directory shows besides the name, when listed.
    directory_show_job_title = models.BooleanField("job title", default=True)
    directory_show_organisation = models.BooleanField("organisation", default=True)
    directory_show_care_board = models.BooleanField("ICB or health board", default=True)
    directory_show_email = models.BooleanField("email address", default=False)
    directory_show_phone = models.BooleanField("phone number", default=False)
    marketing_consent = models.BooleanField("send me news and offers from the IGPM", default=False)
    consultation_consent = models.BooleanField(
        "email me about IGPM consultations and surveys", default=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ods_code="") | models.Q(ods_code__regex=r"^[A-Z][0-9]{5}$"),
                name="members_profile_ods_code_format",
            ),
        ]

    def __str__(self) -> str:
        return f"Profile of {self.user}"

    def get_absolute_url(self) -> str:
        return reverse("members:profile")

    @property
    def needs_ods_code(self) -> bool:
        return self.role in self.PRACTICE_ROLES

    @property
    def ods_code_unknown(self) -> bool:
        """A code was given that the NHS data does not (yet) know."""
        return bool(self.ods_code) and self.practice_id is None


class Session(AbstractBaseSession):
    """A browser's session: Django's database session (the same key, data
    and expiry), with the signed-in user's id in a column of its own,
    written each time the session is saved (``members.sessions``). So the
    one query that reads a session reads its person too, and a member's
    sessions are found without decoding everyone's.

    No foreign key constraint: a session saved as its user is deleted must
    not fail the request; deleting a user through the ORM still deletes
    their sessions, and one left behind signs in no one."""

    user = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        db_constraint=False,
        related_name="+",
    )

    @classmethod
    def get_session_store_class(cls):
        from members.sessions import SessionStore

        return SessionStore
