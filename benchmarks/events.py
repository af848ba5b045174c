"""How fast does a registration rush go through, and is the event list's query count flat?

Recreates and migrates a PostgreSQL database (``igpm_bench_events``, or the one
``BENCH_EVENTS_DATABASE_URL`` names; its name must contain "bench"), with
``benchmarks.settings`` (DEBUG off, persistent connections, Redis cache). It
measures two things.

1. Registration rush. A published event with ``--places`` places, open for
   registration and not members-only, and ``--attempts`` users (bulk-created
   with the unusable password "!", so no hashing and nobody can sign in).
   ``--attempts`` calls of ``registration_create(event=..., user=...)`` are
   shared out over ``--workers`` threads, each with its own database
   connection (opened before the start, as a gunicorn worker keeps one between
   requests, then closed at the end), all released together by one barrier.
   The wall time runs from the barrier's release to the last call's return;
   the rate is attempts per second. Each round must end with exactly
   ``--places`` confirmed and the rest waiting, in what the calls returned and
   in the database, or the run fails. ``--rounds`` rounds, each on a fresh
   event (the same users register again), then the median.

   Emails: ``registration_create`` queues ``registration_email_task`` with
   ``delay_on_commit``. Celery is not eager here (``task_always_eager`` is
   False in ``benchmarks.settings``), and for the rush
   ``events.tasks.registration_email_task.delay`` is patched to a no-op that
   only records (registration id, kind). So the time is the registration
   itself (event lock, checks, count, insert, commit, the on-commit hook),
   with neither a Redis round trip nor the email rendered and sent inside the
   caller's request, which is where they happen in production: in a worker,
   later. The recorded calls are checked: one per registration, of the kind
   its status says.

2. Event list queries. ``GET /events/`` through ``django.test.Client`` (Host
   ``localhost``) with 1 published future event, then with 500. After one
   warm-up request, 5 requests each are timed (median printed) with their
   queries counted by ``CaptureQueriesContext``. The counts must be equal, or
   the run fails: a query per listed event would make them grow. The list
   is paginated (30 a page), so the page shows at most 30 (printed); the
   count query still runs over all 500.

The list is measured first, while the only events are its own; the rushes'
events come after and do not show in it. The database is dropped at the end
unless ``--keep``.

Run from the project root:

    .venv/bin/python benchmarks/events.py [--attempts 200] [--places 50] [--workers 40]
        [--rounds 3] [--json] [--keep]
"""

import argparse
import datetime
import json
import os
import statistics
import sys
import threading
import time
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, Python puts benchmarks/ on the path, not the project root.
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
# Its own database, so it can run beside the other benchmarks (and a
# BENCH_DATABASE_URL exported for one of those is not dropped by this one).
os.environ["BENCH_DATABASE_URL"] = os.environ.get(
    "BENCH_EVENTS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/igpm_bench_events"
)

import django  # noqa: E402

django.setup()
# WhiteNoise warns that STATIC_ROOT was never collected; the list page needs no
# static files, and the warning would only clutter the report (as pytest's config
# also silences it).
warnings.filterwarnings("ignore", "No directory at", UserWarning)

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from benchmarks.scratch import recreate_database  # noqa: E402
from events import tasks  # noqa: E402
from events.models import Event, Registration  # noqa: E402
from events.services import registration_create  # noqa: E402
from igpm import celery_app  # noqa: E402
from members.models import User  # noqa: E402

Status = Registration.Status
LIST_URL = "/events/"
LIST_SIZES = (1, 500)
LIST_REPEATS = 5  # Timed requests per size, after one warm-up.
CARD = b'<li class="card">'  # One per event in templates/events/list.html.


