"""Forms of the back office: the member search and the audit trail's
filters."""

from django import forms

from igpm.search import NUL_MESSAGE
from members.models import Membership
from members.selectors import care_board_choices

from .naming import target_label


class MemberSearchForm(forms.Form):
    """The staff member search. Every field may be left empty."""

    q = forms.CharField(
        label="Name, email, membership number or ODS code",
        help_text="Part of a name or email. One or two letters find names and emails that "
        "start with them.",
        required=False,
        max_length=100,
        error_messages={
            "max_length": "Search for at most 100 characters.",
            "null_characters_not_allowed": NUL_MESSAGE,
        },
    )
    board = forms.TypedChoiceField(
        label="ICB or health board", required=False, coerce=int, empty_value=None
    )
    status = forms.ChoiceField(
        label="Membership",
        required=False,
        choices=[("", "Any"), ("none", "No membership"), *Membership.Status.choices],
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["board"].choices = [("", "Anywhere"), *care_board_choices()]


class AuditFilterForm(forms.Form):
    """Filters for the audit trail; the choices are what the trail holds."""

    actor = forms.CharField(
        label="Who (email, or system)",
        required=False,
        max_length=254,
    )
    action = forms.ChoiceField(label="Action", required=False)
    target_type = forms.ChoiceField(label="Record type", required=False)
    since = forms.DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date, like 2026-04-21."},
    )
    until = forms.DateField(
        label="To",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date, like 2026-04-21."},
    )

    def __init__(self, *args, actions: list[str], target_types: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "Any action")] + [
            (action, action.replace("_", " ")) for action in actions
        ]
        self.fields["target_type"].choices = [("", "Any record")] + [
            (target_type, target_label(target_type)) for target_type in target_types
        ]

    def clean(self) -> dict:
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", "The end date must be on or after the start date.")
        return cleaned
