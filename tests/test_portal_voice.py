"""One way of writing dates, sizes and hours for people, on every page."""

import datetime
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from tests.factories import active_member, member_registration, team_member
from tests.factories import event as make_event

# A date written any way but "1 September 2025": abbreviated or American
# months ("Sept.", "Sep 1"), ISO dates, numeric dates, a.m./p.m. times.
OTHER_DATE_FORMATS = re.compile(
    r"\b(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\b\.?"
    r"|\b\d{4}-\d{2}-\d{2}\b"
    r"|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
    r"|\b[ap]\.m\.|\bmidnight\b|\bnoon\b"
)


_SKIPPED = ("script", "style", "textarea", "text")


class _Text(HTMLParser):
    """The text people read: not markup, attributes (a date input's value,
    a ``<time datetime>``), scripts or styles. A chart's tick labels
    (``<text>`` in an ``<svg role="img">``) are drawn, not read: the chart
    is named by its title and description, which are checked."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIPPED:
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in _SKIPPED and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def shown_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def test_dates_are_written_out_in_full():
    """A bare date, ``|date`` and the date-time format all read the same."""
    moment = timezone.make_aware(datetime.datetime(2025, 9, 1, 14, 30))
    rendered = Template(
        "{{ day }}|{{ day|date }}|{{ moment|date:'DATETIME_FORMAT' }}|{{ moment }}"
    ).render(Context({"day": datetime.date(2025, 9, 1), "moment": moment}))
    assert rendered == (
        "1 September 2025|1 September 2025|1 September 2025, 14:30|1 September 2025, 14:30"
    )


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (1, "1 byte"),
        (820, "820 bytes"),
        (48_000, "47 KB"),
        (2_500_000, "2.4 MB"),
        (3 * 1024 * 1024, "3 MB"),
    ],
)
def test_sizes_are_in_kb_and_mb(size, shown):
    assert Template("{{ size|filesize }}").render(Context({"size": size})) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1, "1 hour"),
        (Decimal("1.0"), "1 hour"),
        (Decimal("1.5"), "1.5 hours"),
        (5, "5 hours"),
        (0, "0 hours"),
    ],
)
def test_hours_take_the_right_noun(value, shown):
    assert Template("{{ value|hours }}").render(Context({"value": value})) == shown


@pytest.mark.django_db
def test_main_pages_show_no_other_date_format(client):
    """The member's and the staff's main pages, with dates on them (a paid
    year, CPD, an event booking), write every date one way."""
    from accreditation.services import cpd_entry_create

    member = active_member()
    cpd_entry_create(
        user=member,
        date=datetime.date(2025, 9, 1),
        activity="Leading change in general practice",
        hours=Decimal("1"),
        category="course",
    )
    upcoming = make_event(title="NPM Day North West")
    member_registration(upcoming, member)
    payment = member.membership.payments.get()

    client.force_login(member)
    member_pages = [
        reverse("members:dashboard"),
        reverse("members:grades"),
        reverse("members:payment_detail", args=[payment.pk]),
        reverse("members:privacy"),
        reverse("accreditation:overview"),
        reverse("accreditation:cpd"),
        reverse("accreditation:pathways"),
        reverse("events:list"),
        upcoming.get_absolute_url(),
    ]
    staff_pages = [
        reverse("members:staff_home"),
        reverse("members:staff_members"),
        reverse("members:staff_member", args=[member.pk]),
        reverse("members:staff_membership", args=[member.membership.pk]),
        reverse("members:staff_audit"),
        reverse("members:staff_approvals"),
        reverse("members:staff_reports"),
        reverse("events:staff_overview"),
        reverse("events:staff_attendees", args=[upcoming.pk]),
    ]
    seen = {}
    for url in member_pages:
        response = client.get(url)
        assert response.status_code == 200, url
        seen[url] = shown_text(response.content.decode())
    client.force_login(team_member("Administrators"))
    for url in staff_pages:
        response = client.get(url)
        assert response.status_code == 200, url
        seen[url] = shown_text(response.content.decode())

    assert "1 September 2025" in seen[reverse("accreditation:cpd")]
    assert "1 hour" in seen[reverse("accreditation:cpd")]
    for url, text in seen.items():
        found = [m.group(0) for m in OTHER_DATE_FORMATS.finditer(text)]
        assert not found, f"{url} shows {found}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("cpd_hours", "shown"), [(Decimal("1"), "1 hour"), (Decimal("2.5"), "2.5 hours")]
)
def test_an_event_page_gives_its_cpd_hours_the_right_noun(client, cpd_hours, shown):
    ev = make_event(cpd_hours=cpd_hours)
    html = client.get(ev.get_absolute_url()).content.decode()
    assert f"<dd>{shown}</dd>" in html
