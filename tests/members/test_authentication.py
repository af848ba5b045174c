"""The signed-in person is read with their profile and membership, and with
the session, in one query (members.sessions, members.authentication): the
same rows the ORM reads, nothing more trusted."""

import datetime

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY, get_user
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from members.authentication import AuthenticationMiddleware, ModelBackend, user_as_signed_in
from members.billing.selectors import membership_as_signed_in, membership_get
from members.models import CareBoard, Grade, Membership, Profile, Session, User
from members.selectors import profile_as_signed_in, profile_get
from members.sessions import SessionStore
from tests.factories import MembershipFactory, ProfileFactory, UserFactory, care_board

pytestmark = pytest.mark.django_db


def _fields(obj) -> list:
    return [getattr(obj, field.attname) for field in type(obj)._meta.concrete_fields]


def _assert_read_as_the_orm_reads(user: User, django_assert_num_queries) -> None:
    """``user`` and what is cached on it are the rows select_related reads,
    with nothing left to read."""
    orm = User.objects.select_related("profile__care_board", "membership__grade").get(pk=user.pk)
    with django_assert_num_queries(0):
        assert _fields(user) == _fields(orm)
        assert _fields(user.profile) == _fields(orm.profile)
        assert _fields(user.profile.care_board) == _fields(orm.profile.care_board)
        assert _fields(user.membership) == _fields(orm.membership)
        assert _fields(user.membership.grade) == _fields(orm.membership.grade)


def test_the_user_comes_with_profile_board_membership_and_grade_as_the_orm_reads_them(
    django_assert_num_queries,
):
    profile = ProfileFactory(care_board=care_board(), job_title="Practice Manager")
    MembershipFactory(user=profile.user)
    with django_assert_num_queries(1):
        user = user_as_signed_in(profile.user.pk)
    _assert_read_as_the_orm_reads(user, django_assert_num_queries)
    with django_assert_num_queries(0):
        assert user.profile.user is user and user.membership.user is user
        assert isinstance(user.profile.care_board, CareBoard)
        assert isinstance(user.membership.grade, Grade)
        # Instances as the ORM's: saved rows, on the default database.
        assert not user._state.adding and user._state.db == "default"
        assert profile_as_signed_in(user=user) == user.profile
        assert membership_as_signed_in(user=user) == user.membership


def test_someone_with_no_profile_or_membership_has_none_cached_and_a_fresh_read_finds_new_ones(
    django_assert_num_queries,
):
    plain = UserFactory()
    user = user_as_signed_in(plain.pk)
    with django_assert_num_queries(0):
        assert profile_as_signed_in(user=user) is None
        assert membership_as_signed_in(user=user) is None
        assert not hasattr(user, "profile")
    made = ProfileFactory(user=plain, care_board=None)
    assert profile_get(user=user) == made
    assert profile_get(user=user).care_board is None
    MembershipFactory(user=plain)
    assert membership_get(user=user) == Membership.objects.get(user=plain)


def test_an_inactive_or_missing_user_is_not_signed_in():
    backend = ModelBackend()
    inactive = UserFactory(is_active=False)
    assert backend.get_user(inactive.pk) is None
    assert backend.get_user(-1) is None
    assert backend.get_user(UserFactory().pk) is not None


def test_a_changed_password_still_ends_the_other_sessions(client):
    """Django checks the session's hash against the password read here."""
    user = UserFactory()
    client.force_login(user)
    assert client.session[BACKEND_SESSION_KEY] == "members.authentication.ModelBackend"
    assert client.get(reverse("members:dashboard")).status_code == 200
    user.set_password("a-new-long-passphrase-9281")
    user.save()
    assert client.get(reverse("members:dashboard")).status_code == 302


