"""Forms for consultations: a member's answers (a field per question) and
staff's consultation, question and publication forms."""

from django import forms
from django.utils import timezone
from django.utils.html import escape

from igpm import uploads
from members.models import CareBoard, Grade, Profile

from .models import Consultation, Question
from .services import EDITABLE_WHEN_OPEN, TEXT_LIMIT

Kind = Question.Kind
# The same limit and checks as members' evidence (igpm/uploads.py).
DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
SCALE_CHOICES = [
    (1, "1: strongly disagree"),
    (2, "2"),
    (3, "3: neither"),
    (4, "4"),
    (5, "5: strongly agree"),
]


def field_name(question: Question) -> str:
    return f"q{question.pk}"


class AnswerForm(forms.Form):
    """One field per question. Required questions are checked only when the
    member submits; saving a draft keeps whatever fits."""

    def __init__(self, *args, questions: list[Question], submitting: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for number, question in enumerate(questions, start=1):
            label = f"{number}. {question.text}"
            if not question.required:
                label += " (optional)"
            required = submitting and question.required
            # The field template marks help text safe: it is escaped here.
            common = {
                "label": label,
                "required": required,
                "help_text": escape(question.help_text),
            }
            if question.kind == Kind.SINGLE:
                field = forms.TypedChoiceField(
                    choices=list(enumerate(question.options)),
                    coerce=int,
                    widget=forms.RadioSelect,
                    error_messages={
                        "required": "Choose an answer for this question.",
                        "invalid_choice": "Choose from the options given.",
                    },
                    **common,
                )
            elif question.kind == Kind.MULTIPLE:
                field = forms.TypedMultipleChoiceField(
                    choices=list(enumerate(question.options)),
                    coerce=int,
                    widget=forms.CheckboxSelectMultiple,
                    error_messages={
                        "required": "Choose one or more options for this question.",
                        "invalid_choice": "Choose from the options given.",
                    },
                    **common,
                )
            elif question.kind == Kind.SCALE:
                field = forms.TypedChoiceField(
                    choices=SCALE_CHOICES,
                    coerce=int,
                    widget=forms.RadioSelect(attrs={"class": "scale"}),
                    error_messages={
                        "required": "Choose an answer for this question.",
                        "invalid_choice": "Choose a number from 1 to 5.",
                    },
                    **common,
                )
            else:
                field = forms.CharField(
                    max_length=TEXT_LIMIT,
                    widget=forms.Textarea(attrs={"rows": 5}),
                    error_messages={
                        "required": "Write your answer for this question.",
                        "max_length": f"Keep your answer to {TEXT_LIMIT:,} characters or fewer.",
                    },
                    **common,
                )
            self.fields[field_name(question)] = field

    @classmethod
    def initial_from(cls, answers: dict) -> dict:
        return {f"q{key}": value for key, value in answers.items()}

    def answers(self) -> dict[str, object]:
        """The cleaned answers keyed by question id, as the services take."""
        return {
            str(question.pk): self.cleaned_data.get(field_name(question))
            for question in self.questions
        }

    def add_answer_errors(self, errors: dict[int, str]) -> None:
        for question in self.questions:
            if question.pk in errors:
                self.add_error(field_name(question), errors[question.pk])


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def format_value(self, value):
        # Django hands the widget a naive UK time; aware ones are converted.
        if hasattr(value, "strftime"):
            if getattr(value, "tzinfo", None) is not None:
                value = timezone.localtime(value)
            return value.strftime("%Y-%m-%dT%H:%M")
        return value


def document_check(upload) -> uploads.CheckedUpload:
    """A consultation's document: a PDF that passes the upload checks, or a
    ValidationError saying what to do instead."""
    name = upload.name or "file"
    data = uploads.read_upload(upload, max_bytes=DOCUMENT_MAX_BYTES)
    if uploads.sniff(data) != uploads.PDF:
        raise forms.ValidationError(
            f"“{name}” is not a PDF. Save it as a PDF and upload it again.", code="type"
        )
    uploads.pdf_check(data, name)
    return uploads.CheckedUpload(
        content=data,
        content_type=uploads.PDF,
        download_name=uploads.download_name(name, uploads.PDF, fallback="document"),
    )


class ConsultationForm(forms.ModelForm):
    document = forms.FileField(
        label="Background document (optional)",
        required=False,
        help_text="A PDF, up to 10 MB. Members can download it beside the background.",
        widget=forms.FileInput(attrs={"accept": ".pdf,application/pdf"}),
        error_messages={"empty": "The file chosen is empty. Choose the file again."},
    )
    document_remove = forms.BooleanField(label="Remove the current document", required=False)
    opens_at = forms.DateTimeField(
        label="Opens",
        widget=LocalDateTimeInput,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="UK time.",
        error_messages={"required": "Enter when it opens.", "invalid": "Enter a date and time."},
    )
    closes_at = forms.DateTimeField(
        label="Closes",
        widget=LocalDateTimeInput,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="UK time. Answers can be changed until then.",
        error_messages={"required": "Enter when it closes.", "invalid": "Enter a date and time."},
    )
    audience_grades = forms.ModelMultipleChoiceField(
        label="Grades",
        queryset=Grade.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every grade.",
    )
    audience_roles = forms.MultipleChoiceField(
        label="Roles",
        choices=Profile.Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every role.",
    )
    audience_nations = forms.MultipleChoiceField(
        label="Nations",
        choices=CareBoard.Nation.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: all four nations.",
    )
    audience_regions = forms.MultipleChoiceField(
        label="NHS England regions",
        choices=[],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every region.",
    )
    audience_care_boards = forms.ModelMultipleChoiceField(
        label="ICBs and health boards",
        queryset=CareBoard.objects.filter(is_active=True),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="None chosen: every board. Hold Ctrl (or Cmd) to choose several.",
    )
    audience_organisation_types = forms.MultipleChoiceField(
        label="Organisation types",
        choices=Consultation.OrganisationType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="From the member's role. None ticked: every type.",
    )

    class Meta:
        model = Consultation
        fields = [
            "title",
            "background",
            "anonymity",
            "opens_at",
            "closes_at",
            "audience",
            "audience_grades",
            "audience_roles",
            "audience_nations",
            "audience_regions",
            "audience_care_boards",
            "audience_organisation_types",
        ]
        widgets = {
            "anonymity": forms.RadioSelect,
            "audience": forms.RadioSelect,
            "background": forms.Textarea(attrs={"rows": 10}),
        }
        help_texts = {
            "audience": "The narrowing below applies to members in good standing.",
            "anonymity": "Shown to members before they answer. It cannot change once open.",
        }
        error_messages = {"title": {"required": "Enter a title."}}

    field_order = ["title", "background", "document", "document_remove"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.document_name:
            self.fields["document"].label = "Replace the background document (optional)"
            self.fields[
                "document_remove"
            ].label = f"Remove the current document, “{self.instance.document_name}”"
        else:
            del self.fields["document_remove"]
        regions = CareBoard.objects.exclude(region="").values_list("region", flat=True).distinct()
        self.fields["audience_regions"].choices = [(r, r) for r in sorted(regions)]
        if self.instance.pk and self.instance.status == Consultation.Status.OPEN:
            # Shown but fixed: what the answers mean cannot change.
            for name, field in self.fields.items():
                if name not in EDITABLE_WHEN_OPEN | {"document_remove"}:
                    field.disabled = True

    def clean_document(self):
        upload = self.cleaned_data["document"]
        return document_check(upload) if upload else None

    def clean(self):
        cleaned = super().clean()
        opens, closes = cleaned.get("opens_at"), cleaned.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", "The closing time must be after the opening time.")
        return cleaned

    def settings(self) -> dict:
        """What the service is to set: fixed (disabled) fields left out."""
        values = {
            name: self.cleaned_data[name]
            for name in self.Meta.fields
            if not self.fields[name].disabled
        }
        # The document only when it changes: a new one, or None to remove it.
        if self.cleaned_data.get("document"):
            values["document"] = self.cleaned_data["document"]
        elif self.cleaned_data.get("document_remove"):
            values["document"] = None
        return values


class QuestionForm(forms.ModelForm):
    options_text = forms.CharField(
        label="Options",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For single and multiple choice: one option a line, at least two.",
    )

    class Meta:
        model = Question
        fields = ["text", "kind", "help_text", "required"]
        widgets = {"kind": forms.RadioSelect}
        labels = {"required": "An answer is required"}
        error_messages = {
            "text": {"required": "Enter the question."},
            "kind": {"required": "Choose the kind of question."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["options_text"] = "\n".join(self.instance.options)

    def clean(self):
        cleaned = super().clean()
        options = [line.strip() for line in cleaned.get("options_text", "").splitlines()]
        cleaned["options"] = [option for option in options if option]
        if cleaned.get("kind") in Question.CHOICE_KINDS and len(cleaned["options"]) < 2:
            self.add_error("options_text", "Give at least two options, one a line.")
        return cleaned

    def values(self) -> dict:
        return {
            "kind": self.cleaned_data["kind"],
            "text": self.cleaned_data["text"],
            "help_text": self.cleaned_data["help_text"],
            "required": self.cleaned_data["required"],
            "options": self.cleaned_data["options"],
        }


class PublishForm(forms.Form):
    to = forms.ChoiceField(
        label="Publish the summary to",
        choices=Consultation.Publication.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    summary = forms.CharField(
        label="Summary",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown. Shown above the figures for the questions you tick.",
    )
    questions = forms.MultipleChoiceField(
        label="Figures to show",
        required=False,
        choices=[],
        widget=forms.CheckboxSelectMultiple,
        help_text="Counts and percentages only; never free text or breakdowns.",
    )

    def __init__(self, *args, questions: list[Question], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["questions"].choices = [
            (str(q.pk), q.text) for q in questions if q.kind != Kind.TEXT
        ]
