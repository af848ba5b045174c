"""Queries compiled once per process (igpm.compiled): the same rows as the
queryset they were compiled from, and refused where the SQL would depend on
the values."""

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.utils import timezone

from events.models import Registration
from igpm.compiled import STAND_IN_DATE, STAND_IN_ID, STAND_IN_IDS, STAND_IN_TEXT, CompiledQuery
from members.models import User
from tests.factories import UserFactory, event, member_registration


def _by_email_or_id(*, user_id, email):
    return User.objects.filter(Q(pk=user_id) | Q(email=email)).order_by("pk").values("pk", "email")


@pytest.mark.django_db
def test_each_run_gives_the_rows_of_the_queryset_built_with_its_values(
    django_assert_num_queries,
):
    first, second, third = UserFactory(), UserFactory(), UserFactory()
    compiled = CompiledQuery(_by_email_or_id, user_id=STAND_IN_IDS[0], email=STAND_IN_TEXT)
    for user_id, email in [
        (first.pk, second.email),
        (third.pk, third.email),
        (-1, "nobody@example.org"),
    ]:
        expected = list(_by_email_or_id(user_id=user_id, email=email))
        with django_assert_num_queries(1):
            assert compiled.rows(user_id=user_id, email=email) == expected
    # Compiled once: the builder is not run again.
    compiled.build = None
    assert compiled.rows(user_id=first.pk, email="") == [{"pk": first.pk, "email": first.email}]


@pytest.mark.django_db
def test_a_registration_is_found_as_the_orm_finds_it():
    """The event page's lookup, compiled, against the same filter run
    by the ORM: by account, by address, neither, and not once cancelled."""
    from events.selectors import registration_for_person

    member = UserFactory(email="Booked@Example.org ")
    held = event()
    assert registration_for_person(event=held, user=member) is None
    by_address = Registration.objects.create(
        event=held, email="booked@example.org", name="A Member", organisation="Surgery",
        role="Practice Manager", status=Registration.Status.CONFIRMED,
    )  # fmt: skip
    assert registration_for_person(event=held, user=member) == by_address
    by_address.status = Registration.Status.CANCELLED
    by_address.save()
    assert registration_for_person(event=held, user=member) is None
    by_account = member_registration(held, UserFactory())
    by_account.user = member
    by_account.save()
    assert registration_for_person(event=held, user=member) == by_account
    # Both live: the earlier made, as the ORM orders them.
    by_address.status = Registration.Status.CONFIRMED
    by_address.save()
    found = registration_for_person(event=held, user=member)
    orm = (
        Registration.objects.filter(event=held, status__in=Registration.LIVE)
        .filter(Q(user=member) | Q(email="booked@example.org"))
        .first()
    )
    assert found == orm == by_address
    assert found.get_status_display() == "Confirmed" and found.event_id == held.pk
    assert registration_for_person(event=event(), user=member) is None


def test_a_value_of_another_type_is_refused_and_so_never_none():
    compiled = CompiledQuery(_by_email_or_id, user_id=STAND_IN_IDS[0], email=STAND_IN_TEXT)
    with pytest.raises(TypeError, match="user_id must be a int"):
        compiled.sql_with_params(user_id=None, email="a@example.org")
    with pytest.raises(TypeError, match="email must be a str"):
        compiled.sql_with_params(user_id=1, email=None)
    with pytest.raises(TypeError, match="takes email, user_id"):
        compiled.sql_with_params(user_id=1)


def test_a_value_that_does_not_reach_the_sql_as_it_is_is_refused():
    def lowered(*, email):
        return User.objects.filter(email=email.lower()).values("pk")

    compiled = CompiledQuery(lowered, email=STAND_IN_TEXT.upper())
    with pytest.raises(ImproperlyConfigured, match="worked out from a value"):
        compiled.sql_with_params(email="A@example.org")


def test_a_date_worked_out_inside_the_builder_is_refused():
    def joined_today(*, user_id, today):
        return User.objects.filter(pk=user_id, date_joined__date=timezone.localdate()).values("pk")

    def joined_since(*, user_id, today):
        since = today - datetime.timedelta(days=30)
        return User.objects.filter(pk=user_id, date_joined__date__gte=since).values("pk")

    for build, refusal in ((joined_today, "keep the date"), (joined_since, "worked out")):
        compiled = CompiledQuery(build, user_id=STAND_IN_IDS[0], today=STAND_IN_DATE)
        with pytest.raises(ImproperlyConfigured, match=refusal):
            compiled.sql_with_params(user_id=1, today=datetime.date(2026, 12, 3))


