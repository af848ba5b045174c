"""How long does the daily membership sweep take, and how many queries, at scale?

Recreates and migrates a PostgreSQL database (``igpm_bench_reminders``, or the
one ``BENCH_REMINDERS_DATABASE_URL`` names; its name must contain "bench"),
then bulk-creates N paid-up members: a user, a membership, a paid offline
renewal payment and the period it bought.
Expiry dates are spread over 400 days, from 40 days past to 359 days ahead of
a fixed "today", so about a quarter of the members are due something: 60, 30
and 7 day reminders, memberships that expired into grace and some already past
grace (left "active", as if the sweep had not run, so that it moves them on).
That is the backlog of a first run, far more than a normal day.

It then times single calls of ``notices_sweep(today=TODAY, ...)``, counting
SQL queries with ``CaptureQueriesContext``:

1. ``collect``: the ids that would be queued go to a list (no broker).
2. ``collect again``: the same sweep a second time, which must record and
   queue nothing (idempotency).
3. The notices, the audit entries and the status changes are then undone, and
   ``redis`` sweeps again, queueing each batch with
   ``membership_notices_send_task.delay(ids)`` on the Redis broker of
   ``benchmarks.settings`` (database 14). No worker runs: the messages are
   counted and purged afterwards, so nothing is left behind.
4. ``redis again``: a second run, which must queue no message.

For each run it prints wall time, queries, memberships moved, notices per kind
(checked against what the data should give), and queries per 1,000 rows acted
on, next to the count the batch size predicts: the sweep promises a fixed
number of queries per batch of ``BATCH`` rows, not per membership. A
breakdown by query kind shows where the time goes.

Run from the project root (creating 100,000 members takes a minute or two):

    .venv/bin/python benchmarks/reminders.py [--memberships 100000] [--json] [--keep]
"""

import argparse
import datetime
import json
import math
import os
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, Python puts benchmarks/ on the path, not the project root.
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
# Its own database, so it can run while benchmarks/dashboard.py uses igpm_bench
# (and a BENCH_DATABASE_URL exported for that one is not dropped by this one).
os.environ["BENCH_DATABASE_URL"] = os.environ.get(
    "BENCH_REMINDERS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/igpm_bench_reminders"
)

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from benchmarks.scratch import recreate_database  # noqa: E402
from igpm import celery_app  # noqa: E402
from igpm.notices import BATCH  # noqa: E402
from members.billing.models.membership import GRACE_DAYS  # noqa: E402
from members.billing.services.membership import add_years  # noqa: E402
from members.billing.services.notices import (  # noqa: E402
    LAPSED_NOTICE_WITHIN_DAYS,
    RENEWAL_WINDOWS,
    notices_sweep,
)
from members.billing.tasks import membership_notices_send_task  # noqa: E402
from members.models import (  # noqa: E402
    AuditEntry,
    Grade,
    Membership,
    MembershipNotice,
    MembershipPeriod,
    Payment,
    User,
)

# Fixed, so every run builds the same data and the sweep sees the same day.
TODAY = datetime.date(2026, 6, 1)
SPREAD_DAYS = 400  # Expiry dates cycle over this many days...
PAST_DAYS = 40  # ...starting this many days before TODAY.
CHUNK = 5000  # Rows per bulk_create: large enough to be quick, small enough for memory.

Kind = MembershipNotice.Kind
Status = Membership.Status
KINDS = [str(kind) for kind in Kind]


def days_to_expiry(i: int) -> int:
    """Membership ``i`` expires this many days after TODAY (negative: before)."""
    return i % SPREAD_DAYS - PAST_DAYS


def expected(memberships: int) -> dict[str, int]:
    """What one sweep over the seeded data must do, worked out independently."""
    counts: Counter[str] = Counter()
    for i in range(memberships):
        days = days_to_expiry(i)
        if -GRACE_DAYS <= days < 0:
            counts["to_grace"] += 1
            counts[Kind.EXPIRED] += 1
        elif days < -GRACE_DAYS:
            counts["to_lapsed"] += 1
            if days >= -(GRACE_DAYS + LAPSED_NOTICE_WITHIN_DAYS):
                counts[Kind.LAPSED] += 1
        for kind, (start, end) in RENEWAL_WINDOWS.items():
            if start <= days <= end:
                counts[kind] += 1
    return {key: counts[key] for key in ["to_grace", "to_lapsed", *KINDS]}


