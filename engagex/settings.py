"""EngageX settings: one module, configured only through environment variables.

Every variable is documented in `.env.example`. Helpers in `engagex.lib.env`
fail loudly (ImproperlyConfigured naming the variable) on bad values.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

from engagex.delivery.throttle import parse_rates
from engagex.lib.database_url import database_config_from_url
from engagex.lib.env import env_bool, env_choice, env_int, env_list, env_str
from engagex.lib.secretbox import validate_keys as validate_secret_keys

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env", override=False)
# Relative paths are relative to the repository, whatever the working directory.
VAR_DIR = (BASE_DIR / env_str("ENGAGEX_VAR_DIR", "var")).resolve()

ENGAGEX_ENV = env_choice("ENGAGEX_ENV", "development", ("development", "production"))
PRODUCTION = ENGAGEX_ENV == "production"
DEBUG = env_bool("DEBUG", not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when ENGAGEX_ENV=production")


def _development_secret_key() -> str:
    """A random key kept in var/ so sessions survive restarts; never used in production."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when ENGAGEX_ENV=production")
    SECRET_KEY = _development_secret_key()

# The public address of this installation, used for links in emails.
SITE_URL = env_str(
    "SITE_URL", "" if PRODUCTION else f"http://127.0.0.1:{env_int('PORT', 8000, minimum=1)}"
)
if PRODUCTION and not SITE_URL:
    raise ImproperlyConfigured("SITE_URL must be set when ENGAGEX_ENV=production")
# Where open pixels and tracked links point (`/t/o/…`, `/t/c/…`). In production a host of
# its own that sets no cookies (e.g. https://t.example.com, routed to this same app);
# empty: SITE_URL.
TRACKING_URL = env_str("TRACKING_URL", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when ENGAGEX_ENV=production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# -- Database ------------------------------------------------------------------------
# DATABASE_URL selects an external PostgreSQL; unset, the embedded one (pgserver) is
# started on demand with its data in var/postgres and stopped when its last user exits.
if os.environ.get("DATABASE_URL"):
    _database = database_config_from_url(os.environ["DATABASE_URL"])
elif PRODUCTION:
    raise ImproperlyConfigured("DATABASE_URL must be set when ENGAGEX_ENV=production")
else:
    from engagex.lib.embedded_postgres import EmbeddedPostgres

    _embedded = EmbeddedPostgres(VAR_DIR / "postgres")
    _embedded.attach()
    _database = _embedded.django_database()
# Persistent connections: without them every request (every tracking hit) opens one.
_database["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 600 if PRODUCTION else 0, minimum=0)
# A `SELECT 1` before each request's first query, so a connection broken by a database
# restart is replaced instead of failing one request. A pool serving only the tracking
# host can switch it off: one lost hit per worker after a restart, a round trip saved
# on every hit.
_database["CONN_HEALTH_CHECKS"] = env_bool("DATABASE_CONN_HEALTH_CHECKS", True)
_database["OPTIONS"].setdefault(
    "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5, minimum=1)
)
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# -- Applications ----------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "django.contrib.postgres",
    "django.contrib.admin",
    # Before allauth, so our sign-in templates (accounts/templates/allauth, account, mfa,
    # socialaccount) override allauth's own.
    "engagex.accounts",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "django_countries",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "heroicons",
    "csp",
    "procrastinate.contrib.django",
    "engagex.web",
    "engagex.audit",
    "engagex.api",
    "engagex.jobs",
    "engagex.contacts",
    "engagex.content",
    "engagex.delivery",
    "engagex.campaigns",
    "engagex.tracking",
    "engagex.notifications",
    "engagex.analytics",
    "engagex.monitoring",
    "engagex.devmail",
]

MIDDLEWARE = [
    "engagex.monitoring.middleware.RequestObservabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "engagex.accounts.middleware.ActiveOrganizationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "engagex.web.middleware.HtmxToastMiddleware",
]

ROOT_URLCONF = "engagex.urls"
WSGI_APPLICATION = "engagex.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "engagex.web.context_processors.ui",
                "engagex.accounts.context_processors.organizations",
            ],
        },
    },
]

FORM_RENDERER = "engagex.web.forms.DesignSystemFormRenderer"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# -- Files -------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# In development WhiteNoise serves straight from the apps' static folders.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # quiets WhiteNoise's missing-dir warning
# Private files (job results, exports): never served directly, only through views that
# check the organization.
MEDIA_ROOT = VAR_DIR / "files"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Largest contacts import file accepted (CSV or XLSX).
CONTACT_IMPORT_MAX_BYTES = env_int("CONTACT_IMPORT_MAX_BYTES", 100 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024, minimum=1024)

