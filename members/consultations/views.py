"""Consultation pages: members' "Have your say" (list, answer, confirmation,
summary, background document, stopping reminders) and the Policy team's
pages (create, edit, questions, open and close, results and their CSV,
publish)."""

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from igpm.charts import Series, bar_chart
from igpm.csv import csv_response
from igpm.files import private_file_response
from igpm.uploads import PDF
from members.access import staff_permission_required
from members.models import User

from . import services
from .forms import AnswerForm, ConsultationForm, PublishForm, QuestionForm
from .markdown import markdown_render
from .models import Consultation, Question, Response
from .notices import opt_out_read, reminders_stop
from .selectors import (
    BREAKDOWNS,
    audience_users,
    consultations_closed_published,
    consultations_open_for,
    in_audience,
    results_get,
)

policy_team_required = staff_permission_required(
    "members.run_consultations", "Consultations are run by the Policy team and administrators."
)


# --- Members --------------------------------------------------------------------


@login_required
def consultation_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "members/consultations/list.html",
        {
            "open": consultations_open_for(user=request.user),
            "published": list(consultations_closed_published(public=False)[:20]),
        },
    )


def _answer_page(request, consultation, response, form, status=200) -> HttpResponse:
    return render(
        request,
        "members/consultations/answer.html",
        {
            "consultation": consultation,
            "background": markdown_render(consultation.background),
            "response": response,
            "form": form,
            "locked": consultation.is_anonymous and response and response.submitted_at,
        },
        status=status,
    )


@login_required
def consultation_answer(request: HttpRequest, consultation_id: int) -> HttpResponse:
    """The questions, with the member's draft or earlier answers filled in.
    "Save draft" keeps what fits; "Submit" needs every required answer."""
    consultation = get_object_or_404(
        Consultation.objects.exclude(status=Consultation.Status.DRAFT), pk=consultation_id
    )
    if consultation.status == Consultation.Status.CLOSED and consultation.published:
        return redirect("members:consultation_summary", consultation.pk)
    if not in_audience(consultation=consultation, user=request.user):
        raise Http404("Not a consultation open to you.")
    questions = list(consultation.questions.all())
    response = Response.objects.filter(consultation=consultation, user=request.user).first()
    if request.method != "POST":
        initial = AnswerForm.initial_from(services.response_answers(response=response))
        return _answer_page(
            request, consultation, response, AnswerForm(questions=questions, initial=initial)
        )
    submitting = "draft" not in request.POST
    form = AnswerForm(request.POST, questions=questions, submitting=submitting)
    if not form.is_valid():
        return _answer_page(request, consultation, response, form, status=400)
    service = services.response_submit if submitting else services.response_save_draft
    try:
        service(consultation=consultation, user=request.user, answers=form.answers())
    except services.AnswersInvalid as invalid:
        form.add_answer_errors(invalid.errors)
        return _answer_page(request, consultation, response, form, status=400)
    except services.ConsultationRefused as refused:
        messages.error(request, refused.message)
        return _answer_page(request, consultation, response, form, status=409)
    if submitting:
        return redirect("members:consultation_done", consultation.pk)
    messages.success(request, "Your draft is saved. It is not submitted until you submit it.")
    return redirect("members:consultation", consultation.pk)


@login_required
def consultation_done(request: HttpRequest, consultation_id: int) -> HttpResponse:
    """What was recorded, and whether it is anonymous."""
    response = get_object_or_404(
        Response.objects.select_related("consultation"),
        consultation_id=consultation_id,
        user=request.user,
        submitted_at__isnull=False,
    )
    consultation = response.consultation
    questions = list(consultation.questions.all())
    answers = {} if consultation.is_anonymous else services.response_answers(response=response)
    recorded = []
    for question in questions:
        value = answers.get(str(question.pk))
        if question.kind == Question.Kind.MULTIPLE:
            value = ", ".join(question.options[i] for i in sorted(value or []))
        elif question.kind == Question.Kind.SINGLE and value is not None:
            value = question.options[value]
        recorded.append((question, value))
    return render(
        request,
        "members/consultations/done.html",
        {"consultation": consultation, "response": response, "recorded": recorded},
    )


def consultation_summary(request: HttpRequest, consultation_id: int) -> HttpResponse:
    """The published summary: for signed-in members, or for everyone."""
    public = not request.user.is_authenticated
    consultation = get_object_or_404(
        consultations_closed_published(public=public), pk=consultation_id
    )
    results = results_get(consultation=consultation, text_limit=0)
    shown = [r for r in results.questions if r.question.in_summary]
    _charts(shown)
    return render(
        request,
        "members/consultations/summary.html",
        {
            "consultation": consultation,
            "summary": markdown_render(consultation.summary),
            "results": results,
            "questions": shown,
        },
    )


