"""Demo data for a local portal: a staff account with two-factor set up,
a few members, and each app's own part (``members.demo``). Safe to run
again; it never touches a production database."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from members.demo import PARTS


class Command(BaseCommand):
    help = "Create demo accounts (local use only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo data is for local portals only (DEBUG is off).")
        for seed in PARTS:
            seed()
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