# -- Email --------------------------------------------------------------------------------
# In development every email goes to the dev mail capture (`manage.py devmail`,
# inbox at /devmail/). In production point these at a real SMTP relay.
DEVMAIL_HOST = env_str("DEVMAIL_HOST", "127.0.0.1")
DEVMAIL_PORT = env_int("DEVMAIL_PORT", 1025, minimum=1, maximum=65535)
DEVMAIL_MAX_MESSAGES = env_int("DEVMAIL_MAX_MESSAGES", 2000, minimum=10)
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env_str("EMAIL_HOST", "" if PRODUCTION else DEVMAIL_HOST)  # empty: the default
EMAIL_PORT = env_int("EMAIL_PORT", 587 if PRODUCTION else DEVMAIL_PORT, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "EngageX <no-reply@engagex.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if PRODUCTION and not EMAIL_HOST:
    raise ImproperlyConfigured("EMAIL_HOST must be set when ENGAGEX_ENV=production")
# After an unsubscribe from the page, a mail client's one-click or the preference center,
# email the person a short confirmation with a re-subscribe link (never for bounces or
# complaints). Off by default: many senders prefer not to mail someone who just left.
UNSUBSCRIBE_CONFIRMATION_EMAIL = env_bool("UNSUBSCRIBE_CONFIRMATION_EMAIL", False)

# -- Sending settings of organizations ----------------------------------------------------
# Keys that encrypt organizations' SMTP passwords and provider API keys at rest
# (engagex/lib/secretbox.py): the first encrypts, all decrypt. Empty: derived from SECRET_KEY.
SECRETS_KEYS = env_list("ENGAGEX_SECRETS_KEYS", [])
try:
    validate_secret_keys(SECRETS_KEYS)
except ValueError as _error:
    raise ImproperlyConfigured(f"ENGAGEX_SECRETS_KEYS: {_error}") from None
# Organizations' own SMTP servers may not resolve to private, loopback or link-local
# addresses (server-side request forgery) unless this is on: tests, all-in-one installs.
SENDING_ALLOW_PRIVATE_HOSTS = env_bool("ENGAGEX_SENDING_ALLOW_PRIVATE_HOSTS", False)

# -- Sending (campaigns) ------------------------------------------------------------------
# Bounces come back to bounce+<token>@BOUNCE_DOMAIN (VERP); empty: the sender's domain.
BOUNCE_DOMAIN = env_str("BOUNCE_DOMAIN", "")
# The platform's DKIM key signs every campaign message when set (PEM file of an RSA key,
# `manage.py dkim_keygen` makes one and prints the DNS record to publish).
DKIM_DOMAIN = env_str("DKIM_DOMAIN", "")
DKIM_SELECTOR = env_str("DKIM_SELECTOR", "engagex")
DKIM_PRIVATE_KEY_FILE = env_str("DKIM_PRIVATE_KEY_FILE", "")
# Per recipient domain pace, messages per second per sender process, e.g.
# "gmail.com=50,yahoo.com=20"; other domains are unpaced. Deferrals slow a domain down
# automatically either way (engagex/delivery/throttle.py).
try:
    SENDING_DOMAIN_RATES = parse_rates(env_list("SENDING_DOMAIN_RATES", []))
except ValueError as error:
    raise ImproperlyConfigured(f"SENDING_DOMAIN_RATES: {error}") from error
if bool(DKIM_DOMAIN) != bool(DKIM_PRIVATE_KEY_FILE):
    raise ImproperlyConfigured("Set both DKIM_DOMAIN and DKIM_PRIVATE_KEY_FILE, or neither")

# -- Inbound mail: bounces, complaints, mailto unsubscribes ------------------------------
# `manage.py inbound` (started by `make run`) receives mail for bounce+…@BOUNCE_DOMAIN
# and unsubscribe@BOUNCE_DOMAIN (any domain while BOUNCE_DOMAIN is empty).
INBOUND_SMTP_HOST = env_str("INBOUND_SMTP_HOST", "127.0.0.1")
INBOUND_SMTP_PORT = env_int("INBOUND_SMTP_PORT", 2526, minimum=1, maximum=65535)
# Larger messages are refused (552) or, in a polled mailbox, deleted unread.
INBOUND_MAX_MESSAGE_BYTES = env_int(
    "INBOUND_MAX_MESSAGE_BYTES", 10 * 1024 * 1024, minimum=64 * 1024
)
# Or poll a mailbox: pop3s://user:pass@host:995 or imaps://user:pass@host:993/INBOX.
INBOUND_MAILBOX_URL = env_str("INBOUND_MAILBOX_URL", "")
if INBOUND_MAILBOX_URL and urlsplit(INBOUND_MAILBOX_URL).scheme.lower() not in (
    "pop3s",
    "imaps",
    "pop3",
    "imap",
):
    raise ImproperlyConfigured(
        "INBOUND_MAILBOX_URL must start with pop3s://, imaps://, pop3:// or imap://"
    )
# Plain pop3:// and imap:// (password in clear) are refused unless this is on.
INBOUND_MAILBOX_ALLOW_PLAIN = env_bool("INBOUND_MAILBOX_ALLOW_PLAIN", False)
# A PEM file of CA certificates to verify the mailbox server with; empty: the system's.
INBOUND_MAILBOX_CA_FILE = env_str("INBOUND_MAILBOX_CA_FILE", "")

# -- Cache -------------------------------------------------------------------------------
# Rate limits (sign-in lockout, API throttling) must be shared by every web process, so
# the cache lives in PostgreSQL (table created by a migration); no extra service to run.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "engagex_cache",
    }
}

