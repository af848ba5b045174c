"""Consultation rules: audience, drafts and changes until the close, answers
checked against their questions, one answer set per member, audit."""

import datetime

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from members.consultations import services
from members.consultations.models import (
    AnonymousAnswerSet,
    Answer,
    Consultation,
    Question,
    Response,
)
from members.consultations.selectors import audience_has, audience_users, member_facts
from members.models import AuditEntry, CareBoard, Membership, Profile
from tests.factories import ProfileFactory, UserFactory, active_member, care_board, grade

from .world import consultation, full_answers, policy_officer, questions

pytestmark = pytest.mark.django_db
Kind = Question.Kind


def test_the_audience_is_members_in_good_standing():
    member = active_member()
    not_paid = ProfileFactory().user  # a profile, no membership
    lapsed = active_member()
    Membership.objects.filter(user=lapsed).update(status=Membership.Status.LAPSED)
    made = consultation()
    assert list(audience_users(consultation=made)) == [member]
    assert not_paid not in audience_users(consultation=made)


def test_everyone_signed_in_includes_people_who_are_not_members():
    member = active_member()
    visitor = ProfileFactory().user
    made = consultation(audience=Consultation.Audience.SIGNED_IN)
    assert set(audience_users(consultation=made)) >= {member, visitor}


def test_the_audience_narrows_by_grade_role_nation_region_board_and_organisation():
    manchester = active_member()
    wales = active_member()
    board, _ = CareBoard.objects.get_or_create(
        name="Cardiff and Vale University Health Board",
        defaults={"kind": "lhb", "nation": "wales"},
    )
    Profile.objects.filter(user=wales).update(care_board=board, role=Profile.Role.PCN_MANAGER)
    fellow = active_member()
    Membership.objects.filter(user=fellow).update(grade=grade("fellow"))

    everyone = [manchester, wales, fellow, ProfileFactory().user, UserFactory()]

    def audience(**narrowing):
        made = consultation(**narrowing)
        found = set(audience_users(consultation=made)) & set(everyone)
        # The dashboard's check in Python agrees with the query, person by
        # person.
        made = Consultation.objects.prefetch_related(
            "audience_grades", "audience_care_boards"
        ).get(pk=made.pk)
        assert {u for u in everyone if audience_has(made, member_facts(u))} == found
        return found

    assert audience(audience_nations=["wales"]) == {wales}
    assert audience(audience_regions=["North West"]) == {manchester, fellow}
    assert audience(audience_care_boards=[board]) == {wales}
    assert audience(audience_roles=[Profile.Role.PCN_MANAGER]) == {wales}
    assert audience(audience_organisation_types=["practice"]) == {manchester, fellow}
    assert audience(audience_grades=[grade("fellow")]) == {fellow}
    assert audience(audience_grades=[grade("fellow")], audience_nations=["wales"]) == set()
    assert audience(audience_organisation_types=["pcn", "other"]) == {wales}
    assert (
        audience(
            audience_roles=[Profile.Role.PCN_MANAGER], audience_organisation_types=["practice"]
        )
        == set()
    )
    assert audience(audience=Consultation.Audience.SIGNED_IN) == set(everyone)
    assert care_board().region == "North West"


def test_a_draft_keeps_partial_answers_and_is_not_counted():
    member = active_member()
    made = consultation()
    q = questions(made)
    services.response_save_draft(
        consultation=made, user=member, answers={str(q[Kind.SCALE].pk): 2}
    )
    response = Response.objects.get(consultation=made, user=member)
    assert response.draft == {str(q[Kind.SCALE].pk): 2}
    assert response.submitted_at is None
    assert not Answer.objects.exists()
    assert services.response_answers(response=response) == {str(q[Kind.SCALE].pk): 2}


