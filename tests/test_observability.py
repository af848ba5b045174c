"""Request ids, JSON logs and Sentry: what production operators read, with
members' personal data kept out of it."""

import gzip
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from celery import shared_task
from django.http import HttpResponse
from django.urls import include, path

from igpm.logs import JsonFormatter, RequestIdFilter
from igpm.sentry import scrub_event
from tests.factories import UserFactory
from tests.test_settings import PRODUCTION_ENV, manage

log = logging.getLogger("igpm.test_observability")


def logging_view(request):
    log.warning("renewal looked at")
    return HttpResponse("ok")


def failing_view(request):
    raise ValueError(f"could not renew the membership of {request.user.email}")


urlpatterns = [
    path("logs/", logging_view),
    path("boom/", failing_view),
    path("", include("igpm.urls")),
]


@pytest.fixture
def json_lines():
    """Records of the test logger, formatted as production formats them."""
    lines = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = Collect()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    log.addHandler(handler)
    # A Celery test worker earlier in the run leaves the root logger at ERROR.
    level = log.level
    log.setLevel(logging.INFO)
    yield lines
    log.setLevel(level)
    log.removeHandler(handler)


@pytest.mark.urls(__name__)
def test_the_proxys_request_id_is_kept_and_sent_back(client, json_lines):
    response = client.get("/logs/", headers={"X-Request-ID": "7f3a9c-req.42"})
    assert response["X-Request-ID"] == "7f3a9c-req.42"
    (line,) = json_lines
    entry = json.loads(line)
    assert entry["request_id"] == "7f3a9c-req.42"
    assert entry["message"] == "renewal looked at"
    assert entry["level"] == "WARNING"


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("given", ["", "two words", "x" * 65, 'a"}\n{"forged": 1'])
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_new_one(client, json_lines, given):
    response = client.get("/logs/", headers={"X-Request-ID": given} if given else {})
    made = response["X-Request-ID"]
    assert made != given
    assert len(made) == 32
    assert int(made, 16) >= 0
    assert json.loads(json_lines[0])["request_id"] == made


@pytest.mark.urls(__name__)
def test_each_request_gets_its_own_id(client):
    first = client.get("/logs/")["X-Request-ID"]
    second = client.get("/logs/")["X-Request-ID"]
    assert first != second


