"""Emails from templates (``templates/<app>/email/``), every one in the
base template (``templates/email/base.txt`` and ``base.html``).

An email is written once, as plain text in ``<template>.txt``. The text
part is that text inside ``email/base.txt``; the HTML part is the same
text, escaped, in paragraphs with its links made clickable, inside
``email/base.html``. An email that needs more than paragraphs (a table, a
button) may have its own ``<template>.html``, extending
``email/base.html``. Both parts carry the organisation's name, the
footer with its contact details, and the reason the person got the email,
from ``<template>_reason.txt`` beside the subject. The logo travels with
the HTML part as an inline image, never as a remote URL.
"""

import re
from email.mime.image import MIMEImage

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEMultipart
from django.template import Context, TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.utils.html import urlize
from django.utils.safestring import mark_safe

from .brand import LOGO_CID, logo_bytes, organisation

BASE_TEXT = "email/base.txt"
BASE_HTML = "email/base.html"
DEFAULT_REASON = "You are getting this email because of your account on the IGPM portal."


def email_build(
    *,
    to: str | list[str],
    template: str,
    context: dict,
    attachments: list[tuple[str, bytes, str]] | None = None,
    connection=None,
    body: str = "",
) -> EmailMultiAlternatives:
    """``template`` names a set: ``<template>_subject.txt``,
    ``<template>_reason.txt`` and ``<template><body>.txt`` (``body`` is
    ``"_message"`` for allauth's names), e.g. ``members/email/receipt``.
    ``to`` is one address or several; ``attachments`` are
    ``(filename, content, mimetype)``."""
    context = {"site_url": settings.SITE_URL, "org": organisation(), **context}
    subject = " ".join(_render_text(f"{template}_subject.txt", context).split())
    reason = " ".join(_reason(template, context).split())
    text = _render_text(f"{template}{body}.txt", context).strip()
    parts = {**context, "subject": subject, "reason": reason}
    message = PortalEmail(
        subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject,
        body=_render_text(BASE_TEXT, {**parts, "content": text}),
        to=[to] if isinstance(to, str) else list(to),
        connection=connection,
    )
    message.attach_alternative(_render_html(f"{template}{body}.html", parts, text), "text/html")
    for name, content, mimetype in attachments or []:
        message.attach(name, content, mimetype)
    return message


class PortalEmail(EmailMultiAlternatives):
    """The HTML part travels with the logo it shows, as multipart/related
    (RFC 2387): text | (HTML + logo), then any attachments. The logo is
    not in ``attachments``, which stay the documents the email is about."""

    def _create_alternatives(self, msg):
        msg = super()._create_alternatives(msg)
        parts = msg.get_payload()
        html = parts[-1]
        related = SafeMIMEMultipart(
            _subtype="related", encoding=self.encoding or settings.DEFAULT_CHARSET
        )
        related.attach(html)
        related.attach(_logo())
        parts[-1] = related
        return msg


def _render_text(name: str, context: dict) -> str:
    # Plain text: nothing is HTML-escaped ("Smith & Jones" stays as typed).
    return get_template(name).template.render(Context(context, autoescape=False))


def _reason(template: str, context: dict) -> str:
    # tests/test_emails.py insists on a reason for every email; this keeps
    # an email without one going out rather than failing to send.
    try:
        return _render_text(f"{template}_reason.txt", context)
    except TemplateDoesNotExist:
        return DEFAULT_REASON


def _render_html(name: str, context: dict, text: str) -> str:
    try:
        return render_to_string(name, context)
    except TemplateDoesNotExist:
        return render_to_string(BASE_HTML, {**context, "content": text_to_html(text)})


def text_to_html(text: str) -> str:
    """Paragraphs (blank-line separated) of escaped text, lines kept, and
    addresses made links, so a plain-text email reads the same in HTML."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    html = []
    for paragraph in paragraphs:
        lines = [urlize(line.strip(), autoescape=True) for line in paragraph.splitlines()]
        html.append("<p>" + "<br>\n".join(lines) + "</p>")
    # urlize(autoescape=True) escapes everything that is not a link.
    return mark_safe("\n".join(html))  # noqa: S308


def _logo() -> MIMEImage:
    # Attached, not linked: mail clients block remote images, and a
    # remote URL would tell a tracker when the email was opened.
    image = MIMEImage(logo_bytes(), "png")
    image.add_header("Content-ID", f"<{LOGO_CID}>")
    image.add_header("Content-Disposition", "inline", filename="igpm-logo.png")
    return image
