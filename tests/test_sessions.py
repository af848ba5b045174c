"""Sessions end after a time without requests: 30 minutes for staff, a
configurable time for members."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.factories import ProfileFactory, StaffFactory

pytestmark = pytest.mark.django_db


def test_staff_are_signed_out_after_thirty_idle_minutes(client):
    staff = StaffFactory(mfa=True)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(staff)
        assert client.get(reverse("members:staff_home")).status_code == 200
    with time_machine.travel(start + datetime.timedelta(minutes=29), tick=False):
        assert client.get(reverse("members:staff_home")).status_code == 200
    # Activity moves the clock on: 29 more idle minutes are still fine.
    with time_machine.travel(start + datetime.timedelta(minutes=58), tick=False):
        assert client.get(reverse("members:staff_home")).status_code == 200
    with time_machine.travel(start + datetime.timedelta(minutes=89), tick=False):
        response = client.get(reverse("members:staff_home"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
        follow = client.get(response["Location"])
        assert "signed out after 30 minutes without activity" in follow.content.decode()
        assert client.get(reverse("members:dashboard")).status_code == 302


def test_members_idle_timeout_is_a_setting(client, settings):
    settings.SESSION_IDLE_TIMEOUT_MEMBER_SECONDS = 60 * 60
    user = ProfileFactory().user
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(user)
        assert client.get(reverse("members:dashboard")).status_code == 200
    with time_machine.travel(start + datetime.timedelta(minutes=45), tick=False):
        assert client.get(reverse("members:dashboard")).status_code == 200
    with time_machine.travel(start + datetime.timedelta(minutes=106), tick=False):
        assert client.get(reverse("members:dashboard")).status_code == 302


def test_members_are_not_held_to_the_staff_timeout(client):
    user = ProfileFactory().user
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(user)
        client.get(reverse("members:dashboard"))
    with time_machine.travel(start + datetime.timedelta(minutes=90), tick=False):
        assert client.get(reverse("members:dashboard")).status_code == 200
