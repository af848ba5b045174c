"""Every email the portal sends, its own and allauth's, is built on the one
base template: HTML with a plain-text alternative, the IGPM's name, the
footer with contact details and the reason the person got it."""

import datetime
from pathlib import Path
from types import SimpleNamespace

import allauth
import pytest
from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from igpm.brand import LOGO_CID, organisation
from igpm.emails import DEFAULT_REASON, email_build, text_to_html

TEMPLATES = Path(settings.BASE_DIR) / "templates"
ALLAUTH_TEMPLATES = Path(allauth.__file__).parent / "templates"
HOST_NAMES = ("127.0.0.1", "testserver", "localhost", "example.com")


def _prefixes(root: Path, pattern: str) -> list[str]:
    return sorted(
        str(path.relative_to(root))[: -len("_subject.txt")] for path in root.glob(pattern)
    )


PORTAL_EMAILS = _prefixes(TEMPLATES, "*/email/*_subject.txt")
# Every email allauth can send (account and two-factor), whether the
# portal overrides its text or not.
ALLAUTH_EMAILS = _prefixes(ALLAUTH_TEMPLATES, "account/email/*_subject.txt") + _prefixes(
    ALLAUTH_TEMPLATES, "mfa/email/*_subject.txt"
)


class Anything:
    """A stand-in for any context object: every attribute and item is
    another stand-in (a date for ``*_on``, a time for ``*_at``), it is
    "1" as text (so ``{% url %}`` can reverse an id or a token) and it
    iterates as empty."""

    def __getattr__(self, name):
        # Dates and times are real, for the ``date`` filter.
        if name.endswith("_on"):
            return datetime.date(2025, 9, 1)
        if name.endswith("_at"):
            return datetime.datetime(2025, 9, 1, 9, 30, tzinfo=datetime.UTC)
        return self

    def __getitem__(self, key):
        # The template engine tries ``obj[name]`` before ``obj.name``.
        return self.__getattr__(str(key))

    def __iter__(self):
        return iter(())

    def __str__(self):
        return "1"


class AnythingContext(dict):
    def __missing__(self, key):
        return Anything()


def _context(**extra) -> dict:
    names = (
        "payment", "membership", "user", "application", "certificate", "event",
        "registration", "notice", "request", "export", "period_start", "code",
        "email", "activate_url", "password_reset_url", "signup_url", "from_email",
        "to_email", "deleted_email", "ip", "user_agent", "timestamp", "confirm_token",
        "joining_link", "resent", "address", "grade", "account", "invitation", "year",
        "by",
    )  # fmt: skip
    now = datetime.datetime(2025, 9, 1, 9, 30, tzinfo=datetime.UTC)
    return {name: Anything() for name in names} | {"timestamp": now} | extra


def _assert_in_house_style(message, prefix: str) -> None:
    assert isinstance(message, EmailMultiAlternatives), prefix
    html = [content for content, mimetype in message.alternatives if mimetype == "text/html"]
    assert len(html) == 1, f"{prefix}: no HTML part"
    text, html = message.body, html[0]
    org = organisation()
    for part, name in ((text, "text"), (html, "HTML")):
        assert org.name in part, f"{prefix} ({name}): no IGPM name"
        assert org.contact_email in part, f"{prefix} ({name}): no contact address"
        assert org.registration in part, f"{prefix} ({name}): no registration"
        assert "You are getting this email because" in part, f"{prefix} ({name}): no reason"
        assert "Hello from" not in part, prefix
    greeting = text.strip().split("\n\n")[0]
    assert not any(host in greeting for host in HOST_NAMES), f"{prefix}: {greeting!r}"
    assert DEFAULT_REASON not in text, f"{prefix}: write {prefix}_reason.txt"
    assert 'src="cid:igpm-logo"' in html
    mime = message.message()
    logos = [part for part in mime.walk() if part.get_content_type() == "image/png"]
    assert [logo["Content-ID"] for logo in logos] == [f"<{LOGO_CID}>"], prefix
    related = next(p for p in mime.walk() if p.get_content_type() == "multipart/related")
    assert [p.get_content_type() for p in related.get_payload()] == ["text/html", "image/png"]


@pytest.mark.parametrize("prefix", PORTAL_EMAILS)
def test_every_portal_email_has_both_parts_the_name_and_the_footer(prefix):
    message = email_build(to="member@example.org", template=prefix, context=_context())
    _assert_in_house_style(message, prefix)