def seed(memberships: int) -> None:
    """Bulk-create the members: user, membership, payment and period each."""
    grade = Grade.objects.get(slug="member")
    for first in range(0, memberships, CHUNK):
        numbers = range(first, min(first + CHUNK, memberships))
        ends = {i: TODAY + datetime.timedelta(days=days_to_expiry(i)) for i in numbers}
        starts = {i: add_years(ends[i], -1) + datetime.timedelta(days=1) for i in numbers}
        with transaction.atomic():
            # "!" is an unusable password: no hashing, and nobody can sign in.
            users = User.objects.bulk_create(
                User(email=f"reminder{i}@example.org", first_name=f"First{i}",
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
                        receipt_number=f"RCT-BENCH-{i:06d}",
                        paid_at=datetime.datetime.combine(
                            starts[i], datetime.time(9), tzinfo=datetime.UTC))
                for i, member in zip(numbers, members, strict=True)
            )  # fmt: skip
            MembershipPeriod.objects.bulk_create(
                MembershipPeriod(membership=payment.membership, payment=payment, grade=grade,
                                 starts_on=starts[i], ends_on=ends[i])
                for i, payment in zip(numbers, payments, strict=True)
            )  # fmt: skip
    analyse()


def analyse() -> None:
    # A freshly loaded table has no planner statistics until autovacuum gets to
    # it; production tables have them, so plans without them would mislead.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def undo_sweep() -> None:
    """Put the data back as it was before the first sweep, for the Redis run."""
    with transaction.atomic():
        MembershipNotice.objects.all().delete()
        # Queryset delete: AuditEntry.delete() refuses, on purpose, for real use.
        AuditEntry.objects.filter(action="status_changed").delete()
        Membership.objects.filter(status__in=[Status.IN_GRACE, Status.LAPSED]).update(
            status=Status.ACTIVE
        )
    analyse()  # Also clears the dead rows the undo left.


@dataclass
class Run:
    name: str
    seconds: float = 0.0
    queries: int = 0
    sql_seconds: float = 0.0  # Time inside the database driver, as Django measures it.
    to_grace: int = 0
    to_lapsed: int = 0
    requeued: int = 0
    notices: dict[str, int] = field(default_factory=dict)
    enqueue_calls: int = 0
    enqueued_ids: int = 0
    predicted_queries: int = 0
    # Query kind: [calls, total ms, slowest ms].
    breakdown: dict[str, list[float]] = field(default_factory=dict)

    @property
    def acted_on(self) -> int:
        return self.to_grace + self.to_lapsed + sum(self.notices.values()) + self.requeued

    @property
    def per_thousand(self) -> float:
        return round(1000 * self.queries / self.acted_on, 2) if self.acted_on else 0.0


def batches(rows: int) -> int:
    return math.ceil(rows / BATCH)


def predict_queries(run: Run) -> int:
    """The query count the batching in notices.py implies.

    Django captures BEGIN and COMMIT too. Moving statuses: per batch a
    transaction of a locking SELECT, an UPDATE and the audit INSERT (5), then
    one that finds nothing (3). Notices, per kind: per batch a SELECT of period
    ids and the INSERT in its own transaction (4), then one empty SELECT.
    Requeueing: per batch one SELECT, then one empty SELECT.
    """
    moves = sum(5 * batches(n) + 3 for n in (run.to_grace, run.to_lapsed))
    notices = sum(4 * batches(n) + 1 for n in run.notices.values())
    return moves + notices + batches(run.requeued) + 1


KIND_IN_SQL = re.compile(r"'(" + "|".join(KINDS) + r")'")


