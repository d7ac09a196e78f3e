"""One settings module for every environment, driven by environment variables.

Production runs this same file with other values (see README, "Configuration").
Every variable is read through ``clinic.env`` so a bad value stops start-up
with one line naming it.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import django_stubs_ext
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from clinic.env import (
    ConfigError,
    broker_url,
    env_bool,
    env_int,
    env_list,
    env_str,
    env_time_zone,
    parse_database_url,
    parse_redis_url,
)

django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DJANGO_DEBUG", False)
# Under pytest the suite's own safe defaults apply (dev secret key, fast hashing).
TESTING = env_bool("CLINIC_TESTING", "pytest" in sys.modules)

_DEV_SECRET = "dev-only-insecure-secret-key-never-use-in-production-0123456789"  # noqa: S105
SECRET_KEY = env_str("DJANGO_SECRET_KEY", _DEV_SECRET if (DEBUG or TESTING) else None)
if not (DEBUG or TESTING) and SECRET_KEY == _DEV_SECRET:
    raise ConfigError("DJANGO_SECRET_KEY must be set to a private value when DJANGO_DEBUG is off")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if (DEBUG or TESTING) else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# The clinic's public address, used to build links in emails (no request there).
SITE_URL = env_str("CLINIC_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
CLINIC_NAME = env_str("CLINIC_NAME", "Clearwater Skin Clinic")
# Phone numbers typed without a country code are read as numbers of this region (ISO 3166).
CLINIC_PHONE_REGION = env_str("CLINIC_PHONE_REGION", "GB")

INSTALLED_APPS = [
    "clinic.accounts.apps.ClinicAdminConfig",  # Django's admin as the clinic's site (second factor, no branding)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "clinic",
    "consultations",
    "treatments",
    "aftercare",
    "reports",
    "photos",
    "online",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise (static files stay cacheable): no-store, Permissions-Policy, 403 events.
    "clinic.accounts.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Every page needs sign-in unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "clinic.accounts.middleware.IdleTimeoutMiddleware",
    "clinic.accounts.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Who changed clinical data, from which page: stored with each audit event.
    "clinic.audit.HistoryMiddleware",
    "clinic.middleware.LocationMiddleware",
    # Last, as axes asks: turns a locked-out sign-in into the plain "locked" page.
    "axes.middleware.AxesMiddleware",
]

# Overridable so the benchmarks can add their baseline view (bench/urls.py) to the real URLs.
ROOT_URLCONF = env_str("CLINIC_ROOT_URLCONF", "clinic.urls")
# Not /admin/: scanners try that first. Behind the same sign-in and second factor as the app.
ADMIN_URL = env_str("DJANGO_ADMIN_URL", "clinic-admin/")
WSGI_APPLICATION = "clinic.wsgi.application"
ASGI_APPLICATION = "clinic.asgi.application"

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
                "django.template.context_processors.csp",
                "clinic.context_processors.frame",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
_database_url = env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic")
_database = parse_database_url("DATABASE_URL", _database_url).django_settings()
_pool_max = env_int("DATABASE_POOL_MAX_SIZE", 0, minimum=0)
if _pool_max:
    # psycopg's pool: one per process; keep max_size × processes under max_connections.
    _database["OPTIONS"]["pool"] = {"min_size": 1, "max_size": _pool_max, "timeout": 10}
else:
    _database["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
    _database["CONN_HEALTH_CHECKS"] = True
# No JIT: on the 10x bench data PostgreSQL chose to compile the reports' queries, which cost
# 0.3-0.5 s each to save far less; the app's other queries are too small to gain from it.
_database["OPTIONS"]["options"] = (_database["OPTIONS"].get("options", "") + " -c jit=off").strip()
_database["TEST"] = {"NAME": env_str("DATABASE_TEST_NAME", f"test_{_database['NAME']}")}
DATABASES = {"default": _database}
# The owner of the tables, for `manage.py migrate` and `db_roles` only (clinic.dbroles): the
# running app connects as DATABASE_URL's role, which owns nothing. Unset, migrations run as
# DATABASE_URL's role (a simple set-up with one role, and the test run, which needs CREATEDB).
DATABASE_MIGRATE_URL = env_str("DATABASE_MIGRATE_URL", "") or _database_url
DATABASE_OWNER = parse_database_url("DATABASE_MIGRATE_URL", DATABASE_MIGRATE_URL).django_settings()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis and Celery ------------------------------------------------------
REDIS_URL = parse_redis_url("REDIS_URL", env_str("REDIS_URL", "redis://127.0.0.1:6379/0"))
CELERY_BROKER_URL = broker_url(REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a task killed mid-way is redelivered; every task is idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_DEFAULT_QUEUE = "clinic"
CELERY_TIMEZONE = "UTC"
# --- Aftercare outbox (aftercare/dispatcher.py) ---
# How often beat runs the dispatcher; a message is sent at most this long after it is due.
AFTERCARE_DISPATCH_INTERVAL_SECONDS = env_int("AFTERCARE_DISPATCH_INTERVAL_SECONDS", 60, minimum=1)
# Attempts before a message is marked failed, and the first retry's delay (doubling each time).
AFTERCARE_MAX_ATTEMPTS = env_int("AFTERCARE_MAX_ATTEMPTS", 6, minimum=1)
AFTERCARE_RETRY_BASE_SECONDS = env_int("AFTERCARE_RETRY_BASE_SECONDS", 60, minimum=1)
# One dispatcher task sends at most this many, or runs this long, then hands over to a fresh task.
AFTERCARE_DISPATCH_BATCH = env_int("AFTERCARE_DISPATCH_BATCH", 500, minimum=1)
AFTERCARE_DISPATCH_BUDGET_SECONDS = env_int("AFTERCARE_DISPATCH_BUDGET_SECONDS", 45, minimum=1)
# Rows one dispatcher claims at a time, and how long its claim lasts if it dies mid-batch.
AFTERCARE_CLAIM_BATCH = env_int("AFTERCARE_CLAIM_BATCH", 50, minimum=1)
AFTERCARE_SENDING_LEASE_SECONDS = env_int("AFTERCARE_SENDING_LEASE_SECONDS", 300, minimum=1)
# A mail server that refuses itself (421, refused connection) is left alone this long, doubling
# with each refusal in a row up to the maximum; no message's attempts are spent on it.
AFTERCARE_BREAKER_BASE_SECONDS = env_int("AFTERCARE_BREAKER_BASE_SECONDS", 30, minimum=1)
AFTERCARE_BREAKER_MAX_SECONDS = env_int("AFTERCARE_BREAKER_MAX_SECONDS", 900, minimum=1)
# How many tasks a dispatcher that found a backlog hands over to (match the worker's concurrency).
AFTERCARE_DISPATCH_FANOUT = env_int("AFTERCARE_DISPATCH_FANOUT", 2, minimum=1)
# The booking-messages sweeper (aftercare.services.booking_messages_sweep): how often it runs,
# how old a booking must be before it is looked at, and how far back it looks.
AFTERCARE_SWEEP_INTERVAL_SECONDS = env_int("AFTERCARE_SWEEP_INTERVAL_SECONDS", 300, minimum=10)
AFTERCARE_SWEEP_GRACE_SECONDS = env_int("AFTERCARE_SWEEP_GRACE_SECONDS", 300, minimum=10)
AFTERCARE_SWEEP_LOOKBACK_DAYS = env_int("AFTERCARE_SWEEP_LOOKBACK_DAYS", 7, minimum=1)

# --- Appointment statuses (clinic/models.py, Appointment) ---
# Check-in opens this many minutes before the start, never before the appointment's local
# day begins, and closes when that day ends. No-show can be marked this many minutes after
# the start. A status set by mistake can be undone with one click for this many seconds;
# after that it is reverted with a reason.
APPOINTMENT_CHECK_IN_OPENS_MINUTES = env_int("APPOINTMENT_CHECK_IN_OPENS_MINUTES", 720, minimum=0)
APPOINTMENT_NO_SHOW_AFTER_MINUTES = env_int("APPOINTMENT_NO_SHOW_AFTER_MINUTES", 0, minimum=0)
APPOINTMENT_UNDO_SECONDS = env_int("APPOINTMENT_UNDO_SECONDS", 300, minimum=1)

# --- Backups (clinic/backups.py) ---
# Where `manage.py backup` and the nightly task write dumps, and how many they keep: the
# newest of each of the last BACKUP_KEEP_DAILY days and BACKUP_KEEP_WEEKLY weeks.
BACKUP_DIR = Path(env_str("BACKUP_DIR", str(VAR_DIR / "backups")))
BACKUP_KEEP_DAILY = env_int("BACKUP_KEEP_DAILY", 7, minimum=1)
BACKUP_KEEP_WEEKLY = env_int("BACKUP_KEEP_WEEKLY", 4, minimum=0)
# Directory of pg_dump/pg_restore; empty means the ones matching the server's major version.
PG_BIN_DIR = env_str("PG_BIN_DIR", "")

# Clinical photos: private files, never under static/ or MEDIA_URL. The storage refuses to make a
# URL at all; the photos app serves each file through a view that checks
# the role and writes an access event. Production may point this at S3-compatible storage
# (README, "Clinical photos").
PHOTO_STORAGE_DIR = Path(env_str("PHOTO_STORAGE_DIR", str(VAR_DIR / "photos")))
PHOTO_MAX_UPLOAD_BYTES = env_int("PHOTO_MAX_UPLOAD_BYTES", 20 * 1024 * 1024, minimum=1024)
# A phone's camera is 12-48 MP; a decoded image beyond this is refused before it is decoded.
PHOTO_MAX_PIXELS = env_int("PHOTO_MAX_PIXELS", 50_000_000, minimum=1_000_000)
PHOTO_THUMBNAIL_PX = 480
PHOTO_SWEEP_INTERVAL_SECONDS = env_int("PHOTO_SWEEP_INTERVAL_SECONDS", 300, minimum=10)
PHOTO_SWEEP_GRACE_SECONDS = env_int("PHOTO_SWEEP_GRACE_SECONDS", 120, minimum=1)
# Online booking (the online app): public booking pages, self-service and the waitlist.
ONLINE_HOLD_MINUTES = env_int("ONLINE_HOLD_MINUTES", 15, minimum=1)
ONLINE_CUTOFF_HOURS = env_int("ONLINE_CUTOFF_HOURS", 24, minimum=0)
ONLINE_OFFER_MINUTES = env_int("ONLINE_OFFER_MINUTES", 120, minimum=1)
ONLINE_OFFER_FANOUT = env_int("ONLINE_OFFER_FANOUT", 5, minimum=1)
ONLINE_BOOKING_DAYS = env_int("ONLINE_BOOKING_DAYS", 14, minimum=1)
# 0 in tests: each test sees the times its own data leaves free.
ONLINE_AVAILABILITY_CACHE_SECONDS = env_int("ONLINE_AVAILABILITY_CACHE_SECONDS", 0 if TESTING else 20, minimum=0)
ONLINE_REQUESTS_PER_IP_PER_HOUR = env_int("ONLINE_REQUESTS_PER_IP_PER_HOUR", 10, minimum=1)
ONLINE_REQUESTS_PER_EMAIL_PER_HOUR = env_int("ONLINE_REQUESTS_PER_EMAIL_PER_HOUR", 5, minimum=1)
ONLINE_HOLDS_PER_ADDRESS = env_int("ONLINE_HOLDS_PER_ADDRESS", 2, minimum=1)
ONLINE_SWEEP_INTERVAL_SECONDS = env_int("ONLINE_SWEEP_INTERVAL_SECONDS", 60, minimum=10)

# How often beat refreshes the reports' summaries (reports/summaries.py); the report shows when.
REPORTS_SUMMARY_REFRESH_SECONDS = env_int("CLINIC_REPORTS_SUMMARY_REFRESH_SECONDS", 600, minimum=60)

# Static and in code (django-celery-beat pins Django < 6.1).
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "aftercare-dispatch": {
        "task": "aftercare.tasks.dispatch_due",
        "schedule": float(AFTERCARE_DISPATCH_INTERVAL_SECONDS),
        # A tick nobody ran in time is dropped, not piled up: the next one does the same work.
        "options": {"expires": float(AFTERCARE_DISPATCH_INTERVAL_SECONDS)},
    },
    "aftercare-booking-messages-sweep": {
        "task": "aftercare.tasks.sweep_booking_messages",
        "schedule": float(AFTERCARE_SWEEP_INTERVAL_SECONDS),
        "options": {"expires": float(AFTERCARE_SWEEP_INTERVAL_SECONDS)},
    },
    # Releases online holds not confirmed in time and expires unanswered waitlist offers.
    "online-sweep": {
        "task": "online.tasks.sweep",
        "schedule": float(ONLINE_SWEEP_INTERVAL_SECONDS),
        "options": {"expires": float(ONLINE_SWEEP_INTERVAL_SECONDS)},
    },
    # Thumbnails that a lost task never made.
    "photos-thumbnail-sweep": {
        "task": "photos.tasks.sweep_thumbnails",
        "schedule": float(PHOTO_SWEEP_INTERVAL_SECONDS),
        "options": {"expires": float(PHOTO_SWEEP_INTERVAL_SECONDS)},
    },
    # The reports' summaries (the overdue worklist's plan progress).
    "reports-refresh-summaries": {
        "task": "reports.tasks.refresh_summaries",
        "schedule": float(REPORTS_SUMMARY_REFRESH_SECONDS),
        "options": {"expires": float(REPORTS_SUMMARY_REFRESH_SECONDS)},
    },
    # Nightly at 02:30 UTC (CELERY_TIMEZONE), when no clinic is open.
    "backup-nightly": {
        "task": "clinic.tasks.backup_nightly",
        "schedule": crontab(hour="2", minute="30"),
        # Missed by more than a few hours (beat or worker down), it waits for the next night.
        "options": {"expires": 6 * 60 * 60.0},
    },
}

# --- Auth --------------------------------------------------------------------
AUTH_USER_MODEL = "clinic.User"
# axes first: it refuses a locked-out account or client before the password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "clinic.backends.ClinicBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Hashing cost is not what the tests test; argon2 stays the production default.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 10 * 60 * 60, minimum=300)  # at most one clinic day
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# HIPAA 164.312(a)(2)(iii): an idle session ends (clinic.accounts.middleware); the page warns first.
# Reports (reports/): a cancellation this many hours or fewer before the start counts as late
# (the report's form may change it per view); below REPORTS_MIN_N an outcome figure reads
# "too few to tell" (see reports/outcomes.py for why 5).
REPORTS_LATE_CANCEL_HOURS = env_int("CLINIC_REPORTS_LATE_CANCEL_HOURS", 24, minimum=1)
REPORTS_MIN_N = env_int("CLINIC_REPORTS_MIN_N", 5, minimum=1)

CLINIC_IDLE_TIMEOUT_SECONDS = 60 * env_int("CLINIC_IDLE_TIMEOUT_MINUTES", 15, minimum=2)
CLINIC_IDLE_WARNING_SECONDS = 60
# Every role reads clinical data or manages staff, so every account needs the second factor.
CLINIC_REQUIRE_2FA = env_bool("CLINIC_REQUIRE_2FA", True)
OTP_TOTP_ISSUER = CLINIC_NAME
# A reset link is good for an hour (Django's default is three days).
PASSWORD_RESET_TIMEOUT = 60 * 60
CLINIC_PASSWORD_RESET_PER_EMAIL_PER_HOUR = env_int("CLINIC_PASSWORD_RESET_PER_EMAIL_PER_HOUR", 3, minimum=1)
CLINIC_PASSWORD_RESET_PER_IP_PER_HOUR = env_int("CLINIC_PASSWORD_RESET_PER_IP_PER_HOUR", 10, minimum=1)

# --- Lockout (django-axes) ---------------------------------------------------------
# After CLINIC_LOGIN_FAILURE_LIMIT wrong passwords for one username, or from one client
# address, sign-in is refused until the manager unlocks the account (staff page) or
# CLINIC_LOCKOUT_MINUTES pass (0: only the manager unlocks).
AXES_FAILURE_LIMIT = env_int("CLINIC_LOGIN_FAILURE_LIMIT", 5, minimum=1)
CLINIC_LOCKOUT_MINUTES = env_int("CLINIC_LOCKOUT_MINUTES", 30, minimum=0)
AXES_COOLOFF_TIME = timedelta(minutes=CLINIC_LOCKOUT_MINUTES) if CLINIC_LOCKOUT_MINUTES else None
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "clinic.accounts.views.locked_out"
AXES_CLIENT_IP_CALLABLE = "clinic.accounts.events.client_ip"
# Sign-ins are recorded as the clinic's own security events; axes keeps only its counters.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

# --- Security ------------------------------------------------------------------
SECURE_SSL = env_bool("DJANGO_SECURE_SSL", not (DEBUG or TESTING))
SESSION_COOKIE_SECURE = SECURE_SSL
CSRF_COOKIE_SECURE = SECURE_SSL
SECURE_SSL_REDIRECT = SECURE_SSL
SECURE_HSTS_SECONDS = 31536000 if SECURE_SSL else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_SSL
SECURE_HSTS_PRELOAD = SECURE_SSL
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("DJANGO_BEHIND_PROXY", False) else None
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Everything the pages load is served from static/: no CDN, no inline script.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
    "base-uri": ["'self'"],
}

# --- Internationalisation -----------------------------------------------------------
LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
# The clinic's default zone; each location carries its own and pages use it.
TIME_ZONE = env_time_zone("CLINIC_TIME_ZONE", "Europe/London")

# --- Static files ------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "photos": {
        "BACKEND": "photos.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": str(PHOTO_STORAGE_DIR), "file_permissions_mode": 0o600},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if (DEBUG or TESTING)
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email ---------------------------------------------------------------------------
# Django 6.1's MAILERS, filled from EMAIL_* variables (the names operators know).
_email_backend = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
_email_use_tls = env_bool("EMAIL_USE_TLS", False)
_email_use_ssl = env_bool("EMAIL_USE_SSL", False)
if _email_use_tls and _email_use_ssl:
    raise ConfigError("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on")
_email_options: dict[str, object]
if _email_backend.endswith("smtp.EmailBackend"):
    _email_options = {
        "host": env_str("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 25, minimum=1),
        "username": env_str("EMAIL_HOST_USER", ""),
        "password": env_str("EMAIL_HOST_PASSWORD", ""),
        "use_tls": _email_use_tls,
        "use_ssl": _email_use_ssl,
        "timeout": env_int("EMAIL_TIMEOUT", 20, minimum=1),
    }
elif _email_backend.endswith("filebased.EmailBackend"):
    _email_options = {"file_path": env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))}
else:
    _email_options = {}
MAILERS = {"default": {"BACKEND": _email_backend, "OPTIONS": _email_options}}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"{CLINIC_NAME} <care@clinic.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Audit ------------------------------------------------------------------------
# Audit events can never be updated or deleted: a database trigger refuses it.
PGHISTORY_APPEND_ONLY = True
PGHISTORY_DEFAULT_TRACKERS = None  # every tracked model names its trackers explicitly

# /healthz tells anyone only ok / not ok; the details need this bearer token or a loopback caller.
HEALTHZ_TOKEN = env_str("HEALTHZ_TOKEN", "")
# The dispatcher's heartbeat older than this makes /healthz answer 503.
HEARTBEAT_STALE_SECONDS = env_int("HEARTBEAT_STALE_SECONDS", 300, minimum=60)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # axes logs every sign-in at INFO; the clinic records them as security events instead.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
