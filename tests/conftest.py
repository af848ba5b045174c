import os
import shutil
from types import SimpleNamespace

import pytest
from django.core.cache import cache

from tests.factories import PASSWORD, ProfileFactory, StaffFactory, UserFactory

# Playwright's sync API runs an event loop in the test thread; the ORM calls
# that tests make beside it are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters and used TOTP codes must not leak between tests,
    nor a page's rows kept in memory (igpm.memo)."""
    from igpm.memo import memory

    cache.clear()
    memory.clear()
    yield
    cache.clear()
    memory.clear()


class Clock:
    """Stands in for ``time`` in igpm.memo: moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    """What igpm.memo keeps expires only when the test moves ``clock.now``."""
    import igpm.memo

    fake = Clock()
    monkeypatch.setattr(igpm.memo, "time", fake)
    return fake


@pytest.fixture
def member(db):
    return UserFactory()


@pytest.fixture
def member_with_profile(db):
    return ProfileFactory().user


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def staff_without_mfa(db):
    return StaffFactory(mfa=False)


@pytest.fixture
def staff_with_mfa(db):
    return StaffFactory(mfa=True)


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not path:
        raise RuntimeError(
            "Debian's chromium is needed for browser tests: apt-get install chromium"
        )
    return path


@pytest.fixture
def no_outside_network(monkeypatch):
    """Any connection to an address off this machine fails the test."""
    import ipaddress
    import socket

    real_connect = socket.socket.connect

    def guarded_connect(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise AssertionError(f"outgoing connection to {address!r} blocked in tests")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


@pytest.fixture
def stripe_fake(settings, no_outside_network):
    from tests.stripe_fake import StripeFake

    fake = StripeFake().start()
    settings.STRIPE_API_BASE = fake.url
    yield fake
    fake.stop()


@pytest.fixture
def pathway(db):
    """The ILM Level 7 pathway (seeded; recreated after a flush)."""
    return ilm_level_7()


def ilm_level_7():
    from accreditation.models import Pathway

    pathway, _ = Pathway.objects.get_or_create(
        slug="ilm-level-7",
        defaults={
            "name": "ILM Level 7 Diploma in Leadership and Management",
            "awarding_body": "Institute of Leadership & Management (ILM)",
            "rqf_level": 7,
            "route_type": "qualification",
            "summary": "For senior managers with the ILM Level 7 Diploma.",
            "evidence_required": "Your certificate.",
        },
    )
    return pathway


@pytest.fixture
def experiential(db):
    """The experiential portfolio pathway (seeded; recreated after a flush)."""
    from accreditation.models import Pathway

    pathway, _ = Pathway.objects.get_or_create(
        slug="experiential",
        defaults={
            "name": "Experience and portfolio route",
            "awarding_body": "Institute of General Practice Management",
            "route_type": "experiential",
            "summary": "For managers whose experience speaks for itself.",
            "evidence_required": "A portfolio.",
        },
    )
    return pathway


def reauthenticate(client, password: str = PASSWORD) -> None:
    """Give the password again, as the portal asks before sensitive changes
    (email, two-factor, data export, account deletion)."""
    from django.urls import reverse

    response = client.post(reverse("account_reauthenticate"), {"password": password})
    assert response.status_code == 302, response.content.decode()[:2000]


@pytest.fixture(scope="session")
def s3_server():
    """A real S3 API (moto's server mode) on 127.0.0.1, for the whole run."""
    import socket

    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(settings, s3_server, no_outside_network):
    """Private files go to a fresh bucket on the local S3 server, through
    django-storages exactly as in production; returns a boto3 client on
    that bucket for reading back what was stored."""
    import uuid

    import boto3

    bucket = f"igpm-test-{uuid.uuid4().hex[:12]}"
    options = {
        "access_key": "testing",
        "secret_key": "testing",
        "bucket_name": bucket,
        "endpoint_url": s3_server,
        "region_name": "eu-west-2",
        "default_acl": None,
        "file_overwrite": False,
    }
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="eu-west-2",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }
    return SimpleNamespace(client=client, bucket=bucket)
