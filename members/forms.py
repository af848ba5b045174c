import re
from decimal import Decimal

from django import forms

from .models import (
    ODS_PRACTICE_CODE,
    CareBoard,
    Grade,
    Membership,
    Payment,
    Profile,
    Refund,
    User,
)
from .models.membership import format_pence
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
            "Needed if you work in a GP practice.",
            "pcn_name": "Optional.",
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
        self.order_fields(["first_name", "last_name"])

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


class GradeChoiceForm(forms.Form):
    grade = forms.ModelChoiceField(
        label="Choose your membership grade",
        queryset=Grade.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": "Choose a membership grade.",
            "invalid_choice": "Choose one of the grades listed.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["grade"]
        field.queryset = Grade.objects.filter(is_active=True)
        field.label_from_instance = lambda grade: (
            f"{grade.name}, {grade.fee_display} a year"
            + (" (by application)" if grade.requires_approval else "")
        )


class PaymentMethodForm(forms.Form):
    method = forms.ChoiceField(
        label="How would you like to pay?",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how you would like to pay."},
    )
    invoice_organisation = forms.CharField(
        label="Organisation paying the invoice",
        max_length=200,
        required=False,
        help_text="Only for payment by invoice: usually your practice.",
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    invoice_purchase_order = forms.CharField(
        label="Purchase order number (optional)",
        max_length=60,
        required=False,
        help_text="Only for payment by invoice, if your organisation uses them.",
    )

    def __init__(self, *args, methods: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].choices = methods

    def clean(self) -> dict:
        cleaned = super().clean()
        is_invoice = cleaned.get("method") == Payment.Method.INVOICE
        if is_invoice and not cleaned.get("invoice_organisation", "").strip():
            self.add_error(
                "invoice_organisation", "Enter the name of the organisation paying the invoice."
            )
        return cleaned


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Decision",
        choices=[("approve", "Approve"), ("decline", "Decline")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose approve or decline."},
    )
    reason = forms.CharField(
        label="Reason",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Sent to the member. Required when declining.",
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("decision") == "decline" and not cleaned.get("reason", "").strip():
            self.add_error("reason", "Give the member a reason for declining.")
        return cleaned


class StatusOverrideForm(forms.Form):
    status = forms.ChoiceField(label="New status", choices=Membership.Status.choices)
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Give a reason for the change."},
        help_text="Kept in the audit trail.",
    )


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label="Amount refunded (£)",
        min_value=Decimal("0.01"),
        max_digits=8,
        decimal_places=2,
        error_messages={
            "required": "Enter the amount refunded.",
            "invalid": "Enter an amount in pounds, like 95.00.",
            "min_value": "Enter an amount of at least £0.01.",
            "max_decimal_places": "Enter the amount to the penny, like 47.50.",
        },
    )
    effect = forms.ChoiceField(
        label="Effect on the membership",
        choices=Refund.Effect.choices,
        widget=forms.RadioSelect,
        initial=Refund.Effect.SHORTEN,
    )
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Give a reason for the refund."},
    )

    def __init__(self, *args, payment: Payment, **kwargs):
        super().__init__(*args, **kwargs)
        self.payment = payment

    def clean_amount(self) -> int:
        pence = int(self.cleaned_data["amount"] * 100)
        if pence > self.payment.refundable_pence:
            raise forms.ValidationError(
                f"Enter no more than {format_pence(self.payment.refundable_pence)}, "
                "the amount not yet refunded."
            )
        return pence
