"""Migration 0004 gives registrations made before it their new keys."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from events.models import CHECKIN_ALPHABET, Registration

BEFORE = [("events", "0003_registration_anonymised_at")]
AFTER = [("events", "0004_registration_tokens")]


@pytest.mark.django_db(transaction=True)
def test_existing_registrations_get_check_in_codes_and_keep_their_links():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    Event = old_apps.get_model("events", "Event")
    OldRegistration = old_apps.get_model("events", "Registration")
    now = timezone.now()
    ev = Event.objects.create(
        title="Before",
        slug="before",
        type="webinar",
        summary="s",
        description="d",
        starts_at=now,
        ends_at=now,
        capacity=5,
        registration_opens_at=now,
        registration_closes_at=now,
        status="published",
    )
    for n, status in enumerate(["confirmed", "unconfirmed", "waiting", "cancelled"]):
        OldRegistration.objects.create(
            event=ev,
            name=f"Person {n}",
            email=f"p{n}@example.org",
            organisation="o",
            role="r",
            status=status,
            code=f"old-code-{n}",
        )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    rows = {r.status: r for r in Registration.objects.filter(event_id=ev.pk)}
    assert {r.manage_token for r in rows.values()} == {f"old-code-{n}" for n in range(4)}
    codes = [r.checkin_code for r in rows.values()]
    assert len(set(codes)) == 4
    assert all(len(c) == 8 and set(c) <= set(CHECKIN_ALPHABET) for c in codes)
    # The old confirmation links no longer work, so the request lapses.
    unconfirmed = rows["unconfirmed"]
    assert unconfirmed.confirm_token_hash is None
    lapse = unconfirmed.confirm_expires_at - unconfirmed.created_at
    assert lapse == datetime.timedelta(hours=48)
    assert rows["confirmed"].confirm_expires_at is None
