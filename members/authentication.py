"""The portal's authentication: Django's and allauth's backends, whose
``get_user`` (run on every signed-in request) gives the person with their
profile and its ICB or health board, and their membership and its grade,
and the middleware that gives it the row the session engine read with the
session (``members.sessions``): one query for both. Where there is no
such row (a session read another way), ``get_user`` reads the person in
one query of its own. Both are compiled once per process
(``igpm.compiled``).

They are cached on the user as ``select_related`` caches them: as they
were when the request began. Pages that change nothing read them there
(``profile_as_signed_in``, ``membership_as_signed_in``); ``profile_get``
and ``membership_get`` still read them afresh, for what a service may
have changed during the request.

Django's own checks still run on what is read: the backend named in the
session must be one of ``AUTHENTICATION_BACKENDS``, the password must not
have changed since, and the user must be active. Changing these paths
signs everyone out once: a session names the backend that signed it in.
(``request.auser()``, for async views, which the portal has none of, is
Django's: the person alone, read by a query of its own.)
"""

import contextvars
from collections.abc import Callable
from functools import partial

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth import middleware
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.db.models import Expression, QuerySet
from django.utils.functional import SimpleLazyObject

from igpm.compiled import STAND_IN_ID, CompiledQuery, columns, instance
from members.models import CareBoard, Grade, Membership, Profile, User

_PROFILE = "profile__"
_BOARD = "profile__care_board__"
_MEMBERSHIP = "membership__"
_GRADE = "membership__grade__"


# Facts about the signed-in person that the apps above this one ask on
# their busiest pages, read in the same query as the person: each app adds
# its own from its signed_in.py (found by MembersConfig.ready, before any
# query is compiled) as PERSON_FACTS["app_fact"] = a function of the path
# to the user ("" or "user__") giving the expression; ``person_fact`` reads
# one.
PERSON_FACTS: dict[str, Callable[[str], Expression]] = {}
_FACT = "person_fact_"


def person_values(queryset: QuerySet, prefix: str = "", also: tuple[str, ...] = ()) -> QuerySet:
    """``queryset``'s ``values()`` of ``also`` and a person: the user,
    profile, board, membership and grade columns, each after ``prefix``
    (the path to the user), and the ``PERSON_FACTS``."""
    return queryset.values(
        *also,
        *columns(User, prefix),
        *columns(Profile, prefix + _PROFILE),
        *columns(CareBoard, prefix + _BOARD),
        *columns(Membership, prefix + _MEMBERSHIP),
        *columns(Grade, prefix + _GRADE),
        **{_FACT + name: fact(prefix) for name, fact in PERSON_FACTS.items()},
    )


def person_fact(user: User, name: str):
    """The ``PERSON_FACTS`` fact ``name`` about ``user`` as read with them
    when the request began, or None where it was not (read the thing
    itself)."""
    return getattr(user, "_person_facts", {}).get(name)


def _person(*, user_id):
    return person_values(User.objects.filter(pk=user_id))


_PERSON = CompiledQuery(_person, user_id=STAND_IN_ID)


def _cache_one_to_one(user: User, field, related) -> None:
    """``related`` (or None) as ``user``'s reverse one-to-one, both ways."""
    field.remote_field.set_cached_value(user, related)
    if related is not None:
        field.set_cached_value(related, user)


def person(row: dict, prefix: str = "") -> User | None:
    """The user in ``row`` (which holds ``person_values(..., prefix)``), with
    their profile and its board, and their membership and its grade (each
    or None), cached on it as ``select_related("profile__care_board",
    "membership__grade")`` caches them; None where an outer join found no
    user."""
    user = instance(User, row, prefix)
    if user is None:
        return None
    user._person_facts = {name: row[_FACT + name] for name in PERSON_FACTS if _FACT + name in row}
    profile = instance(Profile, row, prefix + _PROFILE)
    _cache_one_to_one(user, Profile.user.field, profile)
    if profile is not None:
        board = instance(CareBoard, row, prefix + _BOARD)
        Profile.care_board.field.set_cached_value(profile, board)
    membership = instance(Membership, row, prefix + _MEMBERSHIP)
    _cache_one_to_one(user, Membership.user.field, membership)
    if membership is not None:
        grade = instance(Grade, row, prefix + _GRADE)
        Membership.grade.field.set_cached_value(membership, grade)
    return user


def user_as_signed_in(user_id: int) -> User | None:
    """The user (see ``person``), or None, in one query."""
    rows = _PERSON.rows(user_id=user_id)
    return person(rows[0]) if rows else None


def read_with_user(user: User, relation: str, read):
    """``user``'s one-to-one ``relation`` ("profile", "membership") as
    ``get_user`` read it, or ``read(user=user)`` where it was not (a user
    not signed in through these backends, or not signed in at all)."""
    cache = getattr(User, relation).related
    if user.is_authenticated and cache.is_cached(user):
        return cache.get_cached_value(user)
    return read(user=user)


# The session of the request whose user is being worked out, for the
# backend (which Django gives only the user's id) to take the person from.
_SESSION = contextvars.ContextVar("members_authentication_session", default=None)


def _signed_in(request):
    token = _SESSION.set(request.session)
    try:
        return middleware.get_user(request)  # Django's, which keeps it for the request.
    finally:
        _SESSION.reset(token)


class AuthenticationMiddleware(middleware.AuthenticationMiddleware):
    """Django's, with ``request.user`` worked out from the person the
    session engine read with the session, where it did."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(partial(_signed_in, request))


def _from_session(user_id: int) -> User | None:
    read = getattr(_SESSION.get(), "person", None)
    return read(user_id) if read is not None else None


class _WithProfile:
    def get_user(self, user_id):
        if type(user_id) is not int:
            return super().get_user(user_id)
        user = _from_session(user_id) or user_as_signed_in(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(_WithProfile, DjangoModelBackend):
    pass


class AuthenticationBackend(_WithProfile, AllauthBackend):
    pass
