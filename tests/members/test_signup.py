import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from members.models import Profile, User
from tests.factories import PASSWORD, UserFactory, care_board

pytestmark = pytest.mark.django_db

CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/accounts/confirm-email/[^/\s]+/)")


def confirmation_path(message) -> str:
    match = CONFIRM_LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def profile_data(**overrides):
    data = {
        "first_name": "Amara",
        "last_name": "Okafor",
        "job_title": "Practice Manager",
        "role": Profile.Role.PRACTICE_MANAGER,
        "organisation_name": "Riverside Medical Centre",
        "ods_code": " a81001 ",
        "pcn_name": "Riverside PCN",
        "care_board": care_board().pk,
        "years_in_role": "6",
        "phone": "0191 496 0000",
    }
    data.update(overrides)
    return data


def test_sign_up_verify_log_in_and_complete_profile(client):
    """The whole first visit: sign up, confirm the emailed link, land on the
    profile, fill it in, reach the dashboard; later, sign in again."""
    response = client.post(
        reverse("account_signup"),
        {"email": "Amara.Okafor@Example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get()
    assert user.email == "amara.okafor@example.org"
    assert not EmailAddress.objects.get(user=user).verified

    # Unverified: the dashboard is not open yet, signing in is refused.
    assert client.get(reverse("members:dashboard")).status_code == 302

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["amara.okafor@example.org"]
    path = confirmation_path(message)
    assert client.get(path).status_code == 200
    response = client.post(path)
    assert response.status_code == 302
    assert response["Location"] == reverse("members:profile")
    assert EmailAddress.objects.get(user=user).verified

    response = client.get(reverse("members:profile"))
    assert response.status_code == 200
    response = client.post(reverse("members:profile"), profile_data())
    assert response.status_code == 302
    assert response["Location"] == reverse("members:dashboard")

    profile = Profile.objects.select_related("user").get(user=user)
    assert profile.ods_code == "A81001"
    assert profile.user.get_full_name() == "Amara Okafor"
    assert profile.show_in_directory is False
    assert profile.marketing_consent is False

    dashboard = client.get(reverse("members:dashboard"))
    assert b"Profile 100% complete" in dashboard.content

    client.post(reverse("account_logout"))
    response = client.post(
        reverse("account_login"), {"login": "amara.okafor@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("members:dashboard")


def test_unverified_account_cannot_sign_in(client):
    UserFactory(email="new@example.org", verified=False)
    response = client.post(
        reverse("account_login"), {"login": "new@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert client.get(reverse("members:dashboard")).status_code == 302


def test_mismatched_passwords_are_explained_and_email_kept(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "kept@example.org", "password1": PASSWORD, "password2": PASSWORD + "x"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert 'id="id_password2_error"' in html
    assert "You must type the same password each time." in html
    assert 'value="kept@example.org"' in html
    assert not User.objects.exists()


def test_signing_up_with_a_registered_address_tells_only_that_address(client):
    """Sign-up answers as for a new address, so nobody learns from it who
    has an account; the address's owner is emailed that it already has one."""
    UserFactory(email="taken@example.org")
    response = client.post(
        reverse("account_signup"),
        {"email": "TAKEN@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert User.objects.count() == 1
    (message,) = mail.outbox
    assert message.to == ["taken@example.org"]
    assert "already" in message.body
    assert "/accounts/password/reset/" in message.body


def test_missing_sign_up_fields_are_each_explained(client):
    response = client.post(
        reverse("account_signup"), {"email": "", "password1": "", "password2": ""}
    )
    html = response.content.decode()
    for field in ("email", "password1", "password2"):
        assert f'id="id_{field}_error"' in html
    assert 'href="#id_email"' in html  # the summary links to the field


def test_failed_logins_are_rate_limited(client):
    """The cache is a real one: after five wrong passwords for one address
    from one client, even the right password is refused there for a while
    (tests/members/test_account_security.py: not from the owner's own)."""
    UserFactory(email="target@example.org")
    for _ in range(5):
        response = client.post(
            reverse("account_login"), {"login": "target@example.org", "password": "wrong-password"}
        )
        assert response.status_code == 200
    response = client.post(
        reverse("account_login"), {"login": "target@example.org", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "Too many failed sign-in attempts" in response.content.decode()
