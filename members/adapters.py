from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.internal import ratelimit
from allauth.mfa.adapter import DefaultMFAAdapter
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.urls import reverse

from igpm.emails import email_build

from .selectors import profile_completeness


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": (
            "Too many failed sign-in attempts for this account. Try again later, or use "
            "\u201cSend me a sign-in code\u201d on the sign-in page to get a code by email."
        ),
    }

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        """Staff start at the staff home; a member whose profile is
        unfinished goes straight to it."""
        user = request.user
        if user.is_staff:
            return reverse("members:staff_home")
        if not profile_completeness(user=user).is_complete:
            return reverse("members:profile")
        return super().get_login_redirect_url(request)

    def render_mail(self, template_prefix: str, email, context: dict, headers=None):
        """allauth's emails are built like the portal's own, in the one
        base template (HTML and text, footer, reason): ``<prefix>_message``
        is the text, ``<prefix>_reason.txt`` says why it was sent."""
        message = email_build(to=email, template=template_prefix, context=context, body="_message")
        message.from_email = self.get_from_email()
        message.extra_headers.update(headers or {})
        return message

    # --- Failed sign-ins: per account *and* client address ------------------

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials) -> str:
        """allauth's per-"key" limit on failed sign-ins, keyed on the account
        and the client's address together: a stranger's guesses slow the
        stranger, and the owner signing in from elsewhere is not locked out.
        ``login_failed_account`` caps all addresses together."""
        return f"{self._account_key(request, **credentials)}:{self.get_client_ip(request)}"

    def _account_key(self, request: HttpRequest, **credentials) -> str:
        login = credentials.get("email", credentials.get("username", "")).lower()
        return f"{get_current_site(request).domain}:{login}"

    def _delete_login_attempts_cached_email(self, request: HttpRequest, **credentials) -> None:
        # A completed password reset clears the account's failures, as
        # allauth does for its own key.
        super()._delete_login_attempts_cached_email(request, **credentials)
        ratelimit.clear(
            request,
            app="allauth.account",
            action="login_failed_account",
            key=self._account_key(request, **credentials),
        )

    def pre_authenticate(self, request: HttpRequest, **credentials) -> None:
        super().pre_authenticate(request, **credentials)
        self._login_failed_account_usage = ratelimit.consume(
            request,
            app="allauth.account",
            action="login_failed_account",
            key=self._account_key(request, **credentials),
        )
        if not self._login_failed_account_usage:
            super()._rollback_login_failed_rl_usage()
            raise self.validation_error("too_many_login_attempts")

    def _rollback_login_failed_rl_usage(self) -> None:
        # A successful sign-in takes back its own attempt from both limits.
        super()._rollback_login_failed_rl_usage()
        usage = getattr(self, "_login_failed_account_usage", None)
        if usage:
            usage.rollback()


def _fernet() -> MultiFernet:
    if not settings.MFA_ENCRYPTION_KEY:
        raise ImproperlyConfigured("MFA_ENCRYPTION_KEY is not set.")
    keys = [settings.MFA_ENCRYPTION_KEY, *settings.MFA_ENCRYPTION_OLD_KEYS]
    return MultiFernet([Fernet(key) for key in keys])


def mfa_encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def mfa_decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A two-factor secret cannot be decrypted with MFA_ENCRYPTION_KEY or "
            "MFA_ENCRYPTION_OLD_KEYS."
        ) from None


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and recovery-code seeds are stored Fernet-encrypted, so
    a copy of the database (a backup, a dump, the admin) does not give
    away anyone's second factor."""

    def encrypt(self, text: str) -> str:
        return mfa_encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return mfa_decrypt(encrypted_text)
