"""The search box of a list page, read through a form field.

A query parameter used in a database lookup must be validated first:
PostgreSQL cannot hold a NUL character, so ``?q=%00`` would fail inside the
query. Django's CharField already refuses NUL (ProhibitNullCharactersValidator);
this gives that refusal words a searcher understands.
"""

from django import forms
from django.db.models import Q
from django.http import HttpRequest

SEARCH_MAX_LENGTH = 100
# pg_trgm indexes a value by its runs of three characters, so it finds a
# fragment of three or more anywhere in a value. A shorter one holds no
# such run; anchored at the start (LIKE 'JO%') it gives the padded runs
# that begin every word ("  j", " jo"), and PostgreSQL rechecks the few
# rows they find. Looking for "jo" anywhere would read the whole index,
# slower than the table.
FRAGMENT_MIN_LENGTH = 3
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


def chosen_id(value: str) -> int | None:
    """The id a filter's drop-down sent (``?board=12``), or None for anything
    else. ASCII digits only: ``str.isdigit()`` also passes "²", which
    ``int()`` refuses, and Arabic-Indic digits, which would filter by a
    choice the drop-down does not show as chosen."""
    if value.isascii() and value.isdigit() and len(value) <= 12:
        return int(value)
    return None


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


def word_lookup(word: str, *fields: str) -> Q:
    """A typed word in any of ``fields``: anywhere in the value, or at its
    start if the word is shorter than ``FRAGMENT_MIN_LENGTH``. "Jo" typed
    in a name box means Joanna or Jones (rarely Major), and at the start
    the trigram indexes answer it at once."""
    lookup = "icontains" if len(word) >= FRAGMENT_MIN_LENGTH else "istartswith"
    found = Q()
    for field in fields:
        found |= Q(**{f"{field}__{lookup}": word})
    return found
