from allauth.account.adapter import DefaultAccountAdapter
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