def test_signing_in_through_allauth_uses_the_portals_backends(client):
    from allauth.account.models import EmailAddress

    from tests.factories import PASSWORD

    user = ProfileFactory().user
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert client.session[BACKEND_SESSION_KEY].startswith("members.authentication.")
    request = RequestFactory().get("/")
    request.session = client.session
    signed_in = get_user(request)
    assert signed_in == user and Profile.user.field.remote_field.is_cached(signed_in)


def test_the_session_engine_reads_a_live_session_and_not_an_expired_one(
    django_assert_num_queries,
):
    live = SessionStore()
    live["seen"] = 1
    live.create()
    expired = SessionStore()
    expired["seen"] = 2
    expired.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    with django_assert_num_queries(1):
        assert SessionStore(live.session_key)["seen"] == 1
    again = SessionStore(expired.session_key)
    assert "seen" not in again
    # As Django's: the key of an expired session is forgotten, not reused.
    assert again.session_key is None
    assert not SessionStore("not-a-real-session-key-at-all").load()
    # A key Django finds invalid is None, and nothing is looked up.
    with django_assert_num_queries(0):
        assert SessionStore("short").load() == {}


def _request_for(client):
    """A request carrying ``client``'s session cookie, through the session
    and authentication middleware as a page would have it."""
    request = RequestFactory().get("/")
    request.session = SessionStore(client.session.session_key)
    AuthenticationMiddleware(lambda request: None).process_request(request)
    return request


def test_a_session_is_saved_with_the_user_it_is_signed_in_as(client):
    user = UserFactory()
    client.force_login(user)
    assert Session.objects.get(session_key=client.session.session_key).user_id == user.pk
    # Signing out flushes the session: the one left signs in no one.
    client.post(reverse("account_logout"))
    assert not Session.objects.filter(user=user).exists()
    anonymous = SessionStore()
    anonymous["seen"] = 1
    anonymous.create()
    assert Session.objects.get(session_key=anonymous.session_key).user_id is None


def test_the_session_and_the_person_are_read_in_one_query(client, django_assert_num_queries):
    profile = ProfileFactory(care_board=care_board())
    MembershipFactory(user=profile.user)
    client.force_login(profile.user)
    request = _request_for(client)
    with django_assert_num_queries(1):
        assert request.user == profile.user
    user = request.user._wrapped
    assert user.is_authenticated
    _assert_read_as_the_orm_reads(user, django_assert_num_queries)


def test_the_person_read_with_the_session_passes_djangos_checks(client):
    """The password must not have changed, and the user must be active."""
    changed = UserFactory()
    client.force_login(changed)
    changed.set_password("a-new-long-passphrase-9281")
    changed.save()
    assert not _request_for(client).user.is_authenticated

    deactivated = UserFactory()
    client.force_login(deactivated)
    User.objects.filter(pk=deactivated.pk).update(is_active=False)
    assert not _request_for(client).user.is_authenticated


def test_a_session_whose_column_names_someone_else_is_read_for_whom_its_data_names(
    client, django_assert_num_queries
):
    """The column only saves a query: the data decides who is signed in."""
    user, other = UserFactory(), UserFactory()
    client.force_login(user)
    Session.objects.filter(session_key=client.session.session_key).update(user=other)
    request = _request_for(client)
    # The session, then the person in a query of their own.
    with django_assert_num_queries(2):
        assert request.user == user
    assert request.session[SESSION_KEY] == str(user.pk)


def test_a_session_of_a_deleted_user_signs_in_no_one(client):
    user = UserFactory()
    client.force_login(user)
    key = client.session.session_key
    # Deleting the user through the ORM deletes their sessions too.
    user.delete()
    assert not Session.objects.filter(session_key=key).exists()
    # One left behind (no constraint ties the column to a user) is no one.
    gone = UserFactory()
    client.force_login(gone)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM account_emailaddress WHERE user_id = %s", [gone.pk])
        cursor.execute("DELETE FROM members_user WHERE id = %s", [gone.pk])
    assert Session.objects.filter(session_key=client.session.session_key).exists()
    assert not _request_for(client).user.is_authenticated
