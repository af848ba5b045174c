"""What the membership team sees of automatic renewal: how each member
pays on the member record and in the member list CSV, and the reports
(members by collection method, automatic renewals due, failed collections
this month), with their queries pinned."""

import csv
import datetime
import io

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from members.models import AutoRenewal, Membership
from tests.factories import active_member, team_member

pytestmark = pytest.mark.django_db

Status = AutoRenewal.Status
NOW = datetime.datetime(2026, 6, 15, 11, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()


@pytest.fixture
def at_noon():
    with time_machine.travel(NOW, tick=False):
        yield


def member_on(method="card", status=Status.ACTIVE, *, collect_in=20, **fields) -> Membership:
    membership = Membership.objects.get(user=active_member())
    defaults = {
        "card_brand": "visa" if method == "card" else "",
        "card_last4": "4242" if method == "card" else "",
        "card_exp_month": 3 if method == "card" else None,
        "card_exp_year": 2029 if method == "card" else None,
        "mandate_status": "" if method == "card" else AutoRenewal.Mandate.ACTIVE,
        "mandate_reference": "" if method == "card" else "IGPM-DD-0042",
        "bank_last4": "" if method == "card" else "6789",
    }
    AutoRenewal.objects.create(
        membership=membership,
        grade=membership.grade,
        method=method,
        status=status,
        next_collection_on=TODAY + datetime.timedelta(days=collect_in),
        next_amount_pence=12000,
        ended_at=timezone.now() if status == Status.ENDED else None,
        **{**defaults, **fields},
    )
    return membership


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def team(client):
    client.force_login(team_member("Membership team"))
    return client


def test_member_record_shows_a_card_renewal_and_its_next_collection(team, at_noon):
    membership = member_on("card")
    html = team.get(reverse("members:staff_member", args=[membership.user_id])).content.decode()
    assert "How they pay" in html
    assert "Automatic renewal by card" in html
    assert "Renews automatically" in html
    assert "Visa ending 4242, expires 03/2029" in html
    assert "5 July 2026, £120.00" in html
    assert "Last failed collection" not in html


def test_member_record_shows_a_revoked_mandate_and_the_last_failure(team, at_noon):
    membership = member_on(
        "bacs_debit",
        Status.ENDED,
        mandate_status=AutoRenewal.Mandate.INACTIVE,
        end_reason=AutoRenewal.EndReason.MANDATE_REVOKED,
        last_failure_at=NOW - datetime.timedelta(days=2),
        last_failure_message="The bank cancelled the Direct Debit instruction.",
    )
    html = team.get(reverse("members:staff_member", args=[membership.user_id])).content.decode()
    assert "Pays each year" in html
    assert "Ended: direct debit mandate cancelled" in html
    assert "Revoked or failed, reference IGPM-DD-0042, account ending 6789" in html
    assert "13 June 2026: The bank cancelled the Direct Debit instruction." in html
    assert "Next collection" not in html


def test_member_record_of_a_member_who_pays_each_year(team):
    user = active_member()
    html = team.get(reverse("members:staff_member", args=[user.pk])).content.decode()
    assert "Pays each year" in html
    assert "<dd>Off</dd>" in html


def test_member_list_csv_has_the_collection_columns(team, at_noon):
    card = member_on("card")
    pending = member_on("bacs_debit", mandate_status=AutoRenewal.Mandate.PENDING)
    failing = member_on(
        "card",
        Status.PAST_DUE,
        last_failure_at=NOW,
        last_failure_message="Your card was declined.",
    )
    stopped = member_on("card", Status.STOPPING)
    plain = Membership.objects.get(user=active_member())
    rows = read_csv(team.get(reverse("members:staff_member_export")))
    header = rows[0]
    assert header[-5:] == [
        "collection method",
        "automatic renewal",
        "Direct Debit mandate",
        "next collection on",
        "last collection failure",
    ]
    by_number = {row[0]: row[-5:] for row in rows[1:]}
    assert by_number[card.number] == [
        "Automatic renewal by card", "Renews automatically", "", "2026-07-05", "",
    ]  # fmt: skip
    assert by_number[pending.number] == [
        "Automatic renewal by Direct Debit", "Renews automatically", "Pending", "2026-07-05", "",
    ]  # fmt: skip
    assert by_number[failing.number] == [
        "Automatic renewal by card",
        "Collection failed, retrying",
        "",
        "2026-07-05",
        "2026-06-15: Your card was declined.",
    ]
    assert by_number[stopped.number][:2] == [
        "Automatic renewal by card", "Stopped, ends at the end of the year",
    ]  # fmt: skip
    assert by_number[stopped.number][3] == ""  # nothing more will be collected
    assert by_number[plain.number] == ["Pays each year", "Off", "", "", ""]


def test_a_new_renewal_after_an_ended_one_is_what_the_list_shows(team, at_noon):
    membership = member_on("bacs_debit", Status.ENDED, end_reason="mandate_revoked")
    with time_machine.travel(NOW + datetime.timedelta(minutes=5), tick=False):
        AutoRenewal.objects.create(
            membership=membership, grade=membership.grade, method="card", status=Status.ACTIVE,
            next_collection_on=TODAY + datetime.timedelta(days=40), next_amount_pence=12000,
        )  # fmt: skip
    rows = read_csv(team.get(reverse("members:staff_member_export")))
    (row,) = [row for row in rows[1:] if row[0] == membership.number]
    assert row[-5:-1] == ["Automatic renewal by card", "Renews automatically", "", "2026-07-25"]


def test_the_reports_show_methods_renewals_due_and_failures(team, at_noon):
    member_on("card", collect_in=10)
    member_on("card", collect_in=45)
    member_on("bacs_debit", collect_in=25, mandate_status=AutoRenewal.Mandate.PENDING)
    member_on("card", Status.STOPPING, collect_in=5)
    failing = member_on(
        "card", Status.PAST_DUE, collect_in=0, last_failure_at=NOW,
        last_failure_message="Your card has insufficient funds.",
    )  # fmt: skip
    member_on(
        "card", Status.ENDED, end_reason="retries_ended",
        last_failure_at=NOW - datetime.timedelta(days=40), last_failure_message="Last month",
    )  # fmt: skip
    active_member()
    response = team.get(reverse("members:staff_reports"))
    context = response.context
    assert [(row.label, row.members) for row in context["collection_methods"]] == [
        ("Automatic renewal by card", 3),
        ("Automatic renewal by Direct Debit", 1),
        ("Automatic renewal stopped (pays by hand from next year)", 1),
        ("Pays each year", 2),
    ]
    assert context["mandates_pending"] == 1
    assert context["collections_retrying"] == 1
    due = {row.method: (row.within_30, row.within_60, row.amount_60_pence) for row in
           context["auto_due"]}  # fmt: skip
    assert due == {"Card": (2, 3, 36000), "Direct Debit": (1, 1, 12000)}
    assert context["auto_due_amount_60"] == "£480.00"
    assert [row.user_id for row in context["failed_collections"]] == [failing.user_id]
    html = response.content.decode()
    assert 'id="collection-methods"' in html
    assert "Your card has insufficient funds." in html
    assert "Last month" not in html

    rows = read_csv(team.get(reverse("members:staff_report_csv", args=["failed-collections"])))
    assert rows[0] == [
        "membership number", "member", "collected by", "failed at", "reason", "state",
    ]  # fmt: skip
    assert [row[0] for row in rows[1:]] == [failing.number]
    rows = read_csv(team.get(reverse("members:staff_report_csv", args=["automatic-renewals-due"])))
    assert rows[1:] == [
        ["Card", "2", "3", "240.00", "360.00"],
        ["Direct Debit", "1", "1", "120.00", "120.00"],
    ]
    rows = read_csv(team.get(reverse("members:staff_report_csv", args=["collection-methods"])))
    assert rows[-1] == ["Pays each year", "2"]


@pytest.mark.parametrize("renewals", [1, 30])
def test_collection_report_queries_are_flat(team, at_noon, django_assert_num_queries, renewals):
    for n in range(renewals):
        member_on("card" if n % 2 else "bacs_debit", last_failure_at=NOW)
    from members.reports.period import Period
    from members.reports.sections import _collection_figures

    with django_assert_num_queries(5):
        figures = _collection_figures(Period.current())
    assert figures["failed_collections_total"] == renewals
    with django_assert_num_queries(4 + 1):  # auth, and one streamed query
        rows = read_csv(team.get(reverse("members:staff_report_csv", args=["failed-collections"])))
    assert len(rows) == renewals + 1


def test_reports_are_for_the_membership_team_only(client):
    client.force_login(active_member())
    response = client.get(reverse("members:staff_report_csv", args=["failed-collections"]))
    assert response.status_code in (302, 403)
