"""Anonymous answers have no path back to the member: not by a key, not by
a column, not by a time, not by the order the rows were written."""

import uuid

import pytest
from django.db import connection, models

from members.consultations import services
from members.consultations.models import AnonymousAnswer, AnonymousAnswerSet, Response
from members.privacy.registry import NOT_PERSONAL
from tests.factories import active_member

from .world import consultation, full_answers

pytestmark = pytest.mark.django_db


def table_columns(model) -> dict[str, str]:
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, model._meta.db_table)
    return {column.name: column.type_code for column in description}


def test_the_anonymous_tables_have_no_column_that_leads_to_a_member():
    """Read the tables as the database has them, not as the models say."""
    for model in (AnonymousAnswerSet, AnonymousAnswer):
        columns = set(table_columns(model))
        assert not columns & {"user_id", "response_id", "member_id", "email"}, model
        with connection.cursor() as cursor:
            relations = connection.introspection.get_relations(cursor, model._meta.db_table)
        assert {table for _, table in relations.values()} <= {
            "members_consultation",
            "members_anonymousanswerset",
            "members_question",
            "members_careboard",
            "members_grade",
        }, model
        # No time at all: nothing to line up with the "has answered" rows.
        assert not any(
            isinstance(field, models.DateField | models.DateTimeField | models.TimeField)
            for field in model._meta.fields
        )
        assert isinstance(model._meta.pk, models.UUIDField)


def test_nothing_stored_for_an_anonymous_answer_names_or_orders_the_member():
    made = consultation(anonymous=True)
    members = [active_member() for _ in range(3)]
    # Names of their own: a random surname can be a word of a stored region
    # ("West" of "North West") without naming anyone.
    for member, surname in zip(members, ["Quartermaine", "Ollerton", "Trevithick"], strict=True):
        member.last_name = surname
        member.save(update_fields=["last_name"])
    for n, member in enumerate(members):
        services.response_submit(
            consultation=made, user=member, answers=full_answers(made, text=f"Answer {n}")
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM members_anonymousanswerset")
        sets = cursor.fetchall()
        cursor.execute("SELECT * FROM members_anonymousanswer")
        answers = cursor.fetchall()
    assert len(sets) == 3
    stored = repr(sets) + repr(answers)
    for member in members:
        assert member.email not in stored
        assert member.last_name not in stored
        response = Response.objects.get(consultation=made, user=member)
        # The member's "has answered" row holds no answers.
        assert response.draft == {} and not response.answers.exists()
    # Random keys: sorting by key does not give the order people answered.
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM members_anonymousanswerset")
        keys = [row[0] for row in cursor.fetchall()]
    assert all(uuid.UUID(str(key)).version == 4 for key in keys)


def test_anonymous_answers_are_declared_not_personal_with_a_reason():
    assert "no key, column or time" in NOT_PERSONAL["members.AnonymousAnswerSet"]
    assert "members.AnonymousAnswer" in NOT_PERSONAL
