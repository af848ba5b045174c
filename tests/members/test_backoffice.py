"""The staff back office: member search, the member record with its
timeline, and the audit trail."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accreditation.models import CpdEntry
from accreditation.services import application_approve, application_assign, cpd_entry_create
from events.services import registration_check_in
from members.billing.services.membership import membership_override_status
from members.models import AuditEntry, Membership, Profile
from tests.accreditation.test_applications import submitted_application
from tests.factories import (
    MembershipFactory,
    ProfileFactory,
    StaffFactory,
    UserFactory,
    active_member,
    assessor,
    care_board,
    event,
    member_registration,
    team_member,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def membership_client(client):
    client.force_login(team_member("Membership team"))
    return client


@pytest.fixture
def admin_client(client):
    client.force_login(team_member("Administrators"))
    return client


def found(client, **params) -> str:
    response = client.get(reverse("members:staff_members"), params)
    assert response.status_code == 200
    return response.content.decode()


def named(first: str, last: str, **profile) -> Membership:
    membership = MembershipFactory(
        user=ProfileFactory(user__first_name=first, user__last_name=last, **profile).user
    )
    return membership


# --- search ------------------------------------------------------------------


def test_search_by_name_email_number_and_ods_code(membership_client):
    ada = named("Ada", "Quartermaine", ods_code="B82005")
    Membership.objects.filter(pk=ada.pk).update(number="IGPM-004242")
    other = named("Bram", "Ollerton", ods_code="C83001")
    ada_email = ada.user.email
    for params in [
        {"q": "quarterm"},
        {"q": "Ada Quartermaine"},
        {"q": ada_email.upper()},
        {"q": "IGPM-004242"},
        {"q": "4242"},
        {"q": "b82005"},
    ]:
        html = found(membership_client, **params)
        assert "Quartermaine" in html, params
        assert "Ollerton" not in html, params
    assert "Ollerton" in found(membership_client, q=other.user.email)


def test_a_word_of_one_or_two_letters_starts_a_name_or_email(membership_client):
    named("Joanna", "Quartermaine")
    named("Bram", "Jolley")
    named("Marjorie", "Ollerton")  # "jo" inside a name, not at its start
    jo_mail = named("Ceri", "Price")
    jo_mail.user.email = "jo.price@nhs.net"
    jo_mail.user.save(update_fields=["email"])

    html = found(membership_client, q="jo")
    assert "Quartermaine" in html and "Jolley" in html and "Price" in html
    assert "Ollerton" not in html
    assert "Ollerton" not in found(membership_client, q="J rjo")
    # From three letters a word is found anywhere in a name.
    assert "Ollerton" in found(membership_client, q="rjo")
    assert "Ollerton" in found(membership_client, q="ma rjo")
    assert "Ollerton" in found(membership_client, q="Ollerton, Marjorie")


def test_results_are_listed_by_name_a_page_at_a_time(membership_client):
    for n in reversed(range(27)):
        named(f"Pat{n:02d}", "Ordway")

    first = found(membership_client, q="ordway")
    second = found(membership_client, q="ordway", page=2)

    assert "27 member accounts" in first
    assert re.findall(r"Pat(\d\d) Ordway", first) == [f"{n:02d}" for n in range(25)]
    assert re.findall(r"Pat(\d\d) Ordway", second) == ["25", "26"]


def test_surnames_that_start_with_the_search_come_first(membership_client):
    named("Ann", "Goldsmith")
    named("Bea", "Smithson")
    named("Cy", "Arrowsmith")
    named("Dee", "Smith")

    html = found(membership_client, q="smith")
    assert re.findall(r"(?:Ann|Bea|Cy|Dee) (\w+)", html) == [
        "Smith",
        "Smithson",
        "Arrowsmith",
        "Goldsmith",
    ]
    # Any word of the search: here the second.
    named("Ann", "Smith")
    html = found(membership_client, q="ann smith")
    assert re.findall(r"Ann (\w+)", html) == ["Smith", "Goldsmith"]


def test_search_by_board_and_status_and_staff_are_not_listed(membership_client):
    north = named("Cara", "Northcott", care_board=care_board("NHS Cumbria and Lancashire ICB"))
    south = named("Dev", "Southwell", care_board=care_board("NHS Kent and Medway ICB"))
    Membership.objects.filter(pk=south.pk).update(status=Membership.Status.LAPSED)
    UserFactory(first_name="Eve", last_name="Nomembership")
    StaffFactory(first_name="Sam", last_name="Staffmemberson")

    html = found(membership_client, board=north.user.profile.care_board_id)
    assert "Northcott" in html and "Southwell" not in html
    html = found(membership_client, status="lapsed")
    assert "Southwell" in html and "Northcott" not in html
    html = found(membership_client, status="none")
    assert "Nomembership" in html and "Northcott" not in html
    assert "Staffmemberson" not in found(membership_client)


def test_bad_search_input_is_explained_beside_the_field_and_kept(membership_client):
    too_long = "x" * 101
    response = membership_client.get(reverse("members:staff_members"), {"q": too_long})
    html = response.content.decode()
    assert "Search for at most 100 characters." in html
    assert f'value="{too_long}"' in html
    assert 'aria-invalid="true"' in html
    assert "0 member accounts" in html


def test_search_page_queries_stay_flat(membership_client, django_assert_num_queries):
    named("Fay", "Flatley")
    url = reverse("members:staff_members")
    membership_client.get(url)  # warm the session and permission caches

    with CaptureQueriesContext(connection) as baseline:
        membership_client.get(url, {"q": "latl"})
    few = len(baseline)  # read now: each request clears the log
    # Of them the search's own: the count, the page's members' keys, then
    # those members with their profiles and memberships.
    assert few == 8
    for n in range(30):
        named(f"Gil{n}", "Flatley")
    with django_assert_num_queries(few):
        html = membership_client.get(url, {"q": "latl"}).content.decode()
    assert "31 member accounts" in html


# --- the member record -------------------------------------------------------


def rich_member(client, pathway):
    """A member with something in every part of the record."""
    application = submitted_application(client, pathway)
    user = application.applicant
    reviewer = assessor()
    application_assign(application=application, assessor=reviewer)
    certificate = application_approve(application=application, by=reviewer, reason="Well made.")
    cpd_entry_create(
        user=user,
        date=datetime.date(2026, 3, 1),
        activity="Appraisal skills workshop",
        hours=Decimal("2.5"),
        category=CpdEntry.Category.COURSE,
    )
    registration = member_registration(event(title="Spring leadership forum"), user)
    registration_check_in(registration=registration, by=team_member("Events team"))
    Profile.objects.filter(user=user).update(marketing_consent=True)
    return user, certificate


def test_member_record_shows_everything_and_the_timeline(client, pathway):
    user, certificate = rich_member(client, pathway)
    client.force_login(team_member("Membership team"))
    response = client.get(reverse("members:staff_member", args=[user.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    membership = user.membership
    payment = membership.payments.get()
    for expected in [
        user.email,
        escape(user.profile.organisation_name),
        user.profile.ods_code,
        user.profile.phone,
        "news and offers: yes",
        membership.number,
        payment.receipt_number,
        escape(pathway.name),
        certificate.number,
        "Appraisal skills workshop",
        "Spring leadership forum",
        "attended",
        # The timeline: the approval, with who made it and why.
        "Approved",
        "Well made.",
        "in review → approved",
        "Checked in",
    ]:
        assert expected in html, expected


def test_member_record_queries_stay_flat(client, pathway, django_assert_num_queries):
    user = active_member()
    viewer = team_member("Membership team")
    client.force_login(viewer)
    url = reverse("members:staff_member", args=[user.pk])
    client.get(url)

    with CaptureQueriesContext(connection) as baseline:
        client.get(url)
    few = len(baseline)  # read now: each request clears the log
    # One query names every entry of the timeline's page
    # (members/backoffice/naming.py), whatever kinds of record it shows;
    # organisations' panel reads seats held and accounts run (two); one
    # reads how the membership is paid (its latest automatic renewal); one
    # looks for the member in an imported register (its panel).
    assert few == 21
    user_b, _ = rich_member(client, pathway)
    for n in range(5):
        member_registration(event(title=f"Forum {n}"), user_b)
        cpd_entry_create(
            user=user_b,
            date=datetime.date(2026, 1, n + 1),
            activity=f"Reading {n}",
            hours=Decimal(1),
            category=CpdEntry.Category.READING,
        )
    client.force_login(viewer)
    with django_assert_num_queries(few):
        response = client.get(reverse("members:staff_member", args=[user_b.pk]))
    assert "Forum 4" in response.content.decode()


def test_long_timeline_is_paged(membership_client):
    membership = active_member().membership
    by = team_member("Administrators")
    for n in range(60):
        membership_override_status(
            membership=membership,
            status=Membership.Status.LAPSED if n % 2 == 0 else Membership.Status.ACTIVE,
            reason=f"Correction number {n}",
            by=by,
        )
    url = reverse("members:staff_member", args=[membership.user_id])
    first = membership_client.get(url).content.decode()
    second = membership_client.get(url, {"page": 2}).content.decode()
    # Newest first: the last correction leads page one, the earliest is on two.
    assert "Correction number 59" in first and "Correction number 0<" not in first
    assert "Correction number 0<" in second
    assert "Page 2 of 2" in second


def test_staff_accounts_have_no_member_record(membership_client):
    staff = StaffFactory(mfa=True)
    response = membership_client.get(reverse("members:staff_member", args=[staff.pk]))
    assert response.status_code == 404


@pytest.mark.parametrize("group", ["Accreditation assessors", "Events team", None])
def test_only_the_membership_team_and_administrators_find_members(client, group):
    member = ProfileFactory().user
    user = team_member(group) if group else StaffFactory(mfa=True)
    client.force_login(user)
    assert client.get(reverse("members:staff_members")).status_code == 403
    assert client.get(reverse("members:staff_member", args=[member.pk])).status_code == 403
    client.force_login(team_member("Administrators"))
    assert client.get(reverse("members:staff_member", args=[member.pk])).status_code == 200


def test_members_and_staff_without_two_factor_are_kept_out(client):
    member = ProfileFactory().user
    client.force_login(member)
    assert client.get(reverse("members:staff_members")).status_code == 403
    lax = StaffFactory(mfa=False)
    lax.groups.add(Group.objects.get(name="Administrators"))
    client.force_login(lax)
    response = client.get(reverse("members:staff_member", args=[member.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


# --- the audit trail -----------------------------------------------------------


def test_audit_trail_is_for_administrators_only(client):
    client.force_login(team_member("Membership team"))
    assert client.get(reverse("members:staff_audit")).status_code == 403
    client.force_login(team_member("Administrators"))
    assert client.get(reverse("members:staff_audit")).status_code == 200


def test_audit_trail_filters(admin_client):
    membership = active_member().membership
    alice = team_member("Membership team")
    membership_override_status(
        membership=membership, status=Membership.Status.LAPSED, reason="Paid by cheque", by=alice
    )
    AuditEntry.objects.filter(reason="Paid by cheque").update(
        created_at=timezone.make_aware(datetime.datetime(2026, 5, 10, 23, 30))
    )
    membership_override_status(
        membership=membership, status=Membership.Status.ACTIVE, reason="Cheque bounced", by=alice
    )
    url = reverse("members:staff_audit")

    def shown(**params) -> str:
        response = admin_client.get(url, params)
        assert response.status_code == 200
        return response.content.decode()

    everything = shown()
    assert "Paid by cheque" in everything and "Cheque bounced" in everything
    by_alice = shown(actor=alice.email.split("@")[0])
    assert "Paid by cheque" in by_alice and "Cheque bounced" in by_alice
    assert "Paid by cheque" not in shown(actor="nobody-like-this")
    # 23:30 on 10 May in London is still 10 May, though 22:30 UTC.
    may_10 = shown(since="2026-05-10", until="2026-05-10")
    assert "Paid by cheque" in may_10 and "Cheque bounced" not in may_10
    assert "Paid by cheque" not in shown(since="2026-05-11", until="2026-05-11")
    member_link = reverse("members:staff_member", args=[membership.user_id])
    assert member_link in everything


def test_audit_trail_bad_dates_are_explained(admin_client):
    response = admin_client.get(
        reverse("members:staff_audit"), {"since": "2026-05-10", "until": "2026-05-01"}
    )
    html = response.content.decode()
    assert "The end date must be on or after the start date." in html
    assert 'value="2026-05-10"' in html
    response = admin_client.get(reverse("members:staff_audit"), {"since": "10th of May"})
    assert "Enter a date, like 2026-04-21." in response.content.decode()


def lapsed_by_staff(reason: str) -> None:
    """One audited change: the Membership team lapses a member's membership."""
    membership_override_status(
        membership=active_member().membership,
        status=Membership.Status.LAPSED,
        reason=reason,
        by=team_member("Membership team"),
    )


