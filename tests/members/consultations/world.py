"""Consultations for tests: one with a question of each kind, opened, and
members to answer it."""

import datetime

from django.utils import timezone

from members.consultations import services
from members.consultations.models import Consultation, Question
from tests.factories import team_member

Kind = Question.Kind


def policy_officer():
    return team_member("Policy team")


def consultation(*, anonymous=False, opened=True, by=None, days=14, **fields):
    by = by or policy_officer()
    now = timezone.now()
    made = services.consultation_create(
        by=by,
        title=fields.pop("title", "The NHS 10-year plan"),
        background=fields.pop("background", "## Why\n\nWe want your views."),
        anonymity=(
            Consultation.Anonymity.ANONYMOUS if anonymous else Consultation.Anonymity.ATTRIBUTED
        ),
        opens_at=fields.pop("opens_at", now - datetime.timedelta(hours=1)),
        closes_at=fields.pop("closes_at", now + datetime.timedelta(days=days)),
        **fields,
    )
    for kind, text, options, required in [
        (Kind.SINGLE, "Which matters most?", ["Funding", "IT", "Contracts"], True),
        (Kind.MULTIPLE, "Which topics?", ["Workforce", "Estates", "Digital"], False),
        (Kind.SCALE, "The plan recognises practice managers.", [], True),
        (Kind.TEXT, "Anything else?", [], False),
    ]:
        services.question_save(
            consultation=made,
            by=by,
            kind=kind,
            text=text,
            options=options,
            required=required,
            help_text="Pick <b>one</b>" if kind == Kind.SINGLE else "",
        )
    if opened:
        services.consultation_open(consultation=made, by=by)
    made.refresh_from_db()
    return made


def questions(made):
    return {q.kind: q for q in made.questions.all()}


def full_answers(made, *, single=0, multiple=(0, 2), scale=4, text="Fund the managers."):
    q = questions(made)
    return {
        str(q[Kind.SINGLE].pk): single,
        str(q[Kind.MULTIPLE].pk): list(multiple),
        str(q[Kind.SCALE].pk): scale,
        str(q[Kind.TEXT].pk): text,
    }


def bulk_responses(made, n: int, *, regions=("North West", "London"), boards=None):
    """``n`` submitted answer sets, written in bulk (as the service would
    leave them): for a test of the results' size, not of answering."""
    from members.consultations.models import (
        AnonymousAnswer,
        AnonymousAnswerSet,
        Answer,
        Response,
    )
    from members.models import User
    from tests.factories import grade

    member_grade = grade("member")
    qs = list(made.questions.all())
    now = timezone.now()

    def rows(i, model, **parent):
        out = []
        for q in qs:
            if q.kind == Kind.SINGLE:
                out.append(model(question=q, choice=i % len(q.options), **parent))
            elif q.kind == Kind.MULTIPLE:
                out.append(model(question=q, choice=0, **parent))
                if i % 2:
                    out.append(model(question=q, choice=len(q.options) - 1, **parent))
            elif q.kind == Kind.SCALE:
                out.append(model(question=q, number=i % 5 + 1, **parent))
            else:
                out.append(model(question=q, text=f"Comment {i}", **parent))
        return out

    def respondent(i):
        return {
            "region": regions[i % len(regions)],
            "care_board": boards[i % len(boards)] if boards else None,
            "role": "practice_manager" if i % 3 else "pcn_manager",
            "grade": member_grade,
        }

    if made.is_anonymous:
        sets = AnonymousAnswerSet.objects.bulk_create(
            AnonymousAnswerSet(consultation=made, **respondent(i)) for i in range(n)
        )
        AnonymousAnswer.objects.bulk_create(
            [row for i, s in enumerate(sets) for row in rows(i, AnonymousAnswer, answer_set=s)],
            batch_size=5000,
        )
        return
    start = User.objects.count()
    users = User.objects.bulk_create(
        User(email=f"bulk{start + i}@example.org", first_name="Bulk", last_name=str(i))
        for i in range(n)
    )
    responses = Response.objects.bulk_create(
        Response(consultation=made, user=u, submitted_at=now, **respondent(i))
        for i, u in enumerate(users)
    )
    Answer.objects.bulk_create(
        [row for i, r in enumerate(responses) for row in rows(i, Answer, response=r)],
        batch_size=5000,
    )
