"""How long does a consultation's results page take with 10,000 responses
to 12 questions, and do its queries stay flat from 10 responses?

Recreates and migrates a PostgreSQL database (``igpm_bench_consultations``,
or the one ``BENCH_CONSULTATIONS_DATABASE_URL`` names; its name must
contain "bench"), with ``benchmarks.settings`` (DEBUG off, persistent
connections). For each kind of consultation (attributed, anonymous) it
makes one with 12 questions (4 single choice of 4 options, 3 multiple
choice of 5, 3 on the 1-5 scale, 2 free text), written in bulk as
``response_submit`` leaves them: respondents spread over the seeded ICBs
(and so their regions), four roles and the seeded grades, every answer
drawn at random with a fixed seed (two thirds of people write free text).

Through ``django.test.Client`` as a member of the Policy team (two-factor
set up), after one warm-up request each, it counts the queries of
``/staff/consultations/<id>/results/`` (no breakdown, and by region) with
``--first`` responses, adds the rest up to ``--responses``, counts again
(the counts must be equal) and times ``--repeats`` requests: median and
90th percentile. The CSV (every breakdown) is timed the same way.

The database is dropped at the end unless ``--keep``.

Run from the project root:

    .venv/bin/python benchmarks/consultation_results.py [--responses 10000]
        [--first 10] [--repeats 7] [--keep]
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
os.environ["BENCH_DATABASE_URL"] = os.environ.get(
    "BENCH_CONSULTATIONS_DATABASE_URL",
    "postgres://postgres@127.0.0.1:5432/igpm_bench_consultations",
)

import django  # noqa: E402

django.setup()
warnings.filterwarnings("ignore", "No directory at", UserWarning)

from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from benchmarks.scratch import recreate_database  # noqa: E402
from members.consultations import services  # noqa: E402
from members.consultations.models import (  # noqa: E402
    AnonymousAnswer,
    AnonymousAnswerSet,
    Answer,
    Consultation,
    Question,
    Response,
)
from members.models import CareBoard, Grade, User  # noqa: E402

Kind = Question.Kind
ROLES = ["practice_manager", "assistant_manager", "pcn_manager", "business_manager"]
QUESTIONS = (
    [(Kind.SINGLE, ["Yes", "No", "Not sure", "It depends"])] * 4
    + [(Kind.MULTIPLE, ["Workforce", "Estates", "Digital", "Funding", "Contracts"])] * 3
    + [(Kind.SCALE, [])] * 3
    + [(Kind.TEXT, [])] * 2
)


def staff_client() -> Client:
    # The benchmark settings set no key for two-factor secrets: a throwaway.
    if not settings.MFA_ENCRYPTION_KEY:
        settings.MFA_ENCRYPTION_KEY = Fernet.generate_key().decode()
    user = User.objects.create_user("policy@bench.invalid", is_staff=True)
    TOTP.activate(user, generate_totp_secret())
    user.groups.add(Group.objects.get(name="Policy team"))
    client = Client(HTTP_HOST="localhost")  # In ALLOWED_HOSTS of benchmarks.settings.
    client.force_login(user)
    return client


def make_consultation(by: User, anonymous: bool) -> Consultation:
    now = timezone.now()
    made = services.consultation_create(
        by=by,
        title=f"Benchmark ({'anonymous' if anonymous else 'attributed'})",
        anonymity="anonymous" if anonymous else "attributed",
        audience=Consultation.Audience.SIGNED_IN,
        opens_at=now - datetime.timedelta(days=1),
        closes_at=now + datetime.timedelta(days=30),
    )
    for n, (kind, options) in enumerate(QUESTIONS, start=1):
        services.question_save(
            consultation=made, by=by, kind=kind, text=f"Question {n}", options=options
        )
    services.consultation_open(consultation=made, by=by)
    return made


def add_responses(made: Consultation, first: int, count: int, context: dict) -> None:
    rng = random.Random(first)
    questions = list(made.questions.all())
    boards, grades = context["boards"], context["grades"]

    def respondent():
        board = rng.choice(boards)
        return {
            "region": board.region or board.get_nation_display(),
            "care_board": board,
            "role": rng.choice(ROLES),
            "grade": rng.choice(grades),
        }

    def answers(model, **parent):
        rows = []
        for q in questions:
            if q.kind == Kind.SINGLE:
                rows.append(model(question=q, choice=rng.randrange(len(q.options)), **parent))
            elif q.kind == Kind.MULTIPLE:
                for index in rng.sample(range(len(q.options)), rng.randint(1, 3)):
                    rows.append(model(question=q, choice=index, **parent))
            elif q.kind == Kind.SCALE:
                rows.append(model(question=q, number=rng.randint(1, 5), **parent))
            elif rng.random() < 2 / 3:
                rows.append(model(question=q, text=f"Comment {rng.randrange(10**6)}", **parent))
        return rows

    if made.is_anonymous:
        sets = AnonymousAnswerSet.objects.bulk_create(
            (AnonymousAnswerSet(consultation=made, **respondent()) for _ in range(count)),
            batch_size=2000,
        )
        # Hold the "has answered" rows too, as the service leaves them.
        users = User.objects.bulk_create(
            User(email=f"anon{first + i}-{made.pk}@bench.invalid") for i in range(count)
        )
        Response.objects.bulk_create(
            (Response(consultation=made, user=u, submitted_at=timezone.now()) for u in users),
            batch_size=2000,
        )
        rows = [row for s in sets for row in answers(AnonymousAnswer, answer_set=s)]
        AnonymousAnswer.objects.bulk_create(rows, batch_size=5000)
        return
    users = User.objects.bulk_create(
        User(email=f"m{first + i}-{made.pk}@bench.invalid", first_name="Member", last_name=str(i))
        for i in range(count)
    )
    responses = Response.objects.bulk_create(
        (
            Response(consultation=made, user=u, submitted_at=timezone.now(), **respondent())
            for u in users
        ),
        batch_size=2000,
    )
    rows = [row for r in responses for row in answers(Answer, response=r)]
    Answer.objects.bulk_create(rows, batch_size=5000)


def queries(client: Client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as seen:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(seen)


def timed(client: Client, url: str, repeats: int) -> tuple[float, float]:
    client.get(url)
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        seconds.append(time.perf_counter() - started)
    p90 = statistics.quantiles(seconds, n=10)[8] if len(seconds) > 1 else seconds[0]
    return 1000 * statistics.median(seconds), 1000 * p90


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=10_000)
    parser.add_argument("--first", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()

    recreate_database()
    problems = []
    lines = []
    try:
        call_command("migrate", verbosity=0)
        client = staff_client()
        officer = User.objects.get(email="policy@bench.invalid")
        context = {
            "boards": list(CareBoard.objects.all()),
            "grades": list(Grade.objects.all()),
        }
        for anonymous in (False, True):
            made = make_consultation(officer, anonymous)
            base = f"/staff/consultations/{made.pk}/results/"
            urls = [base, f"{base}?by=region"]
            add_responses(made, 0, args.first, context)
            few = [queries(client, url) for url in urls]
            started = time.perf_counter()
            add_responses(made, args.first, args.responses - args.first, context)
            seed = time.perf_counter() - started
            connection.cursor().execute("ANALYZE")
            many = [queries(client, url) for url in urls]
            if few != many:
                problems.append(f"{made.title}: queries {few} with {args.first}, {many} after")
            kind = "anonymous" if anonymous else "attributed"
            lines.append(f"{kind}: {args.responses:,} responses seeded in {seed:.1f} s")
            for url, q_few, q_many in zip(urls, few, many, strict=True):
                median, p90 = timed(client, url, args.repeats)
                lines.append(
                    f"  {url:<44} median {median:7.1f} ms  p90 {p90:7.1f} ms  "
                    f"queries {q_few} ({args.first}) / {q_many} ({args.responses:,})"
                )
            csv_url = f"/staff/consultations/{made.pk}/results.csv"
            median, p90 = timed(client, csv_url, args.repeats)
            lines.append(f"  {csv_url:<44} median {median:7.1f} ms  p90 {p90:7.1f} ms")
    finally:
        connections.close_all()
        if not args.keep:
            recreate_database(drop_only=True)
    print(f"{len(QUESTIONS)} questions; {args.repeats} timed requests each after a warm-up")
    print("\n".join(lines))
    if problems:
        print("PROBLEMS:\n" + "\n".join(problems))
        sys.exit(1)


if __name__ == "__main__":
    main()
