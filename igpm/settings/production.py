"""Production: every secret and address comes from the environment.

Nothing here has a default that could leak into a live deployment; a missing
variable stops the process at start-up.
"""

from .base import *  # noqa: F403
from .base import env, prepared_statements

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Behind PgBouncer in transaction mode a connection is not the same server
# session from one transaction to the next: no server-side cursors then.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
    "DJANGO_DB_DISABLE_SERVER_SIDE_CURSORS", default=False
)
prepared_statements(DATABASES["default"])

REDIS_URL = env("REDIS_URL")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
    }
}
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_BROKER_TRANSPORT_OPTIONS = {}

vars().update(env.email_url("EMAIL_URL"))

# Private files live in object storage (base.py builds the storage from the
# AWS_* variables): a web node's disk is not shared with the next one.
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME")

SITE_URL = env("SITE_URL").rstrip("/")
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = "https://api.stripe.com"
PAYMENTS_OFFLINE_PROVIDER = False
IGPM_BANK_ACCOUNT_NAME = env("IGPM_BANK_ACCOUNT_NAME")
IGPM_BANK_SORT_CODE = env("IGPM_BANK_SORT_CODE")
IGPM_BANK_ACCOUNT_NUMBER = env("IGPM_BANK_ACCOUNT_NUMBER")
# Printed in every page's and email's footer: no placeholder goes live.
IGPM_REGISTERED_ADDRESS = env("IGPM_REGISTERED_ADDRESS")
IGPM_REGISTRATION = env("IGPM_REGISTRATION")
IGPM_CONTACT_PHONE = env("IGPM_CONTACT_PHONE")

# One JSON object a line on stderr, each with the request's id, for the log
# collector; workers too, rather than Celery's own console format.
LOGGING = {
    **LOGGING,  # noqa: F405
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        },
    },
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# Off only for a stack tried out over plain http on one machine
# (docker-compose.yml); a real deployment keeps every default here.
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# The __Host- prefix makes browsers refuse the cookie unless it is secure,
# for path / and set with no Domain: no subdomain or plain-http page can
# plant or overwrite it. Browsers drop an insecure __Host- cookie, so the
# plain-http stack keeps the ordinary names.
if SESSION_COOKIE_SECURE:
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
SESSION_COOKIE_PATH = CSRF_COOKIE_PATH = "/"
SESSION_COOKIE_DOMAIN = CSRF_COOKIE_DOMAIN = None

MFA_ENCRYPTION_KEY = env("MFA_ENCRYPTION_KEY")
