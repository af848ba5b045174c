"""Public certificate checks: limited per client address, and kept out of
search engines."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from tests.accreditation.test_applications import approved_certificate

pytestmark = pytest.mark.django_db

SEARCH = reverse("accreditation:verify_search")


@pytest.fixture
def three_a_minute(settings):
    settings.VERIFY_RATE_LIMIT = "3/m/ip"


def _search(client, surname="Smith", **extra):
    return client.get(SEARCH, {"number": "IGPM-ACC-2026-00001", "surname": surname}, **extra)


def test_searches_over_the_limit_are_refused_with_a_message(three_a_minute):
    client = Client(REMOTE_ADDR="203.0.113.7")
    for surname in ("Smith", "Jones", "Taylor"):
        assert _search(client, surname).status_code == 200
    refused = _search(client, "Brown")
    assert refused.status_code == 429
    html = refused.content.decode()
    assert "You have checked a lot of certificates in a short time" in html
    # What was typed comes back, ready to send again later.
    assert 'value="IGPM-ACC-2026-00001"' in html
    assert 'value="Brown"' in html
    # Another address has its own allowance.
    assert _search(Client(REMOTE_ADDR="198.51.100.9")).status_code == 200


def test_a_throttled_search_reveals_nothing_even_when_it_would_match(client, pathway, settings):
    certificate = approved_certificate(client, pathway)
    client.logout()
    settings.VERIFY_RATE_LIMIT = "1/m/ip"
    surname = certificate.holder_name.split()[-1]
    query = {"number": certificate.number, "surname": surname}
    assert "This certificate is valid" in client.get(SEARCH, query).content.decode()
    again = client.get(SEARCH, query)
    assert again.status_code == 429
    assert escape(certificate.holder_name) not in again.content.decode()
    assert "This certificate is valid" not in again.content.decode()


def test_opening_the_search_page_is_not_a_search(three_a_minute):
    client = Client()
    for _ in range(5):
        assert client.get(SEARCH).status_code == 200
    assert _search(client).status_code == 200


def test_behind_the_proxy_each_visitor_has_their_own_allowance(three_a_minute, settings):
    """With the proxy depth configured, the limit follows X-Forwarded-For,
    not the proxy's own address."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    for _ in range(3):
        assert _search(proxy, HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 200
    assert _search(proxy, HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
    assert _search(proxy, HTTP_X_FORWARDED_FOR="198.51.100.9").status_code == 200


def test_verification_pages_ask_not_to_be_indexed(client, pathway):
    certificate = approved_certificate(client, pathway)
    client.logout()
    pages = [
        client.get(SEARCH),
        _search(client),
        client.get(reverse("accreditation:verify", args=[certificate.verification_code])),
        client.get(reverse("accreditation:verify", args=["no-such-code"])),
    ]
    for response in pages:
        assert response["X-Robots-Tag"] == "noindex, nofollow"
