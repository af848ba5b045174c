"""Forms of the privacy pages: asking for erasure, and deciding it."""

from django import forms


class ErasureRequestForm(forms.Form):
    confirm = forms.BooleanField(
        label="I understand that my account and my details will be deleted, and that "
        "this cannot be undone",
        error_messages={"required": "Tick the box to confirm you want your account deleted."},
    )


class ErasureDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Decision",
        choices=[
            ("confirm", "Erase the account now"),
            ("refuse", "Refuse the request"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether to erase the account or refuse."},
    )
    reason = forms.CharField(
        label="Reason for refusing",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Sent to the member with their right to complain to the ICO. "
        "Required when refusing.",
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("decision") == "refuse" and not cleaned.get("reason", "").strip():
            self.add_error("reason", "Give the member the reason for refusing.")
        return cleaned
