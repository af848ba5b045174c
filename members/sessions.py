"""The session engine (``SESSION_ENGINE = "members.sessions"``): Django's
database sessions in ``members.Session``, whose ``user`` column is written
from the session's data on every save. The one query that reads a session
(compiled once per process, ``igpm.compiled``) reads the signed-in person
with it, so a signed-in request reads both in one round trip: the
person's row waits on the store until ``members.authentication`` asks
for it."""

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import db
from django.utils import timezone

from igpm.compiled import STAND_IN_TEXT, STAND_IN_TIME, CompiledQuery, columns, instance
from members.authentication import person, person_values
from members.models import Session, User

# The person's columns come after this, as the session's ``user`` relation.
PERSON = "user__"


def _live(*, session_key, now):
    live = Session.objects.filter(session_key=session_key, expire_date__gt=now)
    return person_values(live, PERSON, also=tuple(columns(Session)))


_LIVE = CompiledQuery(_live, session_key=STAND_IN_TEXT, now=STAND_IN_TIME)


def _user_id(data: dict) -> int | None:
    """The signed-in user's id in the session's data (a string there), or
    None."""
    value = data.get(SESSION_KEY)
    return int(value) if isinstance(value, str) and value.isdecimal() else None


class SessionStore(db.SessionStore):
    # Django salts the signed data with the class's name: it must stay
    # ``SessionStore`` for the sessions Django's own engine wrote to open.

    _person_row: dict | None = None

    @classmethod
    def get_model_class(cls):
        return Session

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        session.user_id = _user_id(data)
        return session

    def _get_session_from_db(self):
        # As Django's: the unexpired row, or none and the key forgotten (a
        # key that is not a valid one is None: SessionBase).
        self._person_row = None
        if self.session_key is None:
            return None
        rows = _LIVE.rows(session_key=self.session_key, now=timezone.now())
        if not rows:
            self._session_key = None
            return None
        row = rows[0]
        if row["user_id"] is not None:
            self._person_row = row
        return instance(Session, row)

    def person(self, user_id: int) -> User | None:
        """``user_id``'s person (``members.authentication.person``) as read
        with this session, if this session, still under the key it was
        read by, was saved as theirs; else None."""
        row = self._person_row
        if row is None or row["user_id"] != user_id or row["session_key"] != self.session_key:
            return None
        return person(row, PERSON)
