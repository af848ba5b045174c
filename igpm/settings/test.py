"""Settings for the test suite: real PostgreSQL and Redis, fake SMTP."""

from .base import *  # noqa: F403
from .base import env, prepared_statements

SECRET_KEY = "test-only-key-not-secret-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/igpm"),
}
# Parameters bound as in production, so every query is tested that way.
prepared_statements(DATABASES["default"])
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/15")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "igpm-test",
    }
}
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS = {}

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True

SITE_URL = "http://testserver"
# Report figures are worked out on every request unless a test says otherwise.
REPORTS_CACHE_SECONDS = 0
# Tests point the Stripe client at a local fake (tests/stripe_fake.py).
STRIPE_SECRET_KEY = "sk_test_fake"  # noqa: S105
STRIPE_WEBHOOK_SECRET = "whsec_test_secret"  # noqa: S105
STRIPE_API_BASE = "http://127.0.0.1:9"
PAYMENTS_OFFLINE_PROVIDER = True
# Tasks run inline when queued (after commit); tests/test_celery.py turns
# this off to prove the real broker and worker path.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

# A fixed key for the tests' two-factor secrets; never used elsewhere.
MFA_ENCRYPTION_KEY = "T2eBjvbV1CJm3Jc7d1bYcO7oCw6Yb3I9e5h6r1tq0gE="
