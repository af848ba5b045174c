"""Load or refresh the NHS organisations from the ODS files.

    manage.py ods_import epraccur.csv --pcns epcncorepartnerdetails.csv

Safe to run again: a second run of the same files changes nothing. Each
run is kept (admin, "ODS imports") with its report and audited.
"""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from members.models import OdsImport
from members.organisations.ods_import import OdsFileError, ods_import_record


class Command(BaseCommand):
    help = "Import GP practices (epraccur.csv) and their PCNs (the PCN core-partner file)."

    def add_arguments(self, parser):
        parser.add_argument("practices", help="Path to epraccur.csv")
        parser.add_argument("--pcns", help="Path to the PCN core-partner file (CSV)")

    def handle(self, *args, **options):
        practices_path = Path(options["practices"])
        pcns_path = Path(options["pcns"]) if options["pcns"] else None
        for path in (practices_path, pcns_path):
            if path is not None and not path.is_file():
                raise CommandError(f"No such file: {path}")
        record = OdsImport.objects.create(
            practices_file_name=practices_path.name,
            pcn_file_name=pcns_path.name if pcns_path else "",
            started_by_label="manage.py ods_import",
        )
        started = time.perf_counter()
        try:
            report = ods_import_record(
                record=record,
                practices=practices_path.read_bytes(),
                pcns=pcns_path.read_bytes() if pcns_path else None,
            )
        except OdsFileError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(report.summary())
        for line in report.errors[:20]:
            self.stdout.write(f"  {line}")
        self.stdout.write(f"Done in {time.perf_counter() - started:.1f} s (import {record.pk}).")
