"""How long does the staff reports page take with 100,000 members, and the
CSVs behind it?

Recreates and migrates a PostgreSQL database (``igpm_bench_reports``, or the
one ``BENCH_REPORTS_DATABASE_URL`` names; its name must contain "bench"),
with ``benchmarks.settings`` (DEBUG off, persistent connections, Redis
cache), then bulk-creates ``--members`` memberships with a history, spread
the way a real membership is (the same data every run, relative to today):

- grades weighted towards Member, a profile with an ICB or health board for
  most (spread over every active board; a few give none), and for most a
  practice in the NHS data (6,300 practices in 1,250 PCNs and 42 ICBs),
  mostly in the board the member gave;
- joining dates over five years; each paid year renewed with a chance of
  0.82 (paid up to 45 days early or in grace), otherwise lapsing, and a
  lapsed member rejoining now and then; the current status follows from the
  last paid year (active, in grace or lapsed); a few memberships waiting
  for payment or approval, a few cancelled, a few years refunded;
- a payment for every paid year; accreditation applications for about one
  member in twelve, in every status, decided 3 to 90 days after submission;
- 200 events from 14 months ago to 3 months ahead, booked to between 40%
  and 110% of capacity (the rest waiting), with check-ins at past ones.

The data is loaded around the services, so the summary rows behind the
movement and retention figures are then counted from scratch, as
``manage.py reports_rebuild`` does after an import (timed).

Then, through ``django.test.Client`` as a signed-in member of the
Membership team (two-factor set up), after one warm-up request each:

1. ``GET /staff/reports/``: ``--repeats`` timed requests, median and 90th
   percentile, queries counted by ``CaptureQueriesContext``; the members in
   good standing it shows, and those it counts by their practices' ICBs,
   are checked against direct counts. The page's
   queries are also counted once with the first 100 members only, before
   the rest exist: the two counts must be equal. The figures are worked out
   on every request (``REPORTS_CACHE_SECONDS = 0`` in the benchmark's
   settings); then the page is timed again as production serves it, with
   the figures kept for ten minutes. The members by ICB and PCN section,
   whose every PCN is on its own page, is timed there too.
2. ``GET /staff/reports/members.csv`` (streamed): ``--csv-repeats`` timed
   requests, each read to the end, rows checked against the memberships;
   then one more read under ``tracemalloc`` for Python's peak memory.
3. Each section's CSV, ``--repeats`` times each.

The database is dropped at the end unless ``--keep``.

Run from the project root (creating 100,000 members takes a few minutes):

    .venv/bin/python benchmarks/reports.py [--members 100000] [--repeats 7]
        [--csv-repeats 3] [--json] [--keep]
"""

import argparse
import datetime
import json
import os
import random
import statistics
import sys
import time
import tracemalloc
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, Python puts benchmarks/ on the path, not the project root.
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
# Its own database, so it can run beside the other benchmarks (and a
# BENCH_DATABASE_URL exported for one of those is not dropped by this one).
os.environ["BENCH_DATABASE_URL"] = os.environ.get(
    "BENCH_REPORTS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/igpm_bench_reports"
)

import django  # noqa: E402

django.setup()
# WhiteNoise warns that STATIC_ROOT was never collected; the page needs no
# static files served, and the warning would only clutter the report.
warnings.filterwarnings("ignore", "No directory at", UserWarning)

from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from accreditation.models import Application, Pathway  # noqa: E402
from benchmarks.scratch import recreate_database  # noqa: E402
from events.models import Event, Registration  # noqa: E402
from members.billing.services.membership import period_end, status_for_expiry  # noqa: E402
from members.models import (  # noqa: E402
    CareBoard,
    Grade,
    Membership,
    MembershipPeriod,
    NHSOrganisation,
    Payment,
    Profile,
    User,
)
from members.organisations.ods_reports import practice_places  # noqa: E402
from members.reports.period import Period  # noqa: E402
from members.reports.registry import CSV_REPORTS  # noqa: E402
from members.reports.summary import membership_figures_rebuild  # noqa: E402

