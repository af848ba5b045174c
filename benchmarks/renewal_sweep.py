"""Does the daily renewal sweep keep its queries per batch when half the
members renew automatically?

Recreates and migrates a PostgreSQL database (``igpm_bench_renewal_sweep``,
or the one ``BENCH_RENEWAL_DATABASE_URL`` names; its name must contain
"bench"), then bulk-creates N paid-up members as ``benchmarks/reminders.py``
does (a user, a membership, a paid renewal and the year it bought, expiry
dates spread over 400 days around a fixed "today"). Every second member
also has an automatic renewal (``AutoRenewal``, by card or by Direct Debit
in turn) that collects the day after their year ends: active while the year
runs, being retried in grace, ended after grace (``--live-at-lapse`` keeps
those live, the worst case of lost webhooks).

It then measures, counting SQL queries with ``CaptureQueriesContext``:

1. ``sweep``: one ``notices_sweep(today=TODAY, ...)``, the ids it would
   queue collected in a list (no broker). Its queries are compared with
   the bound the batching in ``notices.py`` had before automatic renewal
   ("bound"): a fixed number per batch of ``BATCH`` rows.
2. ``sweep again``: the same sweep a second time: nothing recorded.
3. ``send``: one send task's worth of renewal reminders
   (``notices_send(notice_ids=...)`` for ``BATCH`` ids, half of them for
   members on automatic renewal), to the in-memory mailbox. Its queries
   per notice must not grow with the automatic renewals: the wording for
   them comes in the same query that locks the notice.

It prints wall time, queries, queries per batch and how many reminders
said "renews automatically". Run it once on the code before automatic
renewal wording (main) and once after, and compare.

Run from the project root (creating 100,000 members takes a minute or two):

    .venv/bin/python benchmarks/renewal_sweep.py [--memberships 100000] [--live-at-lapse] [--keep]
"""

import argparse
import datetime
import logging
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
os.environ["BENCH_DATABASE_URL"] = os.environ.get(
    "BENCH_RENEWAL_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/igpm_bench_renewal_sweep"
)

import django  # noqa: E402

django.setup()

from django.core import mail  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from benchmarks.scratch import recreate_database  # noqa: E402
from igpm.notices import BATCH  # noqa: E402
from members.billing.models.auto_renewal import AutoRenewal  # noqa: E402
from members.billing.models.membership import GRACE_DAYS  # noqa: E402
from members.billing.services.membership import add_years  # noqa: E402
from members.billing.services.notices import notices_send, notices_sweep  # noqa: E402
from members.models import (  # noqa: E402
    Grade,
    Membership,
    MembershipNotice,
    MembershipPeriod,
    Payment,
    User,
)

TODAY = datetime.date(2026, 6, 1)
SPREAD_DAYS = 400
PAST_DAYS = 40
CHUNK = 5000
AUTOMATIC_WORDS = "renews automatically"
# Set by --live-at-lapse.
LIVE_AT_LAPSE = False

Kind = MembershipNotice.Kind
Status = Membership.Status


def days_to_expiry(i: int) -> int:
    return i % SPREAD_DAYS - PAST_DAYS


def automatic(i: int) -> bool:
    """Half the members renew automatically: every second one."""
    return i % 2 == 0


