"""The accreditation pipeline in the staff reports: applications by status
and the median time from submission to decision."""

import csv
import datetime
import io
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import reverse

from accreditation import reports
from accreditation.models import Application
from accreditation.reports import DecisionRow, StatusRow
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
SINCE = datetime.datetime(2025, 7, 1, tzinfo=LONDON)


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=LONDON)


def application(pathway, status, submitted=None, decided=None, kind="initial"):
    return Application.objects.create(
        applicant=UserFactory(),
        pathway=pathway,
        status=status,
        kind=kind,
        submitted_at=at(submitted) if submitted else None,
        decided_at=at(decided) if decided else None,
    )


@pytest.fixture
def applications(pathway, experiential):
    """Decided since 1 July 2025: ILM approved after 10 and 4 days, the
    experiential route rejected after 21. One ILM approval is older."""
    application(pathway, "approved", "2026-05-01 10:00", "2026-05-11 10:00")
    application(pathway, "approved", "2026-04-01 09:00", "2026-04-05 09:00")
    application(experiential, "rejected", "2026-01-10 12:00", "2026-01-31 12:00")
    application(pathway, "approved", "2025-05-01 12:00", "2025-06-01 12:00")
    application(pathway, "draft")
    application(pathway, "submitted", "2026-06-01 09:00")
    application(experiential, "in_review", "2026-06-02 09:00", kind="revalidation")
    application(experiential, "withdrawn", "2026-03-02 09:00")


def test_status_rows_count_every_status_in_pipeline_order(applications):
    assert reports.status_rows() == [
        StatusRow("draft", "Draft", 1, 0),
        StatusRow("submitted", "Submitted", 1, 0),
        StatusRow("in_review", "In review", 0, 1),
        StatusRow("more_info", "More information requested", 0, 0),
        StatusRow("approved", "Approved", 3, 0),
        StatusRow("rejected", "Rejected", 1, 0),
        StatusRow("withdrawn", "Withdrawn", 1, 0),
    ]


def test_median_days_to_decision_in_postgresql(applications, pathway, experiential):
    assert connection.vendor == "postgresql"
    overall, by_pathway = reports.decision_rows(since=SINCE)
    assert overall == DecisionRow("All pathways", 2, 1, 10.0)
    assert by_pathway == [
        DecisionRow(pathway.name, 2, 0, 7.0),  # the middle of 4 and 10 days
        DecisionRow(experiential.name, 0, 1, 21.0),
    ]


def test_the_median_is_fractional_days(pathway):
    application(pathway, "approved", "2026-05-01 09:00", "2026-05-02 21:00")
    overall, _ = reports.decision_rows(since=SINCE)
    assert overall.median_days == 1.5


def test_without_a_median_in_the_database_python_finds_the_same_figures(applications):
    in_database = reports.decision_rows(since=SINCE)
    with mock.patch.object(reports, "connection", mock.Mock(vendor="sqlite")):
        in_python = reports.decision_rows(since=SINCE)
    assert in_python == in_database
    assert in_python[0].median_days == 10.0


def test_nothing_decided_gives_no_median(pathway):
    application(pathway, "submitted", "2026-06-01 09:00")
    for vendor in ("postgresql", "sqlite"):
        with mock.patch.object(reports, "connection", mock.Mock(vendor=vendor)):
            assert reports.decision_rows(since=SINCE) == (
                DecisionRow("All pathways", 0, 0, None),
                [],
            )


def test_the_page_and_csvs_show_the_pipeline(client, applications, pathway):
    staff = StaffFactory(mfa=True)
    staff.groups.add(Group.objects.get(name="Accreditation assessors"))
    client.force_login(staff)
    with time_machine.travel(at("2026-06-15 12:00"), tick=False):
        html = client.get(reverse("members:staff_reports")).content.decode()
        statuses = client.get(reverse("members:staff_report_csv", args=["accreditation"]))
        times = client.get(reverse("members:staff_report_csv", args=["decision-times"]))
    assert (
        "<strong>3</strong> applications were decided (2 approved, 1 rejected). "
        "The median time from submission to decision was <strong>10.0 days</strong>." in html
    )
    assert f'<th scope="row">{pathway.name}</th><td>2</td><td>2</td><td>0</td><td>7.0</td>' in html
    assert "Approved: First accreditation 3, Revalidation 0;" in html

    def rows(response):
        assert response.streaming
        return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert rows(statuses)[1:3] == [["Draft", "1", "0", "1"], ["Submitted", "1", "0", "1"]]
    assert rows(times)[:3] == [
        ["pathway", "decided", "approved", "rejected", "median days to decision"],
        ["All pathways", "3", "2", "1", "10.0"],
        [pathway.name, "2", "2", "0", "7.0"],
    ]