def check_connection_headroom(workers: int) -> None:
    """Fail early if PostgreSQL cannot take a connection per worker.

    Other projects' tests share the server: running out half-way would break
    the barrier and leave a confusing traceback instead of a clear message.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_connections')::int"
            " - current_setting('superuser_reserved_connections')::int"
            " - (SELECT count(*) FROM pg_stat_activity)"
        )
        free = cursor.fetchone()[0]
    if workers > free:
        raise SystemExit(f"{workers} workers need a connection each; PostgreSQL has {free} free.")


def event_fields(slug: str, *, starts_in: datetime.timedelta, **fields: object) -> dict:
    """A published event open for registration now, as ``tests.factories.event``
    makes one, with a given slug (the factory's slug costs a COUNT per event)."""
    now = timezone.now()
    starts = now + starts_in
    return {
        "title": "Managing winter pressures",
        "slug": slug,
        "type": Event.Type.WEBINAR,
        "summary": "A webinar for practice managers.",
        "description": "What works in practices like yours.",
        "starts_at": starts,
        "ends_at": starts + datetime.timedelta(hours=1, minutes=30),
        "is_online": True,
        "joining_link": "https://meet.example.org/igpm-winter",
        "capacity": 50,
        "registration_opens_at": now - datetime.timedelta(days=1),
        "registration_closes_at": starts,
        "status": Event.Status.PUBLISHED,
        "cpd_hours": 1.5,
        **fields,
    }


def analyse() -> None:
    # Freshly loaded tables have no planner statistics until autovacuum gets
    # to them; production tables have them, so plans without them would mislead.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --- 2. Event list ----------------------------------------------------------------


@dataclass
class ListRun:
    events: int  # Published future events in the database.
    rendered: int = 0  # Events on the page.
    queries: int = 0
    median_ms: float = 0.0
    min_ms: float = 0.0
    counts: list[int] = field(default_factory=list)  # Queries of each timed request.
    sql: list[str] = field(default_factory=list)  # Those of the last request.


def add_list_events(have: int, want: int) -> None:
    """Bring the published future events up to ``want``, varied as a real
    list is (types, regions, online or not, members-only), a day apart."""
    types, regions = list(Event.Type), list(Event.Region)
    Event.objects.bulk_create(
        Event(
            **event_fields(
                f"list-{n}",
                starts_in=datetime.timedelta(days=n + 1),
                title=f"Event {n}",
                type=types[n % len(types)],
                region=regions[n % len(regions)],
                is_online=n % 3 == 0,
                members_only=n % 4 == 0,
            )
        )
        for n in range(have, want)
    )
    analyse()


def list_page(client: Client, events: int) -> ListRun:
    run = ListRun(events)
    # Warm-up: the template loader's cache, URL resolver and the like fill on
    # first use, which would otherwise be charged to whichever size goes first.
    client.get(LIST_URL)
    timings = []
    for _ in range(LIST_REPEATS):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(LIST_URL)
            timings.append(1000 * (time.perf_counter() - started))
        if response.status_code != 200:
            raise SystemExit(f"GET {LIST_URL} with {events} events: {response.status_code}")
        run.counts.append(len(captured.captured_queries))
    run.sql = [query["sql"] for query in captured.captured_queries]
    run.queries = run.counts[-1]
    run.rendered = response.content.count(CARD)
    run.median_ms = round(statistics.median(timings), 2)
    run.min_ms = round(min(timings), 2)
    return run


def measure_list() -> list[ListRun]:
    client = Client(HTTP_HOST="localhost")  # In ALLOWED_HOSTS of benchmarks.settings.
    runs, have = [], 0
    for size in LIST_SIZES:
        add_list_events(have, size)
        have = size
        runs.append(list_page(client, size))
    return runs


# --- 1. Registration rush -------------------------------------------------------------


@dataclass
class Round:
    number: int
    seconds: float = 0.0  # Barrier release to the last call's return.
    per_second: float = 0.0
    confirmed: int = 0
    waiting: int = 0
    db_confirmed: int = 0
    db_waiting: int = 0
    emails: dict[str, int] = field(default_factory=dict)  # Kinds recorded by the no-op.
    # Each call's own time, most of it waiting for the event's lock.
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    max_ms: float = 0.0
    errors: list[str] = field(default_factory=list)


@dataclass
class WorkerResult:
    statuses: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    finished: float = 0.0


def create_users(count: int) -> list[User]:
    # "!" is an unusable password: no hashing, and nobody can sign in.
    return User.objects.bulk_create(
        User(email=f"rush{n}@example.org", first_name=f"First{n}", last_name=f"Last{n}",
             password="!")  # noqa: S106
        for n in range(count)
    )  # fmt: skip


def rush(number: int, users: list[User], places: int, workers: int) -> Round:
    event = Event.objects.create(
        **event_fields(f"rush-{number}", starts_in=datetime.timedelta(days=7), capacity=places)
    )
    result = Round(number)
    batches = [users[i::workers] for i in range(workers)]
    released: list[float] = []
    # The action runs once, in the last thread to arrive, just before all go.
    barrier = threading.Barrier(workers, action=lambda: released.append(time.perf_counter()))
    queued: list[tuple[int, str]] = []
    queued_lock = threading.Lock()

    def queue_nothing(registration_id: int, kind: str) -> None:
        """Stands in for ``registration_email_task.delay``: records, sends nothing."""
        with queued_lock:
            queued.append((registration_id, kind))

    def work(batch: list[User]) -> WorkerResult:
        out = WorkerResult()
        try:
            try:
                # Connect before the start: the time is registering, not connecting.
                connection.ensure_connection()
            except Exception:
                barrier.abort()  # Release the others at once rather than hang them.
                raise
            barrier.wait()
            for user in batch:
                started = time.perf_counter()
                try:
                    registration = registration_create(
                        event=event, user=user, name=user.get_full_name(), email=user.email,
                        organisation="Riverside Surgery", role="Practice Manager",
                    )  # fmt: skip
                except Exception as exc:
                    # Kept, not raised: the round fails with every error shown.
                    out.errors.append(f"{user.email}: {exc!r}")
                else:
                    out.statuses.append(registration.status)
                out.latencies_ms.append(1000 * (time.perf_counter() - started))
            out.finished = time.perf_counter()
        finally:
            connection.close()  # Each thread's own connection; Django will not close it.
        return out

    with (
        mock.patch.object(tasks.registration_email_task, "delay", queue_nothing),
        ThreadPoolExecutor(max_workers=workers) as pool,
    ):
        outs = list(pool.map(work, batches))

    result.seconds = round(max(out.finished for out in outs) - released[0], 4)
    result.per_second = round(len(users) / result.seconds, 1)
    statuses = Counter(status for out in outs for status in out.statuses)
    result.confirmed, result.waiting = statuses[Status.CONFIRMED], statuses[Status.WAITING]
    in_db = Counter(Registration.objects.filter(event=event).values_list("status", flat=True))
    result.db_confirmed, result.db_waiting = in_db[Status.CONFIRMED], in_db[Status.WAITING]
    result.emails = dict(Counter(str(kind) for _, kind in queued))
    latencies = sorted(ms for out in outs for ms in out.latencies_ms)
    # Nearest-rank percentiles.
    result.p50_ms = round(latencies[round(0.50 * (len(latencies) - 1))], 2)
    result.p95_ms = round(latencies[round(0.95 * (len(latencies) - 1))], 2)
    result.max_ms = round(latencies[-1], 2)
    result.errors = [error for out in outs for error in out.errors]
    return result


def check_round(result: Round, attempts: int, places: int) -> list[str]:
    name = f"round {result.number}"
    want_confirmed = min(attempts, places)
    want = (want_confirmed, attempts - want_confirmed)
    problems = [f"{name}: {error}" for error in result.errors]
    if (result.confirmed, result.waiting) != want:
        problems.append(
            f"{name}: calls returned {result.confirmed} confirmed, {result.waiting} waiting;"
            f" expected {want[0]} and {want[1]}"
        )
    if (result.db_confirmed, result.db_waiting) != want:
        problems.append(
            f"{name}: database holds {result.db_confirmed} confirmed, {result.db_waiting}"
            f" waiting; expected {want[0]} and {want[1]}"
        )
    # One email queued per registration, after commit, of the kind its status says.
    want_emails = {kind: n for kind, n in zip(("confirmed", "waiting"), want, strict=True) if n}
    if result.emails != want_emails:
        problems.append(f"{name}: emails queued {result.emails}, expected {want_emails}")
    return problems


def check_list(runs: list[ListRun]) -> list[str]:
    problems = []
    for run in runs:
        if len(set(run.counts)) != 1:
            problems.append(f"{run.events} events: query counts varied between requests")
    small, large = runs[0], runs[-1]
    if small.queries != large.queries:
        problems.append(
            f"event list: {small.queries} queries with {small.events} event(s),"
            f" {large.queries} with {large.events}"
        )
    if small.rendered != small.events or large.rendered <= small.rendered:
        problems.append(
            f"event list showed {small.rendered} and {large.rendered} events:"
            " the comparison needs more on the larger page"
        )
    return problems


# --- Run and report ---------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=200, help="registrations per round")
    parser.add_argument("--places", type=int, default=50, help="the event's capacity")
    parser.add_argument("--workers", type=int, default=40, help="threads in the rush")
    parser.add_argument("--rounds", type=int, default=3, help="rushes, each on a fresh event")
    parser.add_argument("--json", action="store_true", help="write benchmarks/results/*.json")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()
    for name in ("attempts", "places", "workers", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    # Eager tasks would run the email inside the transaction's caller: not this benchmark.
    if celery_app.conf.task_always_eager:
        raise SystemExit("Celery is eager: benchmarks.settings should leave it off.")

    recreate_database()
    try:
        check_connection_headroom(args.workers + 1)  # The main thread keeps one too.
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        migrate_seconds = time.perf_counter() - started
        list_runs = measure_list()
        users = create_users(args.attempts)
        analyse()
        rounds = [
            rush(number, users, args.places, args.workers) for number in range(1, args.rounds + 1)
        ]
    finally:
        connections.close_all()
        if not args.keep:
            recreate_database(drop_only=True)

    problems = [p for r in rounds for p in check_round(r, args.attempts, args.places)]
    problems += check_list(list_runs)
    report(args, migrate_seconds, rounds, list_runs, problems)
    if problems:
        sys.exit(1)  # A rush that overbooked, or a list that grew, is the finding.


def report(
    args: argparse.Namespace,
    migrate_seconds: float,
    rounds: list[Round],
    list_runs: list[ListRun],
    problems: list[str],
) -> None:
    db = settings.DATABASES["default"]["NAME"]
    print(f"database {db}, {os.cpu_count()} CPUs, migrate {migrate_seconds:.1f} s")
    print()
    print(
        f"1. Registration rush: {args.attempts} attempts for {args.places} places,"
        f" {args.workers} threads, {args.rounds} round(s)"
    )
    print("   (registration_email_task.delay patched to a no-op: no broker, no email sent)")
    row = "{:<7}{:>9}{:>10}{:>11}{:>9}{:>9}{:>9}{:>9}{:>8}"
    print(
        row.format(
            "round", "wall s", "regs/s", "confirmed", "waiting", "p50 ms", "p95 ms", "max ms",
            "errors",
        )
    )  # fmt: skip
    for r in rounds:
        print(
            row.format(
                r.number, f"{r.seconds:.3f}", f"{r.per_second:.1f}", r.db_confirmed,
                r.db_waiting, f"{r.p50_ms:.1f}", f"{r.p95_ms:.1f}", f"{r.max_ms:.1f}",
                len(r.errors),
            )
        )  # fmt: skip
    median_seconds = statistics.median(r.seconds for r in rounds)
    median_rate = statistics.median(r.per_second for r in rounds)
    print(row.format("median", f"{median_seconds:.3f}", f"{median_rate:.1f}", *[""] * 6).rstrip())
    print("   (wall: barrier release to last return; p50/p95/max: one call, lock wait included)")
    print()
    print(f"2. Event list, GET {LIST_URL}: median of {LIST_REPEATS} after a warm-up")
    row = "{:<8}{:>10}{:>9}{:>11}{:>9}"
    print(row.format("events", "on page", "queries", "median ms", "min ms"))
    for run in list_runs:
        print(
            row.format(
                run.events, run.rendered, run.queries, f"{run.median_ms:.1f}", f"{run.min_ms:.1f}"
            )
        )
    small, large = list_runs[0], list_runs[-1]
    flat = "flat" if small.queries == large.queries else "NOT flat"
    print(f"   queries {small.queries} -> {large.queries}: {flat}")
    if small.queries != large.queries:
        for run in (small, large):
            print(f"   queries with {run.events} event(s):")
            for text in run.sql:
                print(f"     {text[:110]}")
    print()
    for problem in problems:
        print(f"PROBLEM: {problem}")
    verdict = "no overbooking, one email queued per registration, list query count flat"
    print("FAIL" if problems else f"OK: {verdict}")
    if args.json:
        out = ROOT / "benchmarks" / "results" / f"events-{time.strftime('%Y%m%d-%H%M%S')}.json"
        out.parent.mkdir(exist_ok=True)
        config = {**vars(args), "cpus": os.cpu_count(), "database": db}
        out.write_text(
            json.dumps(
                {"config": config, "migrate_seconds": round(migrate_seconds, 2),
                 "rush": {"rounds": [asdict(r) for r in rounds],
                          "median_seconds": median_seconds, "median_per_second": median_rate},
                 "event_list": [asdict(run) for run in list_runs],
                 "problems": problems}, indent=2,
            )
        )  # fmt: skip
        print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