def seed(memberships: int) -> None:
    grade = Grade.objects.get(slug="member")
    for first in range(0, memberships, CHUNK):
        numbers = range(first, min(first + CHUNK, memberships))
        ends = {i: TODAY + datetime.timedelta(days=days_to_expiry(i)) for i in numbers}
        starts = {i: add_years(ends[i], -1) + datetime.timedelta(days=1) for i in numbers}
        with transaction.atomic():
            users = User.objects.bulk_create(
                User(email=f"sweep{i}@example.org", first_name=f"First{i}",
                     last_name=f"Last{i}", password="!")  # noqa: S106
                for i in numbers
            )  # fmt: skip
            members = Membership.objects.bulk_create(
                Membership(user=user, grade=grade, status=Status.ACTIVE,
                           number=f"IGPM-{i:06d}", expires_on=ends[i])
                for i, user in zip(numbers, users, strict=True)
            )  # fmt: skip
            payments = Payment.objects.bulk_create(
                Payment(membership=member, user=member.user, grade=grade,
                        purpose=Payment.Purpose.RENEW, method=Payment.Method.OFFLINE,
                        status=Payment.Status.PAID, amount_pence=grade.annual_fee_pence,
                        receipt_number=f"RCT-SWEEP-{i:06d}",
                        paid_at=datetime.datetime.combine(
                            starts[i], datetime.time(9), tzinfo=datetime.UTC))
                for i, member in zip(numbers, members, strict=True)
            )  # fmt: skip
            MembershipPeriod.objects.bulk_create(
                MembershipPeriod(membership=payment.membership, payment=payment, grade=grade,
                                 starts_on=starts[i], ends_on=ends[i])
                for i, payment in zip(numbers, payments, strict=True)
            )  # fmt: skip
            AutoRenewal.objects.bulk_create(
                _renewal(i, member, grade, ends[i])
                for i, member in zip(numbers, members, strict=True)
                if automatic(i)
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _renewal(i: int, member: Membership, grade: Grade, ends: datetime.date) -> AutoRenewal:
    """As Stripe would have left it: collecting while the year runs; being
    retried in the 30 days' grace; ended (retries ended) after that, unless
    ``LIVE_AT_LAPSE`` keeps those live too (the worst case: webhooks lost)."""
    by_card = i % 4 == 0
    days = days_to_expiry(i)
    status, ended = AutoRenewal.Status.ACTIVE, {}
    if -GRACE_DAYS <= days < 0:
        status = AutoRenewal.Status.PAST_DUE
    elif days < -GRACE_DAYS and not LIVE_AT_LAPSE:
        status = AutoRenewal.Status.ENDED
        ended = {
            "ended_at": datetime.datetime.combine(ends, datetime.time(9), tzinfo=datetime.UTC),
            "end_reason": AutoRenewal.EndReason.RETRIES_ENDED,
        }
    return AutoRenewal(
        membership=member,
        grade=grade,
        method=AutoRenewal.Method.CARD if by_card else AutoRenewal.Method.BACS_DEBIT,
        status=status,
        **ended,
        mandate_status="" if by_card else AutoRenewal.Mandate.ACTIVE,
        stripe_subscription_id=f"sub_sweep_{i}",
        next_collection_on=ends + datetime.timedelta(days=1),
        next_amount_pence=grade.annual_fee_pence,
        card_brand="visa" if by_card else "",
        card_last4="4242" if by_card else "",
        mandate_reference="" if by_card else f"IGPM{i:08d}",
        bank_last4="" if by_card else "2345",
    )


def batches(rows: int) -> int:
    return math.ceil(rows / BATCH)


def predicted(result) -> int:
    """The count the batching in notices.py implied before automatic
    renewal (see benchmarks/reminders.py): today's bound."""
    moves = sum(5 * batches(n) + 3 for n in (result.to_grace, result.to_lapsed))
    notices = sum(4 * batches(n) + 1 for n in result.notices.values())
    return moves + notices + batches(result.requeued) + 1


def sweep(name: str, collected: list[int]) -> dict:
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        result = notices_sweep(today=TODAY, enqueue=collected.extend)
        seconds = time.perf_counter() - started
    queries = len(captured.captured_queries)
    rows = result.to_grace + result.to_lapsed + sum(result.notices.values()) + result.requeued
    moves = [result.to_grace, result.to_lapsed]
    batch_count = sum(batches(n) for n in [*moves, *result.notices.values()])
    return {
        "name": name,
        "seconds": seconds,
        "queries": queries,
        "expect": predicted(result),
        "rows": rows,
        "batches": batch_count,
        "per_batch": queries / batch_count if batch_count else 0.0,
        "notices": {str(kind): count for kind, count in result.notices.items()},
    }


def send_one_batch() -> dict:
    """A send task's worth of renewal reminders, half for automatic renewals."""
    renewal_kinds = [Kind.RENEWAL_60, Kind.RENEWAL_30, Kind.RENEWAL_7]
    ids = list(
        MembershipNotice.objects.filter(kind__in=renewal_kinds, sent_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:BATCH]
    )
    on_automatic = MembershipNotice.objects.filter(
        pk__in=ids,
        period__membership__auto_renewals__status__in=[
            AutoRenewal.Status.ACTIVE,
            AutoRenewal.Status.PAST_DUE,
        ],
    ).count()
    mail.outbox = []
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        sent = notices_send(notice_ids=ids)
        seconds = time.perf_counter() - started
    said_automatic = sum(AUTOMATIC_WORDS in message.body for message in mail.outbox)
    queries = len(captured.captured_queries)
    return {
        "seconds": seconds,
        "queries": queries,
        "sent": sent,
        "on_automatic": on_automatic,
        "said_automatic": said_automatic,
        "per_notice": queries / sent if sent else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memberships", type=int, default=100_000, help="members to create")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--live-at-lapse",
        action="store_true",
        help="leave the renewals of memberships past grace live (webhooks lost): worst case",
    )
    args = parser.parse_args()
    global LIVE_AT_LAPSE
    LIVE_AT_LAPSE = args.live_at_lapse
    # One line per batch of renewals ended at lapse: not part of the report.
    logging.getLogger("members.billing.services.auto_renewal").setLevel(logging.WARNING)

    recreate_database()
    try:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        seed(args.memberships)
        seed_seconds = time.perf_counter() - started
        collected: list[int] = []
        runs = [sweep("sweep", collected), sweep("sweep again", collected)]
        send = send_one_batch()
        automatic_count = AutoRenewal.objects.count()
    finally:
        connections.close_all()
        if not args.keep:
            recreate_database(drop_only=True)

    print(
        f"{args.memberships:,} memberships ({automatic_count:,} on automatic renewal), "
        f"today {TODAY}, BATCH {BATCH}; created in {seed_seconds:.1f} s"
        + ("; renewals past grace left live" if LIVE_AT_LAPSE else "")
    )
    row = "{:<13}{:>8}{:>9}{:>8}{:>9}{:>9}{:>11}"
    print(row.format("sweep", "wall s", "queries", "bound", "rows", "batches", "q/batch"))
    for run in runs:
        print(
            row.format(
                run["name"], f"{run['seconds']:.2f}", run["queries"], run["expect"],
                run["rows"], run["batches"], f"{run['per_batch']:.2f}",
            )
        )  # fmt: skip
    print("notices recorded:", runs[0]["notices"])
    print(
        f"send one batch: {send['sent']} reminders ({send['on_automatic']} for automatic "
        f"renewals, {send['said_automatic']} said '{AUTOMATIC_WORDS}') in "
        f"{send['seconds']:.2f} s, {send['queries']} queries, "
        f"{send['per_notice']:.2f} per reminder"
    )
    problems = [
        f"{run['name']}: {run['queries']} queries, today's bound is {run['expect']}"
        for run in runs
        if run["queries"] != run["expect"]
    ]
    if runs[1]["rows"]:
        problems.append("the second sweep recorded or moved something")
    if len(collected) != len(set(collected)):
        problems.append("the same notice id was queued twice")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
