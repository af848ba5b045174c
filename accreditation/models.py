import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse


class Pathway(models.Model):
    """A recognised route to accreditation. Reference data staff edit."""

    class RouteType(models.TextChoices):
        QUALIFICATION = "qualification", "Qualification"
        APPRENTICESHIP = "apprenticeship", "Apprenticeship"
        EXPERIENTIAL = "experiential", "Experience and portfolio"

    name = models.CharField(max_length=150, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    awarding_body = models.CharField(max_length=150)
    rqf_level = models.PositiveSmallIntegerField(
        "RQF level",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(8)],
        help_text="Regulated Qualifications Framework level, where there is one.",
    )
    route_type = models.CharField(max_length=20, choices=RouteType.choices)
    summary = models.TextField(help_text="What the route is and who it suits.")
    evidence_required = models.TextField(help_text="What applicants must upload.")
    validity_years = models.PositiveSmallIntegerField(
        "years an accreditation lasts", default=3, validators=[MinValueValidator(1)]
    )
    cpd_hours_required = models.DecimalField(
        "CPD hours to revalidate",
        max_digits=5,
        decimal_places=1,
        default=Decimal("90.0"),
        help_text="Logged over the life of the accreditation.",
    )
    is_active = models.BooleanField(default=True)
    display_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["display_order", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_experiential(self) -> bool:
        return self.route_type == self.RouteType.EXPERIENTIAL


class Application(models.Model):
    """A member's application for accreditation (or revalidation)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        IN_REVIEW = "in_review", "In review"
        MORE_INFO = "more_info", "More information requested"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Kind(models.TextChoices):
        INITIAL = "initial", "Accreditation"
        REVALIDATION = "revalidation", "Revalidation"

    OPEN = frozenset({Status.SUBMITTED, Status.IN_REVIEW, Status.MORE_INFO})
    EDITABLE = frozenset({Status.DRAFT, Status.MORE_INFO})

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applications"
    )
    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="applications")
    kind = models.CharField(max_length=15, choices=Kind.choices, default=Kind.INITIAL)
    renews = models.ForeignKey(
        "accreditation.Certificate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="revalidations",
    )
    status = models.CharField(
        max_length=15, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    qualification_title = models.CharField(max_length=200, blank=True)
    awarding_body = models.CharField(max_length=150, blank=True)
    certificate_number = models.CharField(
        "certificate or learner number", max_length=80, blank=True
    )
    date_achieved = models.DateField(null=True, blank=True)
    roles_held = models.TextField(
        blank=True, help_text="For the experiential route: each role with its dates."
    )
    referee_1_name = models.CharField("first referee's name", max_length=150, blank=True)
    referee_1_email = models.EmailField("first referee's email", blank=True)
    referee_1_relationship = models.CharField(
        "how the first referee knows you", max_length=150, blank=True
    )
    referee_2_name = models.CharField("second referee's name", max_length=150, blank=True)
    referee_2_email = models.EmailField("second referee's email", blank=True)
    referee_2_relationship = models.CharField(
        "how the second referee knows you", max_length=150, blank=True
    )
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_applications",
    )
    submitted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("review_application", "Can review accreditation applications")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} ({self.pathway}, {self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("accreditation:application", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE


def evidence_path(instance: "Evidence", filename: str) -> str:
    # A generated name: nothing the uploader typed reaches the file system.
    return f"evidence/{uuid.uuid4().hex}"


# Detected content type -> how the portal previews it.
INLINE_PREVIEWS = {"application/pdf": "pdf", "image/png": "image", "image/jpeg": "image"}


class Evidence(models.Model):
    """An uploaded file: PDF, PNG or JPEG, checked by content, private."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="evidence", null=True, blank=True
    )
    cpd_entry = models.OneToOneField(
        "accreditation.CpdEntry",
        on_delete=models.CASCADE,
        related_name="evidence",
        null=True,
        blank=True,
    )
    file = models.FileField(upload_to=evidence_path, max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at"]
        verbose_name_plural = "evidence"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(application__isnull=False) | models.Q(cpd_entry__isnull=False),
                name="accreditation_evidence_has_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def preview(self) -> str:
        """How a browser may show the file: "pdf", "image", or "" for a
        download only. Only types the upload checks verified by content
        (accreditation/uploads.py) are ever shown inline."""
        return INLINE_PREVIEWS.get(self.content_type, "")


class Certificate(models.Model):
    """An accreditation. The number is for people; the verification code,
    printed as a QR code, is for machines and cannot be guessed."""

    class Status(models.TextChoices):
        VALID = "valid", "Valid"
        REVOKED = "revoked", "Revoked"

    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="certificate"
    )
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="certificates"
    )
    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=30, unique=True)
    verification_code = models.CharField(max_length=40, unique=True)
    holder_name = models.CharField(max_length=200)
    award = models.CharField(max_length=200, default="IGPM National Accreditation")
    issued_on = models.DateField()
    expires_on = models.DateField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.VALID)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.TextField(blank=True)
    on_public_register = models.BooleanField(
        "list me on the public register of accredited managers", default=False
    )
    pdf = models.FileField(upload_to="certificates/", blank=True, max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issued_on", "-pk"]
        permissions = [("revoke_certificate", "Can revoke accreditation certificates")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="revoked") | models.Q(revoked_at__isnull=False),
                name="accreditation_revoked_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("accreditation:verify", args=[self.verification_code])

    def state_on(self, day) -> str:
        if self.status == self.Status.REVOKED:
            return "revoked"
        return "expired" if self.expires_on < day else "valid"


class CpdEntry(models.Model):
    """Continuing professional development the member has done."""

    class Category(models.TextChoices):
        COURSE = "course", "Course or training"
        EVENT = "event", "Conference, event or webinar"
        READING = "reading", "Reading and research"
        MENTORING = "mentoring", "Mentoring or coaching"
        NETWORK = "network", "Peer network or learning set"
        PROJECT = "project", "Work-based project"
        OTHER = "other", "Other"

    class Source(models.TextChoices):
        MEMBER = "member", "Logged by the member"
        EVENT = "event", "Event attendance"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cpd_entries"
    )
    date = models.DateField()
    activity = models.CharField(max_length=200)
    hours = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("40"))],
    )
    category = models.CharField(max_length=15, choices=Category.choices)
    reflection = models.TextField(max_length=2000, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = "CPD entry"
        verbose_name_plural = "CPD entries"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hours__gte=Decimal("0.5")), name="accreditation_cpd_hours"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date}: {self.activity} ({self.hours} h)"


class CertificateNotice(models.Model):
    """An expiry reminder, recorded before it is sent (unique per kind)."""

    class Kind(models.TextChoices):
        EXPIRY_90 = "expiry_90", "Expires in 90 days"
        EXPIRY_30 = "expiry_30", "Expires in 30 days"
        EXPIRY_7 = "expiry_7", "Expires in 7 days"

    certificate = models.ForeignKey(Certificate, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=15, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["certificate", "kind"], name="accreditation_notice_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.certificate_id}"
