"""Every write about consultations: staff creating, opening, closing and
publishing them, and members saving and submitting their answers."""

import datetime

from django.db import transaction
from django.utils import timezone

from igpm.memo import forget
from igpm.uploads import CheckedUpload
from members.audit import audit_record
from members.models import Grade, User

from .models import (
    AnonymousAnswer,
    AnonymousAnswerSet,
    Answer,
    Consultation,
    Question,
    Response,
)
from .selectors import OPEN_KEPT

TEXT_LIMIT = 5000
# What may change once a consultation is open: its words and times, never
# what the answers mean (questions, options, anonymity).
EDITABLE_WHEN_OPEN = frozenset({"title", "background", "document", "closes_at"})

Status = Consultation.Status
Kind = Question.Kind


def _open_changed() -> None:
    """This process's dashboards show the change once it is committed (the
    open consultations are kept a few seconds, ``selectors.OPEN_KEPT``)."""
    transaction.on_commit(lambda: forget(OPEN_KEPT))


class ConsultationRefused(Exception):
    """A change the consultation's state does not allow, with the reason."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class AnswersInvalid(Exception):
    """Answers that do not fit their questions: the message for each."""

    def __init__(self, errors: dict[int, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


# --- Staff ----------------------------------------------------------------------

AUDIENCE_LISTS = (
    "audience_roles",
    "audience_nations",
    "audience_regions",
    "audience_organisation_types",
)


@transaction.atomic
def consultation_create(
    *,
    by: User,
    title: str,
    opens_at: datetime.datetime,
    closes_at: datetime.datetime,
    background: str = "",
    anonymity: str = Consultation.Anonymity.ATTRIBUTED,
    audience: str = Consultation.Audience.MEMBERS,
    audience_grades=(),
    audience_care_boards=(),
    document: CheckedUpload | None = None,
    **audience_lists: list[str],
) -> Consultation:
    if closes_at <= opens_at:
        raise ConsultationRefused("The closing time must be after the opening time.")
    consultation = Consultation(
        title=title,
        background=background,
        anonymity=anonymity,
        opens_at=opens_at,
        closes_at=closes_at,
        audience=audience,
        **{name: list(audience_lists.get(name) or []) for name in AUDIENCE_LISTS},
    )
    if document is not None:
        _document_attach(consultation, document)
    consultation.save()
    consultation.audience_grades.set(audience_grades)
    consultation.audience_care_boards.set(audience_care_boards)
    audit_record(actor=by, target=consultation, action="consultation_created", to_state="draft")
    return consultation


@transaction.atomic
def consultation_update(*, consultation: Consultation, by: User, **changes) -> Consultation:
    """Change a consultation's settings. Once open, only its title,
    background, document and closing time; each change after opening is
    audited with what it was."""
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    if consultation.status == Status.CLOSED:
        raise ConsultationRefused("A closed consultation cannot be changed.")
    grades = changes.pop("audience_grades", None)
    boards = changes.pop("audience_care_boards", None)
    # A CheckedUpload replaces the document, None removes it; absent, it
    # stays as it is.
    document_changed = "document" in changes
    document = changes.pop("document", None)
    if consultation.status == Status.OPEN:
        changed = {
            name
            for name, value in changes.items()
            if getattr(consultation, name) != (list(value) if name in AUDIENCE_LISTS else value)
        }
        if grades is not None and set(grades) != set(consultation.audience_grades.all()):
            changed.add("audience_grades")
        if boards is not None and set(boards) != set(consultation.audience_care_boards.all()):
            changed.add("audience_care_boards")
        if refused := changed - EDITABLE_WHEN_OPEN:
            raise ConsultationRefused(
                "Once a consultation is open only its title, background, document and closing "
                f"time can change (not {', '.join(sorted(refused)).replace('_', ' ')})."
            )
    before = {name: str(getattr(consultation, name)) for name in changes}
    for name, value in changes.items():
        setattr(consultation, name, list(value) if name in AUDIENCE_LISTS else value)
    if consultation.closes_at <= consultation.opens_at:
        raise ConsultationRefused("The closing time must be after the opening time.")
    document_before = consultation.document_name
    if document_changed:
        _document_remove(consultation)
        if document is not None:
            _document_attach(consultation, document)
    consultation.save()
    _open_changed()
    if grades is not None:
        consultation.audience_grades.set(grades)
    if boards is not None:
        consultation.audience_care_boards.set(boards)
    after = {name: str(getattr(consultation, name)) for name in changes}
    changed = {
        name: [before[name], after[name]] for name in changes if before[name] != after[name]
    }
    if document_changed:
        # A replacement is a change even under the same file name.
        changed["document"] = [document_before, consultation.document_name]
    audit_record(
        actor=by,
        target=consultation,
        action=(
            "consultation_edited_after_opening"
            if consultation.status == Status.OPEN
            else "consultation_edited"
        ),
        data={"changed": changed},
    )
    return consultation


def _document_attach(consultation: Consultation, document: CheckedUpload) -> None:
    """Store the checked PDF under a generated name; the caller saves."""
    consultation.document.save("document.pdf", document.as_file(), save=False)
    consultation.document_name = document.download_name
    consultation.document_size = document.size


def _document_remove(consultation: Consultation) -> None:
    """Forget the document; its file goes once the change is committed."""
    if consultation.document:
        storage, name = consultation.document.storage, consultation.document.name
        transaction.on_commit(lambda: storage.delete(name))
    consultation.document = ""
    consultation.document_name = ""
    consultation.document_size = 0


def _draft_only(consultation: Consultation, what: str) -> Consultation:
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    if consultation.status != Status.DRAFT:
        raise ConsultationRefused(f"Questions can only be {what} before the consultation opens.")
    return consultation


@transaction.atomic
def question_save(
    *,
    consultation: Consultation,
    by: User,
    kind: str,
    text: str,
    help_text: str = "",
    required: bool = True,
    options: list[str] | None = None,
    question: Question | None = None,
) -> Question:
    consultation = _draft_only(consultation, "added or changed")
    options = [option.strip() for option in options or [] if option.strip()]
    if kind in Question.CHOICE_KINDS and len(options) < 2:
        raise ConsultationRefused("A choice question needs at least two options.")
    if kind not in Question.CHOICE_KINDS:
        options = []
    fields = {
        "kind": kind,
        "text": text,
        "help_text": help_text,
        "required": required,
        "options": options,
    }
    if question is None:
        last = consultation.questions.order_by("-order").values_list("order", flat=True).first()
        question = Question.objects.create(
            consultation=consultation, order=(last or 0) + 1, **fields
        )
        action = "question_added"
    else:
        question = Question.objects.get(pk=question.pk, consultation=consultation)
        for name, value in fields.items():
            setattr(question, name, value)
        question.save()
        action = "question_changed"
    audit_record(actor=by, target=consultation, action=action, data={"question": question.pk})
    return question


@transaction.atomic
def question_move(*, question: Question, by: User, up: bool) -> None:
    """Swap the question with the one before (``up``) or after it."""
    consultation = _draft_only(question.consultation, "reordered")
    ordered = list(consultation.questions.order_by("order", "pk"))
    index = next(i for i, q in enumerate(ordered) if q.pk == question.pk)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(ordered):
        return
    ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, item in enumerate(ordered, start=1):
        if item.order != position:
            item.order = position
            item.save(update_fields=["order"])
    audit_record(
        actor=by, target=consultation, action="question_moved", data={"question": question.pk}
    )


@transaction.atomic
def question_delete(*, question: Question, by: User) -> None:
    consultation = _draft_only(question.consultation, "removed")
    Question.objects.filter(pk=question.pk).delete()
    audit_record(
        actor=by, target=consultation, action="question_removed", data={"question": question.pk}
    )


@transaction.atomic
def consultation_open(*, consultation: Consultation, by: User) -> Consultation:
    """Open it for answers (from its opening time) and queue the invitations."""
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    if consultation.status != Status.DRAFT:
        raise ConsultationRefused("Only a draft consultation can be opened.")
    if not consultation.questions.exists():
        raise ConsultationRefused("Add at least one question before opening it.")
    if consultation.closes_at <= timezone.now():
        raise ConsultationRefused("Its closing time has passed: change it first.")
    consultation.status = Status.OPEN
    consultation.save(update_fields=["status", "updated_at"])
    _open_changed()
    audit_record(
        actor=by,
        target=consultation,
        action="consultation_opened",
        from_state="draft",
        to_state="open",
    )
    from .tasks import consultation_invitations_task

    consultation_invitations_task.delay_on_commit(consultation.pk)
    return consultation


@transaction.atomic
def consultation_close(*, consultation: Consultation, by: User | None) -> Consultation:
    """Stop taking answers now (or, with no ``by``, mark one closed whose
    closing time has passed)."""
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    if consultation.status != Status.OPEN:
        raise ConsultationRefused("Only an open consultation can be closed.")
    now = timezone.now()
    fields = ["status", "updated_at"]
    if consultation.closes_at > now:
        consultation.closes_at = max(now, consultation.opens_at + datetime.timedelta(seconds=1))
        fields.append("closes_at")
    consultation.status = Status.CLOSED
    consultation.save(update_fields=fields)
    _open_changed()
    audit_record(
        actor=by,
        target=consultation,
        action="consultation_closed",
        from_state="open",
        to_state="closed",
    )
    return consultation


def consultations_close_due() -> int:
    """Mark closed every open consultation past its closing time."""
    closed = 0
    due = Consultation.objects.filter(status=Status.OPEN, closes_at__lte=timezone.now())
    for consultation in due.only("pk"):
        try:
            consultation_close(consultation=consultation, by=None)
        except ConsultationRefused:
            continue  # closed meanwhile
        closed += 1
    return closed


@transaction.atomic
def consultation_publish(
    *,
    consultation: Consultation,
    by: User,
    to: str,
    summary: str = "",
    question_ids: list[int] = (),
) -> Consultation:
    """Publish (or, with ``to`` empty, withdraw) the summary page, with the
    figures of the questions in ``question_ids``."""
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    if consultation.status != Status.CLOSED:
        raise ConsultationRefused("A summary can be published once the consultation has closed.")
    if to not in Consultation.Publication.values:
        raise ConsultationRefused("Choose who the summary is for.")
    before = consultation.published
    consultation.published = to
    consultation.summary = summary
    consultation.save(update_fields=["published", "summary", "updated_at"])
    questions = consultation.questions.exclude(kind=Kind.TEXT)
    questions.update(in_summary=False)
    questions.filter(pk__in=[int(pk) for pk in question_ids]).update(in_summary=True)
    audit_record(
        actor=by,
        target=consultation,
        action="consultation_published" if to else "consultation_unpublished",
        from_state=before,
        to_state=to,
    )
    return consultation


# --- Members --------------------------------------------------------------------


def answers_check(
    questions: list[Question], answers: dict, *, submitting: bool
) -> tuple[dict[str, object], dict[int, str]]:
    """The answers that fit their questions, keyed by question id as text,
    and a message for each that does not. Required questions must be
    answered only when ``submitting``."""
    clean: dict[str, object] = {}
    errors: dict[int, str] = {}
    for question in questions:
        value = answers.get(str(question.pk), answers.get(question.pk))
        empty = value in (None, "", [])
        if empty:
            if submitting and question.required:
                errors[question.pk] = (
                    "Choose one or more options"
                    if question.kind == Kind.MULTIPLE
                    else "Write your answer"
                    if question.kind == Kind.TEXT
                    else "Choose an answer"
                ) + " for this question."
            continue
        try:
            clean[str(question.pk)] = _answer_clean(question, value)
        except (TypeError, ValueError) as error:
            errors[question.pk] = str(error)
    return clean, errors


def _answer_clean(question: Question, value):
    if question.kind == Kind.TEXT:
        text = str(value).strip()
        if len(text) > TEXT_LIMIT:
            raise ValueError(f"Keep your answer to {TEXT_LIMIT:,} characters or fewer.")
        return text
    if question.kind == Kind.SCALE:
        number = int(value)
        if not 1 <= number <= 5:
            raise ValueError("Choose a number from 1 to 5.")
        return number
    values = value if isinstance(value, list | tuple) else [value]
    if question.kind == Kind.SINGLE and len(values) != 1:
        raise ValueError("Choose only one option.")
    chosen = sorted({int(v) for v in values})
    if any(not 0 <= index < len(question.options) for index in chosen):
        raise ValueError("Choose from the options given.")
    return chosen[0] if question.kind == Kind.SINGLE else chosen


def _refuse_unless_accepting(consultation: Consultation) -> None:
    if not consultation.accepting():
        if timezone.now() >= consultation.closes_at or consultation.status == Status.CLOSED:
            raise ConsultationRefused(
                "This consultation closed on "
                f"{timezone.localtime(consultation.closes_at):%-d %B %Y at %H:%M}: "
                "answers can no longer be saved or changed."
            )
        raise ConsultationRefused("This consultation is not open for answers yet.")


def _response_lock(consultation: Consultation, user: User) -> Response:
    """The member's response, created if need be, locked: two submissions
    at once (two tabs, a double click) take turns."""
    response, _ = Response.objects.get_or_create(consultation=consultation, user=user)
    return Response.objects.select_for_update().get(pk=response.pk)


def _may_answer(consultation: Consultation, user: User) -> Consultation:
    """The consultation as it is now (staff may have just closed it), if the
    member may answer it."""
    from .selectors import in_audience

    consultation = Consultation.objects.get(pk=consultation.pk)
    _refuse_unless_accepting(consultation)
    if not in_audience(consultation=consultation, user=user):
        raise ConsultationRefused("This consultation is not open to you.")
    return consultation


@transaction.atomic
def response_save_draft(*, consultation: Consultation, user: User, answers: dict) -> Response:
    """Keep the member's answers so far, unsubmitted."""
    consultation = _may_answer(consultation, user)
    questions = list(consultation.questions.all())
    clean, errors = answers_check(questions, answers, submitting=False)
    if errors:
        raise AnswersInvalid(errors)
    response = _response_lock(consultation, user)
    if consultation.is_anonymous and response.submitted_at:
        raise ConsultationRefused(
            "You have already answered this anonymous consultation: anonymous "
            "answers cannot be changed, as nothing links them to you."
        )
    response.draft = clean
    response.save(update_fields=["draft", "updated_at"])
    return response


