"""The Policy team's results: counts and percentages, breakdowns with small
groups suppressed (page and CSV), free text, response rate, and a query
count that stays flat as responses grow."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.consultations import services
from members.consultations.models import Question
from members.consultations.selectors import SUPPRESSED, results_get
from tests.factories import active_member

from .world import bulk_responses, consultation, full_answers, policy_officer, questions

pytestmark = pytest.mark.django_db
Kind = Question.Kind


def test_counts_percentages_and_the_response_rate():
    members = [active_member() for _ in range(4)]
    made = consultation()
    for n, member in enumerate(members[:3]):
        services.response_submit(
            consultation=made, user=member, answers=full_answers(made, single=n % 2)
        )
    results = results_get(consultation=made)
    assert (results.respondents, results.audience, results.response_rate) == (3, 4, 75.0)
    single = next(r for r in results.questions if r.question.kind == Kind.SINGLE)
    assert [(o.label, o.count, o.percent) for o in single.options] == [
        ("Funding", 2, 66.7),
        ("IT", 1, 33.3),
        ("Contracts", 0, 0.0),
    ]
    text = next(r for r in results.questions if r.question.kind == Kind.TEXT)
    assert [words for _, words in text.texts] == ["Fund the managers."] * 3
    assert all(name for name, _ in text.texts)  # attributed: named


def test_a_breakdown_cell_under_five_is_suppressed_on_the_page_and_in_the_csv(client):
    made = consultation(anonymous=True)
    # 12 in the North West, 3 in London: London's whole row is suppressed;
    # in the North West, options chosen by fewer than 5 are too.
    bulk_responses(made, 12, regions=("North West",))
    bulk_responses(made, 3, regions=("London",))
    results = results_get(consultation=made, by="region")
    single = next(r for r in results.questions if r.question.kind == Kind.SINGLE)
    rows = {row["group"]: row for row in single.breakdown}
    assert rows["London"]["size"] == SUPPRESSED
    assert {cell["count"] for cell in rows["London"]["cells"]} == {SUPPRESSED}
    # 12 people, options by i % 3: four each, so each is under 5.
    assert [cell["count"] for cell in rows["North West"]["cells"]] == [SUPPRESSED] * 3
    multiple = next(r for r in results.questions if r.question.kind == Kind.MULTIPLE)
    north_west = next(row for row in multiple.breakdown if row["group"] == "North West")
    assert north_west["cells"][0] == {"count": "12", "percent": 100.0}
    assert north_west["cells"][2] == {"count": "6", "percent": 50.0}

    client.force_login(policy_officer())
    page = client.get(
        reverse("members:staff_consultation_results", args=[made.pk]), {"by": "region"}
    ).content.decode()
    assert SUPPRESSED in page
    assert '<th scope="row">London</th><td>fewer than 5</td>' in page
    response = client.get(reverse("members:staff_consultation_results_csv", args=[made.pk]))
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    london = [line for line in lines if line[1] == "Region" and line[2] == "London"]
    assert london and {line[4] for line in london} == {SUPPRESSED}
    overall = [line for line in lines if line[1] == "All respondents"]
    assert ["Which topics?", "All respondents", "", "Workforce", "15"] in overall


def test_anonymous_free_text_is_listed_without_names():
    made = consultation(anonymous=True)
    bulk_responses(made, 8)
    text = next(r for r in results_get(consultation=made).questions if r.question.kind == "text")
    assert sorted(words for _, words in text.texts) == sorted(f"Comment {i}" for i in range(8))
    assert {name for name, _ in text.texts} == {""}


@pytest.mark.parametrize("anonymous", [False, True])
def test_the_results_page_takes_the_same_queries_for_10_and_1000_responses(
    client, django_assert_num_queries, anonymous
):
    client.force_login(policy_officer())
    few, many = consultation(anonymous=anonymous), consultation(anonymous=anonymous)
    bulk_responses(few, 10)
    bulk_responses(many, 1000)
    counts = []
    for made in (few, many):
        url = reverse("members:staff_consultation_results", args=[made.pk])
        client.get(url, {"by": "region"})
        with CaptureQueriesContext(connection) as seen:
            response = client.get(url, {"by": "region"})
        assert response.status_code == 200
        counts.append(len(seen))
    assert counts[0] == counts[1] == RESULTS_QUERIES


# Session with the user, two-factor check, permissions (two), the consultation;
# then questions, respondents, the audience (its grades, its boards, the
# count), answered per question, counts, free text, and the breakdown's
# groups and cells.
RESULTS_QUERIES = 15


@pytest.mark.parametrize("anonymous", [False, True])
def test_free_text_on_the_page_is_capped_per_question(anonymous):
    made = consultation(anonymous=anonymous)
    bulk_responses(made, 120)
    text = next(r for r in results_get(consultation=made).questions if r.question.kind == "text")
    assert len(text.texts) == 100
    q = questions(made)
    assert q[Kind.TEXT].pk == text.question.pk
