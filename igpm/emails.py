"""Plain-text emails from templates (``templates/<app>/email/``)."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template import Context
from django.template.loader import get_template


def email_build(
    *,
    to: str | list[str],
    template: str,
    context: dict,
    attachments: list[tuple[str, bytes, str]] | None = None,
    connection=None,
) -> EmailMessage:
    """``template`` names a pair: ``<template>_subject.txt`` and ``.txt``,
    e.g. ``members/email/receipt``. ``to`` is one address or several;
    ``attachments`` are ``(filename, content, mimetype)``."""
    context = {"site_url": settings.SITE_URL, **context}
    subject = _render_text(f"{template}_subject.txt", context)
    body = _render_text(f"{template}.txt", context)
    message = EmailMessage(
        subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split()),
        body=body,
        to=[to] if isinstance(to, str) else list(to),
        connection=connection,
    )
    for name, content, mimetype in attachments or []:
        message.attach(name, content, mimetype)
    return message


def _render_text(name: str, context: dict) -> str:
    # Plain text: nothing is HTML-escaped ("Smith & Jones" stays as typed).
    return get_template(name).template.render(Context(context, autoescape=False))
