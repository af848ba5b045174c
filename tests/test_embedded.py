"""The embedded default (igpm.settings.local, SQLite, no servers) signs a
member in and serves the pages every signed-in request goes through: the
compiled queries (igpm.compiled) pass SQLite its dates and times as text
and read them back as the ORM does."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Run in the embedded default's own process: a member with a paid year
# signs in and opens the dashboard and an event page; an expired session
# signs in no one.
SCRIPT = """
import datetime
from django.test import Client
from django.test.utils import setup_test_environment
from django.utils import timezone
from members.models import Session
from tests.factories import active_member, event

setup_test_environment()
member = active_member()
held = event()
client = Client(HTTP_HOST="localhost")
client.force_login(member)
assert Session.objects.get(session_key=client.session.session_key).user_id == member.pk
dashboard = client.get("/dashboard/")
print("dashboard", dashboard.status_code, member.first_name.encode() in dashboard.content)
page = client.get(held.get_absolute_url())
print("event", page.status_code, b"You are registering as" in page.content)
client.post(held.get_absolute_url(), {"access_requirements": "", "dietary_requirements": ""})
client.cookies.pop("igpm_places_changed", None)
print("booked", b"You are booked" in client.get(held.get_absolute_url()).content)
Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
print("expired", client.get("/dashboard/").status_code)
"""


def test_the_embedded_default_signs_a_member_in_on_sqlite(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "igpm.settings.local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'igpm.sqlite3'}",
        # Nothing it queues or stores reaches the demo's own var/.
        "CELERY_BROKER_URL": "memory://",
        "DJANGO_MEDIA_ROOT": str(tmp_path / "private"),
        "PYTHONWARNINGS": "ignore",
    }

    def manage(*args: str) -> str:
        done = subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
            [sys.executable, "manage.py", *args],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    manage("migrate", "-v0")
    lines = manage("shell", "-c", SCRIPT).split("\n")
    assert "dashboard 200 True" in lines
    assert "event 200 True" in lines
    assert "booked True" in lines
    assert "expired 302" in lines
