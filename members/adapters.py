from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.urls import reverse

from .selectors import profile_completeness


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request: HttpRequest) -> str:
        """Send a member whose profile is unfinished straight to it."""
        user = request.user
        if not user.is_staff and not profile_completeness(user=user).is_complete:
            return reverse("members:profile")
        return super().get_login_redirect_url(request)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # allauth's emails share the portal's wording and footer through
        # templates/account/email/base_message.txt, which needs the
        # portal's public address rather than the request's host.
        super().send_mail(template_prefix, email, {"site_url": settings.SITE_URL, **context})


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
