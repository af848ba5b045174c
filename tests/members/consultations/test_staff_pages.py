"""The Policy team's pages: create, questions (reorder), audience preview,
open, and refusals shown as messages."""

import pytest
from django.urls import reverse

from members.consultations.models import Consultation, Question
from tests.factories import active_member, team_member

from .world import consultation, policy_officer

pytestmark = pytest.mark.django_db


def test_the_policy_team_creates_a_consultation_adds_questions_and_opens_it(
    client, django_capture_on_commit_callbacks
):
    active_member()
    client.force_login(policy_officer())
    bad = client.post(reverse("members:staff_consultation_new"), {"title": "Half typed"})
    assert bad.status_code == 400
    assert "Enter when it opens." in bad.content.decode()
    assert 'value="Half typed"' in bad.content.decode()

    created = client.post(
        reverse("members:staff_consultation_new"),
        {
            "title": "Estates survey",
            "background": "# Why\n\nBuildings.",
            "anonymity": "anonymous",
            "opens_at": "2026-01-01T09:00",
            "closes_at": "2030-01-31T17:00",
            "audience": "members",
        },
    )
    made = Consultation.objects.get(title="Estates survey")
    assert created["Location"] == made.get_staff_url()
    page = client.get(made.get_staff_url()).content.decode()
    assert '<span id="audience-count">1</span>' in page
    assert "<h2>Why</h2>" in page

    add = reverse("members:staff_question_add", args=[made.pk])
    refused = client.post(add, {"text": "Pick one", "kind": "single", "options_text": "Only"})
    assert refused.status_code == 400
    assert "Give at least two options, one a line." in refused.content.decode()
    client.post(add, {"text": "Pick one", "kind": "single", "options_text": "A\nB"})
    client.post(add, {"text": "Say more", "kind": "text", "required": ""})
    second = made.questions.get(text="Say more")
    client.post(reverse("members:staff_question_move", args=[second.pk]), {"move": "up"})
    assert list(made.questions.values_list("text", flat=True)) == ["Say more", "Pick one"]

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("members:staff_consultation_state", args=[made.pk]), {"action": "open"}
        )
    made.refresh_from_db()
    assert made.status == Consultation.Status.OPEN
    # Once open, questions are fixed: the page offers no editing.
    page = client.get(made.get_staff_url()).content.decode()
    assert "Add a question" not in page and "Move up" not in page


def test_opening_without_questions_is_refused_with_a_message(client):
    made = consultation(opened=False)
    Question.objects.filter(consultation=made).delete()
    client.force_login(policy_officer())
    response = client.post(
        reverse("members:staff_consultation_state", args=[made.pk]),
        {"action": "open"},
        follow=True,
    )
    assert "Add at least one question before opening it." in response.content.decode()
    made.refresh_from_db()
    assert made.status == Consultation.Status.DRAFT


def test_other_teams_cannot_open_the_policy_pages(client):
    made = consultation()
    client.force_login(team_member("Membership team"))
    assert client.get(made.get_staff_url()).status_code == 403


def test_an_open_consultations_title_and_close_can_change_and_nothing_else(client):
    made = consultation()  # times with seconds, as the demo data has
    client.force_login(policy_officer())
    form = {
        "title": "Renamed while open",
        "background": made.background,
        "anonymity": "anonymous",  # refused: fixed once open
        "opens_at": "2020-01-01T09:00",
        "closes_at": "2031-01-01T09:00",
        "audience": "signed_in",
    }
    response = client.post(made.get_staff_url(), form)
    assert response.status_code == 302
    made.refresh_from_db()
    assert made.title == "Renamed while open"
    assert made.closes_at.year == 2031
    assert made.anonymity == "attributed" and made.audience == "members"
    assert made.opens_at.year != 2020