def query_kind(text: str) -> str:
    """A short label for a captured query, to group the time by what it does."""
    found = KIND_IN_SQL.search(text)
    kind = found.group(1) if found else "?"
    if "FOR UPDATE" in text:
        return "select to move, " + ("to lapse" if "IN (" in text else "to grace")
    if text.startswith('UPDATE "members_membership"'):
        return "update status"
    if text.startswith('INSERT INTO "members_auditentry"'):
        return "insert audit entries"
    if text.startswith("INSERT INTO members_membershipnotice"):
        return f"insert notices {kind}"
    if '"sent_at" IS NULL' in text:
        return "select unsent to requeue"
    if "EXISTS" in text:
        return f"select due periods {kind}"
    if text in ("BEGIN", "COMMIT"):
        return text
    return "other: " + text[:60]


def sweep(name: str, enqueue_to: Callable[[list[int]], None]) -> Run:
    run = Run(name)

    def enqueue(ids: list[int]) -> None:
        run.enqueue_calls += 1
        run.enqueued_ids += len(ids)
        enqueue_to(ids)

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        result = notices_sweep(today=TODAY, enqueue=enqueue)
        run.seconds = round(time.perf_counter() - started, 3)
    run.queries = len(captured.captured_queries)
    run.to_grace, run.to_lapsed, run.requeued = result.to_grace, result.to_lapsed, result.requeued
    run.notices = {str(kind): result.notices.get(kind, 0) for kind in KINDS}
    run.predicted_queries = predict_queries(run)
    groups: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for query in captured.captured_queries:
        ms = 1000 * float(query["time"])
        group = groups[query_kind(query["sql"])]
        group[0] += 1
        group[1] += ms
        group[2] = max(group[2], ms)
    run.sql_seconds = round(sum(total for _, total, _ in groups.values()) / 1000, 3)
    run.breakdown = {
        label: [calls, round(total, 1), round(slowest, 1)]
        for label, (calls, total, slowest) in sorted(groups.items(), key=lambda g: -g[1][1])
    }
    return run


class Broker:
    """The Redis queue ``delay()`` publishes to, so the run can check and clean it."""

    def __init__(self) -> None:
        url = celery_app.conf.broker_url
        if not url.startswith("redis://"):
            raise SystemExit(f"Broker is {url!r}, not Redis: check benchmarks.settings.")
        self.client = redis.Redis.from_url(url)
        self.queue = celery_app.conf.task_default_queue
        self.keys_before = set(self.client.keys("*kombu*"))
        # Purging afterwards empties the whole queue: never take someone else's messages.
        if waiting := self.client.llen(self.queue):
            raise SystemExit(f"{waiting} messages already wait in {url} {self.queue!r}.")

    def waiting(self) -> int:
        return self.client.llen(self.queue)

    def clean(self) -> int:
        """Purge the queue; remove the bindings kombu declared. Returns messages purged."""
        purged = celery_app.control.purge()
        if new := set(self.client.keys("*kombu*")) - self.keys_before:
            self.client.delete(*new)
        return purged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memberships", type=int, default=100_000, help="members to create")
    parser.add_argument("--json", action="store_true", help="write benchmarks/results/*.json")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()

    broker = Broker()  # Fail before the slow part if Redis is down or busy.
    want = expected(args.memberships)
    recreate_database()
    runs: list[Run] = []
    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        migrate_seconds = time.perf_counter() - started
        started = time.perf_counter()
        seed(args.memberships)
        seed_seconds = time.perf_counter() - started

        collected: list[int] = []
        runs.append(sweep("collect", collected.extend))
        runs.append(sweep("collect again", collected.extend))
        if len(collected) != len(set(collected)):
            raise SystemExit("The same notice id was queued twice.")
        undo_sweep()

        def publish(ids: list[int]) -> None:
            membership_notices_send_task.delay(ids)

        try:
            runs.append(sweep("redis", publish))
            runs.append(sweep("redis again", publish))
            waiting = broker.waiting()
        finally:
            purged = broker.clean()
    finally:
        connections.close_all()
        if not args.keep:
            recreate_database(drop_only=True)

    problems = check(runs, want, waiting)
    report(args, runs, want, migrate_seconds, seed_seconds, waiting, purged, problems)
    if problems:
        sys.exit(1)  # A sweep that did the wrong thing measured the wrong thing.


