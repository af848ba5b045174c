"""Organisations for the membership team: the member search and record,
the report of organisation memberships and seats by ICB; the invitation
email through a real Celery worker on the real Redis broker."""

import time

import pytest
from django.core import mail
from django.urls import reverse

from members.backoffice.selectors import member_search
from members.models import NHSOrganisation
from members.organisations.reports import NO_ICB, organisation_rows
from members.organisations.seats import seat_invitations_send
from tests.factories import ProfileFactory, UserFactory, team_member
from tests.test_celery import celery_worker  # noqa: F401 (the real worker fixture)

from .world import account, paid_year, seat_holder

pytestmark = pytest.mark.django_db


def _icb_practice(code: str, icb_name: str) -> NHSOrganisation:
    icb, _ = NHSOrganisation.objects.get_or_create(
        code=f"Q{len(icb_name):02d}", defaults={"kind": "icb", "name": icb_name}
    )
    return NHSOrganisation.objects.create(code=code, kind="practice", name=code, icb=icb)


def test_searching_members_by_an_ods_code_finds_seat_holders_and_administrators():
    year, admin = paid_year(seats=2)
    holder, _ = seat_holder(year, admin)
    ProfileFactory(ods_code="B99999")  # someone else's practice
    found = set(member_search(query="a81001"))
    assert {holder, admin} <= found
    assert all(u.profile.ods_code == "B99999" for u in member_search(query="B99999"))


def test_the_member_record_shows_the_seat_and_links_the_organisation(client):
    year, admin = paid_year(seats=2)
    holder, _ = seat_holder(year, admin)
    client.force_login(team_member("Membership team"))
    page = client.get(reverse("members:staff_member", args=[holder.pk])).content.decode()
    assert "Seat 1 of" in page
    assert reverse("members:staff_organisation", args=[year.account_id]) in page


def test_the_report_counts_current_organisation_years_and_seats_by_icb():
    _icb_practice("A81001", "NHS North East ICB")
    _icb_practice("A81002", "NHS North East ICB")
    acct_one, admin_one = account()
    acct_two, admin_two = account(admin=UserFactory(), name="Hilltop", ods_code="A81002")
    acct_three, admin_three = account(admin=UserFactory(), name="Unknown", ods_code="")
    year_one, _ = paid_year(seats=3, acct=acct_one, admin=admin_one)
    paid_year(seats=2, acct=acct_two, admin=admin_two)
    paid_year(seats=1, acct=acct_three, admin=admin_three)
    seat_holder(year_one, admin_one)
    rows = {row.icb: row for row in organisation_rows()}
    assert (rows["NHS North East ICB"].organisations, rows["NHS North East ICB"].seats) == (2, 5)
    assert (rows["NHS North East ICB"].held, rows["NHS North East ICB"].free) == (1, 4)
    assert (rows[NO_ICB].organisations, rows[NO_ICB].seats, rows[NO_ICB].held) == (1, 1, 0)


def test_the_report_section_and_its_csv(client):
    _icb_practice("A81001", "NHS North East ICB")
    paid_year(seats=3)
    client.force_login(team_member("Membership team"))
    page = client.get(reverse("members:staff_reports")).content.decode()
    assert "Organisation memberships by ICB" in page and "NHS North East ICB" in page
    csv = client.get(reverse("members:staff_report_csv", args=["organisations-by-icb"]))
    body = b"".join(csv.streaming_content).decode() if csv.streaming else csv.content.decode()
    assert "NHS North East ICB,1,3,0,3" in body


@pytest.mark.django_db(transaction=True)
def test_an_invitation_is_emailed_once_by_a_real_worker(celery_worker):  # noqa: F811
    year, admin = paid_year(seats=1)
    seat_invitations_send(year=year, emails=["worker@x.example"], by=admin)

    def invitations():
        return [m.to for m in mail.outbox if "invited you" in m.subject]

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not invitations():
        time.sleep(0.1)
    time.sleep(0.5)
    assert invitations() == [["worker@x.example"]]
    from members.models import SeatInvitation
    from members.organisations.tasks import seat_invitation_email_task

    invitation = SeatInvitation.objects.get()
    assert invitation.sent_at is not None
    assert seat_invitation_email_task(invitation.pk) is False  # sent once
