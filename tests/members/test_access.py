import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

MEMBER_PAGES = [
    "members:dashboard",
    "members:profile",
    "account_email",
    "account_change_password",
    "mfa_index",
]
STAFF_PAGES = ["members:staff_home", "admin:index", "admin:members_user_changelist"]


@pytest.mark.parametrize("name", MEMBER_PAGES + STAFF_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "next=" in response["Location"]


def test_admin_login_page_hands_over_to_the_portal_login(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("name", [*STAFF_PAGES, "admin:login"])
def test_members_without_staff_rights_get_403(member_client, name):
    assert member_client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", STAFF_PAGES)
def test_staff_without_two_factor_are_sent_to_enrol(client, staff_without_mfa, name):
    client.force_login(staff_without_mfa)
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


@pytest.mark.parametrize("name", ["members:staff_home", "admin:index"])
def test_staff_with_two_factor_get_in(client, staff_with_mfa, name):
    client.force_login(staff_with_mfa)
    assert client.get(reverse(name)).status_code == 200


def test_admin_screens_still_need_their_model_permission(client, staff_with_mfa):
    client.force_login(staff_with_mfa)
    url = reverse("admin:members_user_changelist")
    assert client.get(url).status_code == 403
    staff_with_mfa.is_superuser = True
    staff_with_mfa.save()
    assert client.get(url).status_code == 200


def test_staff_with_two_factor_must_give_a_code_to_sign_in(client, staff_with_mfa):
    from tests.factories import PASSWORD

    response = client.post(
        reverse("account_login"), {"login": staff_with_mfa.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("members:staff_home")).status_code == 302


def test_public_pages_are_open(client, db):
    for name in ("home", "account_login", "account_signup", "account_reset_password"):
        assert client.get(reverse(name)).status_code == 200, name
