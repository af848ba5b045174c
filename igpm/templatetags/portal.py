"""Filters for the portal's own voice, and the links and static files of
every page's header and footer, built into every template
(``TEMPLATES["OPTIONS"]["builtins"]``), so no page needs ``{% load %}``."""

from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.defaultfilters import floatformat
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()

# The path of each view named in a {% link %}, by URLconf and script prefix.
_LINKS: dict[tuple[str, str, str], str] = {}


@register.simple_tag
def link(name: str) -> str:
    """``{% url name %}`` for a view that takes no arguments, worked out
    once per process (for each URLconf and script prefix): the header and
    footer link to the same dozen pages from every page, and reversing
    each again costs a tenth of the busiest pages' rendering. Unlike
    ``{% url %}`` it takes no ``current_app`` (the portal has no instance
    namespaces) and ``clear_url_caches`` does not clear it: a process
    keeps one URLconf for its life."""
    key = (str(get_urlconf() or settings.ROOT_URLCONF), get_script_prefix(), name)
    path = _LINKS.get(key)
    if path is None:
        path = _LINKS[key] = reverse(name)
    return path


# The URL of each static file named in an {% asset %}, by script prefix.
_ASSETS: dict[tuple[str, str], str] = {}


@register.simple_tag
def asset(path: str) -> str:
    """``{% static path %}``, worked out once per process (for each script
    prefix): every page names the same stylesheets, script and logo, and
    the storage's lookup and URL join for each cost more than the rest of
    the page head. Forgotten when the static settings change (tests)."""
    key = (get_script_prefix(), path)
    url = _ASSETS.get(key)
    if url is None:
        url = _ASSETS[key] = static(path)
    return url


@receiver(setting_changed)
def _static_settings_changed(*, setting: str, **kwargs) -> None:
    if setting in {"STATIC_URL", "STORAGES", "STATIC_ROOT"}:
        _ASSETS.clear()


@register.filter
def filesize(value) -> str:
    """A size in bytes as people read it: "820 bytes", "48 KB", "2.4 MB".

    Django's ``filesizeformat`` writes "KB" for 1024 bytes but "2.4 MB"
    with a non-breaking space and localised decimals; this keeps one
    spelling across the pages and the emails."""
    try:
        size = int(value)
    except (TypeError, ValueError):
        return ""
    if size < 1024:
        return "1 byte" if size == 1 else f"{size} bytes"
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    megabytes = size / (1024 * 1024)
    return f"{megabytes:.1f}".rstrip("0").rstrip(".") + " MB"


@register.filter
def hours(value) -> str:
    """A number of hours with the right noun: "1 hour", "1.5 hours",
    "5 hours" (decimals only where there are some)."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ""
    shown = floatformat(number, "-1")
    return f"{shown} hour" if number == 1 else f"{shown} hours"


@register.inclusion_tag("forms/error_summary.html")
def error_summary(*forms):
    """One error summary for a page, however many forms it has: every
    form's errors, each linked to its field. A form rendered with
    ``{{ form }}`` shows its own; a page with two forms renders this once
    and each form's fields (``forms/fields.html``)."""
    forms = [form for form in forms if form is not None]
    errors = []
    for form in forms:
        errors += [("", error) for error in form.non_field_errors()]
        for field in form:
            target = field.id_for_label or f"{field.auto_id}_0"
            errors += [(f"#{target}", error) for error in field.errors]
    first = next((form for form in forms if form.errors), None)
    suffix = f"-{first.prefix}" if first is not None and first.prefix else ""
    return {"errors": errors, "title_id": f"error-summary-title{suffix}"}
