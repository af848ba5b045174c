"""Each app contributes its sections of the staff reports page from its
own reports.py; the page shows them in layer order."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from members.reports import registry
from members.reports.registry import CSV_REPORTS, REPORTS, Report


def test_reports_come_from_each_app_in_layer_order():
    assert [report.name for report in REPORTS] == [
        "membership",
        "collection",
        "nhs_organisations",
        "organisations",
        "accreditation",
        "events",
    ]
    assert [report.figures.__module__ for report in REPORTS] == [
        "members.reports.sections",
        "members.reports.sections",
        "members.organisations.ods_reports",
        "members.organisations.reports",
        "accreditation.reports",
        "events.reports",
    ]
    # Every CSV a report offers is served, and only those.
    assert set(CSV_REPORTS) == {slug for report in REPORTS for slug in report.csvs}


def test_a_report_reusing_a_csv_slug_is_refused(monkeypatch):
    monkeypatch.setattr(registry, "REPORTS", list(REPORTS))
    monkeypatch.setattr(registry, "CSV_REPORTS", dict(CSV_REPORTS))
    copy = Report(
        name="copy", template="", sections=(), figures=dict, csvs={"grades": CSV_REPORTS["grades"]}
    )
    with pytest.raises(ImproperlyConfigured, match="grades"):
        registry.register(copy)


def test_two_reports_giving_one_name_are_refused(monkeypatch):
    first = Report(name="first", template="", sections=(), figures=dict)
    second = Report(name="second", template="", sections=(), figures=dict)
    monkeypatch.setattr(registry, "REPORTS", [first, second])
    with pytest.raises(ImproperlyConfigured, match="members_total"):
        registry.reports_context({"first": {"members_total": 1}, "second": {"members_total": 2}})
