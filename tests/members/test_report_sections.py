"""Each section of the reports page opens on a page of its own."""

import re

import pytest
from django.urls import reverse

from members.reports.registry import REPORTS
from tests.factories import active_member, team_member

pytestmark = pytest.mark.django_db


def section_ids(html: str) -> list[str]:
    return re.findall(r'<section class="report" id="([^"]+)"', html)


@pytest.fixture
def reports_client(client):
    active_member()
    client.force_login(team_member("Membership team"))
    return client


def test_every_section_has_its_own_page_showing_only_it(reports_client):
    everything = reports_client.get(reverse("members:staff_reports")).content.decode()
    anchors = [section.anchor for report in REPORTS for section in report.sections]
    assert section_ids(everything) == anchors
    for report in REPORTS:
        for section in report.sections:
            url = reverse("members:staff_report_section", args=[section.anchor])
            # The whole page's contents list links to it.
            assert f'href="{url}"' in everything
            response = reports_client.get(url)
            assert response.status_code == 200
            html = response.content.decode()
            assert section_ids(html) == [section.anchor]
            assert f"<h1>{section.title}</h1>" in html
            assert f'href="{url}" aria-current="page"' in html


def test_an_unknown_section_is_not_found(reports_client):
    response = reports_client.get(reverse("members:staff_report_section", args=["nothing"]))
    assert response.status_code == 404


def test_a_section_page_needs_the_reports_permission(client):
    client.force_login(active_member())
    response = client.get(reverse("members:staff_report_section", args=["grades"]))
    assert response.status_code in (302, 403)
