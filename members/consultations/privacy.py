"""Consultations in the privacy registry (``members.privacy.registry``).

A member's responses (their drafts, and for attributed consultations their
answers), the invitations sent to them and their reminder opt-outs are
theirs: exported and erased. Anonymous answers are not personal data:
nothing in them leads to a person, so they stay when a member is erased.
"""

from members.privacy.actions import Delete
from members.privacy.registry import NOT_PERSONAL, Holding, register

from .models import Answer, ConsultationNotice, ReminderOptOut, Response

register(
    Holding(
        model=Answer,
        rows=lambda user: Answer.objects.filter(response__user=user),
        erase=Delete(),
        section="consultation_answers",
        about="Your answers to attributed IGPM consultations.",
    ),
    Holding(
        model=Response,
        rows=lambda user: Response.objects.filter(user=user),
        erase=Delete(),
        section="consultation_responses",
        about="The consultations you answered or started to answer, with any "
        "draft answers. For anonymous consultations, only that you answered.",
    ),
    Holding(
        model=ConsultationNotice,
        rows=lambda user: ConsultationNotice.objects.filter(user=user),
        erase=Delete(),
        section="consultation_emails",
        about="Consultation invitations and reminders sent to you.",
    ),
    Holding(
        model=ReminderOptOut,
        rows=lambda user: ReminderOptOut.objects.filter(user=user),
        erase=Delete(),
        section="consultation_reminder_opt_outs",
        about="Consultations you asked for no more reminders about.",
    ),
)

ANONYMOUS = (
    "anonymous consultation answers: no key, column or time in them leads to "
    "the member who gave them"
)
NOT_PERSONAL["members.AnonymousAnswerSet"] = ANONYMOUS
NOT_PERSONAL["members.AnonymousAnswer"] = ANONYMOUS
NOT_PERSONAL["members.Consultation"] = (
    "a consultation's text, audience and background document (the IGPM's own PDF), "
    "written by staff"
)
NOT_PERSONAL["members.Question"] = "a consultation's questions, written by staff"
