"""The portal's authentication backends: Django's and allauth's, whose
``get_user`` (run on every signed-in request) reads the person with their
profile and its ICB or health board, and their membership and its grade,
in one query compiled once per process (``igpm.compiled``).

They are cached on the user as ``select_related`` caches them: as they
were when the request began. Pages that change nothing read them there
(``profile_as_signed_in``, ``membership_as_signed_in``); ``profile_get``
and ``membership_get`` still read them afresh, for what a service may
have changed during the request.

Changing these paths signs everyone out once: a session names the backend
that signed it in, and Django refuses one no longer in
``AUTHENTICATION_BACKENDS``.
"""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend

from igpm.compiled import STAND_IN_ID, CompiledQuery, columns, instance
from members.models import CareBoard, Grade, Membership, Profile, User

_PROFILE = "profile__"
_BOARD = "profile__care_board__"
_MEMBERSHIP = "membership__"
_GRADE = "membership__grade__"


def _person(*, user_id):
    return User.objects.filter(pk=user_id).values(
        *columns(User),
        *columns(Profile, _PROFILE),
        *columns(CareBoard, _BOARD),
        *columns(Membership, _MEMBERSHIP),
        *columns(Grade, _GRADE),
    )


_PERSON = CompiledQuery(_person, user_id=STAND_IN_ID)


def _cache_one_to_one(user: User, field, related) -> None:
    """``related`` (or None) as ``user``'s reverse one-to-one, both ways."""
    field.remote_field.set_cached_value(user, related)
    if related is not None:
        field.set_cached_value(related, user)


def user_as_signed_in(user_id: int) -> User | None:
    """The user with their profile and its board, and their membership and
    its grade (each or None), cached on it as
    ``select_related("profile__care_board", "membership__grade")`` caches
    them."""
    rows = _PERSON.rows(user_id=user_id)
    if not rows:
        return None
    row = rows[0]
    user = instance(User, row)
    profile = instance(Profile, row, _PROFILE)
    _cache_one_to_one(user, Profile.user.field, profile)
    if profile is not None:
        Profile.care_board.field.set_cached_value(profile, instance(CareBoard, row, _BOARD))
    membership = instance(Membership, row, _MEMBERSHIP)
    _cache_one_to_one(user, Membership.user.field, membership)
    if membership is not None:
        Membership.grade.field.set_cached_value(membership, instance(Grade, row, _GRADE))
    return user


def read_with_user(user: User, relation: str, read):
    """``user``'s one-to-one ``relation`` ("profile", "membership") as
    ``get_user`` read it, or ``read(user=user)`` where it was not (a user
    not signed in through these backends, or not signed in at all)."""
    cache = getattr(User, relation).related
    if user.is_authenticated and cache.is_cached(user):
        return cache.get_cached_value(user)
    return read(user=user)


class _WithProfile:
    def get_user(self, user_id):
        if type(user_id) is not int:
            return super().get_user(user_id)
        user = user_as_signed_in(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(_WithProfile, DjangoModelBackend):
    pass


class AuthenticationBackend(_WithProfile, AllauthBackend):
    pass
