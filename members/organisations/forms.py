"""Input for organisation accounts, orders, invitations and seats."""

from django import forms
from django.core.validators import validate_email

from members.billing.forms import RefundForm
from members.exceptions import MembershipError
from members.models import OrganisationAccount, OrganisationGrade, Payment, Refund
from members.organisations.models.accounts import MAX_SEATS

from .seats import MAX_INVITATIONS_AT_ONCE


class AccountForm(forms.Form):
    name = forms.CharField(
        label="Organisation name",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    kind = forms.ChoiceField(
        label="Kind of organisation",
        choices=OrganisationAccount.Kind.choices,
        widget=forms.RadioSelect,
    )
    ods_code = forms.CharField(
        label="ODS code (optional)",
        max_length=10,
        required=False,
        help_text="The NHS code of the practice, PCN or ICB, for example A81001.",
    )
    list_size = forms.IntegerField(
        label="Registered patients (optional)",
        min_value=0,
        max_value=5_000_000,
        required=False,
        help_text="Needed for grades priced by practice list size.",
    )
    billing_address = forms.CharField(
        label="Billing address (optional)",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
    )
    accounts_email = forms.EmailField(
        label="Accounts email (optional)",
        required=False,
        help_text="Invoices go to the administrators and to this address.",
    )

    def clean_ods_code(self) -> str:
        code = self.cleaned_data["ods_code"].strip().upper()
        if code and not code.isalnum():
            raise forms.ValidationError("An ODS code has only letters and numbers.")
        return code


class OrderForm(forms.Form):
    grade = forms.ModelChoiceField(
        label="Organisation grade",
        queryset=OrganisationGrade.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
    )
    seats = forms.IntegerField(
        label="Number of seats",
        min_value=1,
        max_value=MAX_SEATS,
        help_text=f"One seat per manager, up to {MAX_SEATS}.",
        error_messages={
            "min_value": "Choose at least 1 seat.",
            "max_value": f"Choose at most {MAX_SEATS} seats.",
        },
    )
    method = forms.ChoiceField(
        label="How will the organisation pay?",
        choices=[
            (Payment.Method.INVOICE, "One invoice to the organisation"),
            (Payment.Method.STRIPE, "Card"),
        ],
        widget=forms.RadioSelect,
    )
    invoice_organisation = forms.CharField(
        label="Organisation paying the invoice",
        max_length=200,
        required=False,
        help_text="Only for payment by invoice.",
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    invoice_address = forms.CharField(
        label="Billing address (optional)",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
    )
    invoice_purchase_order = forms.CharField(
        label="Purchase order number",
        max_length=60,
        required=False,
        help_text="Only for payment by invoice.",
    )
    invoice_accounts_email = forms.EmailField(label="Accounts email (optional)", required=False)

    def __init__(self, *args, account: OrganisationAccount, **kwargs):
        super().__init__(*args, **kwargs)
        from .seats import seat_fee_pence

        grades = OrganisationGrade.objects.filter(is_active=True).prefetch_related("bands")
        field = self.fields["grade"]
        field.queryset = grades

        def label(grade):
            try:
                fee = seat_fee_pence(grade=grade, account=account)
            except MembershipError:
                return f"{grade.name} (priced by list size: add your list size first)"
            pounds, pence = divmod(fee, 100)
            return f"{grade.name}, £{pounds:,}.{pence:02d} a seat a year"

        field.label_from_instance = label

    def clean(self):
        data = super().clean()
        if data.get("method") == Payment.Method.INVOICE:
            if not (data.get("invoice_organisation") or "").strip():
                self.add_error(
                    "invoice_organisation",
                    "Enter the name of the organisation paying the invoice.",
                )
            if not (data.get("invoice_purchase_order") or "").strip():
                self.add_error(
                    "invoice_purchase_order", "Enter the purchase order number for the invoice."
                )
        return data


class InviteForm(forms.Form):
    emails = forms.CharField(
        label="Email addresses",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=(
            f"One a line, or separated by commas: up to {MAX_INVITATIONS_AT_ONCE} at a time."
        ),
    )

    def clean_emails(self) -> list[str]:
        raw = self.cleaned_data["emails"].replace(",", "\n").replace(";", "\n")
        emails = [line.strip() for line in raw.splitlines() if line.strip()]
        if len(emails) > MAX_INVITATIONS_AT_ONCE:
            raise forms.ValidationError(
                f"Invite at most {MAX_INVITATIONS_AT_ONCE} people at a time."
            )
        bad = []
        for email in emails:
            try:
                validate_email(email)
            except forms.ValidationError:
                bad.append(email)
        if bad:
            raise forms.ValidationError(
                "These are not email addresses: " + ", ".join(bad[:5]) + "."
            )
        if not emails:
            raise forms.ValidationError("Enter at least one email address.")
        return emails


class SwapForm(forms.Form):
    email = forms.EmailField(
        label="Email address of the new seat holder",
        help_text="They get an invitation to take the seat.",
    )


class AdministratorForm(forms.Form):
    email = forms.EmailField(
        label="Email address of the new administrator",
        help_text="They need a portal account with this address.",
    )


class OrganisationRefundForm(RefundForm):
    """A staff refund of an organisation's payment: what happens to the
    organisation year it bought, and so to its seats."""

    EFFECTS = [
        (Refund.Effect.NONE, "Keep the year: the seats stay as they are"),
        (
            Refund.Effect.END_NOW,
            "End the year it bought: every seat is freed today (holders keep their own "
            "record and the days up to today)",
        ),
    ]

    def __init__(self, *args, payment: Payment, **kwargs):
        super().__init__(*args, payment=payment, **kwargs)
        self.fields["effect"].label = "Effect on the organisation's year and seats"
        self.fields["effect"].choices = self.EFFECTS
        self.fields["effect"].initial = Refund.Effect.NONE
