import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "igpm.settings.production",
    "DJANGO_SECRET_KEY": "x7!kq2@v9#m4$z8^w1&n6*c3(b5)p0_r-t=y+u~e`i[o]a{s}d|f;g:h'j,l.",
    "DJANGO_ALLOWED_HOSTS": "portal.igpm.org.uk",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp://mail.igpm.org.uk:587",
    "SITE_URL": "https://portal.igpm.org.uk",
    "STRIPE_SECRET_KEY": "sk_live_placeholder",
    "STRIPE_WEBHOOK_SECRET": "whsec_placeholder",
    "IGPM_BANK_ACCOUNT_NAME": "Institute of General Practice Management",
    "IGPM_BANK_SORT_CODE": "12-34-56",
    "IGPM_BANK_ACCOUNT_NUMBER": "12345678",
    "MFA_ENCRYPTION_KEY": "8J7bGzvWb0nbVxq6Zq4Gx3o3jq9m2v1x8QpL5cT0yNs=",
    "AWS_STORAGE_BUCKET_NAME": "igpm-private",
    "IGPM_REGISTERED_ADDRESS": "2 Park Row, Leeds, LS1 5AB",
    "IGPM_REGISTRATION": "Registered charity number 1234567",
    "IGPM_CONTACT_PHONE": "0113 496 0000",
}


def manage(*args, env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_have_no_default_secret():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_never_offers_the_offline_payment_provider():
    env = {**PRODUCTION_ENV, "PAYMENTS_OFFLINE_PROVIDER": "true"}
    code = "from django.conf import settings; print(settings.PAYMENTS_OFFLINE_PROVIDER)"
    result = manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def production_setting(code: str, **overrides) -> str:
    env = {**PRODUCTION_ENV, **overrides}
    result = manage("shell", "-c", f"from django.conf import settings; print({code})", env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_production_cookies_carry_the_host_prefix():
    """``__Host-`` cookies are only accepted when secure, for path / and
    with no domain: the settings keep all three."""
    values = (
        "settings.SESSION_COOKIE_NAME, settings.SESSION_COOKIE_SECURE, "
        "settings.SESSION_COOKIE_PATH, settings.SESSION_COOKIE_DOMAIN, "
        "settings.CSRF_COOKIE_NAME, settings.CSRF_COOKIE_SECURE, "
        "settings.CSRF_COOKIE_PATH, settings.CSRF_COOKIE_DOMAIN"
    )
    assert production_setting(values) == (
        "__Host-sessionid True / None __Host-csrftoken True / None"
    )


def test_plain_http_stacks_keep_plain_cookie_names():
    """Browsers drop a ``__Host-`` cookie that is not secure, so the
    docker-compose stack over http keeps the ordinary names."""
    code = "settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME"
    assert production_setting(code, DJANGO_SECURE_COOKIES="false") == "sessionid csrftoken"


@pytest.mark.parametrize(
    "name", ["IGPM_REGISTERED_ADDRESS", "IGPM_REGISTRATION", "IGPM_CONTACT_PHONE"]
)
def test_production_has_no_placeholder_for_the_footer(name):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != name}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert name in result.stderr


def test_production_has_no_default_two_factor_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "MFA_ENCRYPTION_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "MFA_ENCRYPTION_KEY" in result.stderr


def test_the_trusted_proxy_count_comes_from_the_environment():
    assert production_setting("settings.ALLAUTH_TRUSTED_PROXY_COUNT") == "0"
    count = production_setting(
        "settings.ALLAUTH_TRUSTED_PROXY_COUNT", ALLAUTH_TRUSTED_PROXY_COUNT="1"
    )
    assert count == "1"


def test_idle_timeouts_come_from_the_environment():
    code = (
        "settings.SESSION_IDLE_TIMEOUT_STAFF_SECONDS, settings.SESSION_IDLE_TIMEOUT_MEMBER_SECONDS"
    )
    assert production_setting(code) == "1800 7200"
    assert production_setting(code, SESSION_IDLE_TIMEOUT_MEMBER_SECONDS="600") == "1800 600"


def test_postgresql_binds_on_the_server_and_prepares_unless_told_not_to():
    code = "sorted(settings.DATABASES['default']['OPTIONS'].items())"
    assert production_setting(code) == "[('prepare_threshold', 5), ('server_side_binding', True)]"
    off = production_setting(code, DJANGO_DB_PREPARE_THRESHOLD="off")
    assert off == "[('prepare_threshold', None), ('server_side_binding', True)]"


@pytest.mark.django_db
def test_the_suite_binds_and_prepares_as_production_does():
    """A query run often enough on a connection is prepared: PostgreSQL
    lists it among the session's prepared statements."""
    from django.db import connection

    from members.models import User

    for _ in range(6):
        list(User.objects.filter(pk=-1))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any('FROM "members_user"' in statement for statement in prepared)


STORAGE_OF = (
    "from django.core.files.storage import default_storage as s; "
    "print(s.__class__.__name__, "
    "getattr(s, 'bucket_name', '-'), getattr(s, 'endpoint_url', '-'), "
    "getattr(s, 'querystring_expire', '-'), getattr(s, 'file_overwrite', '-'))"
)


def test_production_keeps_private_files_in_object_storage():
    env = {**PRODUCTION_ENV, "AWS_S3_ENDPOINT_URL": "https://objects.igpm.internal"}
    result = manage("shell", "-c", STORAGE_OF, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "S3Storage igpm-private https://objects.igpm.internal 60 False"
    )

    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "AWS_STORAGE_BUCKET_NAME"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "AWS_STORAGE_BUCKET_NAME" in result.stderr


def test_the_embedded_default_keeps_private_files_on_disk():
    env = {"DJANGO_SETTINGS_MODULE": "igpm.settings.local"}
    result = manage("shell", "-c", STORAGE_OF, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "FileSystemStorage - - - -"


def test_the_embedded_default_uses_a_bucket_when_one_is_named():
    env = {"DJANGO_SETTINGS_MODULE": "igpm.settings.local", "AWS_STORAGE_BUCKET_NAME": "demo"}
    result = manage("shell", "-c", STORAGE_OF, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("S3Storage demo ")
