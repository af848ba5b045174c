"""Settings shared by every environment.

This is the one place that reads the environment. ``local``, ``test`` and
``production`` import everything from here and change only what differs.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Writes an operator class in an expression index as PostgreSQL expects
    # (the members' search indexes); nothing on other databases.
    "django.contrib.postgres",
    "django.forms",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "csp",
    "members",
    "accreditation",
    "events",
]

MIDDLEWARE = [
    # First, so every log line of the request carries its id.
    "igpm.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "igpm.security.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    # Before anything that reads a request body (sessions, CSRF, views).
    "igpm.security.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "members.authentication.AuthenticationMiddleware",
    "igpm.security.NulPathMiddleware",
    "igpm.middleware.PrivateCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "igpm.middleware.IdleSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "members.access.StaffAreaMiddleware",
]

ROOT_URLCONF = "igpm.urls"
WSGI_APPLICATION = "igpm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "igpm.brand.context_processor",
            ],
            # One spelling of sizes and hours on every page and email.
            "builtins": ["igpm.templatetags.portal"],
        },
    },
]
FORM_RENDERER = "members.forms_rendering.PortalFormRenderer"

# --- Data -----------------------------------------------------------------

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'igpm.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=0)


def prepared_statements(database: dict) -> dict:
    """On PostgreSQL: parameters bound by the server, so that psycopg
    prepares a query once it has run ``DJANGO_DB_PREPARE_THRESHOLD`` times
    (5) on a connection, and PostgreSQL plans it once per connection rather
    than on every request (a signed-in page's queries are the same on each).
    ``off`` prepares nothing: for PgBouncer in transaction mode older than
    1.21, or without ``max_prepared_statements``."""
    if database["ENGINE"] == "django.db.backends.postgresql":
        threshold = env("DJANGO_DB_PREPARE_THRESHOLD", default="5")
        database.setdefault("OPTIONS", {}).update(
            server_side_binding=True,
            prepare_threshold=None if threshold == "off" else int(threshold),
        )
    return database


prepared_statements(DATABASES["default"])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "members.User"

REDIS_URL = env("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    # A database table, not local memory: allauth's rate limits must hold
    # across the web server's processes, even with no Redis.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "igpm_cache",
        }
    }

# --- Accounts --------------------------------------------------------------

# Django's and allauth's, each reading the person with their profile and
# membership in one query (members.authentication). Renaming one signs
# everyone out once: a session names the backend that signed it in.
AUTHENTICATION_BACKENDS = [
    "members.authentication.ModelBackend",
    "members.authentication.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "members:dashboard"
# A new account has no profile yet: that is the first thing to fill in.
ACCOUNT_SIGNUP_REDIRECT_URL = "members:profile"

ACCOUNT_ADAPTER = "members.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[IGPM] "
# Neither sign-up nor the password reset form says whether an address has
# an account: both answer as if it might, and the address itself is told
# by email (an "already registered" or "no account" message).
ACCOUNT_PREVENT_ENUMERATION = True
# Changing the email address, and adding or removing two-factor methods,
# need the password (or a two-factor code) from the last five minutes, not
# only a signed-in session. A code sent by email is not enough: whoever
# holds the session may also hold a newly added address.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_METHODS = ("password", "mfa")
MFA_REAUTHENTICATION_REQUIRED = True
# The old address hears of an email change; the account hears of password
# and two-factor changes.
ACCOUNT_EMAIL_NOTIFICATIONS = True
# An owner whose password sign-in is throttled (someone else is guessing)
# can sign in with a one-off code sent to their address instead.
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
# How many reverse proxies in front of the portal append to
# X-Forwarded-For; the client address is the one the outermost trusted
# proxy saw. 0 (no proxy) reads REMOTE_ADDR and ignores the header, which
# a client could forge. Must match gunicorn's forwarded_allow_ips.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("ALLAUTH_TRUSTED_PROXY_COUNT", default=0)
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    # "key" here is the account *and* the client address (see
    # members.adapters): guessing from one address slows that address on
    # that account, not the owner signing in from another.
    "login_failed": "10/m/ip,5/5m/key",
    # Failures on one account from every address together: bounds an
    # attack spread over many addresses. The owner can still sign in by
    # code when it is reached.
    "login_failed_account": "30/h/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "request_login_code": "20/m/ip,3/m/key",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
}
ACCOUNT_SESSION_REMEMBER = None

MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "IGPM"
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_ADAPTER = "members.adapters.MFAAdapter"
# Two-factor secrets (TOTP secrets, recovery-code seeds) are encrypted with
# this Fernet key; secrets sealed with an older key still open while it is
# listed in MFA_ENCRYPTION_OLD_KEYS (rotation: new key here, old one there).
MFA_ENCRYPTION_KEY = env("MFA_ENCRYPTION_KEY", default="")
MFA_ENCRYPTION_OLD_KEYS = env.list("MFA_ENCRYPTION_OLD_KEYS", default=[])

# Django's database sessions with the signed-in user's id beside them, read
# with the person in one query compiled once per process.
SESSION_ENGINE = "members.sessions"
SESSION_COOKIE_AGE = 60 * 60 * 12
# A session also ends after this long without a request: half an hour for
# staff, whose sessions reach everyone's data; longer for members.
SESSION_IDLE_TIMEOUT_STAFF_SECONDS = env.int("SESSION_IDLE_TIMEOUT_STAFF_SECONDS", default=30 * 60)
SESSION_IDLE_TIMEOUT_MEMBER_SECONDS = env.int(
    "SESSION_IDLE_TIMEOUT_MEMBER_SECONDS", default=2 * 60 * 60
)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# --- Email ------------------------------------------------------------------

DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="IGPM <membership@igpm.org.uk>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = VAR_DIR / "mail"
if env("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))

# --- The organisation ---------------------------------------------------------

# Shown in every page's footer and every email's (igpm/brand.py). The logo
# and colours are files: static/brand/ and static/css/brand.css.
IGPM_NAME = env("IGPM_NAME", default="Institute of General Practice Management")
IGPM_SHORT_NAME = env("IGPM_SHORT_NAME", default="IGPM")
IGPM_CONTACT_EMAIL = env("IGPM_CONTACT_EMAIL", default="membership@igpm.org.uk")
IGPM_CONTACT_PHONE = env("IGPM_CONTACT_PHONE", default="0300 000 0000")
# One line, parts separated by commas (the footer breaks it into lines).
IGPM_REGISTERED_ADDRESS = env(
    "IGPM_REGISTERED_ADDRESS",
    default="1 Example Street, Leeds, LS1 1AA",
)
# The company or charity registration, as it is to be printed.
IGPM_REGISTRATION = env(
    "IGPM_REGISTRATION", default="Registered in England and Wales, company number 00000000"
)

# --- Payments ---------------------------------------------------------------

# The address members are sent back to (emails, Stripe, PDFs' QR codes).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="https://api.stripe.com")
# Seconds to connect to Stripe and to wait for each read, and retries after
# a timeout or a 5xx. The worst call is (connect + read) x (retries + 1)
# plus 0.5 s per retry: 12.5 s with these defaults. Web workers' timeout
# (gunicorn) must be longer than that.
STRIPE_CONNECT_TIMEOUT = env.float("STRIPE_CONNECT_TIMEOUT", default=2.0)
STRIPE_READ_TIMEOUT = env.float("STRIPE_READ_TIMEOUT", default=4.0)
STRIPE_MAX_RETRIES = env.int("STRIPE_MAX_RETRIES", default=1)
# Where disputes and other card-money problems are reported to the team.
MEMBERSHIP_TEAM_EMAIL = env("MEMBERSHIP_TEAM_EMAIL", default="membership@igpm.org.uk")
# Days of Checkout sessions the daily reconciliation reads back from Stripe.
STRIPE_RECONCILE_DAYS = env.int("STRIPE_RECONCILE_DAYS", default=3)
# Automatic renewal: the member is emailed this many days before each
# collection (Stripe's "upcoming renewal events" setting must be at least
# this: README, "Automatic renewal: Stripe set-up"). Card rules want 14 or
# more; Bacs advance notice is met by the same email.
AUTO_RENEWAL_NOTICE_DAYS = env.int("AUTO_RENEWAL_NOTICE_DAYS", default=21)
# Stripe's customer portal configuration that allows payment-method updates
# only; blank: the portal finds or makes one itself.
STRIPE_PORTAL_CONFIGURATION = env("STRIPE_PORTAL_CONFIGURATION", default="")
# The clearly labelled offline provider: completes a payment with no money
# moving. On only where no Stripe key is configured; never in production.
PAYMENTS_OFFLINE_PROVIDER = env.bool("PAYMENTS_OFFLINE_PROVIDER", default=not STRIPE_SECRET_KEY)
# Printed on invoices for bank transfer.
IGPM_BANK_ACCOUNT_NAME = env("IGPM_BANK_ACCOUNT_NAME", default="IGPM (example account)")
IGPM_BANK_SORT_CODE = env("IGPM_BANK_SORT_CODE", default="00-00-00")
IGPM_BANK_ACCOUNT_NUMBER = env("IGPM_BANK_ACCOUNT_NUMBER", default="00000000")

# --- Reports ----------------------------------------------------------------

# Seconds the staff reports page reuses its figures before working them out
# again (0: every time). They take about a second with 100,000 members.
REPORTS_CACHE_SECONDS = env.int("REPORTS_CACHE_SECONDS", default=600)

# --- Privacy ----------------------------------------------------------------

# Days after an event ends before the details of visitors (people who
# registered without an account) are anonymised.
EVENTS_VISITOR_RETENTION_DAYS = env.int("EVENTS_VISITOR_RETENTION_DAYS", default=365)

# --- Events -----------------------------------------------------------------

# Hours a visitor's emailed confirmation link works; unconfirmed requests
# are deleted once it lapses.
EVENTS_CONFIRM_HOURS = env.int("EVENTS_CONFIRM_HOURS", default=48)
# Registering without an account, in allauth's rate syntax: per client
# address, and per email address registered. Added to allauth's table,
# whose cache and client-address rules (ALLAUTH_TRUSTED_PROXY_COUNT) apply.
ACCOUNT_RATE_LIMITS["events_register_visitor"] = env(
    "EVENTS_VISITOR_RATE_LIMIT", default="10/h/ip"
)
ACCOUNT_RATE_LIMITS["events_register_email"] = env(
    "EVENTS_VISITOR_EMAIL_RATE_LIMIT", default="3/h/key"
)
# Requests to send seat invitations (up to 20 addresses each) per
# organisation account.
ACCOUNT_RATE_LIMITS["organisation_invitations"] = env(
    "ORGANISATION_INVITATIONS_RATE_LIMIT", default="60/h/key"
)
# The stop link in automatic-renewal emails needs no sign-in: its tries are
# limited per client address.
ACCOUNT_RATE_LIMITS["auto_renewal_stop_link"] = env(
    "AUTO_RENEWAL_STOP_LINK_RATE_LIMIT", default="30/h/ip"
)

# --- Celery -----------------------------------------------------------------

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _queue_dir = VAR_DIR / "celery" / "queue"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Europe/London"
# Work is split by kind so each kind gets its own workers and concurrency
# (README, "Production topology"): emails wait on SMTP, PDFs and archives
# are CPU-heavy, sweeps are the scheduled batch jobs. Anything unrouted
# goes to "celery". A worker started without -Q consumes every queue listed
# here, so one local worker (bin/run) still runs everything.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [Queue(name) for name in ("celery", "emails", "pdfs", "sweeps")]
CELERY_TASK_ROUTES = {
    **{
        task: {"queue": "emails"}
        for task in (
            "accreditation.tasks.application_decision_email_task",
            "accreditation.tasks.certificate_notices_send_task",
            "accreditation.tasks.application_submitted_email_task",
            "events.tasks.registration_email_task",
            "members.tasks.membership_notices_send_task",
            "members.tasks.membership_decision_email_task",
            "members.tasks.erasure_refused_email_task",
            "members.tasks.erasure_completed_email_task",
            "members.tasks.payment_notice_send_task",
            "members.tasks.collection_notice_send_task",
            "members.consultations.tasks.consultation_notices_send_task",
            "members.register_import.tasks.claim_invitations_send_task",
            "members.organisations.tasks.seat_invitation_email_task",
            "members.organisations.tasks.administrator_added_email_task",
            "members.organisations.tasks.organisation_notices_send_task",
        )
    },
    **{
        task: {"queue": "pdfs"}
        for task in (
            "accreditation.tasks.certificate_render_task",
            # The receipt email's cost is the PDF it attaches.
            "members.tasks.payment_receipt_email_task",
            "members.tasks.invoice_email_task",
            # Builds a ZIP of everything held about a member.
            "members.tasks.data_export_build_task",
        )
    },
    **{
        task: {"queue": "sweeps"}
        for task in (
            "members.tasks.clear_expired_sessions_task",
            "members.tasks.membership_notices_sweep_task",
            "members.tasks.data_exports_expire_task",
            "accreditation.tasks.certificate_notices_sweep_task",
            "events.tasks.event_emails_sweep_task",
            "events.tasks.offers_expire_task",
            "events.tasks.visitor_registrations_anonymise_task",
            "events.tasks.unconfirmed_registrations_purge_task",
            "members.tasks.stripe_reconcile_task",
            "members.tasks.auto_renewal_notices_sweep_task",
            "members.consultations.tasks.consultation_notices_sweep_task",
            "members.organisations.tasks.organisation_notices_sweep_task",
            # Runs the notices sweep straight after a consultation opens.
            "members.consultations.tasks.consultation_invitations_task",
        )
    },
    # Calls to Stripe that a member's action queued: not emails, not sweeps.
    "members.tasks.checkout_sessions_expire_task": {"queue": "celery"},
    "members.tasks.auto_renewal_checkout_expire_task": {"queue": "celery"},
    "members.tasks.auto_renewal_subscription_cancel_task": {"queue": "celery"},
    "members.tasks.auto_renewals_reprice_task": {"queue": "celery"},
    "members.tasks.refund_intent_retry_task": {"queue": "celery"},
    # A register's dry run and import: staff wait on these, not the beat.
    "members.register_import.tasks.register_import_check_task": {"queue": "celery"},
    "members.register_import.tasks.register_import_apply_task": {"queue": "celery"},
    # The monthly ODS import staff start from the admin: a batch job.
    "members.organisations.ods_tasks.ods_import_task": {"queue": "sweeps"},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "members-clear-expired-sessions": {
        "task": "members.tasks.clear_expired_sessions_task",
        "schedule": crontab(hour=3, minute=15),
    },
    "members-notices-sweep": {
        "task": "members.tasks.membership_notices_sweep_task",
        "schedule": crontab(hour=7, minute=0),
    },
    "members-organisation-notices-sweep": {
        "task": "members.organisations.tasks.organisation_notices_sweep_task",
        "schedule": crontab(hour=7, minute=10),
    },
    "events-emails-sweep": {
        "task": "events.tasks.event_emails_sweep_task",
        "schedule": crontab(minute="*/10"),
    },
    "events-offers-expire": {
        "task": "events.tasks.offers_expire_task",
        "schedule": crontab(minute="*/10"),
    },
    "accreditation-notices-sweep": {
        "task": "accreditation.tasks.certificate_notices_sweep_task",
        "schedule": crontab(hour=7, minute=20),
    },
    "members-stripe-reconcile": {
        "task": "members.tasks.stripe_reconcile_task",
        "schedule": crontab(hour=4, minute=10),
    },
    "members-auto-renewal-notices-sweep": {
        "task": "members.tasks.auto_renewal_notices_sweep_task",
        "schedule": crontab(hour=7, minute=40),
    },
    "members-data-exports-expire": {
        "task": "members.tasks.data_exports_expire_task",
        "schedule": crontab(hour=3, minute=30),
    },
    "events-unconfirmed-registrations-purge": {
        "task": "events.tasks.unconfirmed_registrations_purge_task",
        "schedule": crontab(minute=25),
    },
    "members-consultation-notices-sweep": {
        "task": "members.consultations.tasks.consultation_notices_sweep_task",
        "schedule": crontab(minute=5),
    },
    "events-visitor-registrations-anonymise": {
        "task": "events.tasks.visitor_registrations_anonymise_task",
        "schedule": crontab(hour=3, minute=45),
    },
}

# --- Internationalisation ---------------------------------------------------

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
# British English and sentence case for allauth's screens (locale/en_GB).
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True
# "1 September 2025" and "1 September 2025, 14:30" everywhere a date is
# shown (igpm/formats/en_GB/formats.py overrides Django's abbreviations).
FORMAT_MODULE_PATH = ["igpm.formats"]

# --- Static files -----------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Private files ------------------------------------------------------------

# Evidence, certificates and data exports. On this machine's disk by default;
# on S3-compatible object storage when a bucket is named, so any number of
# web nodes and workers see the same files. Either way they are served only
# through the permission-checked views (igpm.files.private_file_response).
MEDIA_ROOT = env("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "private"))
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    from botocore.config import Config as BotoConfig

    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            # Unset keys leave boto3 to its own chain (instance or pod role).
            "access_key": env("AWS_ACCESS_KEY_ID", default=None),
            "secret_key": env("AWS_SECRET_ACCESS_KEY", default=None),
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            # Any S3-compatible store (SeaweedFS, Ceph, R2...); blank for AWS.
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env("AWS_S3_REGION_NAME", default=None),
            # "path" for stores without a DNS name per bucket.
            "addressing_style": env("AWS_S3_ADDRESSING_STYLE", default=None),
            # A key prefix, so one bucket can hold several portals.
            "location": env("AWS_LOCATION", default=""),
            # The bucket is private: no ACL that could make an object public,
            # and Django's own unique names rather than silent overwrites.
            "default_acl": None,
            "file_overwrite": False,
            # Nothing links to the bucket (downloads are streamed by the
            # views); should anything ever ask for a URL, it lasts a minute.
            "querystring_expire": 60,
            "object_parameters": env.json("AWS_S3_OBJECT_PARAMETERS", default={}),
            # Short timeouts, bounded retries: a stalled store must not hold
            # a web worker for a minute (boto3's defaults).
            "client_config": BotoConfig(
                connect_timeout=5, read_timeout=20, retries={"max_attempts": 3, "mode": "standard"}
            ),
        },
    }

# --- Security shared by all environments ------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Every script and style comes from static/: no inline code, no other
# origin. Card payments leave by a form whose redirect goes to Stripe
# Checkout, which form-action must allow (Chrome checks the redirect too);
# "Change card or bank account" leaves the same way for Stripe's customer
# portal.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", "https://checkout.stripe.com", "https://billing.stripe.com"],
    },
}

# Request bodies over this size are refused with 413 before they are read
# (igpm.security.RequestSizeLimitMiddleware); the reverse proxy's
# client_max_body_size should match. Room for one 10 MB evidence file and
# the form around it.
REQUEST_BODY_MAX_BYTES = env.int("DJANGO_REQUEST_BODY_MAX_BYTES", default=12 * 1024 * 1024)
# Uploads under the request limit stay in memory: nothing from a request is
# written to a web node's disk.
FILE_UPLOAD_MAX_MEMORY_SIZE = REQUEST_BODY_MAX_BYTES
# Form fields other than files: Django's default, said out loud.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2621440
# Register import (members/register_import): the largest file and the
# most rows one upload may have, and the rows written per transaction.
REGISTER_IMPORT_MAX_BYTES = env.int("REGISTER_IMPORT_MAX_BYTES", default=8 * 1024 * 1024)
REGISTER_IMPORT_MAX_ROWS = env.int("REGISTER_IMPORT_MAX_ROWS", default=25_000)
REGISTER_IMPORT_BATCH = env.int("REGISTER_IMPORT_BATCH", default=1000)
# How long an imported member's claim link works, in seconds.
REGISTER_CLAIM_MAX_AGE = env.int("REGISTER_CLAIM_MAX_AGE", default=60 * 86400)
# Openings and sendings of the public claim page per client address, in
# allauth's rate format (its cache and ALLAUTH_TRUSTED_PROXY_COUNT apply).
REGISTER_CLAIM_RATE_LIMIT = env("REGISTER_CLAIM_RATE_LIMIT", default="20/m/ip,100/h/ip")
# An import or dry run whose rows have not moved for this many minutes is
# shown to staff as stalled, with the button to carry on.
REGISTER_IMPORT_STALLED_MINUTES = env.int("REGISTER_IMPORT_STALLED_MINUTES", default=15)
# Evidence images above this many pixels are refused before decoding.
UPLOAD_IMAGE_MAX_PIXELS = env.int("UPLOAD_IMAGE_MAX_PIXELS", default=50_000_000)
# Public certificate searches (/verify/) per client address, in allauth's
# rate format; counted by allauth's limiter, so behind a proxy the address
# is found as for sign-in (ALLAUTH_TRUSTED_PROXY_COUNT).
VERIFY_RATE_LIMIT = env("VERIFY_RATE_LIMIT", default="10/m/ip,100/h/ip")
# The profile's practice picker searches as the member types, per member.
PRACTICE_SEARCH_RATE_LIMIT = env("PRACTICE_SEARCH_RATE_LIMIT", default="120/m/user,1000/h/user")

# --- Logs and errors ----------------------------------------------------------

# Production switches the console to one JSON object a line (production.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "igpm.logs.RequestIdFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "igpm.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django.request": {"level": "ERROR"},
    },
}

# Errors go to Sentry only when a DSN is given (igpm/sentry.py says what is
# scrubbed before anything leaves).
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    from igpm.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env("SENTRY_ENVIRONMENT", default="production"),
        release=env("SENTRY_RELEASE", default=None),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# members.User.email is unique case-insensitively (a functional unique index
# on LOWER(email)), which Django's check cannot see.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