def _runs_consultations(user) -> bool:
    """The Policy team as its staff pages see it (members.access)."""
    return (
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and is_mfa_enabled(user)
        and user.has_perm("members.run_consultations")
    )


def consultation_document(request: HttpRequest, consultation_id: int) -> HttpResponse:
    """The background document, for whoever may read the consultation: the
    Policy team at any time, members in its audience while it is open, and
    whoever may see its published summary after. Anyone else signed in is
    told there is nothing here, so a number does not reveal a consultation;
    a visitor is asked to sign in first."""
    consultation = get_object_or_404(Consultation.objects.exclude(document=""), pk=consultation_id)
    user = request.user
    allowed = _runs_consultations(user)
    if not allowed and consultation.status == Consultation.Status.OPEN:
        allowed = user.is_authenticated and in_audience(consultation=consultation, user=user)
    if not allowed and consultation.status == Consultation.Status.CLOSED:
        allowed = (
            consultations_closed_published(public=not user.is_authenticated)
            .filter(pk=consultation.pk)
            .exists()
        )
    if not allowed:
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise Http404("No document you may read.")
    try:
        return private_file_response(
            consultation.document, filename=consultation.document_name, content_type=PDF
        )
    except FileNotFoundError:
        raise Http404("The document is missing from storage.") from None


def consultation_reminders_stop(request: HttpRequest, token: str) -> HttpResponse:
    """The link in a reminder: the token is the key, so no sign-in. A GET
    asks; only the POST stops them (mail scanners follow links)."""
    found = opt_out_read(token)
    consultation = user = None
    if found:
        consultation = Consultation.objects.filter(pk=found[0]).first()
        user = User.objects.filter(pk=found[1], is_active=True).first()
    if consultation is None or user is None:
        return render(request, "members/consultations/reminders_stop.html", {}, status=404)
    stopped = False
    if request.method == "POST":
        reminders_stop(consultation=consultation, user=user)
        stopped = True
    return render(
        request,
        "members/consultations/reminders_stop.html",
        {"consultation": consultation, "stopped": stopped},
    )


# --- The Policy team ------------------------------------------------------------


@policy_team_required
def staff_consultations(request: HttpRequest) -> HttpResponse:
    consultations = Consultation.objects.all()
    return render(
        request, "members/consultations/staff/list.html", {"consultations": consultations}
    )


@policy_team_required
def staff_consultation_new(request: HttpRequest) -> HttpResponse:
    form = ConsultationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            consultation = services.consultation_create(by=request.user, **form.settings())
        except services.ConsultationRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, "Consultation created. Now add its questions.")
            return redirect("members:staff_consultation", consultation.pk)
    return render(
        request,
        "members/consultations/staff/form.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


def _staff_page(request, consultation, form=None, question_form=None, status=200):
    return render(
        request,
        "members/consultations/staff/detail.html",
        {
            "consultation": consultation,
            "form": form or ConsultationForm(instance=consultation),
            "question_form": question_form or QuestionForm(),
            "questions": list(consultation.questions.all()),
            "audience_count": audience_users(consultation=consultation).count(),
            "invited_count": audience_users(consultation=consultation)
            .filter(profile__consultation_consent=True)
            .count(),
            "background": markdown_render(consultation.background),
        },
        status=status,
    )


@policy_team_required
def staff_consultation(request: HttpRequest, consultation_id: int) -> HttpResponse:
    """Settings, questions and audience; saving the settings."""
    consultation = get_object_or_404(Consultation, pk=consultation_id)
    if request.method != "POST":
        return _staff_page(request, consultation)
    form = ConsultationForm(
        request.POST, request.FILES, instance=Consultation.objects.get(pk=consultation.pk)
    )
    if not form.is_valid():
        return _staff_page(request, consultation, form=form, status=400)
    try:
        services.consultation_update(consultation=consultation, by=request.user, **form.settings())
    except services.ConsultationRefused as refused:
        form.add_error(None, refused.message)
        return _staff_page(request, consultation, form=form, status=409)
    messages.success(request, "Consultation saved.")
    return redirect("members:staff_consultation", consultation.pk)


@policy_team_required
@require_POST
def staff_question_add(request: HttpRequest, consultation_id: int) -> HttpResponse:
    consultation = get_object_or_404(Consultation, pk=consultation_id)
    form = QuestionForm(request.POST)
    if form.is_valid():
        try:
            services.question_save(consultation=consultation, by=request.user, **form.values())
        except services.ConsultationRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, "Question added.")
            return redirect(f"{consultation.get_staff_url()}#questions-heading")
    return _staff_page(request, consultation, question_form=form, status=400)