PAGE_URL = "/staff/reports/"
PCNS_URL = "/staff/reports/pcns/"
MEMBERS_CSV_URL = "/staff/reports/members.csv"
CHUNK = 5000  # Members per bulk_create round.
FIRST = 100  # Members present when the page's queries are first counted.
HISTORY_DAYS = 5 * 365
RENEW_CHANCE = 0.82
REJOIN_CHANCE = 0.15
GRADE_WEIGHTS = {"student": 8, "associate": 20, "member": 55, "fellow": 10, "retired": 7}
APPLICATION_STATUSES = {
    "draft": 10,
    "submitted": 8,
    "in_review": 10,
    "more_info": 4,
    "approved": 48,
    "rejected": 12,
    "withdrawn": 8,
}

Status = Membership.Status


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def at(day: datetime.date, rng: random.Random) -> datetime.datetime:
    """A moment during the working day of ``day``, UK time."""
    moment = datetime.datetime.combine(day, datetime.time(8)) + datetime.timedelta(
        minutes=rng.randrange(10 * 60)
    )
    return timezone.make_aware(moment)


@dataclass
class History:
    """One membership as it stands today, with the years it paid for."""

    status: str
    years: list[tuple[datetime.date, datetime.date, datetime.datetime, str]]


def history(today: datetime.date, rng: random.Random) -> History:
    """Join on a day in the last five years, then renew, lapse or rejoin
    year by year up to ``today``."""
    roll = rng.random()
    if roll < 0.03:
        return History(Status.AWAITING_PAYMENT, [])
    if roll < 0.035:
        return History(Status.PENDING_APPROVAL, [])
    start = today - days(rng.randrange(HISTORY_DAYS))
    years = [(start, period_end(start), at(start, rng), Payment.Purpose.JOIN)]
    while True:
        _, end, _, _ = years[-1]
        if end >= today:
            break
        if rng.random() < RENEW_CHANCE:
            paid_on = end + days(rng.randint(-45, 25))
            if paid_on > today:
                break  # Not renewed yet: active still, or in grace.
            starts = end + days(1)
            years.append((starts, period_end(starts), at(paid_on, rng), Payment.Purpose.RENEW))
        elif rng.random() < REJOIN_CHANCE:
            starts = end + days(31 + rng.randint(30, 400))
            if starts > today:
                break
            years.append((starts, period_end(starts), at(starts, rng), Payment.Purpose.JOIN))
        else:
            break
    status = status_for_expiry(years[-1][1], today)
    if rng.random() < 0.005:
        status = Status.CANCELLED
    return History(status, years)


ICBS, PCNS, PRACTICES = 42, 1250, 6300  # About England's.
PRACTICE_CHANCE = 0.85  # Members whose ODS code names a practice in the data.


def seed_organisations() -> None:
    """England's ICBs, PCNs and practices, in number: each PCN in an ICB,
    each practice in a PCN and its ICB."""
    Kind = NHSOrganisation.Kind
    icbs = NHSOrganisation.objects.bulk_create(
        NHSOrganisation(code=f"Q{n:02d}", kind=Kind.ICB, name=f"NHS Area {n} ICB")
        for n in range(ICBS)
    )
    pcns = NHSOrganisation.objects.bulk_create(
        NHSOrganisation(code=f"U{n:05d}", kind=Kind.PCN, name=f"Area PCN {n}", icb=icbs[n % ICBS])
        for n in range(PCNS)
    )
    NHSOrganisation.objects.bulk_create(
        NHSOrganisation(code=f"B{n:05d}", kind=Kind.PRACTICE, name=f"Surgery {n}",
                        pcn=pcns[n % PCNS], icb=pcns[n % PCNS].icb)
        for n in range(PRACTICES)
    )  # fmt: skip


