"""One answer set per member, however many submissions arrive at once."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from members.consultations import services
from members.consultations.models import AnonymousAnswerSet, Answer, Response
from tests.factories import active_member

from .world import consultation, full_answers

SUBMISSIONS = 20


def rush(made, member, answers) -> list[str]:
    barrier = threading.Barrier(SUBMISSIONS)

    def work(_):
        try:
            barrier.wait()
            services.response_submit(consultation=made, user=member, answers=answers)
            return "ok"
        except services.ConsultationRefused:
            return "refused"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=SUBMISSIONS) as pool:
        return list(pool.map(work, range(SUBMISSIONS)))


@pytest.mark.django_db(transaction=True)
def test_twenty_anonymous_submissions_at_once_make_one_answer_set():
    made = consultation(anonymous=True)
    member = active_member()
    # A saved draft: every submission finds the response already there.
    services.response_save_draft(consultation=made, user=member, answers={})
    outcomes = rush(made, member, full_answers(made))
    assert outcomes.count("ok") == 1
    assert outcomes.count("refused") == SUBMISSIONS - 1
    assert AnonymousAnswerSet.objects.filter(consultation=made).count() == 1
    assert Response.objects.filter(consultation=made, user=member).count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_attributed_submissions_at_once_leave_one_set_of_answers():
    made = consultation()
    member = active_member()
    outcomes = rush(made, member, full_answers(made))
    assert outcomes == ["ok"] * SUBMISSIONS
    response = Response.objects.get(consultation=made, user=member)
    # Single, two ticked options, scale and text: five rows, once.
    assert Answer.objects.filter(response=response).count() == 5


@pytest.mark.django_db(transaction=True)
def test_without_the_lock_the_same_rush_makes_several_answer_sets(monkeypatch):
    """Negative control: with the response lock replaced by a plain read,
    the test above would fail."""
    made = consultation(anonymous=True)
    member = active_member()
    services.response_save_draft(consultation=made, user=member, answers={})

    def unlocked(consultation, user):
        response = Response.objects.get(consultation=consultation, user=user)
        time.sleep(0.05)  # widen the gap between reading and writing
        return response

    monkeypatch.setattr(services, "_response_lock", unlocked)
    rush(made, member, full_answers(made))
    assert AnonymousAnswerSet.objects.filter(consultation=made).count() > 1
