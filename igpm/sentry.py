"""Errors reported to Sentry, without the personal data of the members they
happened to.

``send_default_pii=False`` already keeps the user's address, IP, cookies
and known secret headers out; ``scrub_event`` is the second line, for what
the SDK cannot know is personal: email addresses inside exception messages,
log breadcrumbs and Celery task arguments, the user beyond an id, and any
header or field with a personal or secret name.
"""

import re

EMAIL = re.compile(r"[\w.%+'-]+@[\w-]+(?:\.[\w-]+)+")
FILTERED = "[Filtered]"
# Keys whose values are dropped wherever they appear in an event.
PERSONAL_KEYS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "cookies",
        "set-cookie",
        "x-csrftoken",
        "csrftoken",
        "sessionid",
        "password",
        "email",
        "email_address",
        "first_name",
        "last_name",
        "full_name",
        "holder_name",
        "phone",
        "ip_address",
        "x-forwarded-for",
        "x-real-ip",
        "remote_addr",
    }
)


def _scrub(value):
    if isinstance(value, dict):
        return {
            key: FILTERED if str(key).lower() in PERSONAL_KEYS else _scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    if isinstance(value, str):
        return EMAIL.sub("[email]", value)
    return value


def scrub_event(event: dict, hint: dict | None = None) -> dict:
    """Sentry's ``before_send``: the event with personal data taken out."""
    user = event.get("user")
    if user:
        event["user"] = {"id": user["id"]} if "id" in user else {}
    request = event.get("request")
    if isinstance(request, dict):
        # Form bodies here are mostly personal details; never sent.
        request.pop("data", None)
        request.pop("cookies", None)
        # The query string may carry an address (sign-in links, searches).
        if request.get("query_string"):
            request["query_string"] = FILTERED
    return _scrub(event)


def sentry_init(
    *, dsn: str, environment: str, release: str | None, traces_sample_rate: float
) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        # Frames' local variables would hold members' rows and forms.
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub_event,
        before_send_transaction=scrub_event,
        traces_sample_rate=traces_sample_rate,
    )
