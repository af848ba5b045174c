"""Imported members claim their accounts: one invitation each, a link that
works once, staff resending on purpose."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from members.models import AuditEntry, ClaimInvitation, User
from members.register_import.invitations import (
    claim_invitation_resend,
    claim_invitations_send,
    invitations_queue,
)
from members.register_import.models import RegisterImport
from tests.factories import team_member

from .test_import import imported
from .world import csv_bytes, good_rows

pytestmark = pytest.mark.django_db
PASSWORD = "a long and unusual passphrase 42"


@pytest.fixture
def staff(db):
    return team_member("Membership team")


@pytest.fixture
def register(staff, django_capture_on_commit_callbacks):
    return imported(staff, csv_bytes(good_rows()), django_capture_on_commit_callbacks)


def link_for(email: str) -> str:
    [message] = [m for m in mail.outbox if m.to == [email]][-1:]
    return re.search(r"http://testserver(/account/claim/[^/\s]+/)", message.body).group(1)


def test_each_imported_member_is_invited_once_from_the_one_base_template(register):
    assert len(mail.outbox) == 3
    message = next(m for m in mail.outbox if m.to == ["ann@example.org"])
    assert "IGPM-005001" in message.body
    assert "claim your account" in message.subject.lower()
    # The base template's footer and reason, in both parts.
    assert "register of members" in message.body
    html = message.alternatives[0][0]
    assert "/account/claim/" in html

    # Queueing and sending again (a task run twice) sends nothing more.
    queued = []
    assert invitations_queue(import_id=register.pk, enqueue=queued.extend) == 0
    assert claim_invitations_send(invitation_ids=list(
        ClaimInvitation.objects.values_list("pk", flat=True))) == 0  # fmt: skip
    assert len(mail.outbox) == 3


def test_the_claim_link_sets_a_password_verifies_the_address_and_works_once(client, register):
    url = link_for("ann@example.org")
    page = client.get(url)
    assert page.status_code == 200
    assert "ann@example.org" in page.content.decode()

    mismatch = client.post(url, {"password1": PASSWORD, "password2": "something else"})
    assert mismatch.status_code == 400
    response = client.post(url, {"password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    ann = User.objects.get(email="ann@example.org")
    assert ann.check_password(PASSWORD)
    assert EmailAddress.objects.get(user=ann).verified
    assert ann.imported.claimed_at is not None
    assert AuditEntry.objects.filter(action="account_claimed", subject=ann).exists()
    assert client.get(reverse("members:dashboard")).status_code == 200  # signed in

    client.logout()
    assert client.get(url).status_code == 404
    again = client.post(url, {"password1": "another passphrase 99", "password2":
                              "another passphrase 99"})  # fmt: skip
    assert again.status_code == 404
    ann.refresh_from_db()
    assert ann.check_password(PASSWORD)


def test_a_tampered_link_is_refused(client, register):
    url = link_for("bob@example.org")
    assert client.get(url[:-3] + "xx/").status_code == 404


def test_staff_resend_sends_a_new_link_until_the_account_is_claimed(
    client, staff, register, django_capture_on_commit_callbacks
):
    bob = User.objects.get(email="bob@example.org")
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("members:staff_claim_resend", args=[bob.pk]))
    assert response.status_code == 302
    assert len([m for m in mail.outbox if m.to == [bob.email]]) == 2
    assert ClaimInvitation.objects.filter(user=bob, reason="resent").count() == 1

    client.logout()
    client.post(link_for(bob.email), {"password1": PASSWORD, "password2": PASSWORD})
    from members.exceptions import IllegalTransition

    with pytest.raises(IllegalTransition):
        claim_invitation_resend(user=bob, by=staff)
    assert register.status == RegisterImport.Status.IMPORTED


def test_the_claim_page_is_limited_per_client_address(settings, register):
    """Over the limit the page answers 429 with a message, whatever the
    token; another address has its own allowance; a claim still works
    from there."""
    settings.REGISTER_CLAIM_RATE_LIMIT = "3/m/ip"
    url = link_for("ann@example.org")
    stranger = Client(REMOTE_ADDR="203.0.113.7")
    for attempt in range(3):
        assert stranger.get(f"/account/claim/guess{attempt}/").status_code == 404
    refused = stranger.get(url)
    assert refused.status_code == 429
    assert "Too many attempts to claim an account" in refused.content.decode()
    posted = stranger.post(url, {"password1": PASSWORD, "password2": PASSWORD})
    assert posted.status_code == 429
    assert not User.objects.get(email="ann@example.org").has_usable_password()

    owner = Client(REMOTE_ADDR="198.51.100.9")
    assert owner.post(url, {"password1": PASSWORD, "password2": PASSWORD}).status_code == 302


def test_behind_the_proxy_the_claim_limit_follows_the_forwarded_address(settings, register):
    settings.REGISTER_CLAIM_RATE_LIMIT = "2/m/ip"
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    proxy = Client(REMOTE_ADDR="10.0.0.2")

    def claim_from(address):
        return proxy.get("/account/claim/x/", HTTP_X_FORWARDED_FOR=address).status_code

    assert [claim_from("203.0.113.7") for _ in range(3)] == [404, 404, 429]
    assert claim_from("198.51.100.9") == 404


def test_an_overlong_token_or_password_is_refused_without_work(client, register):
    url = link_for("ann@example.org")
    token = url.split("/")[-2]
    assert client.get(f"/account/claim/{token}{'a' * 300}/").status_code == 404
    huge = "x" * 10_000
    response = client.post(url, {"password1": huge, "password2": huge})
    assert response.status_code == 400
    assert "at most 256 characters" in response.content.decode()
    assert not User.objects.get(email="ann@example.org").has_usable_password()


def test_a_link_sent_to_a_wrong_address_stops_working_when_staff_correct_it_and_resend(
    client, staff, register, django_capture_on_commit_callbacks
):
    """The register had a wrong address: whoever received the first email
    cannot claim the account once staff correct the address and send the
    invitation again; the new link, to the new address, works."""
    bob = User.objects.get(email="bob@example.org")
    first = link_for("bob@example.org")
    bob.email = "robert@example.org"
    bob.save(update_fields=["email"])
    # Corrected but not yet resent: the first link is already refused.
    page = client.get(first)
    assert page.status_code == 404
    assert "This link has been replaced" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        claim_invitation_resend(user=bob, by=staff)
    second = link_for("robert@example.org")
    refused = client.post(first, {"password1": PASSWORD, "password2": PASSWORD})
    assert refused.status_code == 404
    assert "This link has been replaced" in refused.content.decode()
    bob.refresh_from_db()
    assert bob.imported.claimed_at is None
    assert not bob.has_usable_password() or not bob.check_password(PASSWORD)
    assert not EmailAddress.objects.filter(user=bob, verified=True).exists()

    assert client.post(second, {"password1": PASSWORD, "password2": PASSWORD}).status_code == 302
    bob.refresh_from_db()
    assert bob.imported.claimed_at is not None
    assert EmailAddress.objects.get(user=bob, email="robert@example.org").verified


def test_only_the_newest_invitation_link_works(client, staff, register,
                                               django_capture_on_commit_callbacks):  # fmt: skip
    """A resend to the same address cancels the older links."""
    cat = User.objects.get(email="cat@example.org")
    first = link_for("cat@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        claim_invitation_resend(user=cat, by=staff)
    second = link_for("cat@example.org")
    assert first != second
    page = client.get(first)
    assert page.status_code == 404
    assert "This link has been replaced" in page.content.decode()
    assert client.get(second).status_code == 200


def test_a_claim_checks_the_address_again_under_the_lock(staff, register):
    """The address changes between opening the page and sending it: the
    claim changes nothing."""
    from members.exceptions import IllegalTransition
    from members.register_import.forms import ClaimPasswordForm
    from members.register_import.invitations import (
        account_claim,
        claim_token,
        invitation_from_token,
    )

    cat = User.objects.get(email="cat@example.org")
    invitation = invitation_from_token(claim_token(ClaimInvitation.objects.get(user=cat)))
    User.objects.filter(pk=cat.pk).update(email="other@example.org")
    form = ClaimPasswordForm(user=cat, data={"password1": PASSWORD, "password2": PASSWORD})
    assert form.is_valid()
    with pytest.raises(IllegalTransition):
        account_claim(invitation=invitation, password_form=form)
    cat.refresh_from_db()
    assert cat.imported.claimed_at is None
    assert not EmailAddress.objects.filter(user=cat, verified=True).exists()
