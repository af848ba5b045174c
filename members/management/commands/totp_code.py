"""Print the current two-factor code of a local demo account.

Stands in for an authenticator app while trying the portal out. Refused
unless DEBUG is on, so it can never read a real staff member's secret.
"""

import time

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from members.demo import STAFF_EMAIL


class Command(BaseCommand):
    help = "Show the current authenticator code of a demo account (local use only)."

    def add_arguments(self, parser):
        parser.add_argument("--email", default=STAFF_EMAIL)

    def handle(self, *args, email, **options):
        if not settings.DEBUG:
            raise CommandError("Only for local portals (DEBUG is off).")
        authenticator = Authenticator.objects.filter(
            user__email=email, type=Authenticator.Type.TOTP
        ).first()
        if authenticator is None:
            raise CommandError(f"{email} has no authenticator app set up.")
        secret = decrypt(authenticator.data["secret"])
        counter = int(time.time()) // mfa_settings.TOTP_PERIOD
        self.stdout.write(format_hotp_value(hotp_value(secret, counter)))
