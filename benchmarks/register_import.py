"""How long do a register's dry run and import take, and how many queries?

Recreates and migrates a PostgreSQL database (``igpm_bench_register``, or
the one ``BENCH_REGISTER_DATABASE_URL`` names; its name must contain
"bench"), writes a CSV register of N members (default 20,000; every grade,
paid-up dates from 60 days past to 300 ahead, some ODS codes, phones and
consents) and times, counting SQL queries with ``CaptureQueriesContext``:

1. ``dry run``: ``register_import_check`` (what the Celery task runs): the
   file read, every row judged, the report stored. Nothing else written.
2. ``import``: ``register_import_apply``: every member created with their
   number, paid-up year (a 0p imported payment), profile, allauth address,
   audit entry and report figures; the claim invitations recorded and
   queued (to a list here: no broker, no email).
3. ``dry run again`` and ``import again`` of the same file: every row "no
   change", and nothing written.

It checks the outcome (N created, then N unchanged; the number sequence
after the highest number) and prints wall time, queries, and queries per
batch of ``REGISTER_IMPORT_BATCH`` rows: the import promises a fixed number
of queries per batch, not per row.

Run from the project root:

    .venv/bin/python benchmarks/register_import.py [--rows 20000] [--xlsx] [--keep]
"""

import argparse
import csv
import datetime
import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
os.environ["BENCH_DATABASE_URL"] = os.environ.get(
    "BENCH_REGISTER_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/igpm_bench_register"
)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from benchmarks.scratch import recreate_database  # noqa: E402
from members.billing.services.numbers import membership_number_next  # noqa: E402
from members.models import (  # noqa: E402
    ClaimInvitation,
    Membership,
    RegisterImport,
    User,
)
from members.register_import import invitations, services  # noqa: E402

GRADES = ["Member", "Fellow", "Associate", "Student or Apprentice", "Retired"]
FIRST_NUMBER = 100_001


def register_rows(rows: int):
    today = timezone.localdate()
    yield ["First name", "Last name", "Email", "Membership number", "Grade",
                     "First joined", "Paid up until", "Organisation ODS code", "Phone",
                     "Marketing consent", "Consultations consent"]  # fmt: skip
    for i in range(rows):
        paid_up = today + datetime.timedelta(days=i % 360 - 60)
        joined = paid_up - datetime.timedelta(days=365 * (1 + i % 12))
        yield [
            f"First{i}", f"Last{i}", f"member{i}@example.org", f"IGPM-{FIRST_NUMBER + i:06d}",
            GRADES[i % len(GRADES)], joined.strftime("%d/%m/%Y"), paid_up.isoformat(),
            f"A{81000 + i % 900:05d}" if i % 3 else "", f"01234 {i:06d}" if i % 2 else "",
            "yes" if i % 4 == 0 else "no", "yes" if i % 5 == 0 else "no",
        ]  # fmt: skip


def register_file(rows: int, *, xlsx: bool) -> bytes:
    if xlsx:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        for cells in register_rows(rows):
            sheet.append(cells)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    text = io.StringIO()
    csv.writer(text).writerows(register_rows(rows))
    return text.getvalue().encode()


def timed(name: str, work):
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - started
    in_sql = sum(float(query["time"]) for query in queries.captured_queries)
    print(f"{name:16} {seconds:7.1f} s  {len(queries):6} queries  {in_sql:5.1f} s in SQL")
    return result, seconds, len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="members in the file")
    parser.add_argument("--xlsx", action="store_true", help="an Excel file instead of CSV")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()
    settings.DEBUG = False
    recreate_database()
    problems = []
    try:
        call_command("migrate", verbosity=0)
        staff = User.objects.create_user("bench-staff@example.org", is_staff=True)
        content = register_file(args.rows, xlsx=args.xlsx)
        name = "register.xlsx" if args.xlsx else "register.csv"
        print(f"{args.rows:,} rows, {len(content) / 1e6:.1f} MB of {name}, "
              f"batches of {settings.REGISTER_IMPORT_BATCH}")  # fmt: skip
        queued: list[int] = []
        # The invitations go to a list, not the broker: sending is the
        # emails queue's work, timed apart from the import.
        invitations_queue = invitations.invitations_queue
        invitations.invitations_queue = lambda *, import_id: invitations_queue(
            import_id=import_id, enqueue=queued.extend
        )
        batches = -(-args.rows // settings.REGISTER_IMPORT_BATCH)
        figures = {}
        for label in ("", " again"):
            register_import = RegisterImport.objects.create(
                uploaded_by=staff, file_name=name, content=content
            )
            register_import, seconds, queries = timed(
                "dry run" + label,
                lambda r=register_import: services.register_import_check(import_id=r.pk),
            )
            figures["dry run" + label] = (seconds, queries)
            services.register_import_start(
                register_import=register_import, by=staff, leave_out=set(), errors_left_out=False
            )
            register_import, seconds, queries = timed(
                "import" + label,
                lambda r=register_import: services.register_import_apply(import_id=r.pk),
            )
            figures["import" + label] = (seconds, queries)
            counts = register_import.import_counts
            print(f"                 {counts}")
            want = "created" if not label else "unchanged"
            if counts.get(want) != args.rows:
                problems.append(f"import{label}: {counts}, expected {args.rows} {want}")
        if Membership.objects.count() != args.rows:
            problems.append("memberships: not one per row")
        if len(queued) != args.rows or ClaimInvitation.objects.count() != args.rows:
            problems.append(f"invitations: {len(queued)} queued, expected {args.rows}")
        with transaction.atomic():
            next_number = membership_number_next()
        if next_number != f"IGPM-{FIRST_NUMBER + args.rows:06d}":
            problems.append(f"next number {next_number}")
        print(f"next number after the import: {next_number}")
        for name, (seconds, queries) in figures.items():
            print(f"{name:16} {queries / batches:6.1f} queries per batch, "
                  f"{seconds:5.1f} s {'OK' if seconds < 60 else 'OVER A MINUTE'}")  # fmt: skip
            if seconds >= 60:
                problems.append(f"{name} took {seconds:.0f} s")
    finally:
        connections.close_all()
        if not args.keep:
            recreate_database(drop_only=True)
    if problems:
        raise SystemExit("Problems: " + "; ".join(problems))


if __name__ == "__main__":
    main()