# -- Accounts (django-allauth) ----------------------------------------------------------------
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "web:dashboard"
ACCOUNT_ADAPTER = "engagex.accounts.adapter.AccountAdapter"
ACCOUNT_SIGNUP_FORM_CLASS = "engagex.accounts.forms.SignupDetailsForm"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
# A 6-character code in the email instead of a link: works when the mail is read on
# another device, and cannot be pre-fetched by link scanners.
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None  # the "Remember me" box decides
ACCOUNT_EMAIL_SUBJECT_PREFIX = "EngageX: "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PRODUCTION else "http"
ACCOUNT_PREVENT_ENUMERATION = True
# Tell people when their password, email address or two-factor settings change.
ACCOUNT_EMAIL_NOTIFICATIONS = True
# Brute-force protection: failed sign-ins per address (the lockout) and per IP.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "EngageX"
SOCIALACCOUNT_ADAPTER = "engagex.accounts.adapter.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True  # a verified Google address signs in that user
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_LOGIN_ON_GET = False  # the Google button POSTs (CSRF-protected)
GOOGLE_CLIENT_ID = env_str("GOOGLE_CLIENT_ID", "")
GOOGLE_CLIENT_SECRET = env_str("GOOGLE_CLIENT_SECRET", "")
SOCIALACCOUNT_PROVIDERS = {
    "google": {
        # Sign-in with Google is offered only when both are configured.
        "APPS": (
            [{"client_id": GOOGLE_CLIENT_ID, "secret": GOOGLE_CLIENT_SECRET, "key": ""}]
            if GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET
            else []
        ),
        "SCOPE": ["profile", "email"],
        "AUTH_PARAMS": {"access_type": "online"},
        "EMAIL_AUTHENTICATION": True,
    }
}
# Invitations expire after this many days.
INVITATION_EXPIRY_DAYS = 7

# -- REST API --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["engagex.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["engagex.api.permissions.HasApiKeyScope"],
    "DEFAULT_THROTTLE_CLASSES": [
        "engagex.api.throttling.ApiKeyRateThrottle",
        "engagex.api.throttling.OrganizationRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "api_key": env_str("API_RATE_LIMIT", "600/min"),
        "organization": env_str("API_ORGANIZATION_RATE_LIMIT", "1200/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "EngageX API",
    "DESCRIPTION": "REST API of EngageX. Authenticate with `Authorization: Bearer <API key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Several models have a `status`: name their enums instead of hash-suffixed names.
    "ENUM_NAME_OVERRIDES": {
        "CampaignStatusEnum": "engagex.campaigns.models.Campaign.Status",
        "DeliveryStatusEnum": "engagex.delivery.models.Delivery.Status",
    },
}

# -- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
SESSION_COOKIE_NAME = "__Host-engagex_session" if PRODUCTION else "engagex_session"
CSRF_COOKIE_SECURE = PRODUCTION
# Pages send the token from the template (hx-headers), so scripts never need the cookie.
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "engagex.web.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^metrics$"]
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# No inline script or style anywhere: every page works under this policy.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "frame-ancestors": [NONE],
        # The "Continue with Google" form redirects to Google: browsers check that too.
        "form-action": [SELF, "https://accounts.google.com"]
        if GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET
        else [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# -- Jobs, monitoring, logging ------------------------------------------------------------------
# The worker counts as down when its heartbeat (a periodic job) is older than this.
WORKER_HEARTBEAT_MAX_AGE = env_int("WORKER_HEARTBEAT_MAX_AGE", 60, minimum=5)
# When set, /metrics requires `Authorization: Bearer <METRICS_TOKEN>`.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
LOG_LEVEL = env_choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper()
LOG_FORMAT = env_choice("LOG_FORMAT", "console" if DEBUG else "json", ("console", "json"))

from engagex.monitoring.logging import logging_config  # noqa: E402

LOGGING_CONFIG = None
logging_config(level=LOG_LEVEL, json_format=LOG_FORMAT == "json")
