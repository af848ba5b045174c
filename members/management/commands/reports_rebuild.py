"""Count the staff reports' joining, renewal, lapse and retention figures
again from every membership's paid years.

The services keep them current as memberships change; run this once after
the migration that adds them, after loading data around the services (an
import, a restore), or whenever in doubt: it is safe at any time.
"""

import time

from django.core.management.base import BaseCommand

from members.reports.summary import membership_figures_rebuild


class Command(BaseCommand):
    help = "Rebuild the summary rows behind the staff reports' membership figures."

    def handle(self, *args, **options):
        started = time.perf_counter()
        counted = membership_figures_rebuild()
        self.stdout.write(
            f"Counted {counted:,} memberships in {time.perf_counter() - started:.1f} s."
        )
