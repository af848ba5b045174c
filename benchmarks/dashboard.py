"""How much do the busiest pages cost, next to a bare Django view?

Recreates and migrates a PostgreSQL database (``igpm_bench``), adds one
member with a verified email and a complete profile among 1,000 others, 40
published future events (one of them, in person so its form has every field,
open for registration with 10 of its 200 places taken), signs that member in
and starts gunicorn (sync workers) with ``benchmarks.settings``: DEBUG off,
persistent database connections, Redis cache. It then loads, in turn,
``/bench/bare/`` ("ok" through the same middleware, no cookie), the home page
and the event list (anonymous), the event page (anonymous, then with the
member's session cookie) and ``/dashboard/`` (signed in): 20 concurrent
connections, a new one per request, for a fixed time after a warm-up. Each
page's time is split into ``--rounds`` windows with a window of the bare
view before, between and after them, and its ratio is the median of each
window's requests/s over the mean of the bare windows either side: a
shared machine's speed drifts from one second to the next, and a ratio of
figures taken a minute apart measures the drift as much as the page. A
response counts only if it is a 200 holding a text that only the right page
shows (the dashboard greets the member by name; the signed-in event page
names them on its one-step form), so a redirect to the login page is an
error. ``--pages`` picks some of them (the bare view always runs).

It prints requests, errors, requests/s and p50/p95 latency for each URL, and
each page's ratio to the bare view, with the issue's aim beside it. Traffic
stays on 127.0.0.1; everything stops by itself. The load generator shares the
CPUs with gunicorn ("client CPU" is its share of one core), so compare
figures from the same machine only.

Run from the project root:

    .venv/bin/python benchmarks/dashboard.py [--seconds 15] [--rounds 3]
        [--workers 2] [--pages event member ...] [--json] [--keep]
"""

import argparse
import asyncio
import datetime
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, Python puts benchmarks/ on the path, not the project root.
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"

import django  # noqa: E402

django.setup()

from allauth.account.models import EmailAddress  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from benchmarks.scratch import recreate_database  # noqa: E402
from events.models import Event, Registration  # noqa: E402
from members.models import CareBoard, Profile, User  # noqa: E402

HOST = "127.0.0.1"
FIRST_NAME = "Marguerite"  # Distinctive, so the check cannot match by chance.
REQUEST_TIMEOUT = 10.0
CONCURRENCY = 20
EVENT_SLUG = "national-practice-manager-day"
EVENT_TITLE = "Practice managers in the North West"  # Shown only on its own page.
LISTED_EVENTS = 40  # More than the list's page of 30.
TAKEN = 10


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    signed_in: bool
    expect: str  # Only the right page, for the right viewer, shows this.
    aim: float  # The aim for its req/s ratio to the bare view.


PAGES = (
    Page("home", "/", False, "Join the IGPM", 0.35),
    Page("events", "/events/", False, EVENT_TITLE, 0.35),
    Page("event", f"/events/{EVENT_SLUG}/", False, "Everyone is welcome", 0.35),
    Page("member", f"/events/{EVENT_SLUG}/", True, f"registering as <strong>{FIRST_NAME}", 0.35),
    Page("dashboard", "/dashboard/", True, f"Welcome, {FIRST_NAME}", 0.25),
)
# The event page's own aim, beside the ratio.
P95_AIM_MS = {"event": 100.0, "member": 100.0}


@dataclass
class Result:
    path: str
    seconds: float = 0.0
    client_cpu: float = 0.0  # The load generator's CPU time per wall-clock second.
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    # The median of the windows' ratios to the bare view (pages only).
    ratio: float | None = None

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def add(self, window: "Result") -> None:
        cpu = self.client_cpu * self.seconds + window.client_cpu * window.seconds
        self.seconds += window.seconds
        self.client_cpu = cpu / self.seconds if self.seconds else 0.0
        self.errors += window.errors
        self.latencies_ms.extend(window.latencies_ms)

    def summary(self) -> dict[str, float | int | str]:
        ordered = sorted(self.latencies_ms) or [0.0]
        n = len(self.latencies_ms)
        return {
            "path": self.path,
            "requests": n + self.errors,
            "errors": self.errors,
            # Only good responses count: a fast error page is not throughput.
            "rps": round(n / self.seconds, 1) if self.seconds else 0.0,
            # Nearest-rank percentiles.
            "p50_ms": round(ordered[round(0.50 * (len(ordered) - 1))], 2),
            "p95_ms": round(ordered[round(0.95 * (len(ordered) - 1))], 2),
            "client_cpu_pct": round(100 * self.client_cpu),
        }