def test_attributed_answers_can_be_changed_until_the_close_and_not_after():
    member = active_member()
    made = consultation(days=2)
    services.response_submit(consultation=made, user=member, answers=full_answers(made))
    services.response_submit(
        consultation=made, user=member, answers=full_answers(made, single=2, text="Changed.")
    )
    response = Response.objects.get(consultation=made, user=member)
    q = questions(made)
    assert services.response_answers(response=response)[str(q[Kind.SINGLE].pk)] == 2
    assert Answer.objects.filter(response=response, question=q[Kind.SINGLE]).count() == 1
    actions = list(
        AuditEntry.objects.filter(subject=member, target_type="consultation")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["consultation_answered", "consultation_answer_changed"]

    with time_machine.travel(made.closes_at + datetime.timedelta(minutes=1)):
        with pytest.raises(services.ConsultationRefused, match="closed on"):
            services.response_submit(consultation=made, user=member, answers=full_answers(made))
        with pytest.raises(services.ConsultationRefused, match="closed on"):
            services.response_save_draft(consultation=made, user=member, answers={})
    assert services.response_answers(response=response)[str(q[Kind.SINGLE].pk)] == 2


def test_answers_that_do_not_fit_their_questions_are_refused_with_a_message_each():
    member = active_member()
    made = consultation()
    q = questions(made)
    bad = {
        str(q[Kind.SINGLE].pk): 7,
        str(q[Kind.MULTIPLE].pk): [0, 9],
        str(q[Kind.SCALE].pk): 6,
        str(q[Kind.TEXT].pk): "x" * 5001,
    }
    with pytest.raises(services.AnswersInvalid) as refused:
        services.response_submit(consultation=made, user=member, answers=bad)
    assert refused.value.errors == {
        q[Kind.SINGLE].pk: "Choose from the options given.",
        q[Kind.MULTIPLE].pk: "Choose from the options given.",
        q[Kind.SCALE].pk: "Choose a number from 1 to 5.",
        q[Kind.TEXT].pk: "Keep your answer to 5,000 characters or fewer.",
    }
    with pytest.raises(services.AnswersInvalid) as missing:
        services.response_submit(consultation=made, user=member, answers={})
    assert set(missing.value.errors) == {q[Kind.SINGLE].pk, q[Kind.SCALE].pk}
    assert not Response.objects.filter(submitted_at__isnull=False).exists()


def test_only_the_audience_may_answer_and_only_while_open():
    outsider = ProfileFactory().user
    made = consultation()
    with pytest.raises(services.ConsultationRefused, match="not open to you"):
        services.response_submit(consultation=made, user=outsider, answers=full_answers(made))
    later = consultation(opens_at=timezone.now() + datetime.timedelta(days=1))
    with pytest.raises(services.ConsultationRefused, match="not open for answers yet"):
        services.response_submit(
            consultation=later, user=active_member(), answers=full_answers(later)
        )


def test_an_anonymous_answer_is_given_once_and_cannot_be_changed():
    member = active_member()
    made = consultation(anonymous=True)
    services.response_submit(consultation=made, user=member, answers=full_answers(made))
    with pytest.raises(services.ConsultationRefused, match="cannot be changed"):
        services.response_submit(consultation=made, user=member, answers=full_answers(made))
    assert AnonymousAnswerSet.objects.filter(consultation=made).count() == 1
    response = Response.objects.get(consultation=made, user=member)
    assert response.submitted_at is not None and response.draft == {}
    assert not Answer.objects.exists()
    # Nothing about the member answering goes in the audit trail either.
    assert not AuditEntry.objects.filter(subject=member, target_type="consultation").exists()


def test_the_database_allows_one_response_per_member():
    member = active_member()
    made = consultation()
    Response.objects.create(consultation=made, user=member)
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.create(consultation=made, user=member)


def test_staff_changes_are_audited_and_questions_are_fixed_once_open():
    officer = policy_officer()
    made = consultation(by=officer, opened=False)
    q = list(made.questions.all())
    services.question_move(question=q[2], by=officer, up=True)
    assert [x.pk for x in made.questions.all()] == [q[0].pk, q[2].pk, q[1].pk, q[3].pk]
    services.consultation_open(consultation=made, by=officer)
    with pytest.raises(services.ConsultationRefused):
        services.question_save(consultation=made, by=officer, kind=Kind.TEXT, text="Late?")
    with pytest.raises(services.ConsultationRefused, match="anonymity"):
        services.consultation_update(
            consultation=made, by=officer, anonymity=Consultation.Anonymity.ANONYMOUS
        )
    services.consultation_update(consultation=made, by=officer, title="Renamed")
    services.consultation_close(consultation=made, by=officer)
    services.consultation_publish(
        consultation=made, by=officer, to="members", question_ids=[q[0].pk]
    )
    actions = list(
        AuditEntry.objects.filter(target_type="consultation", target_id=made.pk)
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "consultation_created",
        "question_added",
        "question_added",
        "question_added",
        "question_added",
        "question_moved",
        "consultation_opened",
        "consultation_edited_after_opening",
        "consultation_closed",
        "consultation_published",
    ]
    edit = AuditEntry.objects.get(action="consultation_edited_after_opening")
    assert edit.data["changed"]["title"] == ["The NHS 10-year plan", "Renamed"]


def test_a_summary_is_published_only_once_closed():
    officer = policy_officer()
    made = consultation(by=officer)
    with pytest.raises(services.ConsultationRefused, match="once the consultation has closed"):
        services.consultation_publish(consultation=made, by=officer, to="public")


def test_closing_takes_effect_for_a_member_already_on_the_page():
    member = active_member()
    made = consultation()
    services.consultation_close(consultation=Consultation.objects.get(pk=made.pk), by=None)
    assert made.status == Consultation.Status.OPEN  # the page's stale copy
    with pytest.raises(services.ConsultationRefused, match="closed on"):
        services.response_submit(consultation=made, user=member, answers=full_answers(made))


def test_the_sweep_closes_consultations_past_their_time():
    made = consultation()
    Consultation.objects.filter(pk=made.pk).update(
        closes_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert services.consultations_close_due() == 1
    made.refresh_from_db()
    assert made.status == Consultation.Status.CLOSED
    assert AuditEntry.objects.filter(action="consultation_closed", actor=None).exists()
