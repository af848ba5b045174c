"""The search box of a list page, read through a form field.

A query parameter used in a database lookup must be validated first:
PostgreSQL cannot hold a NUL character, so ``?q=%00`` would fail inside the
query. Django's CharField already refuses NUL (ProhibitNullCharactersValidator);
this gives that refusal words a searcher understands.
"""

from django import forms
from django.http import HttpRequest

SEARCH_MAX_LENGTH = 100
NUL_MESSAGE = "Search terms cannot contain a null character. Type the search again."


class SearchForm(forms.Form):
    q = forms.CharField(
        required=False,
        error_messages={"null_characters_not_allowed": NUL_MESSAGE},
    )

    def clean_q(self) -> str:
        # Long pastes are cut, not refused: a search is only ever a start.
        return self.cleaned_data["q"][:SEARCH_MAX_LENGTH]


def search_query(request: HttpRequest) -> tuple[str, str]:
    """The search term (``q``) and, if it was refused, why ("" if not)."""
    form = SearchForm(request.GET)
    if form.is_valid():
        return form.cleaned_data["q"], ""
    return "", form.errors["q"][0]


def form_text(value: str) -> str | None:
    """A text value from a request (a typed code, say), cleaned by a
    CharField; None if the field refuses it."""
    try:
        return forms.CharField(required=False).clean(value)
    except forms.ValidationError:
        return None


def shown_as_typed(request: HttpRequest) -> str:
    """What was typed in the search box, fit to show back in it."""
    return request.GET.get("q", "").replace("\x00", "")[:SEARCH_MAX_LENGTH]