def seed(others: int) -> str:
    """Create the members; return the signed-in member's session key."""
    call_command("migrate", verbosity=0)
    boards = list(CareBoard.objects.filter(is_active=True))
    rng = random.Random(2025)  # Same data every run.
    # One hash for all: hashing 1,000 passwords would take longer than the benchmark.
    password = make_password("bench-password-not-secret")
    users = User.objects.bulk_create(
        User(email=f"member{n}@example.org", first_name=f"First{n}", last_name=f"Last{n}",
             password=password)
        for n in range(others)
    )  # fmt: skip
    member = User.objects.create_user(
        "bench.member@example.org", password=None, first_name=FIRST_NAME, last_name="Okafor"
    )
    users.append(member)
    EmailAddress.objects.bulk_create(
        EmailAddress(user=user, email=user.email, primary=True, verified=True) for user in users
    )
    Profile.objects.bulk_create(
        Profile(user=user, job_title="Practice Manager", role=Profile.Role.PRACTICE_MANAGER,
                organisation_name=f"Surgery {n}", ods_code=f"A{81000 + n:05d}",
                pcn_name="Central PCN", care_board=rng.choice(boards),
                years_in_role=rng.randint(0, 30), phone="0161 496 0000",
                show_in_directory=rng.random() < 0.5)
        for n, user in enumerate(users)
    )  # fmt: skip
    seed_events(users[:TAKEN])
    client = Client()
    client.force_login(member)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def seed_events(attendees: list[User]) -> None:
    """The events the list shows, and the one whose page is loaded: in
    person (so its form has every field), open now, some places taken."""
    now = timezone.now()
    common = {
        "type": Event.Type.REGIONAL, "summary": "A meeting for practice managers.",
        "description": "What works in practices like yours.\n\nBring a colleague.",
        "is_online": False, "venue": "Lowry Centre\nSalford", "capacity": 200,
        "registration_opens_at": now - datetime.timedelta(days=1),
        "status": Event.Status.PUBLISHED, "cpd_hours": 3, "host_name": "IGPM",
    }  # fmt: skip
    events = []
    for n in range(LISTED_EVENTS):
        starts = now + datetime.timedelta(days=n + 1, hours=2)
        events.append(
            Event(
                **common, starts_at=starts, ends_at=starts + datetime.timedelta(hours=3),
                registration_closes_at=starts,
                title=EVENT_TITLE if n == 0 else f"Regional meeting {n}",
                slug=EVENT_SLUG if n == 0 else f"regional-meeting-{n}",
            )
        )  # fmt: skip
    Event.objects.bulk_create(events)
    event = Event.objects.get(slug=EVENT_SLUG)
    Registration.objects.bulk_create(
        Registration(event=event, user=user, name=user.get_full_name(), email=user.email,
                     organisation="Riverside Surgery", role="Practice Manager",
                     status=Registration.Status.CONFIRMED)
        for user in attendees
    )  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def build_request(port: int, path: str, cookie: str = "") -> bytes:
    headers = f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n"
    if cookie:
        headers += f"Cookie: {settings.SESSION_COOKIE_NAME}={cookie}\r\n"
    return (headers + "\r\n").encode()


