"""Account hardening, over HTTP: re-authentication before sensitive changes,
notices of them, sign-in rate limits behind the proxy, and the password
reset form that tells nobody whether an address has an account."""

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core import mail
from django.urls import reverse

from members.models import DataExport, ErasureRequest
from tests.conftest import reauthenticate
from tests.factories import PASSWORD, ProfileFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"  # the reverse proxy: every request arrives from it
OWNER_ADDRESS = "203.0.113.5"
ATTACKER_ADDRESS = "198.51.100.7"


def sign_in(client, email, password=PASSWORD, client_address=None):
    extra = {}
    if client_address:
        extra = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": client_address}
    return client.post(reverse("account_login"), {"login": email, "password": password}, **extra)


def reauthentication_url(next_path: str) -> str:
    return f"{reverse('account_reauthenticate')}?next={next_path.replace('/', '%2F')}"


# --- 2. Re-authentication and notices ------------------------------------------


def test_making_another_address_primary_needs_the_password_and_tells_the_old_one(client):
    """A session alone cannot swap the account's address: it is sent to give
    the password first, and the old address hears of the change."""
    user = ProfileFactory(user__email="owner@example.org").user
    EmailAddress.objects.create(user=user, email="new@example.org", verified=True)
    assert sign_in(client, "owner@example.org").status_code == 302
    mail.outbox.clear()

    data = {"email": "new@example.org", "action_primary": ""}
    response = client.post(reverse("account_email"), data, HTTP_USER_AGENT="Firefox/140")
    assert response.status_code == 302
    assert response["Location"] == reauthentication_url(reverse("account_email"))
    assert EmailAddress.objects.get_primary(user).email == "owner@example.org"
    assert mail.outbox == []

    # The right password resumes the change that was asked for.
    response = client.post(
        response["Location"], {"password": PASSWORD}, HTTP_USER_AGENT="Firefox/140"
    )
    assert response.status_code == 302
    assert EmailAddress.objects.get_primary(user).email == "new@example.org"
    (notice,) = mail.outbox
    assert notice.to == ["owner@example.org"]
    assert notice.subject.startswith("[IGPM] ")
    assert "from owner@example.org to new@example.org" in notice.body
    assert "Firefox/140" in notice.body
    # The portal's own wording and footer, not allauth's "Hello from testserver".
    assert "testserver!" not in notice.body
    assert "Institute of General Practice Management" in notice.body
    assert "http://testserver/accounts/password/change/" in notice.body


