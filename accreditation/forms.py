from django import forms
from django.core.exceptions import ValidationError

from .models import Application, CpdEntry, Pathway
from .uploads import evidence_check

ACCEPT = ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"


class PathwayChoiceForm(forms.Form):
    pathway = forms.ModelChoiceField(
        label="Which pathway are you applying through?",
        queryset=Pathway.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": "Choose a pathway."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pathway"].queryset = Pathway.objects.filter(is_active=True)


QUALIFICATION_FIELDS = [
    "qualification_title",
    "awarding_body",
    "certificate_number",
    "date_achieved",
]
EXPERIENTIAL_FIELDS = [
    "roles_held",
    "referee_1_name",
    "referee_1_email",
    "referee_1_relationship",
    "referee_2_name",
    "referee_2_email",
    "referee_2_relationship",
]


class ApplicationForm(forms.ModelForm):
    """The applicant's details. Nothing is required to save a draft; the
    submit step says what is still missing, beside each field."""

    class Meta:
        model = Application
        fields = QUALIFICATION_FIELDS + EXPERIENTIAL_FIELDS
        widgets = {
            "date_achieved": forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
            "roles_held": forms.Textarea(attrs={"rows": 6}),
            "referee_1_email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "referee_2_email": forms.EmailInput(attrs={"autocomplete": "off"}),
        }
        help_texts = {
            "roles_held": "One role a line, for example: Practice Manager, Riverside "
            "Surgery, 2018 to now.",
            "certificate_number": "As printed on your certificate.",
        }
        error_messages = {
            "date_achieved": {"invalid": "Enter a real date, like 14 3 2022."},
            "referee_1_email": {"invalid": "Enter an email address like name@example.org."},
            "referee_2_email": {"invalid": "Enter an email address like name@example.org."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        keep = (
            EXPERIENTIAL_FIELDS if self.instance.pathway.is_experiential else QUALIFICATION_FIELDS
        )
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]


class EvidenceForm(forms.Form):
    """The upload field of the application page. It belongs to the same
    HTML form as the details, so uploading never loses what was typed."""

    prefix = "evidence"

    file = forms.FileField(
        label="Upload a file of evidence",
        help_text="PDF, PNG or JPEG, up to 10 MB.",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT, "form": "application-form"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # The checked file (re-encoded, if an image) goes on to the service.
        return evidence_check(upload) if upload else upload


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Decision",
        choices=[
            ("approve", "Approve and issue the certificate"),
            ("more_info", "Ask the applicant for more information"),
            ("reject", "Reject"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a decision."},
    )
    reason = forms.CharField(
        label="Reasons",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Sent to the applicant. Required unless you approve.",
    )

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("decision") in ("more_info", "reject")
            and not cleaned.get("reason", "").strip()
        ):
            self.add_error("reason", "Tell the applicant why, or what you need from them.")
        return cleaned


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label="Reason for revoking",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Give a reason for revoking the certificate."},
    )


class CpdEntryForm(forms.ModelForm):
    evidence = forms.FileField(
        label="Evidence (optional)",
        required=False,
        help_text="A certificate of attendance, for example. PDF, PNG or JPEG, up to 10 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )

    class Meta:
        model = CpdEntry
        fields = ["date", "activity", "hours", "category", "reflection"]
        widgets = {
            "date": forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
            "hours": forms.NumberInput(attrs={"step": "0.5", "min": "0.5", "max": "40"}),
            "reflection": forms.Textarea(attrs={"rows": 4}),
        }
        labels = {"hours": "Hours", "reflection": "What you learned (optional)"}
        help_texts = {"hours": "In half hours, for example 1.5."}
        error_messages = {
            "date": {
                "required": "Enter the date of the activity.",
                "invalid": "Enter a real date.",
            },
            "activity": {"required": "Describe the activity."},
            "hours": {
                "required": "Enter the hours.",
                "min_value": "Enter at least half an hour (0.5).",
                "max_value": "Enter no more than 40 hours for one activity.",
            },
            "category": {"required": "Choose a category."},
        }

    def clean_evidence(self):
        upload = self.cleaned_data.get("evidence")
        return evidence_check(upload) if upload else upload

    def clean_hours(self):
        hours = self.cleaned_data["hours"]
        if hours * 2 != int(hours * 2):
            raise ValidationError("Enter hours in halves, like 1.5.")
        return hours


class VerifySearchForm(forms.Form):
    number = forms.CharField(
        label="Certificate number",
        max_length=30,
        help_text="As printed on the certificate, for example IGPM-ACC-2026-00042.",
        error_messages={"required": "Enter the certificate number."},
    )
    surname = forms.CharField(
        label="The holder's surname",
        max_length=150,
        help_text="As printed on the certificate. Asking for it keeps anyone from "
        "stepping through certificate numbers to collect names.",
        error_messages={"required": "Enter the surname of the person named on the certificate."},
    )
