"""Consultations' part of the demo data (``members.demo``): one open
consultation with a question of each kind."""

import datetime

from django.utils import timezone

from members.demo import STAFF_EMAIL, register
from members.models import User

from . import services
from .models import Consultation, Question


@register
def consultations_seed() -> None:
    if Consultation.objects.exists():
        return
    staff = User.objects.get(email=STAFF_EMAIL)
    now = timezone.now()
    consultation = services.consultation_create(
        by=staff,
        title="The NHS 10-year plan: what it means for practice managers",
        background=(
            "The IGPM is preparing its formal response to the **NHS 10-year plan**.\n\n"
            "## What we are asking\n\n"
            "- how the plan's neighbourhood health services would affect your practice\n"
            "- what support practice managers need\n\n"
            "Read [the plan on GOV.UK](https://www.gov.uk/government/publications)."
        ),
        anonymity=Consultation.Anonymity.ATTRIBUTED,
        opens_at=now - datetime.timedelta(days=1),
        closes_at=now + datetime.timedelta(days=21),
    )
    questions = [
        (Question.Kind.SCALE, "The plan recognises the work of practice managers.", []),
        (
            Question.Kind.SINGLE,
            "Which change would help your practice most?",
            ["More funding for staff", "Better IT", "Clearer contracts", "Something else"],
        ),
        (
            Question.Kind.MULTIPLE,
            "Which topics should the IGPM raise with Parliament?",
            ["Workforce", "Estates", "Digital access", "Career pathways"],
        ),
        (Question.Kind.TEXT, "Anything else the IGPM should say?", []),
    ]
    for kind, text, options in questions:
        services.question_save(
            consultation=consultation,
            by=staff,
            kind=kind,
            text=text,
            options=options,
            required=kind != Question.Kind.TEXT,
        )
    services.consultation_open(consultation=consultation, by=staff)