def seed_members(first: int, count: int, today: datetime.date) -> None:
    """Members ``first`` to ``first + count - 1``, ``CHUNK`` at a time."""
    rng = random.Random(2026 + first)  # Same data every run.
    grades = {grade.slug: grade for grade in Grade.objects.all()}
    grade_slugs = list(GRADE_WEIGHTS)
    boards = list(CareBoard.objects.filter(is_active=True))
    roles = [value for value, _ in Profile.Role.choices]
    practices = list(
        NHSOrganisation.objects.filter(kind=NHSOrganisation.Kind.PRACTICE).values_list(
            "pk", "code", "icb_id"
        )
    )
    # Most members in the data give the board their practice is in.
    icb_ids = sorted({icb_id for _, _, icb_id in practices})
    board_of_icb = {icb_id: boards[n % len(boards)] for n, icb_id in enumerate(icb_ids)}

    def board(practice: tuple | None) -> CareBoard | None:
        if rng.random() < 0.02:
            return None
        if practice and rng.random() < 0.9:
            return board_of_icb[practice[2]]
        return rng.choice(boards)

    for chunk_start in range(first, first + count, CHUNK):
        numbers = range(chunk_start, min(chunk_start + CHUNK, first + count))
        histories = {i: history(today, rng) for i in numbers}
        chosen = dict(
            zip(
                numbers,
                rng.choices(grade_slugs, weights=list(GRADE_WEIGHTS.values()), k=len(numbers)),
                strict=True,
            )
        )
        with transaction.atomic():
            # "!" is an unusable password: no hashing, and nobody can sign in.
            users = User.objects.bulk_create(
                User(email=f"member{i}@example.org", first_name=f"First{i}",
                     last_name=f"Last{i}", password="!")  # noqa: S106
                for i in numbers
            )  # fmt: skip
            practice_of = {
                i: rng.choice(practices) if rng.random() < PRACTICE_CHANCE else None
                for i in numbers
            }
            Profile.objects.bulk_create(
                Profile(user=user, job_title="Practice Manager", role=rng.choice(roles),
                        organisation_name=f"Surgery {i}",
                        ods_code=practice_of[i][1] if practice_of[i] else "",
                        practice_id=practice_of[i][0] if practice_of[i] else None,
                        care_board=board(practice_of[i]), years_in_role=rng.randint(0, 30))
                for i, user in zip(numbers, users, strict=True)
                if rng.random() < 0.97
            )  # fmt: skip
            memberships = Membership.objects.bulk_create(
                Membership(
                    user=user, grade=grades[chosen[i]], status=histories[i].status,
                    number=f"IGPM-{i + 1:06d}" if histories[i].years else None,
                    expires_on=histories[i].years[-1][1] if histories[i].years else None,
                )
                for i, user in zip(numbers, users, strict=True)
            )  # fmt: skip
            paid = [
                (membership, year, rng.random() < 0.003)  # A few refunded in full.
                for i, membership in zip(numbers, memberships, strict=True)
                for year in histories[i].years
            ]
            payments = Payment.objects.bulk_create(
                Payment(
                    membership=membership, user=membership.user, grade=membership.grade,
                    purpose=purpose, method=rng.choice(list(Payment.Method)[:2]),
                    status=Payment.Status.REFUNDED if refunded else Payment.Status.PAID,
                    amount_pence=membership.grade.annual_fee_pence,
                    refunded_pence=membership.grade.annual_fee_pence if refunded else 0,
                    receipt_number=f"RCT-BENCH-{membership.pk}-{starts:%Y%m%d}", paid_at=paid_at,
                )
                for membership, (starts, _, paid_at, purpose), refunded in paid
            )  # fmt: skip
            MembershipPeriod.objects.bulk_create(
                MembershipPeriod(membership=membership, payment=payment, grade=membership.grade,
                                 starts_on=starts, ends_on=ends)
                for (membership, (starts, ends, _, _), _), payment in zip(
                    paid, payments, strict=True
                )
            )  # fmt: skip
            seed_applications(memberships, rng)


