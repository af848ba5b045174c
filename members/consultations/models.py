"""Consultations: questions the IGPM puts to its members, and their answers.

An attributed consultation keeps each member's answers on their
``Response``. An anonymous one keeps only the fact that a member answered
(the ``Response``, with nothing in it once submitted); the answers go to
``AnonymousAnswerSet`` and ``AnonymousAnswer``, which have no foreign key
to the member or their response, no time of any kind, and random (UUID)
keys, so neither a column nor the order of the rows leads back to a person.
"""

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from members.billing.models.membership import Grade
from members.models.accounts import CareBoard, Profile

SCALE = range(1, 6)


def document_path(instance, filename: str) -> str:
    """A generated name: the uploader's file name is kept only for the
    download (``document_name``), never in storage."""
    return f"consultations/{uuid.uuid4().hex}.pdf"


class Consultation(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    class Anonymity(models.TextChoices):
        ATTRIBUTED = "attributed", "Attributed: staff see who said what"
        ANONYMOUS = "anonymous", "Anonymous: answers are kept with no link to the member"

    class Audience(models.TextChoices):
        MEMBERS = "members", "Members in good standing"
        SIGNED_IN = "signed_in", "Everyone signed in"

    class Publication(models.TextChoices):
        NONE = "", "Not published"
        MEMBERS = "members", "Members"
        PUBLIC = "public", "Everyone"

    class OrganisationType(models.TextChoices):
        PRACTICE = "practice", "GP practice"
        PCN = "pcn", "Primary care network"
        FEDERATION_ICB = "federation_icb", "Federation or ICB"
        OTHER = "other", "Other"

    title = models.CharField(max_length=200)
    background = models.TextField(
        blank=True,
        help_text="Markdown: headings (#), lists (-), links ([text](https://...)) and "
        "emphasis. Anything else is removed when it is shown.",
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    anonymity = models.CharField(
        max_length=12, choices=Anonymity.choices, default=Anonymity.ATTRIBUTED
    )
    # The IGPM's own background paper (checked as evidence is), served only
    # through members:consultation_document.
    document = models.FileField(upload_to=document_path, blank=True, max_length=200)
    document_name = models.CharField(max_length=200, blank=True)
    document_size = models.PositiveIntegerField(default=0)
    opens_at = models.DateTimeField("opens")
    closes_at = models.DateTimeField("closes")
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.MEMBERS)
    # Narrowing the members' audience; empty means no narrowing on that.
    audience_grades = models.ManyToManyField(Grade, blank=True, related_name="+")
    audience_care_boards = models.ManyToManyField(CareBoard, blank=True, related_name="+")
    audience_roles = models.JSONField(default=list, blank=True)
    audience_nations = models.JSONField(default=list, blank=True)
    audience_regions = models.JSONField(default=list, blank=True)
    audience_organisation_types = models.JSONField(default=list, blank=True)
    published = models.CharField(
        "summary published to", max_length=10, choices=Publication.choices, blank=True
    )
    summary = models.TextField("summary text", blank=True, help_text="Markdown, as above.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opens_at", "-pk"]
        permissions = [("run_consultations", "Can create, open and read consultations")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")),
                name="members_consultation_closes_after_opening",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("members:consultation", args=[self.pk])

    def get_staff_url(self) -> str:
        return reverse("members:staff_consultation", args=[self.pk])

    @property
    def document_size_text(self) -> str:
        """The document's size as a reader wants it: "240 KB", "1.4 MB"."""
        size = self.document_size
        if size < 1024 * 1024:
            return f"{max(1, -(-size // 1024))} KB"
        return f"{size / (1024 * 1024):.1f} MB"

    @property
    def is_anonymous(self) -> bool:
        return self.anonymity == self.Anonymity.ANONYMOUS

    def accepting(self, now=None) -> bool:
        """Whether answers may be saved or submitted now."""
        now = now or timezone.now()
        return self.status == self.Status.OPEN and self.opens_at <= now < self.closes_at


class Question(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", "Single choice"
        MULTIPLE = "multiple", "Multiple choice"
        SCALE = "scale", "Scale of 1 to 5"
        TEXT = "text", "Free text"

    CHOICE_KINDS = frozenset({Kind.SINGLE, Kind.MULTIPLE})

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="questions"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    text = models.CharField("question", max_length=300)
    help_text = models.CharField(max_length=300, blank=True)
    required = models.BooleanField(default=True)
    # One option a line, for single and multiple choice.
    options = models.JSONField(default=list, blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    # Its figures are on the published summary.
    in_summary = models.BooleanField(default=False)

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.text


class Respondent(models.Model):
    """Who answered, as the breakdowns need it: taken from the profile and
    membership when the answers are submitted."""

    region = models.CharField(max_length=60, blank=True)
    care_board = models.ForeignKey(
        CareBoard, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    role = models.CharField(max_length=30, choices=Profile.Role.choices, blank=True)
    grade = models.ForeignKey(
        Grade, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        abstract = True


class Response(Respondent):
    """A member's part in one consultation: their draft, and once submitted
    the record that they answered. One per member per consultation."""

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="responses"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consultation_responses"
    )
    # Answers saved but not submitted, by question id. Emptied on submit.
    draft = models.JSONField(default=dict, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["consultation", "user"], name="members_response_one_per_member"
            ),
        ]
        indexes = [models.Index(fields=["consultation", "submitted_at"])]

    def __str__(self) -> str:
        return f"{self.user} on {self.consultation}"


class AnswerBase(models.Model):
    """One answer to one question: an option (by its index; one row per
    option ticked), a point on the scale, or text."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    choice = models.PositiveSmallIntegerField(null=True, blank=True)
    number = models.PositiveSmallIntegerField(null=True, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        abstract = True


class Answer(AnswerBase):
    """An attributed answer."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")

    class Meta:
        indexes = [models.Index(fields=["question", "choice"])]

    def __str__(self) -> str:
        return f"Answer to {self.question_id}"


class AnonymousAnswerSet(Respondent):
    """One member's anonymous answers, with no way back to the member."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="anonymous_answer_sets"
    )

    def __str__(self) -> str:
        return f"Anonymous answers to {self.consultation}"


class AnonymousAnswer(AnswerBase):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    answer_set = models.ForeignKey(
        AnonymousAnswerSet, on_delete=models.CASCADE, related_name="answers"
    )

    class Meta:
        indexes = [models.Index(fields=["question", "choice"])]

    def __str__(self) -> str:
        return f"Anonymous answer to {self.question_id}"


class ConsultationNotice(models.Model):
    """An invitation or reminder to one member, recorded before it is sent:
    unique per consultation, member and kind, so it goes once."""

    class Kind(models.TextChoices):
        INVITATION = "invitation", "Invitation"
        REMINDER_1 = "reminder_1", "First reminder"
        REMINDER_2 = "reminder_2", "Second reminder"

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="notices"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consultation_notices"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["consultation", "user", "kind"], name="members_consultation_notice_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.user} for {self.consultation}"


class ReminderOptOut(models.Model):
    """A member who asked for no more reminders about one consultation."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["consultation", "user"], name="members_reminder_opt_out_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} wants no reminders for {self.consultation}"
