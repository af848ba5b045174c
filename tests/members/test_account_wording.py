"""allauth's screens speak British English in sentence case (locale/en_GB)."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def h1(response) -> str:
    return " ".join(re.search(r"<h1[^>]*>(.*?)</h1>", response.content.decode(), re.S)[1].split())


@pytest.mark.parametrize(
    ("name", "heading"),
    [
        ("account_signup", "Sign up"),
        ("account_login", "Sign in"),
        ("account_reset_password", "Password reset"),
        ("account_email_verification_sent", "Verify your email address"),
    ],
)
def test_headings_are_in_sentence_case(client, name, heading):
    assert h1(client.get(reverse(name))) == heading


def test_the_verification_page_says_finalise(client):
    html = client.get(reverse("account_email_verification_sent")).content.decode()
    assert "finalise signing up" in html
    assert "finalize" not in html


def test_two_factor_pages_are_in_sentence_case(member_client):
    assert h1(member_client.get(reverse("mfa_index"))) == "Two-factor authentication"
    assert h1(member_client.get(reverse("account_change_password"))) == "Change password"
