"""How fast does staff member search answer with 100,000 members?

Recreates and migrates a PostgreSQL database (``igpm_bench_search``, or the
one ``BENCH_SEARCH_DATABASE_URL`` names; its name must contain "bench"),
with ``benchmarks.settings`` (DEBUG off, persistent connections, Redis
cache), then bulk-creates ``--members`` member accounts with realistic
names (first names and surnames drawn from common British ones, so a
fragment matches what it would in a real register), email addresses made
from them at a spread of domains, a profile for most and a membership
number for most (the same data every run), and runs ``VACUUM ANALYZE`` as
autovacuum would have.

Then, for each of ``SEARCHES`` (name and surname fragments, two words of a
name, email fragments with and without "@", two letters, a membership
number):

1. the staff members page, ``GET /staff/members/?q=...``, through
   ``django.test.Client`` as a signed-in member of the Membership team (two
   factors set up): ``--repeats`` timed requests after one warm-up, median
   and 95th percentile, and the page's query count (the same as with a
   handful of members: the tests pin it);
2. the selectors alone, as the page uses them (``member_search()``'s count
   and its first 25 primary keys, then ``members_listed()`` for those):
   median and p95;
3. the ``EXPLAIN (ANALYZE)`` of the query for the page's primary keys,
   which must name a trigram index for the text searches.

Then a staff member's afternoon on one connection: ``MIXED`` (different
words, some of one or two letters) three times over through the page. The
queries are prepared after five runs, as every query of the portal is, and
PostgreSQL may then keep one plan for any words: the report says how often
it did, and the slowest search.

Last, the trigram indexes are dropped and the name fragment is timed again,
to show what they save. The database is dropped at the end unless
``--keep``.

Run from the project root (creating 100,000 members takes a minute or so):

    .venv/bin/python benchmarks/member_search.py [--members 100000]
        [--repeats 21] [--json] [--keep]
"""

import argparse
import gc
import json
import os
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, Python puts benchmarks/ on the path, not the project root.
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
# Its own database, so it can run beside the other benchmarks.
os.environ["BENCH_DATABASE_URL"] = os.environ.get(
    "BENCH_SEARCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/igpm_bench_search"
)

import django  # noqa: E402

django.setup()
# WhiteNoise warns that STATIC_ROOT was never collected; the page needs no
# static files served, and the warning would only clutter the report.
warnings.filterwarnings("ignore", "No directory at", UserWarning)

from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from benchmarks.scratch import recreate_database  # noqa: E402
from members.backoffice.selectors import member_search, members_listed  # noqa: E402
from members.models import CareBoard, Grade, Membership, Profile, User  # noqa: E402

PAGE_URL = "/staff/members/"
PER_PAGE = 25  # As members.backoffice.views.MEMBERS_PER_PAGE.
CHUNK = 5000
FIRST = 50  # Members present when the page's queries are first counted.
TRIGRAM_INDEXES = [
    "members_user_first_name_trgm",
    "members_user_last_name_trgm",
    "members_user_email_trgm",
]

# Read as prose: as list literals these would run to 300 lines.
FIRST_NAMES = (  # noqa: SIM905
    "Olivia Amelia Isla Ava Emily Sophia Grace Mia Poppy Ella Lily Evie Isabella Sophie "
    "Ivy Freya Harper Willow Charlotte Jessica Rosie Daisy Alice Florence Matilda Ruby "
    "Sienna Phoebe Elsie Hannah Anna Joanna Rebecca Sarah Siobhan Aisha Fatima Priya "
    "Zara Niamh Aoife Catherine Elizabeth Helen Julie Karen Lisa Michelle Nicola Rachel "
    "Susan Tracey Amanda Claire Deborah Emma Gemma Joanne Kelly Louise Natalie Samantha "
    "Victoria Yvonne Oliver George Harry Noah Jack Leo Arthur Muhammad Oscar Charlie "
    "Jacob Thomas Henry William Joshua James Daniel David Michael Paul Mark Andrew "
    "Richard Robert Stephen Peter Christopher Simon Neil Gareth Rhys Dylan Callum Euan "
    "Ravi Arjun Imran Tariq Kwame Chidi Tomasz Piotr Liam Sean Declan Hamish Angus"
).split()
SURNAMES = (  # noqa: SIM905
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts "
    "Robinson Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke "
    "Patel Jackson Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker "
    "Harrison Morgan Allen James Scott Phillips Watson Davis Parker Price Bennett Young "
    "Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy "
    "Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson "
    "Foster Chapman Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell Matthews "
    "Owen Palmer Holmes Mills Barnes Knight Lloyd Butler Russell Barker Fisher Stevens "
    "Jenkins Murray Dixon Harvey Graham Pearson Ahmed Fletcher Walsh Kaur Gibson Howard "
    "Andrews Stewart Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks West "
    "Lawrence Cole Atkinson Bradley Spencer Gill Dawson Ball Burton O'Brien Watts Rose "
    "Booth Perry Ryan Grant Wells Armstrong Francis Rees Hayes Hart Hudson Newman "
    "Barrett Webster Hunter Gregory Carr Lowe Page Marsh Riley Dunn Woods Parsons "
    "Berry Stone Reid Holland Hawkins Harding Porter Robertson Newton Oliver Reed "
    "Kennedy Williamson Bird Gardner Shah Dean Lane Cooke Bates Henderson Parry Burgess "
    "Bishop Walton Burns Nicholson Shepherd Ross Cross Long Freeman Warren Nicholls "
    "Hamilton Byrne Sutton McDonald Yates Hodgson Robson Curtis Hopkins O'Connor "
    "Whitfield Whitaker Fairbrother Ashworth Featherstone Montgomery Ramsbottom"
).split()
# Searches as they come on one afternoon, each different from the last.
MIXED = ["ann", "whit", "patel42", "smi", "jo", "sarah", "kha", "oliv", "ee", "wright"]
DOMAINS = ["nhs.net", "nhs.net", "nhs.net", "gmail.com", "outlook.com", "surgery.co.uk"]
# (label, what staff type, the text it must find in the plan; "" for none)
SEARCHES = [
    ("name fragment", "ann", "_trgm"),
    ("surname fragment", "whit", "_trgm"),
    ("two words", "sarah pat", "_trgm"),
    ("email fragment", "patel42", "_trgm"),
    ("email with @", "42@nhs.net", "_trgm"),
    ("two letters", "jo", "_trgm"),
    ("membership number", "IGPM-004242", ""),
]