async def fetch(port: int, request: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(request)
        # "Connection: close": the response ends when gunicorn closes the socket.
        data = await reader.read()
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


async def load(port: int, path: str, cookie: str, expect: bytes, seconds: float) -> Result:
    request = build_request(port, path, cookie)
    result = Result(path)
    started, cpu_started = time.perf_counter(), time.process_time()
    deadline = started + seconds

    async def connection() -> None:
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            try:
                status, body = await asyncio.wait_for(fetch(port, request), REQUEST_TIMEOUT)
            except (OSError, TimeoutError, ValueError, IndexError):
                result.errors += 1
                continue
            if status == 200 and expect in body:
                result.latencies_ms.append((time.perf_counter() - sent) * 1000)
            else:
                result.errors += 1

    await asyncio.gather(*(connection() for _ in range(CONCURRENCY)))
    # Requests in flight at the deadline finish after it; count their time too.
    result.seconds = time.perf_counter() - started
    result.client_cpu = (time.process_time() - cpu_started) / result.seconds
    return result


def start_gunicorn(port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "benchmarks.settings"}
    command = [
        str(Path(sys.executable).with_name("gunicorn")), "igpm.wsgi",
        "--bind", f"{HOST}:{port}", "--workers", str(workers), "--worker-class", "sync",
        "--timeout", "30", "--graceful-timeout", "5", "--log-level", "warning",
    ]  # fmt: skip
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{log.read_text()}")
        try:
            probe = fetch(port, build_request(port, "/bench/bare/"))
            if asyncio.run(asyncio.wait_for(probe, REQUEST_TIMEOUT))[0] == 200:
                return server
        except (OSError, TimeoutError, ValueError, IndexError):
            pass  # Not listening yet.
        time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"gunicorn did not answer within 30 s:\n{log.read_text()}")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()  # SIGTERM: graceful, and the master takes its workers down too.
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def measure(port: int, cookie: str, args: argparse.Namespace) -> list[Result]:
    """The bare view's result, then each page's, its ratio worked out
    window by window (see the module's docstring)."""
    window = args.seconds / args.rounds
    bare = Result("bare")
    results = [bare]

    def bare_window() -> float:
        measured = asyncio.run(load(port, "/bench/bare/", "", b"ok", window))
        bare.add(measured)
        return measured.rps

    asyncio.run(load(port, "/bench/bare/", "", b"ok", args.warmup))
    for page in (page for page in PAGES if page.name in args.pages):
        session = cookie if page.signed_in else ""
        expect = page.expect.encode()
        asyncio.run(load(port, page.path, session, expect, args.warmup))
        result = Result(page.name)
        ratios = []
        before = bare_window()
        for _ in range(args.rounds):
            measured = asyncio.run(load(port, page.path, session, expect, window))
            result.add(measured)
            after = bare_window()
            ratios.append(measured.rps / ((before + after) / 2) if before + after else 0.0)
            before = after
        result.ratio = statistics.median(ratios)
        results.append(result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="measured time per URL")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured time per URL")
    parser.add_argument(
        "--rounds", type=int, default=3, help="windows per page, between windows of the bare view"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--members", type=int, default=1000, help="other members to create")
    parser.add_argument(
        "--pages", nargs="+", choices=[page.name for page in PAGES],
        default=[page.name for page in PAGES], help="pages to load (the bare view always runs)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="write benchmarks/results/*.json")
    parser.add_argument("--keep", action="store_true", help="keep the igpm_bench database")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    recreate_database()
    server = None
    try:
        cookie = seed(args.members)
        connections.close_all()  # Only gunicorn's workers should hold connections now.
        port = free_port()
        with tempfile.TemporaryDirectory() as tmp:
            server = start_gunicorn(port, args.workers, Path(tmp) / "gunicorn.log")
            results = measure(port, cookie, args)
            if any(result.errors for result in results):  # Show why before the log goes.
                print((Path(tmp) / "gunicorn.log").read_text()[-3000:], file=sys.stderr)
            stop(server)
            server = None
    finally:
        if server is not None:
            stop(server)
        connections.close_all()
        if not args.keep:
            recreate_database(drop_only=True)

    report(args, [result.summary() for result in results], [r.ratio for r in results])
    if any(result.errors for result in results):
        sys.exit(1)  # A benchmark with failed requests measured the wrong thing.


def report(
    args: argparse.Namespace,
    summaries: list[dict[str, float | int | str]],
    window_ratios: list[float | None],
) -> None:
    print(
        f"gunicorn {args.workers} sync workers, {CONCURRENCY} connections, "
        f"{args.seconds:g} s per page in {args.rounds} windows between windows of the bare "
        f"view, after {args.warmup:g} s warm-up, {os.cpu_count()} CPUs"
    )
    row = "{:<11}{:>9}{:>8}{:>9}{:>9}{:>9}{:>13}{:>8}{:>6}{:>11}"
    print(
        row.format(
            "page", "requests", "errors", "req/s", "p50 ms", "p95 ms", "client CPU %",
            "ratio", "aim", "p95 aim",
        )
    )  # fmt: skip
    aims = {page.name: page.aim for page in PAGES}
    ratios = {}
    for summary, window_ratio in zip(summaries, window_ratios, strict=True):
        name = summary["path"]
        ratio = round(window_ratio, 3) if window_ratio is not None else 1.0
        aim = aims.get(name)
        p95_aim = P95_AIM_MS.get(name)
        if name != "bare":
            ratios[name] = {
                "rps_ratio": ratio, "aim": aim, "met": ratio >= aim
                and (p95_aim is None or summary["p95_ms"] < p95_aim),
            }  # fmt: skip
        print(
            row.format(
                *summary.values(), "" if name == "bare" else f"{ratio:.3f}",
                f"{aim:g}" if aim else "", f"< {p95_aim:g}" if p95_aim else "",
            )
        )  # fmt: skip
    met = [name for name, figures in ratios.items() if figures["met"]]
    missed = [name for name, figures in ratios.items() if not figures["met"]]
    print(f"aim met: {', '.join(met) or 'none'}; missed: {', '.join(missed) or 'none'}")
    if args.json:
        out = ROOT / "benchmarks" / "results" / f"pages-{time.strftime('%Y%m%d-%H%M%S')}.json"
        out.parent.mkdir(exist_ok=True)
        config = {**vars(args), "concurrency": CONCURRENCY, "cpus": os.cpu_count()}
        out.write_text(json.dumps({"config": config, "results": summaries, "ratios": ratios},
                                  indent=2))  # fmt: skip
        print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