def test_a_date_the_query_does_not_need_is_allowed_and_the_others_are_placed():
    def joined(*, user_id, today):
        return User.objects.filter(pk=user_id, email__endswith="@nhs.net").values("pk")

    compiled = CompiledQuery(joined, user_id=STAND_IN_IDS[0], today=STAND_IN_DATE)
    _sql, params = compiled.sql_with_params(user_id=42, today=datetime.date(2026, 12, 3))
    assert sorted(params, key=str) == sorted([42, "%@nhs.net"], key=str)


def test_two_stand_ins_alike_are_refused():
    with pytest.raises(ImproperlyConfigured, match="different"):
        CompiledQuery(_by_email_or_id, user_id=STAND_IN_IDS[0], email=STAND_IN_IDS[0])


@pytest.mark.django_db
def test_an_instance_is_built_as_the_orm_builds_it_converters_and_all():
    from igpm.compiled import columns, instance
    from members.audit import audit_record
    from members.models import AuditEntry

    member = UserFactory()
    entry = audit_record(
        actor=member, target=member, action="tested", data={"seats": 3, "names": ["Ada"]}
    )

    def by_id(*, entry_id):
        return AuditEntry.objects.filter(pk=entry_id).values(*columns(AuditEntry))

    row = CompiledQuery(by_id, entry_id=STAND_IN_ID).rows(entry_id=entry.pk)[0]
    built = instance(AuditEntry, row)
    orm = AuditEntry.objects.get(pk=entry.pk)
    # The JSON column arrives as text and is decoded by its field, as the ORM does.
    assert built.data == {"seats": 3, "names": ["Ada"]} == orm.data
    assert [getattr(built, f.attname) for f in AuditEntry._meta.concrete_fields] == [
        getattr(orm, f.attname) for f in AuditEntry._meta.concrete_fields
    ]
    assert not built._state.adding


@pytest.mark.django_db
def test_rows_are_named_as_values_names_them_an_annotation_first_too():
    from django.db.models import F, Value
    from django.db.models.functions import Concat

    member = UserFactory(first_name="Ada", last_name="Lovelace")

    def labelled(*, user_id):
        return (
            User.objects.filter(pk=user_id)
            .annotate(label=Concat(F("first_name"), Value(" "), F("last_name")))
            .values("label", "pk", "email")
        )

    rows = CompiledQuery(labelled, user_id=STAND_IN_ID).rows(user_id=member.pk)
    assert rows == list(labelled(user_id=member.pk))
    assert rows == [{"label": "Ada Lovelace", "pk": member.pk, "email": member.email}]


def test_a_value_used_as_it_is_and_also_worked_out_is_refused():
    def either(*, text):
        return User.objects.filter(Q(email=text) | Q(first_name__icontains=text)).values("pk")

    with pytest.raises(ImproperlyConfigured, match="worked out from a value"):
        CompiledQuery(either, text=STAND_IN_TEXT).sql_with_params(text="ann")


def test_a_number_worked_out_from_a_date_is_refused():
    def joined_this_year(*, user_id, today):
        return User.objects.filter(pk=user_id, date_joined__year=today.year).values("pk")

    compiled = CompiledQuery(joined_this_year, user_id=STAND_IN_ID, today=STAND_IN_DATE)
    with pytest.raises(ImproperlyConfigured, match="worked out from a value"):
        compiled.sql_with_params(user_id=1, today=datetime.date(2026, 12, 3))


def test_a_time_the_query_leaves_out_is_refused_unlike_a_date():
    from igpm.compiled import STAND_IN_TIME

    def no_time(*, user_id, now):
        return User.objects.filter(pk=user_id).values("pk")

    compiled = CompiledQuery(no_time, user_id=STAND_IN_ID, now=STAND_IN_TIME)
    with pytest.raises(ImproperlyConfigured, match="no parameter for now"):
        compiled.sql_with_params(user_id=1, now=timezone.now())
