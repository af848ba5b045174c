import re

from django import forms

from .models import (
    ODS_PRACTICE_CODE,
    CareBoard,
    Profile,
    User,
)
from .organisations.ods_selectors import care_board_for, practice_get
from .selectors import care_board_choices

PHONE_ALLOWED = re.compile(r"^\+?[0-9 ()-]+$")


class ProfileForm(forms.ModelForm):
    """The practice manager's details. Names live on the account."""

    first_name = forms.CharField(
        max_length=100,
        error_messages={"required": "Enter your first name."},
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        max_length=100,
        error_messages={"required": "Enter your last name."},
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    care_board = forms.ModelChoiceField(
        label="ICB or health board",
        queryset=CareBoard.objects.filter(is_active=True),
        help_text="The integrated care board (England) or health board where you work.",
        error_messages={
            "required": "Choose your ICB or health board.",
            "invalid_choice": "Choose an ICB or health board from the list.",
        },
    )

    class Meta:
        model = Profile
        fields = [
            "job_title",
            "role",
            "organisation_name",
            "ods_code",
            "pcn_name",
            "care_board",
            "years_in_role",
            "phone",
            "show_in_directory",
            "directory_show_job_title",
            "directory_show_organisation",
            "directory_show_care_board",
            "directory_show_email",
            "directory_show_phone",
            "marketing_consent",
            "consultation_consent",
        ]
        labels = {
            "directory_show_job_title": "Directory shows my job title",
            "directory_show_organisation": "Directory shows my organisation",
            "directory_show_care_board": "Directory shows my ICB or health board",
            "directory_show_email": "Directory shows my email address",
            "directory_show_phone": "Directory shows my phone number",
            "organisation_name": "Organisation",
            "ods_code": "Practice ODS code",
            "pcn_name": "Primary care network (PCN)",
            "phone": "Phone number (optional)",
            "years_in_role": "Years in this role",
        }
        help_texts = {
            "job_title": "As it appears in your contract, for example "
            "'Practice Manager' or 'Head of Operations'.",
            "organisation_name": "The practice, PCN, federation or ICB you work for.",
            "ods_code": "One letter then five digits, for example A81001. "
            "Needed if you work in a GP practice. Your PCN and ICB are "
            "filled in from the NHS data for the practice.",
            "pcn_name": "Optional. Filled in from the NHS data when your practice is in it.",
            "years_in_role": "Enter 0 if you started this year.",
            "show_in_directory": "Other members can find you by name, ICB or role. "
            "Off unless you turn it on; choose below what they see besides your name.",
            "marketing_consent": "News, events and offers by email. You can "
            "change your mind at any time.",
            "consultation_consent": "Invitations and up to two reminders when the IGPM "
            "asks members for their views. Separate from news and offers.",
        }
        widgets = {
            "job_title": forms.TextInput(attrs={"autocomplete": "organization-title"}),
            "organisation_name": forms.TextInput(attrs={"autocomplete": "organization"}),
            "ods_code": forms.TextInput(
                attrs={"autocapitalize": "characters", "spellcheck": "false", "size": 8}
            ),
            "years_in_role": forms.NumberInput(
                attrs={"min": 0, "max": 60, "inputmode": "numeric", "size": 4}
            ),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        }
        error_messages = {
            "job_title": {"required": "Enter your job title."},
            "role": {
                "required": "Choose the role that fits you best.",
                "invalid_choice": "Choose a role from the list.",
            },
            "organisation_name": {"required": "Enter the name of your organisation."},
            "years_in_role": {
                "required": "Enter how many years you have been in this role.",
                "invalid": "Enter the number of years as a whole number, like 3.",
                "max_value": "Enter a number of years of 60 or less.",
                "min_value": "Enter a number of years of 0 or more.",
            },
        }

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if not self.is_bound:
            self.initial.setdefault("first_name", user.first_name)
            self.initial.setdefault("last_name", user.last_name)
        for name in ("job_title", "role", "organisation_name", "years_in_role"):
            self.fields[name].required = True
        self.fields["role"].choices = [("", "Choose your role"), *Profile.Role.choices]
        self.fields["care_board"].choices = [
            ("", "Choose your ICB or health board"),
            *care_board_choices(),
        ]
        self.fields["years_in_role"].min_value = 0
        # Required, but filled in from the practice when the NHS data knows
        # it: checked in clean().
        self.fields["care_board"].required = False
        self.order_fields(["first_name", "last_name"])
        self.practice = None

    def clean_ods_code(self) -> str:
        code = re.sub(r"\s+", "", self.cleaned_data.get("ods_code", "")).upper()
        if code and not ODS_PRACTICE_CODE.match(code):
            raise forms.ValidationError(
                "Enter a practice ODS code of one letter then five digits, like A81001.",
                code="invalid",
            )
        return code

    def clean_phone(self) -> str:
        phone = " ".join(self.cleaned_data.get("phone", "").split())
        if not phone:
            return ""
        digits = re.sub(r"\D", "", phone)
        if not PHONE_ALLOWED.match(phone) or not 10 <= len(digits) <= 15:
            raise forms.ValidationError(
                "Enter a phone number like 01632 960 001 or +44 1632 960 001.",
                code="invalid",
            )
        return phone

    def clean(self) -> dict:
        cleaned = super().clean()
        # A code the NHS data knows fills in the PCN and ICB from the data;
        # one it does not know is kept as typed, and flagged for staff.
        self.practice = practice_get(code=cleaned.get("ods_code", ""))
        if self.practice is not None:
            if self.practice.pcn_id:
                cleaned["pcn_name"] = self.practice.pcn.name
            board = care_board_for(self.practice)
            if board is not None:
                cleaned["care_board"] = board
        if not cleaned.get("care_board") and "care_board" not in self.errors:
            self.add_error(
                "care_board",
                forms.ValidationError(
                    self.fields["care_board"].error_messages["required"], code="required"
                ),
            )
        needs_code = cleaned.get("role") in Profile.PRACTICE_ROLES
        if needs_code and not cleaned.get("ods_code") and "ods_code" not in self.errors:
            self.add_error(
                "ods_code",
                forms.ValidationError(
                    "Enter your practice's ODS code. You can find it on "
                    "the NHS Organisation Data Service or ask your ICB.",
                    code="required",
                ),
            )
        return cleaned
