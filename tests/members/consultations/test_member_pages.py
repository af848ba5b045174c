"""Members' pages: Have your say, the answer page (errors beside the
question, nothing typed lost, drafts), the confirmation, the summary."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from members.consultations import selectors, services
from members.consultations.models import Consultation, Question, Response
from tests.factories import ProfileFactory, active_member

from .world import consultation, full_answers, policy_officer, questions

pytestmark = pytest.mark.django_db
Kind = Question.Kind


def form_data(made, answers):
    data = {}
    for key, value in answers.items():
        data[f"q{key}"] = value
    return data


def test_have_your_say_and_the_dashboard_list_open_consultations(client):
    member = active_member()
    made = consultation(title="Workforce plan views")
    consultation(title="Not yet", opened=False)
    client.force_login(member)
    page = client.get(reverse("members:consultations")).content.decode()
    assert "Workforce plan views" in page and "Not yet" not in page
    dashboard = client.get(reverse("members:dashboard")).content.decode()
    assert "Open consultations" in dashboard
    assert reverse("members:consultation", args=[made.pk]) in dashboard


def test_the_answer_page_says_whether_it_is_anonymous_before_answering(client):
    member = active_member()
    client.force_login(member)
    anonymous = consultation(anonymous=True)
    attributed = consultation()
    page = client.get(reverse("members:consultation", args=[anonymous.pk])).content.decode()
    assert "This consultation is anonymous." in page
    page = client.get(reverse("members:consultation", args=[attributed.pk])).content.decode()
    assert "Your answers are attributed" in page
    # Help text is escaped, the Markdown background rendered.
    assert "Pick &lt;b&gt;one&lt;/b&gt;" in page
    assert "<h2>Why</h2>" in page


def test_a_missing_or_bad_answer_is_shown_beside_its_question_and_typed_text_is_kept(client):
    member = active_member()
    made = consultation()
    q = questions(made)
    client.force_login(member)
    response = client.post(
        reverse("members:consultation", args=[made.pk]),
        {f"q{q[Kind.SCALE].pk}": "9", f"q{q[Kind.TEXT].pk}": "My careful words"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_q{q[Kind.SINGLE].pk}_error"' in html
    assert "Choose an answer for this question." in html
    assert "Choose a number from 1 to 5." in html
    assert "My careful words" in html
    assert not Response.objects.filter(submitted_at__isnull=False).exists()


def test_save_draft_then_submit_then_change(client):
    member = active_member()
    made = consultation()
    q = questions(made)
    client.force_login(member)
    url = reverse("members:consultation", args=[made.pk])
    draft = client.post(url, {f"q{q[Kind.TEXT].pk}": "First thoughts", "draft": ""})
    assert draft.status_code == 302
    assert "First thoughts" in client.get(url).content.decode()
    assert Response.objects.get(user=member).submitted_at is None

    done = client.post(url, form_data(made, full_answers(made, text="Final words")))
    assert done.status_code == 302
    assert done["Location"] == reverse("members:consultation_done", args=[made.pk])
    page = client.get(done["Location"]).content.decode()
    assert "Your answers are recorded" in page
    assert "Final words" in page and "Funding" in page and "Workforce, Digital" in page
    # Still open: the page shows the answers, ready to change.
    assert "Final words" in client.get(url).content.decode()


def test_the_anonymous_confirmation_shows_nothing_of_the_answers(client):
    member = active_member()
    made = consultation(anonymous=True)
    client.force_login(member)
    url = reverse("members:consultation", args=[made.pk])
    client.post(url, form_data(made, full_answers(made, text="Private words")))
    page = client.get(reverse("members:consultation_done", args=[made.pk])).content.decode()
    assert "Your answers are anonymous." in page
    assert "Private words" not in page
    assert "Submit your answers" not in client.get(url).content.decode()


def test_answering_after_the_close_is_refused_with_a_clear_message(client):
    member = active_member()
    made = consultation(days=1)
    client.force_login(member)
    url = reverse("members:consultation", args=[made.pk])
    # Past its closing time, not yet swept to closed.
    Consultation.objects.filter(pk=made.pk).update(
        closes_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = client.post(url, form_data(made, full_answers(made)))
    assert response.status_code == 409
    assert "answers can no longer be saved or changed" in response.content.decode()
    assert not Response.objects.exists()


def test_a_consultation_outside_the_members_audience_is_not_found(client):
    made = consultation()
    client.force_login(ProfileFactory().user)
    assert client.get(reverse("members:consultation", args=[made.pk])).status_code == 404


def test_the_published_summary_shows_the_chosen_figures_only(client):
    officer = policy_officer()
    member = active_member()
    made = consultation(by=officer)
    services.response_submit(consultation=made, user=member, answers=full_answers(made))
    services.consultation_close(consultation=made, by=officer)
    q = questions(made)
    url = reverse("members:consultation_summary", args=[made.pk])
    assert client.get(url).status_code == 404  # not published yet
    services.consultation_publish(
        consultation=made,
        by=officer,
        to="public",
        summary="Members **agreed**.",
        question_ids=[q[Kind.SINGLE].pk],
    )
    page = client.get(url).content.decode()
    assert "<strong>agreed</strong>" in page
    assert "Which matters most?" in page
    assert "Which topics?" not in page
    assert "Fund the managers." not in page
    # A closed consultation's answer link now leads to the summary.
    client.force_login(member)
    answer = client.get(reverse("members:consultation", args=[made.pk]))
    assert answer["Location"] == url


def test_the_consultations_consent_is_off_by_default_and_set_on_the_profile(client):
    member = active_member()
    assert member.profile.consultation_consent is False
    client.force_login(member)
    page = client.get(reverse("members:profile")).content.decode()
    assert "email me about igpm consultations and surveys" in page.lower()
    assert 'name="consultation_consent"' in page
    privacy = client.get(reverse("members:privacy")).content.decode()
    assert "Consultations and surveys" in privacy


def test_the_dashboard_takes_the_same_queries_with_one_or_five_open_consultations(client, clock):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    member = active_member()
    client.force_login(member)
    url = reverse("members:dashboard")
    counts = []
    for more in (1, 4):
        for _ in range(more):
            consultation()
        # Past what the process kept: the open consultations are read again.
        clock.now += selectors.OPEN_KEPT_SECONDS + 1
        with CaptureQueriesContext(connection) as seen:
            page = client.get(url).content.decode()
        counts.append(len(seen))
    assert counts[0] == counts[1]
    assert page.count("not answered yet") == 5


def test_the_dashboard_keeps_the_open_consultations_a_few_seconds_but_not_their_times(
    client, clock, django_assert_num_queries
):
    member = active_member()
    client.force_login(member)
    url = reverse("members:dashboard")
    made = consultation(title="Workforce plan views")
    assert "Workforce plan views" in client.get(url).content.decode()
    # Another process closes it: this one shows it until what it kept expires.
    Consultation.objects.filter(pk=made.pk).update(status=Consultation.Status.CLOSED)
    assert "Workforce plan views" in client.get(url).content.decode()
    clock.now += selectors.OPEN_KEPT_SECONDS + 1
    assert "Workforce plan views" not in client.get(url).content.decode()
    # Its closing time is compared afresh, however recently it was read.
    Consultation.objects.filter(pk=made.pk).update(status=Consultation.Status.OPEN)
    clock.now += selectors.OPEN_KEPT_SECONDS + 1
    assert selectors.consultations_open_for(user=member, kept=True)
    later = made.closes_at + datetime.timedelta(seconds=1)
    with django_assert_num_queries(0):
        assert selectors.consultations_open_for(user=member, now=later, kept=True) == []


def test_a_consultation_opened_or_closed_shows_at_once_in_the_process_that_changed_it(
    client, clock, django_capture_on_commit_callbacks
):
    member = active_member()
    client.force_login(member)
    url = reverse("members:dashboard")
    made = consultation(title="Workforce plan views", opened=False)
    assert "Workforce plan views" not in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        services.consultation_open(consultation=made, by=policy_officer())
    assert "Workforce plan views" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        services.consultation_close(consultation=made, by=policy_officer())
    assert "Workforce plan views" not in client.get(url).content.decode()
