"""Billing's forms: choosing a grade and how to pay, a member's refund
request, and the membership team's decisions, status changes, mark-paid
confirmation, refunds and needs-attention actions."""

from decimal import Decimal

from django import forms

from members.models import Grade, Membership, Payment, Refund

from .models.membership import format_pence
from .services.attention import can_accept, can_refund


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
    invoice_address = forms.CharField(
        label="Billing address (optional)",
        max_length=500,
        required=False,
        help_text="Only for payment by invoice: printed on the invoice.",
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
    )
    invoice_purchase_order = forms.CharField(
        label="Purchase order number (optional)",
        max_length=60,
        required=False,
        help_text="Only for payment by invoice, if your organisation uses them.",
    )
    invoice_accounts_email = forms.EmailField(
        label="Accounts email (optional)",
        max_length=254,
        required=False,
        help_text=(
            "Only for payment by invoice: the invoice is emailed to you and to this "
            "address, for example your practice's accounts team."
        ),
        error_messages={"invalid": "Enter an email address like accounts@example.org."},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
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


class MarkPaidConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label="The practice paid this invoice",
        error_messages={"required": "Tick the box to confirm that this invoice was paid."},
    )


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


class AttentionActionForm(forms.Form):
    """One action on a payment in the needs-attention queue."""

    ACTIONS = [
        ("refund", "Refund it in full through Stripe"),
        ("accept", "Accept it as payment for the member's next year"),
        ("resolve", "Mark resolved (nothing more to do)"),
    ]
    action = forms.ChoiceField(
        label="Action",
        choices=ACTIONS,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what to do with this payment."},
    )
    reason = forms.CharField(
        label="Reason (kept in the audit trail)",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Give a reason: it is kept in the audit trail."},
    )

    def __init__(self, *args, payment: Payment, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = {"resolve"}
        if can_refund(payment):
            allowed.add("refund")
        if can_accept(payment):
            allowed.add("accept")
        self.fields["action"].choices = [c for c in self.ACTIONS if c[0] in allowed]


class RefundRequestForm(forms.Form):
    reason = forms.CharField(
        label="Why are you asking for a refund? (optional)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