@dataclass
class Timing:
    label: str
    query: str
    found: int = 0
    page_queries: list[int] = field(default_factory=list)
    page_ms: list[float] = field(default_factory=list)
    selector_ms: list[float] = field(default_factory=list)
    plan: str = ""

    @staticmethod
    def median(values: list[float]) -> float:
        return round(statistics.median(values), 1)

    @staticmethod
    def p95(values: list[float]) -> float:
        ordered = sorted(values)  # Nearest rank.
        return round(ordered[round(0.95 * (len(ordered) - 1))], 1)


def seed_members(first: int, count: int) -> None:
    """Member accounts ``first`` to ``first + count - 1``, with profiles and
    most with a membership, ``CHUNK`` at a time."""
    rng = random.Random(2026 + first)  # Same data every run.
    grade = Grade.objects.get(slug="member")
    boards = list(CareBoard.objects.filter(is_active=True))
    expires = timezone.localdate().replace(year=timezone.localdate().year + 1, day=1)
    for chunk_start in range(first, first + count, CHUNK):
        numbers = range(chunk_start, min(chunk_start + CHUNK, first + count))
        names = {i: (rng.choice(FIRST_NAMES), rng.choice(SURNAMES)) for i in numbers}
        with transaction.atomic():
            # "!" is an unusable password: no hashing, and nobody can sign in.
            users = User.objects.bulk_create(
                User(first_name=names[i][0], last_name=names[i][1], password="!",  # noqa: S106
                     email=f"{names[i][0][0]}.{names[i][1]}{i}@{rng.choice(DOMAINS)}".lower())
                for i in numbers
            )  # fmt: skip
            Profile.objects.bulk_create(
                Profile(user=user, job_title="Practice Manager", ods_code=f"A{i % 100000:05d}",
                        organisation_name=f"Surgery {i}", care_board=rng.choice(boards))
                for i, user in zip(numbers, users, strict=True)
                if rng.random() < 0.97
            )  # fmt: skip
            Membership.objects.bulk_create(
                Membership(user=user, grade=grade, status=Membership.Status.ACTIVE,
                           number=f"IGPM-{i + 1:06d}", expires_on=expires)
                for i, user in zip(numbers, users, strict=True)
                if rng.random() < 0.9
            )  # fmt: skip


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


def page_url(query: str) -> str:
    return f"{PAGE_URL}?{urlencode({'q': query})}"


def selector_page(query: str) -> int:
    """What the page asks of the selectors: a count, a page of primary keys,
    then those members."""
    found = member_search(query=query)
    total = found.count()
    members_listed(list(found.values_list("pk", flat=True)[:PER_PAGE]))
    return total


def timed(job: Callable[[], object], repeats: int) -> list[float]:
    job()  # Warm-up: template, URL and plan caches fill on first use.
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        job()
        times.append(1000 * (time.perf_counter() - started))
    return times


def measure(client: Client, label: str, query: str, repeats: int) -> Timing:
    timing = Timing(label, query)

    def page() -> None:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(page_url(query))
        assert response.status_code == 200, response.status_code
        timing.page_queries.append(len(captured.captured_queries))

    timing.page_ms = timed(page, repeats)
    timing.page_queries = timing.page_queries[1:]  # Less the warm-up.
    timing.selector_ms = timed(lambda: selector_page(query), repeats)
    timing.found = selector_page(query)
    page_keys = member_search(query=query).values_list("pk", flat=True)[:PER_PAGE]
    timing.plan = page_keys.explain(analyze=True)
    return timing