def seed_applications(memberships: list[Membership], rng: random.Random) -> None:
    pathways = list(Pathway.objects.all())
    statuses = list(APPLICATION_STATUSES)
    weights = list(APPLICATION_STATUSES.values())
    now = timezone.now()
    applications = []
    for membership in memberships:
        if membership.status not in Membership.IN_GOOD_STANDING or rng.random() > 1 / 12:
            continue
        status = rng.choices(statuses, weights=weights)[0]
        submitted = None if status == "draft" else now - days(rng.randint(1, 700))
        decided = None
        if status in ("approved", "rejected"):
            decided = submitted + datetime.timedelta(hours=rng.randint(3 * 24, 90 * 24))
            if decided > now:
                status, decided = "in_review", None
        applications.append(
            Application(
                applicant_id=membership.user_id, pathway=rng.choice(pathways), status=status,
                kind="revalidation" if rng.random() < 0.15 else "initial",
                submitted_at=submitted, decided_at=decided,
            )
        )  # fmt: skip
    Application.objects.bulk_create(applications)


def seed_events(count: int, today: datetime.date) -> None:
    rng = random.Random(21)
    types = list(Event.Type)
    events = []
    for n in range(count):
        starts = at(today - days(420) + days(n * 510 // count), rng)
        events.append(
            Event(
                title=f"Event {n}", slug=f"event-{n}", type=rng.choice(types),
                summary="For practice managers.", description="What works.",
                starts_at=starts, ends_at=starts + datetime.timedelta(hours=2),
                capacity=rng.randint(30, 400), registration_opens_at=starts - days(60),
                registration_closes_at=starts, status=Event.Status.PUBLISHED,
            )
        )  # fmt: skip
    events = Event.objects.bulk_create(events)
    now = timezone.now()
    registrations = []
    for event in events:
        wanted = int(event.capacity * rng.uniform(0.4, 1.1))
        for n in range(wanted):
            status = Registration.Status.CONFIRMED if n < event.capacity else "waiting"
            if rng.random() < 0.05:
                status = Registration.Status.CANCELLED
            checked_in = (
                event.starts_at
                if status == Registration.Status.CONFIRMED
                and event.starts_at <= now
                and rng.random() < 0.8
                else None
            )
            registrations.append(
                Registration(
                    event=event, name=f"Attendee {n}", email=f"e{event.pk}-{n}@example.org",
                    organisation="Riverside Surgery", role="Practice Manager", status=status,
                    checked_in_at=checked_in,
                )
            )  # fmt: skip
    Registration.objects.bulk_create(registrations, batch_size=CHUNK)


def analyse() -> None:
    # Freshly loaded tables have no planner statistics until autovacuum gets
    # to them; production tables have them, so plans without them would mislead.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def staff_client() -> Client:
    staff = User.objects.create_user("bench.staff@example.org", password=None, is_staff=True)
    staff.groups.add(Group.objects.get(name="Membership team"))
    TOTP.activate(staff, generate_totp_secret())
    client = Client(HTTP_HOST="localhost")  # In ALLOWED_HOSTS of benchmarks.settings.
    client.force_login(staff)
    return client


@dataclass
class Timing:
    url: str
    status: int = 0
    queries: list[int] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)
    size: int = 0  # Bytes of the last response.
    sql_ms: list[float] = field(default_factory=list)  # Time in the database, per request.
    slowest: list[tuple[float, str]] = field(default_factory=list)  # Of the last request.

    @property
    def median_ms(self) -> float:
        return round(statistics.median(self.ms), 1)

    @property
    def p90_ms(self) -> float:
        # Nearest rank.
        ordered = sorted(self.ms)
        return round(ordered[round(0.9 * (len(ordered) - 1))], 1)


def fetch(client: Client, url: str) -> tuple[int, bytes]:
    response = client.get(url)
    # A streamed CSV is read to the end, as a browser does.
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, body


def measure(client: Client, url: str, repeats: int) -> tuple[Timing, bytes]:
    timing = Timing(url)
    fetch(client, url)  # Warm-up: template and URL caches fill on first use.
    for _ in range(repeats):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            timing.status, body = fetch(client, url)
            timing.ms.append(1000 * (time.perf_counter() - started))
        timing.queries.append(len(captured.captured_queries))
        times = [(1000 * float(query["time"]), query["sql"]) for query in captured]
        timing.sql_ms.append(sum(ms for ms, _ in times))
    timing.slowest = [(round(ms, 1), sql[:90]) for ms, sql in sorted(times, reverse=True)[:6]]
    timing.size = len(body)
    return timing, body


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        fetch(client, url)
    return len(captured.captured_queries)


def csv_peak_memory(client: Client) -> tuple[float, int]:
    """Python's peak memory while the member list streams, in MB, and the
    bytes streamed."""
    tracemalloc.start()
    try:
        response = client.get(MEMBERS_CSV_URL)
        size = 0
        for part in response.streaming_content:
            size += len(part)  # Each part is dropped at once, as a server sends it.
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return round(peak / 2**20, 1), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000, help="memberships to create")
    parser.add_argument("--repeats", type=int, default=7, help="timed requests per page")
    parser.add_argument("--csv-repeats", type=int, default=3, help="timed member CSV reads")
    parser.add_argument("--events", type=int, default=200, help="events to create")
    parser.add_argument("--json", action="store_true", help="write benchmarks/results/*.json")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()
    if args.members <= FIRST or args.repeats < 1 or args.csv_repeats < 1:
        parser.error(f"--members must exceed {FIRST}; repeats must be at least 1")

    today = timezone.localdate()
    problems = []
    recreate_database()
    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        migrate_seconds = time.perf_counter() - started
        client = staff_client()
        seed_organisations()
        seed_members(0, FIRST, today)
        seed_events(args.events, today)
        # Loaded around the services, so the summary rows are counted as an
        # operator would after an import.
        membership_figures_rebuild()
        analyse()
        first_queries = count_queries(client, PAGE_URL)
        started = time.perf_counter()
        seed_members(FIRST, args.members - FIRST, today)
        seed_seconds = time.perf_counter() - started
        started = time.perf_counter()
        membership_figures_rebuild()
        rebuild_seconds = time.perf_counter() - started
        analyse()
        counts = {
            "memberships": Membership.objects.count(),
            "in good standing": Membership.objects.filter(
                status__in=Membership.IN_GOOD_STANDING
            ).count(),
            "paid years": MembershipPeriod.objects.count(),
            "applications": Application.objects.count(),
            "events": Event.objects.count(),
            "registrations": Registration.objects.count(),
        }
        page, html = measure(client, PAGE_URL, args.repeats)
        # As staff see it in production: the figures kept for ten minutes
        # (the warm-up request works them out).
        with override_settings(REPORTS_CACHE_SECONDS=600):
            cached, _ = measure(client, PAGE_URL, args.repeats)
        cached = replace(cached, url=f"{PAGE_URL} (figures cached)")
        shown = f"<strong>{counts['in good standing']:,}</strong> members in good standing"
        if shown.encode() not in html:
            problems.append(f"the page does not show {shown!r}")
        icbs, _ = practice_places(Period.current())
        at_practices = Profile.objects.filter(
            practice__isnull=False, user__membership__status__in=Membership.IN_GOOD_STANDING
        )
        if sum(icb.members for icb in icbs) != at_practices.count():
            problems.append(f"members by ICB do not add up to the {at_practices.count():,}")
        if len(icbs) != at_practices.order_by().values("practice__icb").distinct().count():
            problems.append(f"{len(icbs)} ICBs shown, not those of the practices with members")
        # The section with every PCN, on its own page.
        pcns_page, _ = measure(client, PCNS_URL, args.repeats)
        members_csv, body = measure(client, MEMBERS_CSV_URL, args.csv_repeats)
        rows = body.count(b"\r\n") - 1  # Less the header.
        if rows != counts["memberships"]:
            problems.append(f"member CSV has {rows} rows for {counts['memberships']} memberships")
        peak_mb, streamed = csv_peak_memory(client)
        sections = [
            measure(client, f"/staff/reports/{slug}.csv", args.repeats)[0] for slug in CSV_REPORTS
        ]
    finally:
        connections.close_all()
        if not args.keep:
            recreate_database(drop_only=True)

    timings = [page, cached, pcns_page, members_csv, *sections]
    for timing in timings:
        if timing.status != 200:
            problems.append(f"{timing.url} answered {timing.status}")
        if len(set(timing.queries)) != 1:
            problems.append(f"{timing.url}: query counts varied: {timing.queries}")
    if first_queries != page.queries[-1]:
        problems.append(
            f"page queries grew: {first_queries} with {FIRST} members, "
            f"{page.queries[-1]} with {args.members:,}"
        )
    report(args, migrate_seconds, seed_seconds, counts, first_queries, timings, peak_mb, streamed)
    print(f"summary rows rebuilt (manage.py reports_rebuild) in {rebuild_seconds:.1f} s")
    print(f"load average {' '.join(f'{n:.1f}' for n in os.getloadavg())}")
    rows_per_second = counts["memberships"] / (members_csv.median_ms / 1000)
    print(f"member CSV: {rows_per_second:,.0f} rows a second (median)")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print("FAIL" if problems else "OK: figures checked, query counts flat")
    if args.json:
        out = ROOT / "benchmarks" / "results" / f"reports-{time.strftime('%Y%m%d-%H%M%S')}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(
            json.dumps(
                {"config": {**vars(args), "cpus": os.cpu_count()}, "counts": counts,
                 "first_queries": first_queries, "csv_peak_mb": peak_mb,
                 "timings": [{**asdict(t), "median_ms": t.median_ms, "p90_ms": t.p90_ms}
                             for t in timings],
                 "problems": problems}, indent=2,
            )
        )  # fmt: skip
        print(f"wrote {out.relative_to(ROOT)}")
    if problems:
        sys.exit(1)


