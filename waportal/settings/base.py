"""Settings shared by every environment.

Configuration comes from environment variables (a ``.env`` file in the project
root is honoured), read with django-environ. ``dev`` and ``production`` only
decide defaults and how strict to be about missing values.
"""

from pathlib import Path

import environ
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
    SANDBOX_ENABLED=(bool, False),
)
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env("DEBUG")
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Absolute base used to build the webhook URLs shown to admins
# (e.g. https://portal.example.com). Without it, the request's host is used.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="")

# The built-in simulated provider (sandbox). Never in production.
SANDBOX_ENABLED = env("SANDBOX_ENABLED")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "django_tasks_db",
    "waportal.workers",
    "accounts",
    "templates_mgr",
    "messaging",
    "contacts",
    "analytics",
    "campaigns",
    "notifications",
    "workspace",
    "sandbox",
]

MIDDLEWARE = [
    # First: size, depth and characters of API input; every API error as JSON (waportal/input_policy.py).
    "waportal.input_policy.InputPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # request.htmx: the workspace answers htmx requests with fragments.
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns lockouts into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "waportal.urls"
WSGI_APPLICATION = "waportal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "waportal" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo runs a web server and a worker against one file: wait for locks
    # instead of failing, and let readers proceed while a writer works.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Reverse proxies in front of the portal that append to X-Forwarded-For. 0: the
# client is REMOTE_ADDR and X-Forwarded-For is ignored (a client can write anything there).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Spanish first: the portal's users are Latin-American businesses.
LANGUAGE_CODE = env("LANGUAGE_CODE", default="es")
LANGUAGES = [("es", _("Spanish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# One date and number format per language for people (waportal/formats/<lang>/formats.py). Thousands are grouped
# where a template asks (``|floatformat:"g"``, ``formats.number_format(..., force_grouping=True)``), not
# everywhere: USE_THOUSAND_SEPARATOR would also group ids printed in hidden inputs and data- attributes.
FORMAT_MODULE_PATH = ["waportal.formats"]
USE_THOUSAND_SEPARATOR = False
USE_TZ = True
TIME_ZONE = "UTC"  # stored in UTC; shown in the user's zone (UserTimezoneMiddleware)
DEFAULT_USER_TIME_ZONE = env("DEFAULT_USER_TIME_ZONE", default="America/Bogota")

STATIC_URL = "static/"
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "var" / "static"))
STATICFILES_DIRS = [BASE_DIR / "waportal" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = BASE_DIR / "var" / "media"

# Provider secrets at rest: comma-separated Fernet keys, newest first. Old keys
# stay listed until `manage.py rotate_field_keys` has re-encrypted everything.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEY", default=[])

# Outbound HTTP to providers: (connect, read) seconds.
PROVIDER_TIMEOUT = (env.float("PROVIDER_CONNECT_TIMEOUT", default=5.0), env.float("PROVIDER_READ_TIMEOUT", default=30.0))
# requests adapters mounted on provider sessions, by URL prefix (used to route
# the in-process sandbox in tests; empty in production).
PROVIDER_TRANSPORT_MOUNTS: dict[str, str] = {}
# The provider packages the portal speaks (each registers itself in providers.registry when imported).
WAPORTAL_PROVIDERS = ["providers.aldeamo", "providers.contacto_virtual"]

# Email (alerts, notifications/): SMTP configured from the environment; dev.py prints to the console instead.
MAILERS = {
    "default": {
        "BACKEND": env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend"),
        "OPTIONS": {
            "host": env("EMAIL_HOST", default="localhost"),
            "port": env.int("EMAIL_PORT", default=587),
            "username": env("EMAIL_HOST_USER", default=""),
            "password": env("EMAIL_HOST_PASSWORD", default=""),
            "use_tls": env.bool("EMAIL_USE_TLS", default=True),
            "timeout": env.float("EMAIL_TIMEOUT", default=10.0),
        },
    }
}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="waportal <alerts@localhost>")

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "waportal.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "waportal.api.exception_handler",
    # Counters in the database (every process shares them), keyed on accounts.throttling.client_ip.
    "DEFAULT_THROTTLE_CLASSES": [
        "accounts.throttling.AnonThrottle",
        "accounts.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="60/minute"),
        "user": env("API_THROTTLE_USER", default="6000/minute"),
        "login_ip": env("LOGIN_THROTTLE_IP", default="30/minute"),
        "login_user": env("LOGIN_THROTTLE_USER", default="10/minute"),
    },
    "NUM_PROXIES": env.int("TRUSTED_PROXY_COUNT", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "waportal API",
    "DESCRIPTION": "WhatsApp Business portal over Aldeamo and Contacto Virtual.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "waportal.schema.error_responses",  # the error answers of every operation, with their JSON shape
    ],
    # Several models have a `status`: name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "MessageStatusEnum": "messaging.models.MessageStatus",
        "TemplateStatusEnum": "templates_mgr.models.TemplateStatus",
        "CampaignStatusEnum": "campaigns.models.CampaignStatus",
        "OutgoingEventTypeEnum": "notifications.models.EventType",
        "WebhookDeliveryStateEnum": "notifications.models.Delivery.State",
        "ConversationStatusEnum": "messaging.models.ConversationStatus",
    },
}

# django-axes: lock out after repeated failures on the admin login and token endpoint.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "accounts.throttling.client_ip"

# Content-Security-Policy: no inline script or style without the request's nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    # Django admin widgets set a few style="" attributes.
    "style-src-attr": [CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "https:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# After an operator rotates an account's webhook secret, the old one is still
# accepted this long, so the provider's console can be updated without losing callbacks.
WEBHOOK_SECRET_GRACE_HOURS = env.int("WEBHOOK_SECRET_GRACE_HOURS", default=24)

# Campaigns: messages per second per business number (WhatsApp's default tier is 80/s).
CAMPAIGN_PACE_LIMIT = env.int("CAMPAIGN_PACE_LIMIT", default=80)

# The API's input policy (waportal/input_policy.py): bodies over this many bytes are a 413, JSON nested
# deeper than this a 400 -- checked before anything parses them.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=2_500_000)
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=32)

# Called by a task worker after it reconnects to the database (waportal/workers): ask for the webhook events
# stored while it was away to be processed.
TASK_WORKER_RECONNECT_HOOKS = ["messaging.tasks.webhook_processing_kick", "notifications.tasks.inventory_refresh_kick",
                               "notifications.tasks.stall_check_kick"]

LOGIN_URL = "workspace:login"
LOGIN_REDIRECT_URL = "workspace:inbox"
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# dictConfig, plus webhook secrets masked in every record (waportal/logs.py).
LOGGING_CONFIG = "waportal.logs.configure"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "urllib3": {"level": "WARNING"},
    },
}
