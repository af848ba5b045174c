"""Nothing shown to a signed-in person may be kept by a browser or proxy."""

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.urls import reverse

from tests.conftest import reauthenticate
from tests.factories import ProfileFactory, team_member

pytestmark = pytest.mark.django_db

NO_STORE = "private, no-store"


@pytest.mark.parametrize("name", ["members:dashboard", "members:profile", "home"])
def test_member_pages_are_private_and_not_stored(client, name):
    client.force_login(ProfileFactory().user)
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert response["Cache-Control"] == NO_STORE


@pytest.mark.parametrize(
    "name", ["members:staff_home", "members:staff_members", "members:staff_reports"]
)
def test_staff_pages_are_private_and_not_stored(client, name):
    client.force_login(team_member("Membership team"))
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert response["Cache-Control"] == NO_STORE


def test_the_streamed_member_list_is_private_and_not_stored(client):
    client.force_login(team_member("Membership team"))
    response = client.get(reverse("members:staff_member_export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Cache-Control"] == NO_STORE


def test_the_recovery_codes_page_is_private_and_not_stored(client):
    staff = team_member("Membership team")
    RecoveryCodes.activate(staff)
    client.force_login(staff)
    reauthenticate(client)
    response = client.get(reverse("mfa_view_recovery_codes"))
    assert response.status_code == 200
    assert response["Cache-Control"] == NO_STORE


def test_anonymous_public_pages_stay_cacheable(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
