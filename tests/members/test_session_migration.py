"""Migration 0027 moves the live sessions into members.Session with the
user each is signed in as: no one is signed out, the expired ones go."""

import datetime

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import RequestFactory
from django.utils import timezone

from members.authentication import AuthenticationMiddleware
from members.models import Session
from members.sessions import SessionStore
from tests.factories import UserFactory

BEFORE = [("members", "0026_refund_intent_owed")]


@pytest.mark.django_db(transaction=True)
def test_live_sessions_move_with_their_user_and_expired_ones_go():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    user = UserFactory()
    signed_in = DjangoSessionStore()
    signed_in.update(
        {
            SESSION_KEY: str(user.pk),
            "_auth_user_backend": "members.authentication.ModelBackend",
            "_auth_user_hash": user.get_session_auth_hash(),
        }
    )
    signed_in.create()
    anonymous = DjangoSessionStore()
    anonymous["seen"] = 1
    anonymous.create()
    expired = DjangoSessionStore()
    expired[SESSION_KEY] = str(user.pk)
    expired.create()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE django_session SET expire_date = %s WHERE session_key = %s",
            [timezone.now() - datetime.timedelta(minutes=1), expired.session_key],
        )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    moved = {session.session_key: session for session in Session.objects.all()}
    assert set(moved) == {signed_in.session_key, anonymous.session_key}
    assert moved[signed_in.session_key].user_id == user.pk
    assert moved[anonymous.session_key].user_id is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_session")
        assert cursor.fetchone() == (0,)
    # The moved session still signs its user in, read with them.
    request = RequestFactory().get("/")
    request.session = SessionStore(signed_in.session_key)
    AuthenticationMiddleware(lambda request: None).process_request(request)
    assert request.user == user
    assert SessionStore(anonymous.session_key)["seen"] == 1
