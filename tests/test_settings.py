import os
import subprocess
import sys
from pathlib import Path

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
    "AWS_STORAGE_BUCKET_NAME": "igpm-private",
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
