"""Reads for consultations: the audience, a member's open consultations,
and the results with their breakdowns.

The results take a fixed number of queries however many responses there
are: counts are grouped in the database, never looped over in Python.
"""

import random
from dataclasses import dataclass, field

from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import Random, RowNumber
from django.utils import timezone

from igpm.memo import recent
from members.models import Membership, Profile, User

from .models import (
    AnonymousAnswer,
    AnonymousAnswerSet,
    Answer,
    Consultation,
    Question,
    Response,
)

# A breakdown cell with fewer respondents than this is not shown.
SMALL_GROUP = 5
SUPPRESSED = "fewer than 5"
# Free-text answers shown on the results page per question; the CSV has all.
TEXT_SHOWN = 100

# The dashboard reads the open consultations at most this often in each
# process (``igpm.memo``): one opened, changed or closed shows there within
# it, and at once in the process that changed it (the services forget
# ``OPEN_KEPT``). Opening and closing times are compared on every request.
OPEN_KEPT = ("consultations", "open")
OPEN_KEPT_SECONDS = 5

Role = Profile.Role
ORGANISATION_ROLES = {
    Consultation.OrganisationType.PRACTICE: sorted(Profile.PRACTICE_ROLES),
    Consultation.OrganisationType.PCN: [Role.PCN_MANAGER],
    Consultation.OrganisationType.FEDERATION_ICB: [Role.FEDERATION_ICB_MANAGER],
    Consultation.OrganisationType.OTHER: [Role.ASPIRING, Role.OTHER, ""],
}

BREAKDOWNS = {
    "region": "Region",
    "care_board": "ICB or health board",
    "role": "Role",
    "grade": "Grade",
}


def audience_users(*, consultation: Consultation) -> QuerySet:
    """Everyone the consultation is for, as it stands now."""
    users = User.objects.filter(is_active=True, erased_at__isnull=True)
    if consultation.audience == Consultation.Audience.SIGNED_IN:
        return users
    users = users.filter(membership__status__in=Membership.IN_GOOD_STANDING)
    grades = [grade.pk for grade in consultation.audience_grades.all()]
    boards = [board.pk for board in consultation.audience_care_boards.all()]
    if grades:
        users = users.filter(membership__grade__in=grades)
    if boards:
        users = users.filter(profile__care_board__in=boards)
    if consultation.audience_roles:
        users = users.filter(profile__role__in=consultation.audience_roles)
    if consultation.audience_nations:
        users = users.filter(profile__care_board__nation__in=consultation.audience_nations)
    if consultation.audience_regions:
        users = users.filter(profile__care_board__region__in=consultation.audience_regions)
    if consultation.audience_organisation_types:
        roles = [
            role
            for kind in consultation.audience_organisation_types
            for role in ORGANISATION_ROLES.get(kind, [])
        ]
        users = users.filter(profile__role__in=roles)
    return users


def in_audience(*, consultation: Consultation, user: User) -> bool:
    return audience_users(consultation=consultation).filter(pk=user.pk).exists()


@dataclass(frozen=True)
class Facts:
    """What the audience rules look at, about one person."""

    good_standing: bool
    grade_id: int | None
    role: str | None  # None without a profile
    care_board_id: int | None
    nation: str
    region: str


def member_facts(user: User) -> Facts:
    """One query for everything ``audience_has`` needs about ``user``."""
    row = (
        User.objects.filter(pk=user.pk)
        .values(
            "membership__status",
            "membership__grade_id",
            "profile__role",
            "profile__care_board_id",
            "profile__care_board__nation",
            "profile__care_board__region",
        )
        .first()
        or {}
    )
    return Facts(
        good_standing=row.get("membership__status") in Membership.IN_GOOD_STANDING,
        grade_id=row.get("membership__grade_id"),
        role=row.get("profile__role"),
        care_board_id=row.get("profile__care_board_id"),
        nation=row.get("profile__care_board__nation") or "",
        region=row.get("profile__care_board__region") or "",
    )