def measure_mixed(client: Client) -> tuple[Timing, list[tuple[int, int]]]:
    """``MIXED`` three times over through the page on a fresh connection,
    and then how many times PostgreSQL planned each prepared search query
    for any words (generic) and for the words given (custom)."""
    mixed = Timing("mixed searches", ", ".join(MIXED))
    connections.close_all()
    for query in MIXED * 3:
        started = time.perf_counter()
        assert client.get(page_url(query)).status_code == 200
        mixed.page_ms.append(1000 * (time.perf_counter() - started))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE '% LIKE %'"
        )
        plans = cursor.fetchall()
    return mixed, plans


def count_queries(client: Client, query: str) -> int:
    client.get(page_url(query))
    with CaptureQueriesContext(connection) as captured:
        client.get(page_url(query))
    return len(captured.captured_queries)


def drop_trigram_indexes() -> None:
    with connection.cursor() as cursor:
        for name in TRIGRAM_INDEXES:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("ANALYZE members_user")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000, help="member accounts")
    parser.add_argument("--repeats", type=int, default=21, help="timed runs of each search")
    parser.add_argument("--json", action="store_true", help="write benchmarks/results/*.json")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()
    if args.members <= FIRST or args.repeats < 2:
        parser.error(f"--members must exceed {FIRST}; --repeats must be at least 2")

    problems = []
    recreate_database()
    try:
        call_command("migrate", verbosity=0)
        client = staff_client()
        seed_members(0, FIRST)
        analyse()
        # A search that finds someone among the first few: the page then
        # runs every query it has, so the counts compare like with like.
        first_queries = count_queries(client, SEARCHES[0][1])
        started = time.perf_counter()
        seed_members(FIRST, args.members - FIRST)
        analyse()
        seed_seconds = time.perf_counter() - started
        # Seeding left a great deal for Python's collector, which would
        # otherwise stop one of the timed requests for 100 ms to sweep it.
        gc.collect()
        members = User.objects.filter(is_staff=False).count()
        timings = [measure(client, *search[:2], args.repeats) for search in SEARCHES]
        mixed, plans = measure_mixed(client)
        drop_trigram_indexes()
        without = measure(client, "name fragment, no trigram index", SEARCHES[0][1], 5)
    finally:
        connections.close_all()
        if not args.keep:
            recreate_database(drop_only=True)

    for timing, (_, query, index) in zip(timings, SEARCHES, strict=True):
        if index and index not in timing.plan:
            problems.append(f"{query!r}: the plan uses no trigram index")
        if not timing.found:
            problems.append(f"{query!r} found nobody: the data does not test it")
        if timing.found and set(timing.page_queries) != {first_queries}:
            problems.append(
                f"{query!r}: {first_queries} queries with {FIRST} members, "
                f"{sorted(set(timing.page_queries))} with {members:,}"
            )

    print(
        f"{members:,} members (seeded in {seed_seconds:.0f} s); {args.repeats} timed runs "
        f"each after a warm-up; {os.cpu_count()} CPUs; the page ran {first_queries} queries "
        f"for {SEARCHES[0][1]!r} with {FIRST} members; load average "
        + " ".join(f"{figure:.1f}" for figure in os.getloadavg())
    )
    print()
    row = "{:<34}{:>8}{:>9}{:>12}{:>9}{:>13}{:>9}"
    print(row.format("search", "found", "queries", "page median", "p95", "selector med", "p95"))
    for t in [*timings, without]:
        print(
            row.format(
                f"{t.label} {t.query!r}", f"{t.found:,}", t.page_queries[-1],
                f"{t.median(t.page_ms)} ms", t.p95(t.page_ms),
                f"{t.median(t.selector_ms)} ms", t.p95(t.selector_ms),
            )
        )  # fmt: skip
    print()
    print(
        f"{len(mixed.page_ms)} mixed searches on one connection ({mixed.query}, three times): "
        f"page median {mixed.median(mixed.page_ms)} ms, p95 {mixed.p95(mixed.page_ms)}, "
        f"slowest {max(mixed.page_ms):.1f}; the "
        f"{len(plans)} prepared search queries planned for any words "
        f"{sum(generic for generic, _ in plans)} times, for the words given "
        f"{sum(custom for _, custom in plans)} times"
    )
    name = timings[0]
    verdict = "within" if name.median(name.page_ms) <= 50 else "above"
    print()
    print(
        f"name fragment: page {name.median(name.page_ms)} ms median, {verdict} the 50 ms goal "
        f"(selector {name.median(name.selector_ms)} ms)"
    )
    for t in timings:
        print(f"\nEXPLAIN ANALYZE, {t.label} {t.query!r} (the page's primary keys):\n{t.plan}")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print("FAIL" if problems else "OK: trigram indexes used, query counts flat")

    if args.json:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        out = ROOT / "benchmarks" / "results" / f"member_search-{stamp}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(
            json.dumps(
                {"config": {**vars(args), "cpus": os.cpu_count()}, "members": members,
                 "timings": [asdict(t) for t in [*timings, without, mixed]],
                 "problems": problems},
                indent=2,
            )
        )  # fmt: skip
        print(f"wrote {out.relative_to(ROOT)}")
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
