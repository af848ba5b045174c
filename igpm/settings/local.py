"""The embedded default: runs on a bare machine with no servers.

SQLite in ``var/``, a file-system Celery broker, emails written as files to
``var/mail/``. Any of these can be swapped for a real server through the
environment (``DATABASE_URL``, ``REDIS_URL``, ``EMAIL_URL``).
"""

from .base import *  # noqa: F403
from .base import VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env(
    "DJANGO_SECRET_KEY",
    default="local-only-insecure-key-never-used-in-production-0123456789",
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
# Passkeys need a secure origin; plain http://localhost is one for browsers.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
# A fixed key for the local demo's two-factor secrets (seed_demo, totp_code).
MFA_ENCRYPTION_KEY = env(
    "MFA_ENCRYPTION_KEY", default="kq1xV8Ryd3x0y5mB0l0N8oSg1m7n4W9s3aP6zE2uCtI="
)

# The demo runs with whatever is on disk; nothing needs collectstatic first.
# Private files stay where base.py put them (disk, or a bucket if named).
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Folders the embedded default writes to must exist before anything runs.
for _folder in ("mail", "private", "celery/queue", "celery/control"):
    (VAR_DIR / _folder).mkdir(parents=True, exist_ok=True)