def _respondent(user: User) -> dict:
    profile = getattr(user, "profile", None)
    membership = getattr(user, "membership", None)
    board = profile.care_board if profile else None
    return {
        "region": (board.region or board.get_nation_display()) if board else "",
        "care_board": board,
        "role": profile.role if profile else "",
        "grade": Grade(pk=membership.grade_id) if membership else None,
    }


def _answer_rows(questions: list[Question], clean: dict, model, **parent) -> list:
    rows = []
    for question in questions:
        value = clean.get(str(question.pk))
        if value is None:
            continue
        if question.kind == Kind.TEXT:
            rows.append(model(question=question, text=value, **parent))
        elif question.kind == Kind.SCALE:
            rows.append(model(question=question, number=value, **parent))
        else:
            for index in value if isinstance(value, list) else [value]:
                rows.append(model(question=question, choice=index, **parent))
    return rows


@transaction.atomic
def response_submit(*, consultation: Consultation, user: User, answers: dict) -> Response:
    """Record the member's answers: attributed ones on their response
    (replacing any they gave before), anonymous ones with no link to them."""
    consultation = _may_answer(consultation, user)
    questions = list(consultation.questions.all())
    clean, errors = answers_check(questions, answers, submitting=True)
    if errors:
        raise AnswersInvalid(errors)
    response = _response_lock(consultation, user)
    respondent = _respondent(user)
    if consultation.is_anonymous:
        if response.submitted_at:
            raise ConsultationRefused(
                "You have already answered this anonymous consultation: anonymous "
                "answers cannot be changed, as nothing links them to you."
            )
        answer_set = AnonymousAnswerSet.objects.create(consultation=consultation, **respondent)
        AnonymousAnswer.objects.bulk_create(
            _answer_rows(questions, clean, AnonymousAnswer, answer_set=answer_set)
        )
    else:
        for name, value in respondent.items():
            setattr(response, name, value)
        Answer.objects.filter(response=response).delete()
        Answer.objects.bulk_create(_answer_rows(questions, clean, Answer, response=response))
    first = response.submitted_at is None
    response.submitted_at = timezone.now()
    response.draft = {}
    response.save(
        update_fields=[
            "submitted_at",
            "draft",
            "updated_at",
            "region",
            "care_board",
            "role",
            "grade",
        ]
    )
    if not consultation.is_anonymous:
        audit_record(
            actor=user,
            subject=user,
            target=consultation,
            action="consultation_answered" if first else "consultation_answer_changed",
        )
    return response


def response_answers(*, response: Response | None) -> dict[str, object]:
    """What the member's answer page starts from: the draft, or else the
    answers they submitted (attributed only)."""
    if response is None:
        return {}
    if response.draft:
        return dict(response.draft)
    answers: dict[str, object] = {}
    for answer in response.answers.select_related("question"):
        key = str(answer.question_id)
        if answer.question.kind == Kind.MULTIPLE:
            answers.setdefault(key, []).append(answer.choice)
        elif answer.question.kind == Kind.SINGLE:
            answers[key] = answer.choice
        elif answer.question.kind == Kind.SCALE:
            answers[key] = answer.number
        else:
            answers[key] = answer.text
    return answers