@pytest.mark.parametrize("prefix", ALLAUTH_EMAILS)
def test_every_allauth_email_has_both_parts_the_name_and_the_footer(prefix, rf):
    from members.adapters import AccountAdapter

    request = rf.get("/")
    adapter = AccountAdapter(request)
    context = _context(request=request, current_site=SimpleNamespace(name="x", domain="x"))
    message = adapter.render_mail(prefix, "member@example.org", context)
    _assert_in_house_style(message, prefix)
    assert message.from_email == settings.DEFAULT_FROM_EMAIL


def test_the_portal_has_emails_to_walk():
    """A glob that found nothing would make the walks above pass
    vacuously."""
    assert "members/email/receipt" in PORTAL_EMAILS
    assert "events/email/confirmed" in PORTAL_EMAILS
    assert "accreditation/email/approved" in PORTAL_EMAILS
    assert "account/email/email_confirmation_signup" in ALLAUTH_EMAILS
    assert "mfa/email/totp_activated" in ALLAUTH_EMAILS


@pytest.mark.django_db
def test_the_sign_up_verification_email_greets_from_the_igpm_not_the_host(client):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "new@example.org",
            "password1": "a-Long-pass-phrase-42",
            "password2": "a-Long-pass-phrase-42",
        },
    )
    assert response.status_code == 302
    [message] = mail.outbox
    _assert_in_house_style(message, "account/email/email_confirmation_signup")
    assert message.body.startswith("Hello,\n")
    assert "This address was given for an account on the IGPM portal" in message.body
    html = message.alternatives[0][0]
    assert "verify" in html.lower()


@pytest.mark.django_db
def test_allauth_emails_greet_a_known_member_by_name_as_the_portal_does(client):
    from tests.factories import UserFactory

    UserFactory(email="priya@example.org", first_name="Priya")
    response = client.post(reverse("account_reset_password"), {"email": "priya@example.org"})
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.body.startswith("Dear Priya,\n")


def test_dates_in_emails_are_british():
    membership = SimpleNamespace(
        expires_on=datetime.date(2025, 9, 1), grace_ends_on=datetime.date(2025, 10, 1)
    )
    message = email_build(
        to="member@example.org",
        template="members/email/notice_renewal_30",
        context=_context(membership=membership),
    )
    assert "1 September 2025" in message.subject
    assert "1 September 2025" in message.body


def test_the_html_part_escapes_the_text_and_links_addresses():
    html = text_to_html(
        "Smith & Jones <b>Ltd</b>\nsee https://portal.example.org/a?b=1&c=2\n\nNext"
    )
    assert "Smith &amp; Jones &lt;b&gt;Ltd&lt;/b&gt;<br>" in html
    assert '<a href="https://portal.example.org/a?b=1&amp;c=2"' in html
    assert html.count("<p>") == 2


def test_an_email_without_a_reason_file_still_goes_out(tmp_path, settings):
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "hello_subject.txt").write_text("Hi")
    (tmp_path / "new" / "hello.txt").write_text("Dear member,\n\nHello.")
    message = email_build(to="m@example.org", template="new/hello", context={})
    assert DEFAULT_REASON in message.body
    assert message.subject == "[IGPM] Hi"


def test_an_email_with_its_own_html_uses_it_inside_the_base(tmp_path, settings):
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "table_subject.txt").write_text("Your figures")
    (tmp_path / "new" / "table_reason.txt").write_text("You are getting this email because.")
    (tmp_path / "new" / "table.txt").write_text("Dear member,\n\nTotal: 3")
    (tmp_path / "new" / "table.html").write_text(
        '{% extends "email/base.html" %}{% block content %}<table><tr><td>Total</td>'
        "<td>3</td></tr></table>{% endblock content %}"
    )
    message = email_build(to="m@example.org", template="new/table", context={})
    html = message.alternatives[0][0]
    assert "<td>Total</td>" in html
    assert organisation().contact_email in html
    assert "Total: 3" in message.body


def test_the_logo_is_not_one_of_the_attachments():
    """Callers' attachments (receipts, calendar entries) are the email's
    documents; the logo travels with the HTML part instead."""
    message = email_build(
        to="m@example.org",
        template="members/email/receipt",
        context=_context(),
        attachments=[("R-1.pdf", b"%PDF-1.7", "application/pdf")],
    )
    assert [a[0] for a in message.attachments] == ["R-1.pdf"]
    mime = message.message()
    assert mime.get_content_type() == "multipart/mixed"
    kinds = [part.get_content_type() for part in mime.get_payload()]
    assert kinds == ["multipart/alternative", "application/pdf"]