def check(runs: list[Run], want: dict[str, int], waiting: int) -> list[str]:
    problems = []
    for run in runs:
        again = run.name.endswith("again")
        got = {"to_grace": run.to_grace, "to_lapsed": run.to_lapsed, **run.notices}
        if got != (dict.fromkeys(want, 0) if again else want):
            problems.append(f"{run.name}: did {got}, expected {'nothing' if again else want}")
        if run.enqueued_ids != sum(run.notices.values()) + run.requeued:
            problems.append(f"{run.name}: queued {run.enqueued_ids} ids for other notices")
        if run.queries != run.predicted_queries:
            problems.append(
                f"{run.name}: {run.queries} queries, batching predicts {run.predicted_queries}"
            )
    published = sum(run.enqueue_calls for run in runs if run.name.startswith("redis"))
    if waiting != published:
        problems.append(f"Redis held {waiting} messages after publishing {published}")
    return problems


def report(
    args: argparse.Namespace,
    runs: list[Run],
    want: dict[str, int],
    migrate_seconds: float,
    seed_seconds: float,
    waiting: int,
    purged: int,
    problems: list[str],
) -> None:
    db = settings.DATABASES["default"]["NAME"]
    print(
        f"{args.memberships:,} memberships, today {TODAY}, BATCH {BATCH}, "
        f"database {db}, {os.cpu_count()} CPUs"
    )
    print(f"migrate {migrate_seconds:.1f} s; create members {seed_seconds:.1f} s")
    print()
    row = "{:<15}{:>8}{:>8}{:>10}{:>8}{:>7}{:>10}{:>9}{:>7}{:>10}"
    print(
        row.format(
            "sweep", "wall s", "SQL s", "queries", "expect", "grace", "lapsed",
            "notices", "tasks", "q/1k rows",
        )
    )  # fmt: skip
    for run in runs:
        print(
            row.format(
                run.name, f"{run.seconds:.2f}", f"{run.sql_seconds:.2f}", run.queries,
                run.predicted_queries, run.to_grace, run.to_lapsed, sum(run.notices.values()),
                run.enqueue_calls, run.per_thousand,
            )
        )  # fmt: skip
    print(
        "(queries: all statements, BEGIN and COMMIT included; expect: the count BATCH\n"
        " implies; tasks: enqueue calls, one per batch of notices; q/1k rows: queries\n"
        " per 1,000 memberships moved or notices recorded)"
    )
    print()
    row = "{:<12}{:>10}" + "{:>15}" * len(runs)
    print(row.format("notice", "expected", *(run.name for run in runs)))
    for kind in KINDS:
        print(row.format(kind, want[kind], *(run.notices[kind] for run in runs)))
    print()
    first = runs[0]
    print(f"Where the time goes in '{first.name}':")
    row = "{:<34}{:>7}{:>11}{:>12}"
    print(row.format("query", "calls", "total ms", "slowest ms"))
    for label, (calls, total, slowest) in first.breakdown.items():
        print(row.format(label, int(calls), f"{total:.1f}", f"{slowest:.1f}"))
    print()
    print(f"Redis: {waiting} messages were waiting; purged {purged}.")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    if args.json:
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        out = ROOT / "benchmarks" / "results" / f"reminders-{stamp}.json"
        out.parent.mkdir(exist_ok=True)
        config = {**vars(args), "today": str(TODAY), "batch": BATCH, "cpus": os.cpu_count()}
        timings = {
            "migrate_seconds": round(migrate_seconds, 2),
            "seed_seconds": round(seed_seconds, 2),
        }
        results = [{**asdict(run), "per_thousand": run.per_thousand} for run in runs]
        out.write_text(
            json.dumps(
                {"config": config, **timings, "expected": want, "runs": results,
                 "problems": problems}, indent=2,
            )
        )  # fmt: skip
        print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
