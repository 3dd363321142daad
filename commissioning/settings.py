"""Settings for the joint commissioning service.

One module, configured from environment variables (see README.md for the table). With nothing
set it runs on a local SQLite file with in-process tasks and console e-mail; DATABASE_URL and
CELERY_BROKER_URL switch to PostgreSQL and Redis/Celery.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from csp.constants import NONCE, SELF
from django.core.exceptions import ImproperlyConfigured

from commissioning.env import env_bool, env_int, env_list, env_parsed, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_str("SECRET_KEY", required=not DEBUG) or (
    "insecure-local-development-key-do-not-use-in-production-0123456789"
)
if not DEBUG and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured(
        "Environment variable SECRET_KEY must be at least 50 random characters in production."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "Environment variable ALLOWED_HOSTS must list the host names when DEBUG is false."
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

SERVICE_NAME = env_str("SERVICE_NAME", "Joint commissioning")
# Open Contracting ID prefix registered for the publisher (OCDS 1.1 "ocid"): "ocds-" and six
# letters or digits, checked at start-up (commissioning.checks). The default is a placeholder
# for development: set your registered prefix before publishing.
OCDS_PREFIX = env_str("OCDS_PREFIX", "ocds-000000")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_forms_gds",
    "django_filters",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "commissioning",
    "contracts",
    "funding",
    "monitoring",
    "rest_framework",
    "drf_spectacular",
    "api",
]

MIDDLEWARE = [
    # Permissions-Policy everywhere, no-store for signed-in pages and downloads.
    "commissioning.middleware.PrivateResponsesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "commissioning.middleware.SlidingSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "commissioning.middleware.CurrentOrganisationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "commissioning.two_factor.TwoFactorMiddleware",
    # Axes last, so that a lockout is answered before anything else touches the request.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "commissioning.urls"
WSGI_APPLICATION = "commissioning.wsgi.application"

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
                "csp.context_processors.nonce",
                "commissioning.context_processors.shell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": env_parsed(
            "DATABASE_URL",
            lambda value: dj_database_url.parse(value, conn_max_age=60, conn_health_checks=True),
            None,
            "a database URL such as postgres://user:password@host:5432/name",
        )
    }
    if not DATABASES["default"].get("ENGINE"):
        raise ImproperlyConfigured("Environment variable DATABASE_URL has an unknown scheme.")
    if "postgresql" in DATABASES["default"]["ENGINE"]:
        # PostgreSQL's JIT compiles any query its planner costs highly; for this app's short
        # page queries that compilation (70 ms to 2 s, measured on the performance overview)
        # costs far more than it saves. Random page cost as for SSD storage (the default 4
        # assumes spinning disks and made the planner hash whole tables instead of using
        # the indexes).
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
            "-c jit=off -c random_page_cost=1.1")
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "var" / "db.sqlite3",
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Users and sign-in ----------------------------------------------------------------------
AUTH_USER_MODEL = "commissioning.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2
INVITATION_VALID_DAYS = env_int("INVITATION_VALID_DAYS", 7, minimum=1)

SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30, minimum=5)
# An idle timeout without a session write on every request: the row's expiry is pushed
# forward at most once a minute (commissioning.middleware.SlidingSessionMiddleware), and the
# age has that minute added, so sign-out comes 30 to 31 idle minutes after the last request.
SESSION_REFRESH_SECONDS = 60
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60 + SESSION_REFRESH_SECONDS
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # every failed sign-in is kept, as well as every success
# The lock-out rule (per e-mail address and network, then per e-mail address from anywhere),
# the e-mail normalisation and the client address behind proxies: commissioning/sign_in.py.
AXES_HANDLER = "commissioning.sign_in.SignInAttempts"
AXES_USERNAME_CALLABLE = "commissioning.sign_in.axes_username"
AXES_CLIENT_IP_CALLABLE = "commissioning.sign_in.client_ip"
SIGN_IN_ACCOUNT_FAILURE_LIMIT = env_int("SIGN_IN_ACCOUNT_FAILURE_LIMIT", 10 * AXES_FAILURE_LIMIT,
                                        minimum=AXES_FAILURE_LIMIT)
SIGN_IN_ACCOUNT_COOLOFF_MINUTES = 15

# Single sign-on through an organisation's OpenID provider (commissioning/sso.py). Providers
# are set per organisation by a platform administrator; these are the service-wide rules.
# Days without a sign-in through the provider after which an account is suspended (leavers).
SSO_SUSPEND_AFTER_DAYS = env_int("SSO_SUSPEND_AFTER_DAYS", 30, minimum=1)
SSO_HTTP_TIMEOUT = env_int("SSO_HTTP_TIMEOUT", 5, minimum=1)  # seconds per call to a provider
SSO_METADATA_CACHE_SECONDS = env_int("SSO_METADATA_CACHE_SECONDS", 3600, minimum=0)

OTP_TOTP_ISSUER = env_str("SERVICE_NAME", "Joint commissioning")
OTP_TOTP_TOLERANCE = 1
# Two-factor sign-in is required for staff and commissioner-side roles; providers may opt in,
# and a partnership can require it of the providers of its contracts.
TWO_FACTOR_ENABLED = env_bool("TWO_FACTOR_ENABLED", True)

# --- Security headers -----------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
HTTPS = env_bool("HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies append to X-Forwarded-For in front of the app: the client address for the
# sign-in lock-out is the entry that many places from the right (commissioning/sign_in.py).
PROXY_COUNT = env_int("PROXY_COUNT", 1 if BEHIND_TLS_PROXY else 0, minimum=0)
SILENCED_SYSTEM_CHECKS: list[str] = []

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Internationalisation: UK English, London time, UK date formats --------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
DATE_FORMAT = "j F Y"
SHORT_DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = "j F Y, H:i"
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d", "%d %B %Y", "%d %b %Y"]
USE_THOUSAND_SEPARATOR = False

# --- Files ----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media/"  # never served directly: downloads go through permission-checked views
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", 20 * 1024 * 1024, minimum=1024)

# --- E-mail ---------------------------------------------------------------------------------
# In production the way mail leaves is chosen on purpose: without it a password-reset link
# would quietly go to the web server's log. EMAIL_BACKEND names the choice (smtp, file,
# console); when it is not set, EMAIL_HOST means SMTP and EMAIL_FILE_PATH means files, and
# only a DEBUG installation falls back to the console.
_EMAIL_BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
}
_email_choice = (env_str("EMAIL_BACKEND") or "").lower() or (
    "smtp" if env_str("EMAIL_HOST") else "file" if env_str("EMAIL_FILE_PATH")
    else "console" if DEBUG else None)
if _email_choice is None:
    raise ImproperlyConfigured(
        "Environment variable EMAIL_BACKEND must be set when DEBUG is false: set EMAIL_HOST "
        "(and EMAIL_BACKEND=smtp) to send mail, or EMAIL_BACKEND=file with EMAIL_FILE_PATH, "
        "or EMAIL_BACKEND=console to print e-mails to the log on purpose."
    )
if _email_choice not in _EMAIL_BACKENDS:
    raise ImproperlyConfigured(
        "Environment variable EMAIL_BACKEND must be smtp, file or console "
        f"(got {env_str('EMAIL_BACKEND')!r})."
    )
EMAIL_BACKEND = _EMAIL_BACKENDS[_email_choice]
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)  # seconds; a stuck server never hangs
if _email_choice == "smtp":
    EMAIL_HOST = env_str("EMAIL_HOST", required=True)
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
elif _email_choice == "file":
    # Each message written to a file in this folder (handy for staging and for tests that
    # read what a separate worker process sent).
    EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", required=True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "joint-commissioning@example.org")

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
if CELERY_BROKER_URL and not CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured(
        "Environment variable CELERY_BROKER_URL must be a redis:// or rediss:// URL."
    )
# Without a broker, tasks run in-process (still through Celery's machinery).
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", CELERY_BROKER_URL is None)
CELERY_TASK_EAGER_PROPAGATES = True
# Embedded set-up (no broker): eager tasks run on one worker thread in the web process, off the
# request, so a page that starts a job comes back at once (commissioning/queueing.py).
TASKS_IN_THREAD = env_bool("TASKS_IN_THREAD", CELERY_BROKER_URL is None)
CELERY_BROKER_URL = CELERY_BROKER_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 15 * 60, minimum=10)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60 if CELERY_TASK_TIME_LIMIT > 120 else None
CELERY_WORKER_MAX_MEMORY_PER_CHILD = 450_000  # KiB: a worker child is replaced past ~450 MB
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 2 * CELERY_TASK_TIME_LIMIT,
    # A request that enqueues work must not hang when Redis is down: fail fast, the work is
    # already saved in the database and a sweep enqueues it later.
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0,
                                    "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = False

# --- Crispy forms (GOV.UK) ------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = ["gds"]
CRISPY_TEMPLATE_PACK = "gds"

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"},
                "weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}

# --- Secrets for pseudonymisation (NHS numbers) ---------------------------------------------
PSEUDONYMISATION_KEY = env_str("PSEUDONYMISATION_KEY", required=not DEBUG) or (
    "local-development-pseudonymisation-key"
)
CSRF_FAILURE_VIEW = "commissioning.errors.csrf_failure"

# --- Read-only API and calendar feeds (api app) ---------------------------------------------
# The cache holds the API's per-token request counts: Redis when there is one (shared by every
# web process), else this process's memory.
CACHES = {"default": {
    "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CELERY_BROKER_URL,
    "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
} if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
API_RATE = env_str("API_RATE", "600/min")  # requests per token (DRF throttle rate)
API_TOKEN_DEFAULT_DAYS = 90
API_TOKEN_MAX_DAYS = 365
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.PersonalAccessTokenAuthentication",
        "api.authentication.SignedInSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.ReadOnlyForSignedIn"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.PerTokenThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": API_RATE},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Cursor",
    "DEFAULT_FILTER_BACKENDS": ["api.filters.StrictFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.json_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "URL_FORMAT_OVERRIDE": None,
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Joint commissioning API",
    "DESCRIPTION": "Read-only data of the contracts, frameworks, Section 75 agreements and "
                   "performance returns you can see in the service. Authenticate with "
                   "`Authorization: Bearer <personal access token>` (create one on Your "
                   "account).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["api.permissions.ReadOnlyForSignedIn"],
    "SCHEMA_PATH_PREFIX": "/api/v1/",
    "COMPONENT_SPLIT_REQUEST": True,
    # Three models have a field called "kind": each choice set gets a stable name.
    "ENUM_NAME_OVERRIDES": {
        "OrganisationKindEnum": "commissioning.models.OrganisationKind",
        "AgreementKindEnum": "funding.models.AgreementKind",
        "PeriodKindEnum": "monitoring.models.PeriodKind",
    },
}