def test_adding_an_address_needs_the_password(member_client, member):
    response = member_client.post(
        reverse("account_email"), {"email": "extra@example.org", "action_add": ""}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert not EmailAddress.objects.filter(email="extra@example.org").exists()


def test_a_wrong_password_does_not_reauthenticate(member_client, member):
    url = reauthentication_url(reverse("account_email"))
    response = member_client.post(url, {"password": "not-the-password"})
    assert response.status_code == 200
    assert "Incorrect password." in response.content.decode()


def test_changing_the_password_needs_the_old_one_and_is_notified(client):
    UserFactory(email="owner@example.org")
    sign_in(client, "owner@example.org")
    new = "a-brand-new-long-password"
    url = reverse("account_change_password")
    response = client.post(url, {"oldpassword": "wrong", "password1": new, "password2": new})
    assert response.status_code == 200
    assert mail.outbox == []

    response = client.post(url, {"oldpassword": PASSWORD, "password1": new, "password2": new})
    assert response.status_code == 302
    (notice,) = mail.outbox
    assert notice.to == ["owner@example.org"]
    assert "Your password has been changed" in notice.body
    assert "Institute of General Practice Management" in notice.body


def test_turning_two_factor_off_needs_reauthentication_and_is_notified(client):
    user = UserFactory(email="owner@example.org")
    TOTP.activate(user, generate_totp_secret())
    client.force_login(user)
    url = reverse("mfa_deactivate_totp")
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert Authenticator.objects.filter(user=user).exists()

    reauthenticate(client)
    response = client.post(url)
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    (notice,) = mail.outbox
    assert notice.to == ["owner@example.org"]
    assert "Authenticator app deactivated" in notice.body


def test_asking_for_a_copy_of_your_data_needs_the_password_first(
    client, django_capture_on_commit_callbacks
):
    user = ProfileFactory().user
    client.force_login(user)
    url = reverse("members:privacy_export")
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reauthentication_url(url)
    assert not DataExport.objects.exists()

    # Giving the password carries out the request that was held back.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(response["Location"], {"password": PASSWORD})
    assert response.status_code == 302
    export = DataExport.objects.get(user=user)
    assert export.status == DataExport.Status.READY

    # Later, in a session that has not re-authenticated, the emailed link
    # still downloads the archive for its signed-in owner.
    (message,) = [m for m in mail.outbox if "ready to download" in m.subject]
    link = re.search(r"http://testserver(/account/privacy/export/\S+/)", message.body).group(1)
    later = client.__class__()
    later.force_login(user)
    response = later.get(link)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"


def test_asking_to_delete_the_account_needs_the_password_first(client):
    user = ProfileFactory().user
    client.force_login(user)
    url = reverse("members:privacy_erasure")
    assert client.get(url).status_code == 200  # what goes and what is kept
    response = client.post(url, {"confirm": "on"})
    assert response.status_code == 302
    assert response["Location"] == reauthentication_url(url)
    assert not ErasureRequest.objects.exists()

    client.post(response["Location"], {"password": PASSWORD})
    assert ErasureRequest.objects.filter(user=user).exists()


# --- 3. Sign-in rate limits behind the proxy -----------------------------------


@pytest.fixture
def behind_one_proxy(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1


def test_clients_behind_the_proxy_have_separate_buckets(client, behind_one_proxy):
    """Ten wrong passwords from one address use up that address's bucket,
    not everyone's: the proxy's address is not the client's."""
    ProfileFactory(user__email="owner@example.org")
    for number in range(10):
        sign_in(client, f"guess{number}@example.org", "wrong", ATTACKER_ADDRESS)
    refused = sign_in(client, "another@example.org", "wrong", ATTACKER_ADDRESS)
    assert "Too many failed sign-in attempts" in refused.content.decode()

    response = sign_in(client.__class__(), "owner@example.org", PASSWORD, OWNER_ADDRESS)
    assert response.status_code == 302
    assert response["Location"] == reverse("members:dashboard")


def test_a_forged_forwarded_for_does_not_give_a_fresh_bucket(client, behind_one_proxy):
    """The proxy appends the address it saw; whatever the client wrote
    before it is not trusted."""
    for number in range(10):
        client.post(
            reverse("account_login"),
            {"login": "owner@example.org", "password": "wrong"},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{number}, {ATTACKER_ADDRESS}",
        )
    response = client.post(
        reverse("account_login"),
        {"login": "other@example.org", "password": "wrong"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=f"192.0.2.99, {ATTACKER_ADDRESS}",
    )
    assert "Too many failed sign-in attempts" in response.content.decode()


def test_an_attacker_guessing_a_password_does_not_lock_out_its_owner(client, behind_one_proxy):
    ProfileFactory(user__email="owner@example.org")
    for _ in range(5):
        response = sign_in(client, "owner@example.org", "wrong", ATTACKER_ADDRESS)
        assert response.status_code == 200
    # The attacker is slowed down on this account...
    response = sign_in(client, "owner@example.org", PASSWORD, ATTACKER_ADDRESS)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Too many failed sign-in attempts" in html
    # ... and offered what the owner would need: a sign-in code by email.
    assert f'href="{reverse("account_request_login_code")}' in html

    # The owner, from their own address, signs in as usual.
    response = sign_in(client.__class__(), "owner@example.org", PASSWORD, OWNER_ADDRESS)
    assert response.status_code == 302
    assert response["Location"] == reverse("members:dashboard")


def test_guesses_from_many_addresses_are_capped_and_the_owner_signs_in_by_code(
    client, behind_one_proxy
):
    """A spread-out attack on one account stops at the per-account cap; the
    owner can still sign in with a code sent to their address."""
    UserFactory(email="owner@example.org")
    for number in range(30):
        sign_in(client, "owner@example.org", "wrong", f"192.0.2.{number}")
    response = sign_in(client, "owner@example.org", PASSWORD, OWNER_ADDRESS)
    assert "Too many failed sign-in attempts" in response.content.decode()

    extra = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": OWNER_ADDRESS}
    mail.outbox.clear()
    response = client.post(
        reverse("account_request_login_code"), {"email": "owner@example.org"}, **extra
    )
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["owner@example.org"]
    assert "Institute of General Practice Management" in message.body
    code = re.search(r"^\s*([A-Z]{4}-[A-Z]{4})\s*$", message.body, re.MULTILINE).group(1)
    response = client.post(reverse("account_confirm_login_code"), {"code": code}, **extra)
    assert response.status_code == 302
    assert client.get(reverse("members:dashboard")).status_code == 200


def test_a_completed_password_reset_lifts_the_account_wide_cap(client, behind_one_proxy):
    ProfileFactory(user__email="owner@example.org")
    for number in range(30):
        sign_in(client, "owner@example.org", "wrong", f"192.0.2.{number}")
    extra = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": OWNER_ADDRESS}
    client.post(reverse("account_reset_password"), {"email": "owner@example.org"}, **extra)
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[-1].body)
    form_url = client.get(link.group(1), **extra)["Location"]
    new = "a-brand-new-long-password"
    response = client.post(form_url, {"password1": new, "password2": new}, **extra)
    assert response.status_code == 302

    response = sign_in(client.__class__(), "owner@example.org", new, OWNER_ADDRESS)
    assert response.status_code == 302
    assert response["Location"] == reverse("members:dashboard")


def test_a_signed_in_code_still_asks_staff_for_their_second_factor(client, behind_one_proxy):
    staff = StaffFactory(mfa=True, email="staff@example.org")
    extra = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": OWNER_ADDRESS}
    client.post(reverse("account_request_login_code"), {"email": staff.email}, **extra)
    code = re.search(r"^\s*([A-Z]{4}-[A-Z]{4})\s*$", mail.outbox[-1].body, re.MULTILINE).group(1)
    response = client.post(reverse("account_confirm_login_code"), {"code": code}, **extra)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("members:staff_home")).status_code == 302


# --- 10. The password reset form tells nothing ---------------------------------


def test_password_reset_answers_the_same_for_known_and_unknown_addresses(client):
    UserFactory(email="known@example.org")
    url = reverse("account_reset_password")
    known = client.post(url, {"email": "known@example.org"})
    unknown = client.post(url, {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("account_reset_password_done")
    assert client.get(known["Location"]).content == client.get(unknown["Location"]).content
    # Each address gets one email: a reset link, or word that it has no account.
    assert [m.to for m in mail.outbox] == [["known@example.org"], ["nobody@example.org"]]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body
    assert "/accounts/password/reset/key/" not in mail.outbox[1].body
