"""Where people land after signing in."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.urls import reverse

from tests.factories import PASSWORD, ProfileFactory, StaffFactory
from tests.members.test_mfa_secrets import SECRET, current_code

pytestmark = pytest.mark.django_db


def test_staff_land_on_the_staff_home_after_their_second_factor(client):
    staff = StaffFactory(mfa=False, email="staff@example.org")
    TOTP.activate(staff, SECRET)
    client.post(reverse("account_login"), {"login": staff.email, "password": PASSWORD})
    response = client.post(reverse("mfa_authenticate"), {"code": current_code(SECRET)})
    assert response.status_code == 302
    assert response["Location"] == reverse("members:staff_home")


def test_a_member_with_a_finished_profile_lands_on_the_dashboard(client):
    member = ProfileFactory().user
    response = client.post(reverse("account_login"), {"login": member.email, "password": PASSWORD})
    assert response["Location"] == reverse("members:dashboard")


def test_a_next_address_still_wins_for_staff(client):
    staff = StaffFactory(mfa=False, email="staff@example.org")
    TOTP.activate(staff, SECRET)
    next_url = reverse("members:staff_attention")
    client.post(
        reverse("account_login") + f"?next={next_url}",
        {"login": staff.email, "password": PASSWORD, "next": next_url},
    )
    response = client.post(reverse("mfa_authenticate"), {"code": current_code(SECRET)})
    assert response["Location"] == next_url