def test_audit_trail_up_to_the_last_day_there_is(admin_client):
    lapsed_by_staff("Paid by cheque")
    url = reverse("members:staff_audit")
    for params in ({"until": "9999-12-31"}, {"since": "2026-01-01", "until": "9999-12-31"}):
        response = admin_client.get(url, params)
        assert response.status_code == 200, params
        assert "Paid by cheque" in response.content.decode(), params
    response = admin_client.get(url, {"since": "9999-12-31", "until": "9999-12-31"})
    assert response.status_code == 200
    assert "Paid by cheque" not in response.content.decode()


def test_audit_trail_queries_stay_flat(admin_client, django_assert_num_queries):
    by = team_member("Membership team")
    membership = active_member().membership
    url = reverse("members:staff_audit")
    admin_client.get(url)
    with CaptureQueriesContext(connection) as baseline:
        admin_client.get(url)
    few = len(baseline)  # read now: each request clears the log
    # One query names every entry on the page, however many there are.
    assert few == 7
    for n in range(20):
        membership_override_status(
            membership=active_member().membership if n % 4 == 0 else membership,
            status=Membership.Status.LAPSED if n % 2 == 0 else Membership.Status.ACTIVE,
            reason=f"Fix {n}",
            by=by,
        )
    with django_assert_num_queries(few):
        html = admin_client.get(url).content.decode()
    assert "Fix 19" in html


def test_audit_entries_cannot_be_changed_or_deleted():
    lapsed_by_staff("Paid at the conference")
    entry = AuditEntry.objects.latest("pk")
    entry.reason = "Rewritten"
    with pytest.raises(ValueError, match="cannot be changed"):
        entry.save()
    with pytest.raises(ValueError, match="cannot be deleted"):
        entry.delete()
    assert AuditEntry.objects.get(pk=entry.pk).reason == "Paid at the conference"


def test_membership_page_links_to_the_whole_record(membership_client):
    membership = active_member().membership
    html = membership_client.get(
        reverse("members:staff_membership", args=[membership.pk])
    ).content.decode()
    assert reverse("members:staff_member", args=[membership.user_id]) in html


def test_member_record_shows_an_open_erasure_request(client):
    from members.privacy.services import erasure_request

    member = ProfileFactory().user
    request = erasure_request(user=member)
    client.force_login(team_member("Administrators"))
    html = client.get(reverse("members:staff_member", args=[member.pk])).content.decode()
    assert "Asked for the account to be deleted" in html
    assert reverse("members:staff_erasure_request", args=[request.pk]) in html
