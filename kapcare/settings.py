"""Settings for kapcare, read from the environment (KAPCARE_*, DATABASE_URL).

Every value a deployment may change comes from an environment variable with a safe default;
docs/deployment.md lists them. Dangerous combinations are caught by system checks in
kapcare.core.checks, which `kapcare serve` runs before it starts.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

# A value that is never acceptable as a production secret; the system check kapcare.E001 refuses it.
PLACEHOLDER_SECRET_KEY = "kapcare-insecure-placeholder-secret-key-do-not-use-in-production"  # noqa: S105


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number; got {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("KAPCARE_DEBUG", False)
SECRET_KEY = env_str("KAPCARE_SECRET_KEY") or PLACEHOLDER_SECRET_KEY


def default_data_dir() -> Path:
    """./var in a source checkout; an installed package never writes inside itself."""
    if (BASE_DIR / "manage.py").exists():
        return BASE_DIR / "var"
    data_home = env_str("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "kapcare"


DATA_DIR = Path(env_str("KAPCARE_DATA_DIR") or default_data_dir())

ALLOWED_HOSTS = env_list("KAPCARE_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("KAPCARE_CSRF_TRUSTED_ORIGINS", [])

# Served over HTTPS (TLS ends at the reverse proxy). Off only for a local demo on 127.0.0.1.
HTTPS = env_bool("KAPCARE_HTTPS", not DEBUG)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("KAPCARE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("KAPCARE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    # Before django.contrib.auth so that its createsuperuser/changepassword (which bypass roles
    # and the audit log) are replaced by kapcare's refusals pointing to createstaff.
    "kapcare.accounts",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "django_tasks_db",
    "kapcare.core",
    "kapcare.clients",
    "kapcare.measures",
    "kapcare.safety",
    "kapcare.portal",
    "kapcare.parameters",
    "kapcare.medications",
    "kapcare.screening",
    "kapcare.courses",
    "kapcare.notes",
    "kapcare.dosing",
    "kapcare.stock",
    "kapcare.outcomes",
    "kapcare.intake",
    "kapcare.synthetic",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kapcare.core.middleware.RequestContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "kapcare.accounts.middleware.IdleTimeoutMiddleware",
    "kapcare.accounts.middleware.LoginRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kapcare.urls"
WSGI_APPLICATION = "kapcare.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kapcare" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kapcare.core.context_processors.practice",
                "kapcare.safety.context_processors.safety_banner",
            ],
        },
    },
]

# Database: PostgreSQL in production (DATABASE_URL), an SQLite file under the data directory
# otherwise. WAL + IMMEDIATE transactions let the web server and the worker share the file.
SQLITE_PATH = DATA_DIR / "kapcare.sqlite3"
if env_str("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(
            env_str("DATABASE_URL"), conn_max_age=60, conn_health_checks=True
        )
    }
else:
    # The embedded default keeps its file in the data directory, made on first use.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
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
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Sessions end after this many idle minutes (a practice setting; 15 is the default).
SESSION_IDLE_MINUTES = env_int("KAPCARE_SESSION_IDLE_MINUTES", 15)
# A hard ceiling on any session, however active: one working day. Enforced from the sign-in time
# by IdleTimeoutMiddleware (Django's own expiry moves forward with every request).
SESSION_MAX_HOURS = env_int("KAPCARE_SESSION_MAX_HOURS", 12)
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Exports ask for the password again unless it was confirmed within this many minutes
# (kapcare.accounts.reauth).
REAUTH_MINUTES = env_int("KAPCARE_REAUTH_MINUTES", 5)
if REAUTH_MINUTES < 1:
    raise ValueError("KAPCARE_REAUTH_MINUTES must be at least 1")

# Login throttling (django-axes): lock a username from one address after repeated failures.
AXES_FAILURE_LIMIT = env_int("KAPCARE_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("KAPCARE_LOGIN_LOCKOUT_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# How many reverse proxies stand in front of kapcare (each appends to X-Forwarded-For). The audit
# log and login throttling both take the caller's address from kapcare.core.middleware.client_ip.
PROXY_COUNT = env_int("KAPCARE_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "kapcare.core.middleware.client_ip"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("KAPCARE_TIME_ZONE") or "UTC"
USE_I18N = True
USE_TZ = True
PRACTICE_NAME = env_str("KAPCARE_PRACTICE_NAME") or "kapcare"
# MADRS remission: 12 or less (esketamine TRANSFORM/SUSTAIN, the default) or 10 or less (KetECT);
# clinical-facts §6.2. A practice setting because the two definitions are both in use.
MADRS_REMISSION_AT = env_int("KAPCARE_MADRS_REMISSION_AT", 12)
if MADRS_REMISSION_AT not in (10, 12):
    raise ValueError("KAPCARE_MADRS_REMISSION_AT must be 12 (default) or 10")

# Wording of licensed questionnaires, supplied by a practice that holds the permission
# (kapcare.measures.licensed_text). Empty: only the freely shippable wording is shown.
INSTRUMENT_TEXT_DIR = env_str("KAPCARE_INSTRUMENT_TEXT_DIR")

# Self-report links for clients: how long they work, the message that carries them, who sends
# text messages, and the crisis resources shown when an answer calls for them.
SELF_REPORT_LINK_HOURS = env_int("KAPCARE_SELF_REPORT_LINK_HOURS", 72)
SELF_REPORT_MESSAGE = env_str("KAPCARE_SELF_REPORT_MESSAGE") or (
    "{practice} has asked you to complete a few short questionnaires before your next visit. "
    "Open this link on your phone or computer (it works for {hours} hours, once): {link}"
)
# One reminder when a link is still not completed this many hours after it was sent (0: none).
SELF_REPORT_REMINDER_HOURS = env_int("KAPCARE_SELF_REPORT_REMINDER_HOURS", 24)
# Working hours in the practice zone, for the integration slots kapcare proposes after a dose.
SCHEDULE_DAY_STARTS = env_str("KAPCARE_SCHEDULE_DAY_STARTS") or "08:00"
SCHEDULE_DAY_ENDS = env_str("KAPCARE_SCHEDULE_DAY_ENDS") or "18:00"
SELF_REPORT_REMINDER = env_str("KAPCARE_SELF_REPORT_REMINDER") or (
    "A reminder from {practice}: your questionnaires are still waiting. Your answers so far are "
    "kept. Please use this new link (the earlier one no longer works): {link}"
)
SMS_SENDER = env_str("KAPCARE_SMS_SENDER") or "kapcare.measures.sms.LoggingSmsSender"
# Appointment reminders to clients, this many hours before the appointment (0: none). The text
# names the practice and the local time only: never the kind of session or anything clinical.
APPOINTMENT_REMINDER_HOURS = env_int("KAPCARE_APPOINTMENT_REMINDER_HOURS", 24)
APPOINTMENT_REMINDER = env_str("KAPCARE_APPOINTMENT_REMINDER") or (
    "A reminder from {practice}: you have an appointment on {when}. To change it, reply to this "
    "message or call us."
)
CRISIS_TEXT = env_str("KAPCARE_CRISIS_TEXT") or (
    "If you are thinking about suicide or are in crisis, call or text 988 (Suicide & Crisis "
    "Lifeline, US) now, any time. If you are in immediate danger, call 911."
)
# The public inquiry form (/inquire/): a submission sooner than this many seconds after the form
# was shown is treated as automated; each caller address may send this many an hour (0: no limit).
INQUIRY_MIN_SECONDS = env_int("KAPCARE_INQUIRY_MIN_SECONDS", 3)
INQUIRY_RATE_LIMIT = env_int("KAPCARE_INQUIRY_RATE_LIMIT", 5)
# The address staff open kapcare at, for links in e-mails.
PRACTICE_URL = env_str("KAPCARE_PUBLIC_URL") or "http://127.0.0.1:8000"
# The de-identified research export (docs/research-export.md): the secret its research ids and
# date shifts are derived from (derived from SECRET_KEY when unset), and the largest shift in days.
RESEARCH_EXPORT_KEY = env_str("KAPCARE_RESEARCH_EXPORT_KEY")
if RESEARCH_EXPORT_KEY and len(RESEARCH_EXPORT_KEY) < 32:
    raise ValueError("KAPCARE_RESEARCH_EXPORT_KEY must be at least 32 characters")
RESEARCH_EXPORT_MAX_SHIFT_DAYS = env_int("KAPCARE_RESEARCH_EXPORT_MAX_SHIFT_DAYS", 182)
if RESEARCH_EXPORT_MAX_SHIFT_DAYS < 1:
    raise ValueError("KAPCARE_RESEARCH_EXPORT_MAX_SHIFT_DAYS must be at least 1")

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("KAPCARE_STATIC_ROOT") or DATA_DIR / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Content Security Policy: nothing inline, nothing from elsewhere.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Outgoing mail. The console backend (prints messages) is the default until a server is set.
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
MAIL_BACKEND = env_str("KAPCARE_EMAIL_BACKEND") or (
    SMTP_BACKEND
    if env_str("KAPCARE_EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend"
)
MAILERS = {
    "default": {
        "BACKEND": MAIL_BACKEND,
        "OPTIONS": (
            {
                "host": env_str("KAPCARE_EMAIL_HOST") or "localhost",
                "port": env_int("KAPCARE_EMAIL_PORT", 587),
                "username": env_str("KAPCARE_EMAIL_USER"),
                "password": env_str("KAPCARE_EMAIL_PASSWORD"),
                "use_tls": env_bool("KAPCARE_EMAIL_TLS", True),
            }
            if MAIL_BACKEND == SMTP_BACKEND
            else {}
        ),
    }
}
DEFAULT_FROM_EMAIL = env_str("KAPCARE_EMAIL_FROM") or "kapcare@localhost"

# Application logs carry no PHI: no request bodies, and query strings (which can hold a searched
# name) are cut from every request line before it is written.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_query_strings": {"()": "kapcare.core.logging.StripQueryStrings"}},
    "formatters": {
        "plain": {
            "()": "kapcare.core.logging.SafeFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["no_query_strings"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("KAPCARE_LOG_LEVEL") or "INFO"},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
    },
}

NINJA_PAGINATION_PER_PAGE = 25
CLIENT_LIST_PAGE_SIZE = 25
