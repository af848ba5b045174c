"""Settings for ``benchmarks/dashboard.py``: production-like, on loopback only.

DEBUG off, PostgreSQL with persistent connections, Redis cache: the things
that shape request cost in production. TLS redirects and secure cookies are
left out because the load generator speaks plain HTTP to 127.0.0.1.

The database comes from ``BENCH_DATABASE_URL``, not ``DATABASE_URL``: the
benchmark drops and recreates it, so it must never pick up a developer's
real database from the environment or ``.env``.
"""

from igpm.settings.base import *  # noqa: F403
from igpm.settings.base import env, prepared_statements

DEBUG = False
SECRET_KEY = "benchmark-only-key-not-secret-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "benchmarks.urls"

DATABASES = {
    "default": env.db(
        "BENCH_DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/igpm_bench"
    ),
}
# As in production: each gunicorn worker keeps its connection between
# requests, and PostgreSQL plans a query once per connection.
DATABASES["default"]["CONN_MAX_AGE"] = 60
prepared_statements(DATABASES["default"])

# Redis database 14: apart from the test suite (15) and a developer's default (0).
REDIS_URL = env("BENCH_REDIS_URL", default="redis://127.0.0.1:6379/14")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "igpm-bench",
    }
}
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS = {}

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The reports benchmark times the figures being worked out; it times the
# page with its figures cached separately.
REPORTS_CACHE_SECONDS = 0
# No collectstatic before a run: plain storage needs no manifest.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
