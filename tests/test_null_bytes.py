"""A NUL byte in any query parameter gives a clear message or an empty
result, never a server error.

PostgreSQL cannot hold NUL in text, so a search term that reaches a query
with one fails there. The walk below opens every page the URL matrix
lists, finds each GET form on it, and sends ``%00`` in each of the form's
fields, one at a time and all together.
"""

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from tests.test_url_matrix import MATRIX, world  # noqa: F401 (a fixture)

NUL = "\x00"
# Read straight from the query string by list pages, form or no form.
ALWAYS = ["page", "q"]


FIELDS = ("input", "select", "textarea")


class _GetForms(HTMLParser):
    """The field names of each GET form on a page."""

    def __init__(self):
        super().__init__()
        self.forms: list[set[str]] = []
        self._current: set[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            if (attrs.get("method") or "get").lower() == "get":
                self._current = set()
                self.forms.append(self._current)
        elif tag in FIELDS and self._current is not None and attrs.get("name"):
            self._current.add(attrs["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def _viewer(expected: dict) -> str | None:
    for role in ("owner", "admin", "anon"):
        if expected[role] == 200:
            return role
    return None


GET_PAGES = sorted(
    name
    for name, (method, _, expected) in MATRIX.items()
    if method == "get" and _viewer(expected) and name not in ("events:feed", "events:ics")
)


@pytest.mark.django_db
def test_every_get_form_survives_a_nul_byte_in_each_field(world):  # noqa: F811
    walked = {}
    for name in GET_PAGES:
        _, about, expected = MATRIX[name]
        role = _viewer(expected)
        client = Client()
        if role != "anon":
            client.force_login(world["users"][role])
        args = world[about] if about else []
        url = reverse(name, args=args if isinstance(args, list) else [args])
        page = client.get(url)
        assert page.status_code == 200, name
        if not page["Content-Type"].startswith("text/html"):
            continue
        parser = _GetForms()
        parser.feed(page.content.decode())
        fields = set().union(*parser.forms) if parser.forms else set()
        if fields:
            walked[name] = fields
        for field in sorted(fields | set(ALWAYS)):
            for value in (NUL, f"a{NUL}b"):
                response = client.get(url, {field: value})
                assert response.status_code in (200, 400, 404), (name, field, response)
        if fields:
            response = client.get(url, dict.fromkeys(fields, NUL))
            assert response.status_code in (200, 400), (name, "all fields")
    # The walk reached the search boxes it is about.
    for name, field in [
        ("accreditation:register", "q"),
        ("accreditation:verify_search", "surname"),
        ("accreditation:staff_queue", "pathway"),
        ("members:directory", "q"),
        ("members:staff_members", "q"),
        ("members:staff_audit", "action"),
        ("events:list", "region"),
        ("events:staff_attendees", "q"),
    ]:
        assert field in walked.get(name, set()), f"{name} has no GET field {field!r}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "role", "about"),
    [
        ("accreditation:register", "anon", None),
        ("members:directory", "owner", None),
        ("events:staff_attendees", "events", "event"),
    ],
)
def test_a_nul_byte_in_a_search_box_says_what_is_wrong(world, name, role, about):  # noqa: F811
    client = Client()
    if role != "anon":
        client.force_login(world["users"][role])
    url = reverse(name, args=[world[about]] if about else [])
    response = client.get(url, {"q": f"Smith{NUL}"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Search terms cannot contain" in html
    assert 'value="Smith"' in html  # What was typed is kept, less the NUL.


@pytest.mark.django_db
def test_a_nul_byte_in_the_staff_member_search_says_what_is_wrong(world):  # noqa: F811
    client = Client()
    client.force_login(world["users"]["membership"])
    response = client.get(reverse("members:staff_members"), {"q": f"Smith{NUL}"})
    html = response.content.decode()
    assert "Search terms cannot contain" in html
    assert "0 member accounts" in html


@pytest.mark.django_db
def test_a_nul_byte_in_a_typed_ticket_code_finds_no_one(world):  # noqa: F811
    """The check-in box posts its code; a NUL in it is no code at all."""
    client = Client()
    client.force_login(world["users"]["events"])
    url = reverse("events:staff_check_in", args=[world["event"]])
    response = client.post(url, {"code": f"ABC{NUL}"}, follow=True)
    assert response.status_code == 200
    assert "No registration for this event has that check-in code." in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["anon", "owner"])
def test_a_nul_byte_in_an_address_is_a_page_not_found(world, role):  # noqa: F811
    """Codes and tokens read from the path (a certificate's, an invitation's,
    a registration's) never reach a query with a NUL in them: every address
    the URL matrix lists, with a NUL at the end of its path."""
    client = Client()
    if role != "anon":
        client.force_login(world["users"][role])
    for name, (method, about, _) in MATRIX.items():
        args = world[about] if about else []
        url = reverse(name, args=args if isinstance(args, list) else [args])
        # Without its slash the address is first sent to the one with it.
        for bad in (url.rstrip("/") + "%00/", url + "%00"):
            response = getattr(client, method)(bad, follow=True)
            assert response.status_code == 404, (name, bad, response.status_code)
    for path in ["/verify/%00/", "/seats/invitation/%00/", "/registrations/abc%00/cancel/"]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Page not found" in response.content.decode()