@policy_team_required
def staff_question(request: HttpRequest, question_id: int) -> HttpResponse:
    question = get_object_or_404(Question.objects.select_related("consultation"), pk=question_id)
    consultation = question.consultation
    form = QuestionForm(request.POST or None, instance=question)
    if request.method == "POST" and form.is_valid():
        try:
            services.question_save(
                consultation=consultation,
                by=request.user,
                question=question,
                **form.values(),
            )
        except services.ConsultationRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, "Question saved.")
            return redirect(f"{consultation.get_staff_url()}#questions-heading")
    return render(
        request,
        "members/consultations/staff/question.html",
        {"form": form, "question": question, "consultation": consultation},
        status=400 if form.errors else 200,
    )


@policy_team_required
@require_POST
def staff_question_move(request: HttpRequest, question_id: int) -> HttpResponse:
    question = get_object_or_404(Question.objects.select_related("consultation"), pk=question_id)
    action = request.POST.get("move")
    try:
        if action == "delete":
            services.question_delete(question=question, by=request.user)
        elif action in ("up", "down"):
            services.question_move(question=question, by=request.user, up=action == "up")
        else:
            return HttpResponse("Choose up, down or delete.", status=400)
    except services.ConsultationRefused as refused:
        messages.error(request, refused.message)
    return redirect(f"{question.consultation.get_staff_url()}#question-{question.pk}")


@policy_team_required
@require_POST
def staff_consultation_state(request: HttpRequest, consultation_id: int) -> HttpResponse:
    """Open or close it."""
    consultation = get_object_or_404(Consultation, pk=consultation_id)
    action = request.POST.get("action")
    try:
        if action == "open":
            services.consultation_open(consultation=consultation, by=request.user)
            messages.success(request, "The consultation is open. Invitations are on their way.")
        elif action == "close":
            services.consultation_close(consultation=consultation, by=request.user)
            messages.success(request, "The consultation is closed.")
        else:
            return HttpResponse("Choose open or close.", status=400)
    except services.ConsultationRefused as refused:
        messages.error(request, refused.message)
    return redirect("members:staff_consultation", consultation.pk)


def _charts(questions) -> None:
    """Give each choice question its bar chart (the table beside it has the
    same figures)."""
    for result in questions:
        if result.options:
            result.chart = bar_chart(
                chart_id=f"chart-q{result.question.pk}",
                title=result.question.text,
                labels=result.labels,
                series=[Series("Respondents", [option.count for option in result.options])],
            )


@policy_team_required
def staff_results(request: HttpRequest, consultation_id: int) -> HttpResponse:
    consultation = get_object_or_404(Consultation, pk=consultation_id)
    by = request.GET.get("by", "")
    results = results_get(consultation=consultation, by=by)
    _charts(results.questions)
    return render(
        request,
        "members/consultations/staff/results.html",
        {
            "consultation": consultation,
            "results": results,
            "breakdowns": BREAKDOWNS,
            "by_label": BREAKDOWNS.get(results.by, ""),
        },
    )


@policy_team_required
def staff_results_csv(request: HttpRequest, consultation_id: int) -> HttpResponse:
    """Counts per option, overall and by each breakdown, small groups
    suppressed as on the page."""
    consultation = get_object_or_404(Consultation, pk=consultation_id)
    overall = results_get(consultation=consultation, text_limit=0)
    broken = {by: results_get(consultation=consultation, by=by, text_limit=0) for by in BREAKDOWNS}

    def rows():
        for result in overall.questions:
            for option in result.options:
                yield [result.question.text, "All respondents", "", option.label, option.count]
        for by, results in broken.items():
            for result in results.questions:
                for row in result.breakdown:
                    for label, cell in zip(result.labels, row["cells"], strict=True):
                        yield [result.question.text, BREAKDOWNS[by], row["group"], label,
                               cell["count"]]  # fmt: skip

    return csv_response(
        filename=f"consultation-{consultation.pk}-results.csv",
        header=["question", "breakdown", "group", "answer", "respondents"],
        rows=rows(),
    )


@policy_team_required
def staff_publish(request: HttpRequest, consultation_id: int) -> HttpResponse:
    consultation = get_object_or_404(Consultation, pk=consultation_id)
    questions = list(consultation.questions.all())
    initial = {
        "to": consultation.published,
        "summary": consultation.summary,
        "questions": [str(q.pk) for q in questions if q.in_summary],
    }
    form = PublishForm(request.POST or None, questions=questions, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.consultation_publish(
                consultation=consultation,
                by=request.user,
                to=form.cleaned_data["to"],
                summary=form.cleaned_data["summary"],
                question_ids=form.cleaned_data["questions"],
            )
        except services.ConsultationRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, "Summary saved.")
            return redirect("members:staff_consultation", consultation.pk)
    return render(
        request,
        "members/consultations/staff/publish.html",
        {"form": form, "consultation": consultation},
        status=400 if form.errors else 200,
    )