def report(args, migrate_seconds, seed_seconds, counts, first_queries, timings, peak_mb, streamed):
    db = settings.DATABASES["default"]["NAME"]
    print(
        f"database {db}, {os.cpu_count()} CPUs, migrate {migrate_seconds:.1f} s, "
        f"create data {seed_seconds:.1f} s"
    )
    print(", ".join(f"{value:,} {name}" for name, value in counts.items()))
    print()
    page = timings[0]
    row = "{:<38}{:>9}{:>9}{:>10}{:>9}{:>12}"
    print(row.format("GET", "requests", "queries", "median ms", "p90 ms", "bytes"))
    for timing in timings:
        print(
            row.format(
                timing.url, len(timing.ms), timing.queries[-1], f"{timing.median_ms:.1f}",
                f"{timing.p90_ms:.1f}", f"{timing.size:,}",
            )
        )  # fmt: skip
    print("(each after one warm-up; CSVs read to the end; queries include the session,")
    print(" user, two-factor and permission look-ups)")
    print()
    print(
        f"reports page queries: {first_queries} with {FIRST} members, "
        f"{page.queries[-1]} with {args.members:,}"
    )
    print(
        f"member CSV: {streamed / 2**20:.1f} MB streamed; Python's peak memory while "
        f"streaming {peak_mb} MB"
    )
    print()
    print(
        f"reports page: median {statistics.median(page.sql_ms):.0f} ms of "
        f"{page.median_ms:.0f} in the database; its slowest queries (ms):"
    )
    for ms, sql in page.slowest:
        print(f"{ms:>8.1f}  {sql}")


if __name__ == "__main__":
    main()
