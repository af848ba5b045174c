"""The session engine (``SESSION_ENGINE = "igpm.sessions"``): Django's
database sessions, the same table and rows, with the read that every
signed-in request makes compiled once per process (``igpm.compiled``)."""

from django.contrib.sessions.backends import db
from django.utils import timezone

from .compiled import STAND_IN_TEXT, STAND_IN_TIME, CompiledQuery, columns, instance


def _live(*, session_key, now):
    session = SessionStore.get_model_class()
    return session.objects.filter(session_key=session_key, expire_date__gt=now).values(
        *columns(session)
    )


_LIVE = CompiledQuery(_live, session_key=STAND_IN_TEXT, now=STAND_IN_TIME)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        # As Django's: the unexpired row, or none and the key forgotten (a
        # key that is not a valid one is None: SessionBase).
        if self.session_key is None:
            return None
        rows = _LIVE.rows(session_key=self.session_key, now=timezone.now())
        if not rows:
            self._session_key = None
            return None
        return instance(self.model, rows[0])
