"""How long does the daily Stripe reconciliation take for 1,000 sessions?

Recreates and migrates a PostgreSQL database (``igpm_bench_reconcile``, or
the one ``BENCH_RECONCILE_DATABASE_URL`` names; its name must contain
"bench"), starts the local Stripe stand-in (``tests/stripe_fake.py``) on
127.0.0.1 and bulk-creates N card payments, each with a paid Checkout
session at the "Stripe" end. For ``--missing`` of them the webhook never
arrived: the portal still has them pending.

It then times ``stripe_reconcile()`` twice, counting SQL queries with
``CaptureQueriesContext``: the first run must fulfil exactly the missing
ones, the second nothing, in one query per page of sessions. Receipts are
counted, not rendered or sent (the PDF is not what is measured). The fake
answers from memory on loopback, so the time is the portal's own: real
Stripe adds its network round trip per page of 100.

Run from the project root:

    .venv/bin/python benchmarks/reconciliation.py [--sessions 1000] [--missing 20] [--keep]
"""

import argparse
import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
os.environ["BENCH_DATABASE_URL"] = os.environ.get(
    "BENCH_RECONCILE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/igpm_bench_reconcile"
)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from benchmarks.scratch import recreate_database  # noqa: E402
from members.billing import tasks  # noqa: E402
from members.billing.services.reconciliation import PAGE_SIZE, stripe_reconcile  # noqa: E402
from members.models import Grade, Membership, MembershipPeriod, Payment, User  # noqa: E402
from tests.stripe_fake import StripeFake  # noqa: E402


def seed(fake: StripeFake, sessions: int, missing: set[int]) -> None:
    grade = Grade.objects.get(slug="member")
    now = timezone.now()
    with transaction.atomic():
        users = User.objects.bulk_create(
            User(email=f"reconcile{n}@example.org", password="!")  # noqa: S106
            for n in range(sessions)
        )
        memberships = Membership.objects.bulk_create(
            Membership(user=user, grade=grade, status=Membership.Status.AWAITING_PAYMENT)
            for user in users
        )
        payments = Payment.objects.bulk_create(
            Payment(
                membership=membership,
                user=membership.user,
                grade=grade,
                purpose=Payment.Purpose.JOIN,
                method=Payment.Method.STRIPE,
                amount_pence=grade.annual_fee_pence,
                status=Payment.Status.PENDING if n in missing else Payment.Status.PAID,
                paid_at=None if n in missing else now,
            )
            for n, membership in enumerate(memberships)
        )
        for payment in payments:
            session = fake.add_session(payment_id=payment.pk, amount=payment.amount_pence)
            fake.pay(session["id"])
            payment.stripe_session_id = session["id"]
        Payment.objects.bulk_update(payments, ["stripe_session_id"], batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def timed(name: str) -> dict:
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        result = stripe_reconcile()
        seconds = time.perf_counter() - started
    return {"name": name, "seconds": seconds, "queries": len(captured), **result.as_dict()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--missing", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()
    step = max(args.sessions // max(args.missing, 1), 1)
    missing = set(range(step // 2, args.sessions, step)[: args.missing])

    # The client logs each request and the reconciliation each repair: the
    # table is what this prints.
    logging.disable(logging.WARNING)
    fake = StripeFake().start()
    settings.STRIPE_SECRET_KEY = "sk_test_benchmark"  # noqa: S105
    settings.STRIPE_API_BASE = fake.url
    receipts: list[int] = []
    tasks.payment_receipt_email_task.delay_on_commit = receipts.append
    recreate_database()
    try:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        seed(fake, args.sessions, missing)
        seed_seconds = time.perf_counter() - started
        runs = [timed("first"), timed("again")]
        periods = MembershipPeriod.objects.count()
    finally:
        fake.stop()
        connections.close_all()
        if not args.keep:
            recreate_database(drop_only=True)

    pages = -(-args.sessions // PAGE_SIZE)
    print(
        f"{args.sessions:,} paid sessions, {len(missing)} with no webhook, pages of "
        f"{PAGE_SIZE}; database {settings.DATABASES['default']['NAME']}, "
        f"{os.cpu_count()} CPUs; seeding {seed_seconds:.1f} s"
    )
    row = "{:<8}{:>9}{:>9}{:>7}{:>11}{:>7}{:>16}"
    print(row.format("run", "wall s", "queries", "pages", "fulfilled", "held", "ms per session"))
    for run in runs:
        print(
            row.format(
                run["name"], f"{run['seconds']:.2f}", run["queries"], run["pages"],
                run["fulfilled"], run["held"], f"{1000 * run['seconds'] / run['sessions']:.2f}",
            )
        )  # fmt: skip
    problems = []
    if runs[0]["fulfilled"] != len(missing) or periods != len(missing):
        problems.append(f"first run fulfilled {runs[0]['fulfilled']}, expected {len(missing)}")
    if runs[1]["fulfilled"] or runs[1]["held"]:
        problems.append("the second run changed something")
    if runs[1]["queries"] != pages:
        problems.append(f"second run made {runs[1]['queries']} queries for {pages} pages")
    if len(receipts) != len(missing):
        problems.append(f"{len(receipts)} receipts queued for {len(missing)} fulfilments")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