def audience_has(consultation: Consultation, facts: Facts) -> bool:
    """``audience_users`` for one person, worked out in Python from their
    facts (the consultation's grades and boards prefetched). A test holds
    the two to the same answers."""
    if consultation.audience == Consultation.Audience.SIGNED_IN:
        return True
    if not facts.good_standing:
        return False
    grades = {grade.pk for grade in consultation.audience_grades.all()}
    boards = {board.pk for board in consultation.audience_care_boards.all()}
    roles = set(consultation.audience_roles)
    for kind in consultation.audience_organisation_types:
        roles_of_kind = set(ORGANISATION_ROLES.get(kind, []))
        if consultation.audience_roles:
            roles &= roles_of_kind
        else:
            roles |= roles_of_kind
    checks = [
        (grades, facts.grade_id),
        (boards, facts.care_board_id),
        (set(consultation.audience_nations), facts.nation),
        (set(consultation.audience_regions), facts.region),
    ]
    if consultation.audience_roles or consultation.audience_organisation_types:
        checks.append((roles or {None}, facts.role))
    return all(not allowed or value in allowed for allowed, value in checks)


def _open() -> list[Consultation]:
    return list(
        Consultation.objects.filter(status=Consultation.Status.OPEN)
        .prefetch_related("audience_grades", "audience_care_boards")
        .order_by("closes_at", "pk")
    )


def consultations_open_for(
    *, user: User, now=None, kept: bool = False
) -> list[tuple[Consultation, Response | None]]:
    """Open consultations the member may answer, with their response: a
    fixed number of queries however many are open. ``kept``: the open
    consultations as this process read them up to ``OPEN_KEPT_SECONDS``
    ago, for the dashboard."""
    now = now or timezone.now()
    everyone = recent(OPEN_KEPT, OPEN_KEPT_SECONDS, _open) if kept else _open()
    candidates = [c for c in everyone if c.opens_at <= now < c.closes_at]
    if not candidates:
        return []
    facts = member_facts(user)
    shown = [c for c in candidates if audience_has(c, facts)]
    if not shown:
        return []
    responses = {
        response.consultation_id: response
        for response in Response.objects.filter(user=user, consultation__in=[c.pk for c in shown])
    }
    return [(consultation, responses.get(consultation.pk)) for consultation in shown]


def consultations_closed_published(*, public: bool) -> QuerySet:
    shown = [Consultation.Publication.PUBLIC]
    if not public:
        shown.append(Consultation.Publication.MEMBERS)
    return Consultation.objects.filter(status=Consultation.Status.CLOSED, published__in=shown)


def respondent_label(dimension: str, value) -> str:
    if value in (None, ""):
        return "Not given"
    if dimension == "role":
        return dict(Role.choices).get(value, value)
    return str(value)


def display_count(count: int) -> str:
    return SUPPRESSED if count < SMALL_GROUP else f"{count:,}"


@dataclass
class Option:
    label: str
    count: int
    percent: float


@dataclass
class QuestionResult:
    question: Question
    answered: int = 0
    options: list[Option] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)
    breakdown: list[dict] = field(default_factory=list)
    chart: str = ""

    @property
    def labels(self) -> list[str]:
        return [option.label for option in self.options]


@dataclass
class Results:
    consultation: Consultation
    respondents: int
    audience: int
    questions: list[QuestionResult]
    by: str = ""

    @property
    def response_rate(self) -> float | None:
        if not self.audience:
            return None
        return round(100 * self.respondents / self.audience, 1)


def _sources(consultation: Consultation, question_ids: list[int]):
    """The answers, the respondents and the path from an answer to its
    respondent, for either kind of consultation. Answers exist only once
    submitted, so they are found by question alone, with no join."""
    if consultation.is_anonymous:
        return (
            AnonymousAnswer.objects.filter(question_id__in=question_ids),
            AnonymousAnswerSet.objects.filter(consultation=consultation),
            "answer_set",
        )
    return (
        Answer.objects.filter(question_id__in=question_ids),
        Response.objects.filter(consultation=consultation, submitted_at__isnull=False),
        "response",
    )


def _dimension_column(dimension: str) -> str:
    return {"care_board": "care_board__name", "grade": "grade__name"}.get(dimension, dimension)


def option_labels(question: Question) -> list[str]:
    if question.kind == Question.Kind.SCALE:
        return [str(n) for n in range(1, 6)]
    return list(question.options)


def _value_index(question: Question, choice, number) -> int | None:
    if question.kind == Question.Kind.SCALE:
        return None if number is None else number - 1
    return choice