def test_production_logs_are_json_lines_with_the_request_id():
    code = (
        "import logging\n"
        "from django.http import HttpResponse\n"
        "from django.test import RequestFactory\n"
        "from igpm.logs import RequestIdMiddleware\n"
        "def view(request):\n"
        "    logging.getLogger('members').warning('payment %s not found', 42)\n"
        "    return HttpResponse()\n"
        "request = RequestFactory().get('/', HTTP_X_REQUEST_ID='abc-123')\n"
        "RequestIdMiddleware(view)(request)\n"
    )
    result = manage("shell", "-c", code, env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    entry = json.loads(result.stderr.strip().splitlines()[-1])
    assert entry["request_id"] == "abc-123"
    assert entry["message"] == "payment 42 not found"
    assert entry["logger"] == "members"


def test_production_can_run_behind_pgbouncer_in_transaction_mode():
    code = (
        "from django.conf import settings\n"
        "print(settings.DATABASES['default']['DISABLE_SERVER_SIDE_CURSORS'])"
    )
    env = {**PRODUCTION_ENV, "DJANGO_DB_DISABLE_SERVER_SIDE_CURSORS": "true"}
    result = manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True"


# --- Sentry ------------------------------------------------------------------


class FakeSentry:
    """Takes envelopes the way Sentry's ingest endpoint does, on 127.0.0.1."""

    def __init__(self):
        self.envelopes: list[bytes] = []
        received = self.envelopes

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                encoding = self.headers.get("Content-Encoding")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "br":
                    import brotli  # the SDK compresses with it when installed

                    body = brotli.decompress(body)
                received.append(body)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.dsn = f"http://public@127.0.0.1:{self.server.server_port}/1"

    def events(self) -> list[dict]:
        found = []
        for envelope in self.envelopes:
            lines = envelope.split(b"\n")
            for header, payload in zip(lines[1::2], lines[2::2], strict=False):
                if json.loads(header).get("type") == "event":
                    found.append(json.loads(payload))
        return found

    def stop(self):
        self.server.shutdown()


@pytest.fixture
def sentry(no_outside_network):
    import sentry_sdk

    from igpm.sentry import sentry_init

    fake = FakeSentry()
    sentry_init(dsn=fake.dsn, environment="test", release=None, traces_sample_rate=0.0)
    yield fake
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN: the SDK is inert for the tests that follow
    fake.stop()


@pytest.mark.urls(__name__)
def test_an_error_reaches_sentry_with_personal_data_scrubbed(db, client, sentry):
    import sentry_sdk

    member = UserFactory(
        email="siobhan.oconnor@surgery.nhs.uk", first_name="Siobhan", last_name="Whitfield"
    )
    client.force_login(member)
    client.cookies["sessionid-extra"] = "cookie-secret-value"
    client.raise_request_exception = False
    response = client.get(
        "/boom/?email=siobhan.oconnor%40surgery.nhs.uk",
        headers={
            "Authorization": "Bearer token-secret-value",
            "X-Request-ID": "req-boom-1",
        },
    )
    assert response.status_code == 500
    sentry_sdk.flush(timeout=5)

    (event,) = sentry.events()
    assert event["exception"]["values"][-1]["type"] == "ValueError"
    assert event["exception"]["values"][-1]["value"] == (
        "could not renew the membership of [email]"
    )
    assert event["tags"]["request_id"] == "req-boom-1"
    assert event.get("user", {}).keys() <= {"id"}
    raw = b"".join(sentry.envelopes).decode()
    for personal in (
        "siobhan.oconnor",
        "Siobhan",
        "Whitfield",
        "cookie-secret-value",
        "token-secret-value",
        member.password,
    ):
        assert personal not in raw, personal


@shared_task
def failing_goodbye_task(address: str) -> None:
    raise ConnectionRefusedError(f"SMTP refused {address}")


def test_a_failing_task_reaches_sentry_without_the_address_it_was_given(sentry):
    import sentry_sdk

    with pytest.raises(ConnectionRefusedError):
        failing_goodbye_task.delay("leaving.member@practice.nhs.uk")
    sentry_sdk.flush(timeout=5)

    (event,) = sentry.events()
    assert event["exception"]["values"][-1]["type"] == "ConnectionRefusedError"
    assert event["exception"]["values"][-1]["value"] == "SMTP refused [email]"
    # Reported by the Celery integration, without the task's arguments.
    job = event["extra"]["celery-job"]
    assert job["task_name"].endswith("failing_goodbye_task")
    assert "leaving.member" not in json.dumps(job)
    assert "leaving.member" not in b"".join(sentry.envelopes).decode()


def test_scrubbing_reaches_task_arguments_breadcrumbs_and_named_fields():
    event = {
        "user": {"id": 7, "email": "a@b.org", "username": "a@b.org"},
        "extra": {"celery-job": {"args": [12, "leaving.member@practice.nhs.uk"]}},
        "breadcrumbs": {"values": [{"message": "sent to dr.who@tardis.org.uk"}]},
        "contexts": {"form": {"first_name": "Ada", "holder_name": "Ada Lovelace"}},
        "request": {
            "headers": {"Cookie": "sessionid=x", "Authorization": "Basic y"},
            "data": {"phone": "07700 900123"},
        },
    }
    scrubbed = json.dumps(scrub_event(event, {}))
    personal_data = ("a@b.org", "leaving.member", "dr.who", "Ada", "sessionid=x", "Basic y")
    for personal in (*personal_data, "07700"):
        assert personal not in scrubbed, personal
    assert '"id": 7' in scrubbed
    assert "[email]" in scrubbed
