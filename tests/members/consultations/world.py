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