def results_get(
    *, consultation: Consultation, by: str = "", text_limit: int | None = TEXT_SHOWN
) -> Results:
    """Counts and percentages per question, free text, the response rate,
    and (``by`` one of ``BREAKDOWNS``) each question broken down by that,
    with small groups suppressed."""
    questions = list(consultation.questions.all())
    answers, respondents, parent = _sources(consultation, [q.pk for q in questions])
    results = [QuestionResult(question=q) for q in questions]
    by_id = {result.question.pk: result for result in results}
    total = respondents.count()
    audience = audience_users(consultation=consultation).count()

    # A row per respondent per question, but for multiple choice (a row per
    # option ticked), where respondents are counted distinct.
    multiple = [q.pk for q in questions if q.kind == Question.Kind.MULTIPLE]
    for row in answers.values("question_id").annotate(
        rows=Count("pk"),
        people=Count(parent, distinct=True, filter=Q(question_id__in=multiple)),
    ):
        result = by_id[row["question_id"]]
        multiple_choice = result.question.kind == Question.Kind.MULTIPLE
        result.answered = row["people"] if multiple_choice else row["rows"]
    counts: dict[tuple[int, int], int] = {}
    for row in (
        answers.filter(Q(choice__isnull=False) | Q(number__isnull=False))
        .values("question_id", "choice", "number")
        .annotate(n=Count("pk"))
    ):
        question = by_id[row["question_id"]].question
        index = _value_index(question, row["choice"], row["number"])
        counts[(question.pk, index)] = row["n"]
    for result in results:
        if result.question.kind == Question.Kind.TEXT:
            continue
        for index, label in enumerate(option_labels(result.question)):
            count = counts.get((result.question.pk, index), 0)
            percent = round(100 * count / result.answered, 1) if result.answered else 0.0
            result.options.append(Option(label, count, percent))

    texts = answers.filter(question__kind=Question.Kind.TEXT).exclude(text="")
    if consultation.is_anonymous:
        # Shuffled: the order the answers came in is not shown either. The
        # database picks each question's sample at random.
        if text_limit is not None:
            texts = texts.annotate(
                n=Window(RowNumber(), partition_by=[F("question_id")], order_by=[Random()])
            ).filter(n__lte=text_limit)
        rows = list(texts.values_list("question_id", "text"))
        random.shuffle(rows)
        for question_id, text in rows:
            by_id[question_id].texts.append(("", text))
    else:
        texts = texts.annotate(
            n=Window(RowNumber(), partition_by=[F("question_id")], order_by=[F("pk").asc()])
        )
        if text_limit is not None:
            texts = texts.filter(n__lte=text_limit)
        for question_id, text, first, last, email in texts.values_list(
            "question_id",
            "text",
            "response__user__first_name",
            "response__user__last_name",
            "response__user__email",
        ).order_by("question_id", "pk"):
            name = f"{first} {last}".strip() or email
            by_id[question_id].texts.append((name, text))

    if by in BREAKDOWNS:
        _breakdown(results, answers, respondents, parent, by)
    return Results(consultation, total, audience, results, by if by in BREAKDOWNS else "")


def _breakdown(results, answers, respondents, parent, by: str) -> None:
    """Each choice question's counts by group, in rows of cells; a cell (or a
    whole group) of fewer than ``SMALL_GROUP`` respondents is suppressed."""
    column = _dimension_column(by)
    groups = {
        row[column]: row["n"]
        for row in respondents.values(column).annotate(n=Count("pk")).order_by(column)
    }
    cells: dict[tuple[int, object, int], int] = {}
    for row in (
        answers.filter(Q(choice__isnull=False) | Q(number__isnull=False))
        .values("question_id", "choice", "number", f"{parent}__{column}")
        .annotate(n=Count("pk"))
    ):
        cells[(row["question_id"], row[f"{parent}__{column}"], row["choice"], row["number"])] = (
            row["n"]
        )
    for result in results:
        question = result.question
        if question.kind == Question.Kind.TEXT:
            continue
        for group, size in sorted(groups.items(), key=lambda item: str(item[0] or "~")):
            row = {"group": respondent_label(by, group), "size": display_count(size), "cells": []}
            for index in range(len(option_labels(question))):
                if question.kind == Question.Kind.SCALE:
                    count = cells.get((question.pk, group, None, index + 1), 0)
                else:
                    count = cells.get((question.pk, group, index, None), 0)
                hidden = size < SMALL_GROUP or count < SMALL_GROUP
                row["cells"].append(
                    {
                        "count": SUPPRESSED if hidden else f"{count:,}",
                        "percent": None if hidden else round(100 * count / size, 1),
                    }
                )
            result.breakdown.append(row)
