"""Django settings for shequ, read from the environment (see README for every variable)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from shequ.lib.env import (
    EnvError,
    database_config,
    env_bool,
    env_int,
    env_list,
    env_str,
)
from shequ.lib.workcal import parse_hours

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SHEQU_VAR_DIR", str(BASE_DIR / "var")) or BASE_DIR / "var")

_DEV_SECRET = "shequ-insecure-development-key-never-use-in-production"  # noqa: S105
_DEV_FIELD_KEY = "c2hlcXUtZGV2LWZpZWxkLWtleS0zMi1ieXRlcyEhISE="

try:
    DEBUG = env_bool("SHEQU_DEBUG", False)
    SECRET_KEY = env_str("SHEQU_SECRET_KEY") or ""
    FIELD_KEY = env_str("SHEQU_FIELD_KEY") or ""
    if not DEBUG:
        missing = [
            n
            for n, v in (("SHEQU_SECRET_KEY", SECRET_KEY), ("SHEQU_FIELD_KEY", FIELD_KEY))
            if not v
        ]
        if missing:
            raise EnvError(
                f"{' and '.join(missing)} must be set when SHEQU_DEBUG is off "
                "(directly or as NAME_FILE pointing at a file); "
                "`make run` generates them under var/"
            )
    SECRET_KEY = SECRET_KEY or _DEV_SECRET
    FIELD_KEY = FIELD_KEY or _DEV_FIELD_KEY
    HTTPS = env_bool("SHEQU_HTTPS", not DEBUG)
    ALLOWED_HOSTS = env_list("SHEQU_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
    CSRF_TRUSTED_ORIGINS = env_list("SHEQU_CSRF_TRUSTED_ORIGINS", [])
    DATABASES = {
        "default": database_config(
            env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'shequ.sqlite3'}") or ""
        )
    }
    # Keep a worker's database connection between requests (0: a new one per request); a
    # health check before reuse drops one the server closed meanwhile.
    DB_CONN_MAX_AGE = env_int("SHEQU_DB_CONN_MAX_AGE", 300)
    if DB_CONN_MAX_AGE < 0:
        raise EnvError("SHEQU_DB_CONN_MAX_AGE must be 0 or more (seconds)")
    DATABASES["default"]["CONN_MAX_AGE"] = DB_CONN_MAX_AGE
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    REDIS_URL = env_str("REDIS_URL")
    SESSION_IDLE_MINUTES = env_int("SHEQU_SESSION_IDLE_MINUTES", 30)
    if SESSION_IDLE_MINUTES < 1:
        raise EnvError("SHEQU_SESSION_IDLE_MINUTES must be at least 1")
    TOKEN_TTL_DAYS = env_int("SHEQU_TOKEN_TTL_DAYS", 30)
    if TOKEN_TTL_DAYS < 1:
        raise EnvError("SHEQU_TOKEN_TTL_DAYS must be at least 1")
    MAP_TILE_URL = env_str("SHEQU_MAP_TILE_URL", "") or ""
    MAP_TILE_ATTRIBUTION = env_str("SHEQU_MAP_TILE_ATTRIBUTION", "") or ""
    # Origins the browser may load tiles from (CSP img-src); derived from the tile URL if unset.
    MAP_TILE_ORIGINS = env_list("SHEQU_MAP_TILE_ORIGINS", [])
    LOG_LEVEL = env_str("SHEQU_LOG_LEVEL", "INFO") or "INFO"
    BEHIND_PROXY = env_bool("SHEQU_BEHIND_PROXY", False)
    # Cases: office hours for SLAs counted in working hours, how long a reporter may reopen a
    # closed case, when an unrated case closes by itself, and the largest photo accepted.
    OFFICE_HOURS = env_str("SHEQU_OFFICE_HOURS", "08:30-12:00,13:30-17:30") or ""
    try:
        parse_hours(OFFICE_HOURS)
    except ValueError as exc:
        raise EnvError(f"SHEQU_OFFICE_HOURS: {exc}") from exc
    CASE_REOPEN_DAYS = env_int("SHEQU_CASE_REOPEN_DAYS", 7)
    CASE_AUTOCLOSE_DAYS = env_int("SHEQU_CASE_AUTOCLOSE_DAYS", 5)
    CASE_PHOTO_MAX_MB = env_int("SHEQU_CASE_PHOTO_MAX_MB", 10)
    # Where notices go besides the inbox: adapters of shequ.inbox.channels ("log", "file").
    NOTICE_CHANNELS = env_list("SHEQU_NOTICE_CHANNELS", ["log"])
    try:
        from shequ.inbox.channels import check_names

        check_names(NOTICE_CHANNELS)
    except ValueError as exc:
        raise EnvError(f"SHEQU_NOTICE_CHANNELS: {exc}") from exc
    if min(CASE_REOPEN_DAYS, CASE_AUTOCLOSE_DAYS, CASE_PHOTO_MAX_MB) < 1:
        raise EnvError("SHEQU_CASE_* settings must be at least 1")
    # Printed on certificates (the QR code's verification link) where no request says the host.
    PUBLIC_URL = (env_str("SHEQU_PUBLIC_URL", "http://127.0.0.1:8000") or "").rstrip("/")
    if not PUBLIC_URL.startswith(("http://", "https://")):
        raise EnvError("SHEQU_PUBLIC_URL must start with http:// or https://")
except EnvError as exc:
    raise ImproperlyConfigured(f"shequ configuration error: {exc}") from exc

if len(FIELD_KEY.strip()) < 32 or len(set(FIELD_KEY)) < 8:
    raise ImproperlyConfigured(
        "shequ configuration error: SHEQU_FIELD_KEY must be at least 32 varied characters "
        "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
    )

INSTALLED_APPS = [
    "shequ.core",
    "shequ.accounts",
    "shequ.areas",
    "shequ.registry",
    "shequ.inbox",
    "shequ.cases",
    "shequ.servicedesk",
    "shequ.insights",
    "shequ.demo",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "template_partials",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "shequ.core.middleware.RequestContextMiddleware",
    "shequ.core.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "shequ.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "shequ.accounts.middleware.SessionExpiryMiddleware",
    "shequ.core.middleware.DomainErrorMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "shequ.urls"
WSGI_APPLICATION = "shequ.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "shequ" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shequ.core.context_processors.shell",
            ],
        },
    }
]

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
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "shequ.accounts.validators.MixedCharacterClassesValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Idle timeout: the session is renewed on each request and ends after this many idle minutes.
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
CSRF_FAILURE_VIEW = "shequ.core.views.csrf_failure"
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
# Lock the account, not the IP: community offices share one NAT address, and an IP lock would
# shut out a whole office because of one person's typos.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "shequ.accounts.views.locked_out"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = 1 if BEHIND_PROXY else 0

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "shequ" / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "shequ.accounts.api.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "shequ.core.api.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "shequ.core.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Client addresses for throttling: trust X-Forwarded-For only from our own proxy.
    "NUM_PROXIES": 1 if BEHIND_PROXY else 0,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "shequ API",
    "DESCRIPTION": "社区公共服务综合信息平台 API. Authenticate with `Authorization: Token <key>` "
    "from POST /api/v1/auth/token/.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "AreaKindEnum": "shequ.areas.models.Kind",
        "OrganisationKindEnum": "shequ.registry.states.OrganisationKind",
        "PersonStatusEnum": "shequ.registry.states.PersonStatus",
        "ImportStatusEnum": "shequ.registry.models.ImportStatus",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "shequ.core.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"axes": {"level": "WARNING"}},
}
