"""How much does the signed-in member dashboard cost, next to a bare Django view?

Recreates and migrates a PostgreSQL database (``igpm_bench``), adds one
member with a verified email and a complete profile among 1,000 others, signs
that member in and starts gunicorn (sync workers) with ``benchmarks.settings``:
DEBUG off, persistent database connections, Redis cache. It then loads
``/bench/bare/`` ("ok" through the same middleware, no cookie) and
``/dashboard/`` (with the member's session cookie) in turn: 20 concurrent
connections, a new one per request, for a fixed time after a warm-up. A
dashboard response counts only if it is a 200 greeting the member by name, so
a redirect to the login page is an error.

It prints requests, errors, requests/s and p50/p95 latency for each URL, and
the dashboard/bare ratios. Traffic stays on 127.0.0.1; everything stops by
itself. The load generator shares the CPUs with gunicorn ("client CPU" is its
share of one core), so compare figures from the same machine only.

Run from the project root:

    .venv/bin/python benchmarks/dashboard.py [--seconds 15] [--workers 2] [--json] [--keep]
"""

import argparse
import asyncio
import json
import os
import random
import socket
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

from benchmarks.scratch import recreate_database  # noqa: E402
from members.models import CareBoard, Profile, User  # noqa: E402

HOST = "127.0.0.1"
FIRST_NAME = "Marguerite"  # Distinctive, so the check cannot match by chance.
REQUEST_TIMEOUT = 10.0
CONCURRENCY = 20


@dataclass
class Result:
    path: str
    seconds: float = 0.0
    client_cpu: float = 0.0  # The load generator's CPU time per wall-clock second.
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)

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
    client = Client()
    client.force_login(member)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="measured time per URL")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured time per URL")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--members", type=int, default=1000, help="other members to create")
    parser.add_argument("--json", action="store_true", help="write benchmarks/results/*.json")
    parser.add_argument("--keep", action="store_true", help="keep the igpm_bench database")
    args = parser.parse_args()

    recreate_database()
    server = None
    try:
        cookie = seed(args.members)
        connections.close_all()  # Only gunicorn's workers should hold connections now.
        port = free_port()
        with tempfile.TemporaryDirectory() as tmp:
            server = start_gunicorn(port, args.workers, Path(tmp) / "gunicorn.log")
            results = []
            for path, session, expect in (
                ("/bench/bare/", "", b"ok"),
                ("/dashboard/", cookie, f"Welcome, {FIRST_NAME}".encode()),
            ):
                asyncio.run(load(port, path, session, expect, args.warmup))
                results.append(asyncio.run(load(port, path, session, expect, args.seconds)))
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

    report(args, [result.summary() for result in results])
    if any(result.errors for result in results):
        sys.exit(1)  # A benchmark with failed requests measured the wrong thing.


def report(args: argparse.Namespace, summaries: list[dict[str, float | int | str]]) -> None:
    print(
        f"gunicorn {args.workers} sync workers, {CONCURRENCY} connections, "
        f"{args.seconds:g} s per URL after {args.warmup:g} s warm-up, {os.cpu_count()} CPUs"
    )
    row = "{:<14}{:>9}{:>8}{:>9}{:>9}{:>9}{:>13}"
    print(row.format("path", "requests", "errors", "req/s", "p50 ms", "p95 ms", "client CPU %"))
    for summary in summaries:
        print(row.format(*summary.values()))
    bare, dashboard = summaries
    ratios = {
        "rps_ratio": round(dashboard["rps"] / bare["rps"], 3) if bare["rps"] else 0.0,
        "p95_ratio": round(dashboard["p95_ms"] / bare["p95_ms"], 2) if bare["p95_ms"] else 0.0,
    }
    print(f"dashboard/bare: req/s ratio {ratios['rps_ratio']}, p95 ratio {ratios['p95_ratio']}")
    if args.json:
        out = ROOT / "benchmarks" / "results" / f"dashboard-{time.strftime('%Y%m%d-%H%M%S')}.json"
        out.parent.mkdir(exist_ok=True)
        config = {**vars(args), "concurrency": CONCURRENCY, "cpus": os.cpu_count()}
        out.write_text(json.dumps({"config": config, "results": summaries, **ratios}, indent=2))
        print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
