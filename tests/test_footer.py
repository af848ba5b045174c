"""Every page's footer says who runs the portal and how to reach them, and
links to the privacy notice, the accessibility statement and the ICO."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_footer_shows_the_organisation_from_settings(client, settings):
    settings.IGPM_CONTACT_EMAIL = "hello@igpm.example"
    settings.IGPM_CONTACT_PHONE = "0113 496 0000"
    settings.IGPM_REGISTERED_ADDRESS = "IGPM, 2 Park Row, Leeds, LS1 5AB"
    settings.IGPM_REGISTRATION = "Registered charity number 1234567"
    html = client.get(reverse("events:list")).content.decode()
    footer = html[html.index('<footer class="site-footer">') :]
    assert 'href="mailto:hello@igpm.example"' in footer
    assert 'href="tel:01134960000"' in footer
    assert "2 Park Row<br>Leeds<br>LS1 5AB" in footer
    assert "Registered charity number 1234567" in footer
    assert f'href="{reverse("privacy")}"' in footer
    assert f'href="{reverse("accessibility")}"' in footer
    assert 'href="https://ico.org.uk/"' in footer


def test_the_header_logo_is_the_replaceable_brand_file(client):
    html = client.get(reverse("home")).content.decode()
    assert 'src="/static/brand/logo.svg"' in html
    assert 'href="/static/css/brand.css"' in html


def test_the_accessibility_statement_names_the_standard_and_how_to_report(client, settings):
    settings.IGPM_CONTACT_EMAIL = "access@igpm.example"
    response = client.get(reverse("accessibility"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Accessibility statement</h1>" in html
    assert "WCAG) version 2.2 at level AA" in html
    assert "<h2>Reporting a problem</h2>" in html
    assert 'href="mailto:access@igpm.example"' in html


def test_page_titles_end_with_the_short_name_from_settings(client, settings):
    settings.IGPM_SHORT_NAME = "The Institute"
    html = client.get(reverse("accessibility")).content.decode()
    assert "<title>Accessibility statement \u2013 The Institute</title>" in html
