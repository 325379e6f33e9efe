"""Settings, all read from the environment (see .env.example for every variable).

With no DATABASE_URL the service runs on a SQLite file; with no broker URL, Celery tasks run in-process.
DJANGO_ENV=production turns on the production checks: a secret key is required and
``manage.py check --deploy`` passes.
"""

from __future__ import annotations

import json
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"

if PRODUCTION:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
    if not SECRET_KEY:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_ENV=production")
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-key-change-me-0123456789abcdefghijklmnop")

DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "billing_project.boundary.csrf_failure"
# Request bodies (billing_project/boundary.py): JSON and forms up to DATA_UPLOAD_MAX_MEMORY_SIZE (Django's 2.5 MB);
# a multipart upload (payment import files are at most 10 MB) up to this; larger ones are refused with 413.
MULTIPART_MAX_BODY_BYTES = env.int("MULTIPART_MAX_BODY_BYTES", default=12 * 1024 * 1024)

INSTALLED_APPS = [
    "billing_project.apps.BackOfficeAdminConfig",
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
    "django_celery_beat",
    "billing_project.apps.KernelConfig",
    "masters",
    "demands",
    "amendments",
    "bills",
    "payments",
    "payments.gateway",
    "payments.methods",
    "payments.imports",
    "payments.digit_events",
]

MIDDLEWARE = [
    "billing_project.middleware.RequestIdMiddleware",
    # NULs, deep JSON and oversized bodies refused before anything parses them; API errors JSON in the face's format.
    "billing_project.boundary.BoundaryMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "billing_project.boundary.ApiCommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "billing_project.middleware.BillingTimeZoneMiddleware",
    "billing_project.idempotency.IdempotencyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

if PRODUCTION:
    # WhiteNoise serves collected static files from gunicorn; in development runserver serves them.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

ROOT_URLCONF = "billing_project.urls"
WSGI_APPLICATION = "billing_project.wsgi.application"
ASGI_APPLICATION = "billing_project.asgi.application"

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
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60 if PRODUCTION else 0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite waits for a writer instead of failing at once; IMMEDIATE takes the write lock up front.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
# PostgreSQL timeouts (docs/operations.md). A database that is down or silent fails a connection within
# DATABASE_CONNECT_TIMEOUT seconds (libpq's minimum is 2); a statement running longer than
# DATABASE_STATEMENT_TIMEOUT_MS is cancelled by the server (0: no limit — migrations of big tables run with 0);
# a session idle inside a transaction longer than DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS is ended (its locks
# released); TCP keepalives and DATABASE_TCP_USER_TIMEOUT_MS drop a connection whose peer vanished. Values in
# DATABASE_URL's query string (e.g. ?connect_timeout=5) win.
DATABASE_CONNECT_TIMEOUT = max(env.int("DATABASE_CONNECT_TIMEOUT", default=2), 2)
DATABASE_STATEMENT_TIMEOUT_MS = env.int("DATABASE_STATEMENT_TIMEOUT_MS", default=30_000)
DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS = env.int("DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS", default=300_000)
DATABASE_TCP_USER_TIMEOUT_MS = env.int("DATABASE_TCP_USER_TIMEOUT_MS", default=10_000)
if DATABASES["default"]["ENGINE"] in ("django.db.backends.postgresql", "django.db.backends.postgresql_psycopg2"):
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)  # a pooled connection that died is replaced
    _pg = DATABASES["default"].setdefault("OPTIONS", {})
    _pg.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
    _pg.setdefault("keepalives", 1)
    _pg.setdefault("keepalives_idle", 30)
    _pg.setdefault("keepalives_interval", 10)
    _pg.setdefault("keepalives_count", 3)
    _pg.setdefault("tcp_user_timeout", DATABASE_TCP_USER_TIMEOUT_MS)
    _server = [
        f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT_MS}",
        f"-c idle_in_transaction_session_timeout={DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS}",
    ]
    _pg["options"] = " ".join(filter(None, [_pg.get("options", ""), *_server]))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ModelBackend checks passwords; RoleBackend gives the back-office pages of the user's billing roles
# (masters/permissions.py: role -> admin permissions, no Django permission picked by hand).
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "masters.permissions.RoleBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Billing days (bill expiry at 23:59:59.999, financial years) are counted in this zone (reference §7.4.4 fixed).
BILLING_TIME_ZONE = env.str("BILLING_TIME_ZONE", default="Asia/Kolkata")

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
# WhiteNoise serves the admin's and Swagger UI's static files from gunicorn (no separate web server needed).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "billing_project.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["billing_project.api.parsers.DecimalJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "billing_project.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "billing_project.api.ordering.StrictOrderingFilter",
    ],
    "EXCEPTION_HANDLER": "billing_project.api.exceptions.rest_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "billing_project.api.schema.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ]

# /api/schema/ and /api/docs/ describe the code only (paths, fields, enums of fixed choices): no tenant data, no
# secrets. Public by default, as the reference's contracts are; API_DOCS_PUBLIC=false asks for a login or token.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=True)

SPECTACULAR_SETTINGS = {
    "TITLE": "Billing service API",
    "DESCRIPTION": "Demands, bills, payments and amendments. The DIGIT-compatible face lives under /billing-service/.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": [
        "rest_framework.permissions.AllowAny" if API_DOCS_PUBLIC else "rest_framework.permissions.IsAuthenticated"
    ],
    # Swagger UI assets are served from this service, not a CDN (works offline and under a strict CSP).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TaxHeadCategoryEnum": "masters.models.TaxHeadCategory",
        "PayerTypeEnum": "masters.models.PayerType",
        "RoleEnum": "masters.models.Role",
        "DemandStatusEnum": "demands.models.DemandStatus",
        "HistoryActionEnum": "demands.models.HistoryAction",
        "AmendmentStatusEnum": "amendments.models.AmendmentStatus",
        "AmendmentStateEnum": "amendments.models.AmendmentState",
        "AmendmentReasonEnum": "amendments.models.AmendmentReason",
        "BillStatusEnum": "bills.models.BillStatus",
        "BillingRunStatusEnum": "bills.models.RunStatus",
        "GatewayTransactionStatusEnum": "payments.gateway.models.TransactionStatus",
        "GatewayTransactionKindEnum": "payments.gateway.models.TransactionKind",
        "GatewayAttemptKindEnum": "payments.gateway.models.AttemptKind",
        "GatewayAttemptOutcomeEnum": "payments.gateway.models.AttemptOutcome",
        "GatewayRefundStatusEnum": "payments.gateway.models.RefundStatus",
        "GatewayDeclineTypeEnum": "payments.gateway.models.DeclineType",
        "GatewayAttentionReasonEnum": "payments.gateway.models.AttentionReason",
        "PaymentImportKindEnum": "payments.imports.models.ImportKind",
        "PaymentImportStatusEnum": "payments.imports.models.ImportStatus",
        "PaymentImportRowOutcomeEnum": "payments.imports.models.RowOutcome",
    },
}

# --- Celery ---------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
# With no broker the tasks run in-process, so the service works with no servers at all.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = CELERY_BROKER_URL or "memory://"
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Timeouts (docs/operations.md): a broker that is down or silent costs a publish at most about
# connect + socket timeout, never the TCP default of minutes. Jobs go through the outbox, which retries them, so
# a publish tries once more at most. Workers reconnect on their own (broker_connection_retry).
CELERY_BROKER_CONNECT_TIMEOUT = env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=1.0)
CELERY_BROKER_SOCKET_TIMEOUT = env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=2.0)
CELERY_BROKER_CONNECT_RETRIES = env.int("CELERY_BROKER_CONNECT_RETRIES", default=1)
CELERY_BROKER_CONNECTION_TIMEOUT = CELERY_BROKER_CONNECT_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": CELERY_BROKER_CONNECT_TIMEOUT,
    "socket_timeout": CELERY_BROKER_SOCKET_TIMEOUT,  # above the Redis transport's 1 s BRPOP wait
    "socket_keepalive": True,
    "max_retries": CELERY_BROKER_CONNECT_RETRIES,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": env.int("CELERY_TASK_PUBLISH_MAX_RETRIES", default=1),
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = CELERY_BROKER_CONNECT_TIMEOUT
CELERY_REDIS_SOCKET_TIMEOUT = CELERY_BROKER_SOCKET_TIMEOUT

# --- Billing behaviour (reference §10) ------------------------------------------------------
BILL_NUMBER_FORMAT = env.str("BILL_NUMBER_FORMAT", default="BILLNO-{module}-[SEQ_egbs_billnumber{tenantid}]")
TENANT_LEVEL_BILL_NUMBERING = env.bool("TENANT_LEVEL_BILL_NUMBERING", default=False)
RECEIPT_NUMBER_FORMAT = env.str(
    "RECEIPT_NUMBER_FORMAT", default="{module}/[city]/[fy:yyyy-yy]/[SEQ_egcl_receipt_{module}_[tenant_id]]"
)
# Amendments (reference §7.10): with the workflow off an amendment is ACTIVE and applied at creation, and
# /amendment/_update answers EG_BS_AMENDMENT_UPDATE_WF_ERROR. AMENDMENT_ID_FORMAT overrides the default id format.
AMENDMENT_WORKFLOW_ENABLED = env.bool("AMENDMENT_WORKFLOW_ENABLED", default=True)
AMENDMENT_ID_FORMAT = env.str("AMENDMENT_ID_FORMAT", default="NOTETYPE-CONSUMERCODE-[SEQ_BS_MUTATION_[tenant_id]]")
STATE_LEVEL_ROLE_EXCLUDED = env.list("STATE_LEVEL_ROLE_EXCLUDED", default=["BPAREG_DOC_VERIFIER", "BPAREG_APPROVER"])
DEMAND_REFRESH_TIMEOUT_SECONDS = env.float("DEMAND_REFRESH_TIMEOUT_SECONDS", default=10.0)
# How long an Idempotency-Key and its stored answer are kept (at least 24 hours).
IDEMPOTENCY_KEY_TTL_SECONDS = max(env.int("IDEMPOTENCY_KEY_TTL_SECONDS", default=86_400), 86_400)
# A key IN_PROGRESS is held this long by the request running it (far above the longest request; gunicorn kills
# a worker after 30 s); after it, a retry of a request that crashed runs again. At least a minute.
IDEMPOTENCY_LEASE_SECONDS = max(env.int("IDEMPOTENCY_LEASE_SECONDS", default=300), 60)

# /healthz answers within this many seconds, reporting a dependency that has not answered by then as down.
HEALTHZ_TIMEOUT_SECONDS = env.float("HEALTHZ_TIMEOUT_SECONDS", default=1.5)

# --- Outbox (billing_project/outbox; docs/operations.md) -------------------------------------
# A relay holds the messages it claimed this long; a relay that dies meanwhile leaves them due again after it.
# It must exceed OUTBOX_CLAIM_BATCH deliveries at a channel's longest timeout (the relay stops delivering from a
# batch 5 s before its lease ends and gives the rest back).
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=120)
OUTBOX_CLAIM_BATCH = env.int("OUTBOX_CLAIM_BATCH", default=10)
# One sweep (beat, every minute) delivers at most this many messages within about this many seconds.
OUTBOX_SWEEP_MAX_MESSAGES = env.int("OUTBOX_SWEEP_MAX_MESSAGES", default=1000)
OUTBOX_SWEEP_SECONDS = env.float("OUTBOX_SWEEP_SECONDS", default=45.0)
# Jobs (billing runs, payment imports) still waiting to start, or running without progress, this long are
# submitted again by their beat sweep (their task was lost); the tasks resume from their committed cursor.
JOB_RESUBMIT_AFTER_SECONDS = max(env.int("JOB_RESUBMIT_AFTER_SECONDS", default=300), 60)

# --- Payment gateway (payments.gateway; docs/payment-gateway.md) ----------------------------
# The adapter new online payments use, and the registry of adapters (name -> dotted path; adding a real gateway
# means one adapter class and one entry here).
# The sandbox gateway takes no money and its defaults are public: in production it is refused (not even
# registered, so no callback is verified with its secret) unless PAYMENT_GATEWAY_ALLOW_SANDBOX=true — a demo
# stack only, with its own secret and key. Production has no gateway by default (online payments off).
PAYMENT_GATEWAY_ALLOW_SANDBOX = env.bool("PAYMENT_GATEWAY_ALLOW_SANDBOX", default=not PRODUCTION)
PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="" if PRODUCTION else "sandbox")
PAYMENT_GATEWAY_ADAPTERS = (
    {"sandbox": "payments.gateway.adapters.sandbox.SandboxAdapter"} if PAYMENT_GATEWAY_ALLOW_SANDBOX else {}
)
PAYMENT_GATEWAY_URL = env.str("PAYMENT_GATEWAY_URL", default="http://127.0.0.1:8089")
SANDBOX_DEFAULT_KEY, SANDBOX_DEFAULT_SECRET = "sandbox-merchant-key", "sandbox-secret"
PAYMENT_GATEWAY_SANDBOX_KEY = env.str("PAYMENT_GATEWAY_SANDBOX_KEY", default="" if PRODUCTION else SANDBOX_DEFAULT_KEY)
PAYMENT_GATEWAY_SANDBOX_SECRET = env.str(
    "PAYMENT_GATEWAY_SANDBOX_SECRET", default="" if PRODUCTION else SANDBOX_DEFAULT_SECRET
)
if PRODUCTION:
    if PAYMENT_GATEWAY == "sandbox" and not PAYMENT_GATEWAY_ALLOW_SANDBOX:
        raise ImproperlyConfigured(
            "PAYMENT_GATEWAY=sandbox is refused when DJANGO_ENV=production "
            "(a demo stack may set PAYMENT_GATEWAY_ALLOW_SANDBOX=true)"
        )
    if PAYMENT_GATEWAY_ALLOW_SANDBOX:
        for name, value, known in (
            ("PAYMENT_GATEWAY_SANDBOX_SECRET", PAYMENT_GATEWAY_SANDBOX_SECRET, SANDBOX_DEFAULT_SECRET),
            ("PAYMENT_GATEWAY_SANDBOX_KEY", PAYMENT_GATEWAY_SANDBOX_KEY, SANDBOX_DEFAULT_KEY),
        ):
            if len(value.strip()) < 16 or value in (known, SANDBOX_DEFAULT_KEY, SANDBOX_DEFAULT_SECRET):
                raise ImproperlyConfigured(
                    f"{name} must be set to a private value of at least 16 characters (not the default) "
                    "when DJANGO_ENV=production"
                )
PAYMENT_GATEWAY_CONNECT_TIMEOUT = env.float("PAYMENT_GATEWAY_CONNECT_TIMEOUT", default=3.0)
PAYMENT_GATEWAY_READ_TIMEOUT = env.float("PAYMENT_GATEWAY_READ_TIMEOUT", default=10.0)
PAYMENT_GATEWAY_CURRENCY = env.str("PAYMENT_GATEWAY_CURRENCY", default="INR")
# Our public base URL: the gateway posts callbacks to <base>/api/v1/gateway/callbacks/<gateway>/.
PAYMENT_GATEWAY_CALLBACK_BASE_URL = env.str("PAYMENT_GATEWAY_CALLBACK_BASE_URL", default="http://127.0.0.1:8000")
PAYMENT_GATEWAY_CALLBACK_TOLERANCE_SECONDS = env.int("PAYMENT_GATEWAY_CALLBACK_TOLERANCE_SECONDS", default=300)
# The largest callback body accepted (bytes); a larger one is answered 413 and not stored.
PAYMENT_GATEWAY_CALLBACK_MAX_BYTES = env.int("PAYMENT_GATEWAY_CALLBACK_MAX_BYTES", default=65_536)
# Waits after each status poll, in seconds (the last repeats): 5 min, 15 min, 1 h, 6 h, then daily.
PAYMENT_GATEWAY_POLL_DELAYS = [
    int(d) for d in env.list("PAYMENT_GATEWAY_POLL_DELAYS", default=[300, 900, 3600, 21600, 86400])
]
PAYMENT_GATEWAY_MAX_POLLS = env.int("PAYMENT_GATEWAY_MAX_POLLS", default=10)
PAYMENT_GATEWAY_POLL_MAX_AGE_SECONDS = env.int("PAYMENT_GATEWAY_POLL_MAX_AGE_SECONDS", default=7 * 86_400)
# A hosted checkout the gateway still holds open this long after its creation was abandoned by the payer: the
# reconciler closes it as FAILURE "abandoned" (a real gateway expires unpaid checkouts; a later SUCCESS from the
# gateway is refused as CONFLICTING_FINAL_VERDICT and queued). Saved-card charges are never closed this way.
PAYMENT_GATEWAY_CHECKOUT_ABANDONED_AFTER_SECONDS = env.int(
    "PAYMENT_GATEWAY_CHECKOUT_ABANDONED_AFTER_SECONDS", default=PAYMENT_GATEWAY_POLL_MAX_AGE_SECONDS
)
# An INITIATED row older than this (its initiate call crashed or is lost) is looked up by merchant_reference;
# the gateway knowing nothing of it after this grace means it never reached the gateway (FAILURE).
PAYMENT_GATEWAY_INITIATED_GRACE_SECONDS = env.int("PAYMENT_GATEWAY_INITIATED_GRACE_SECONDS", default=900)
# Retries of a transient failure inside one call (initiate, charge, status, refund): calls in all, and the
# exponential, jittered delay between them (seconds).
PAYMENT_GATEWAY_CALL_ATTEMPTS = env.int("PAYMENT_GATEWAY_CALL_ATTEMPTS", default=3)
PAYMENT_GATEWAY_CALL_RETRY_BASE_SECONDS = env.float("PAYMENT_GATEWAY_CALL_RETRY_BASE_SECONDS", default=0.2)
PAYMENT_GATEWAY_CALL_RETRY_CAP_SECONDS = env.float("PAYMENT_GATEWAY_CALL_RETRY_CAP_SECONDS", default=2.0)
# After the in-call retries, a transient failure schedules the next try (poll) with this backoff; after
# PAYMENT_GATEWAY_TRANSIENT_LIMIT failures in a row the transaction also goes to the reconciliation queue.
PAYMENT_GATEWAY_TRANSIENT_BASE_SECONDS = env.float("PAYMENT_GATEWAY_TRANSIENT_BASE_SECONDS", default=60.0)
PAYMENT_GATEWAY_TRANSIENT_CAP_SECONDS = env.float("PAYMENT_GATEWAY_TRANSIENT_CAP_SECONDS", default=3600.0)
PAYMENT_GATEWAY_TRANSIENT_LIMIT = env.int("PAYMENT_GATEWAY_TRANSIENT_LIMIT", default=8)
PAYMENT_GATEWAY_RETRY_JITTER = env.float("PAYMENT_GATEWAY_RETRY_JITTER", default=0.5)
# The payer's return page polls the gateway once for an open transaction (not more than every 10 s).
PAYMENT_GATEWAY_RETURN_PAGE_POLL = env.bool("PAYMENT_GATEWAY_RETURN_PAGE_POLL", default=True)

# --- Autopay (payments.methods; docs/payment-methods.md) ------------------------------------
# Days to wait before each retry of a failed autopay charge: [3, 3, 3] = three retries, three days apart;
# after the last one the charge is given up (the mandate stays on for the next bills).
AUTOPAY_RETRY_DELAYS_DAYS = [int(d) for d in env.list("AUTOPAY_RETRY_DELAYS_DAYS", default=[3, 3, 3])]
# An autopay attempt that stored no gateway transaction after this long is treated as lost (retried at once).
AUTOPAY_LOST_ATTEMPT_SECONDS = env.int("AUTOPAY_LOST_ATTEMPT_SECONDS", default=900)

# --- Deployed inside DIGIT (docs/digit-deployment.md) -----------------------------------------
# egov-user: with a URL, a token that is not one of ours is validated by POST {url}/user/_details?access_token=…
# (as DIGIT's gateway does) and the user it answers is the caller; payers given by egov-user uuid are enriched
# from {url}/user/_search. Empty: DIGIT identity is off.
DIGIT_USER_SERVICE_URL = env.str("DIGIT_USER_SERVICE_URL", default="").rstrip("/")
# DIGIT mode: the defaults of a drop-in for DIGIT's billing-service (open quick-pay endpoints, payers by uuid).
DIGIT_MODE = env.bool("DIGIT_MODE", default=bool(DIGIT_USER_SERVICE_URL))
DIGIT_USER_SERVICE_CONNECT_TIMEOUT = env.float("DIGIT_USER_SERVICE_CONNECT_TIMEOUT", default=2.0)
# The whole call (connect, send, every chunk of the answer) must end within this many seconds.
DIGIT_USER_SERVICE_TIMEOUT = env.float("DIGIT_USER_SERVICE_TIMEOUT", default=5.0)
# How long a validated token's user is cached (Redis, keyed by a hash of the token); 0 turns the cache off.
DIGIT_USER_CACHE_SECONDS = env.int("DIGIT_USER_CACHE_SECONDS", default=60)
DIGIT_USER_CACHE_URL = env.str("DIGIT_USER_CACHE_URL", default=REDIS_URL)
# DIGIT role code -> our roles (JSON object of lists). Unset: the defaults of docs/digit-deployment.md.
_DIGIT_ROLE_MAP = env.str("DIGIT_ROLE_MAP", default="").strip()
DIGIT_ROLE_MAP = json.loads(_DIGIT_ROLE_MAP) if _DIGIT_ROLE_MAP else None
# The uuid of the installation's internal microservice user (egov-user answers it plain, unmasked details).
DIGIT_INTERNAL_MICROSERVICE_USER_UUID = env.str("DIGIT_INTERNAL_MICROSERVICE_USER_UUID", default="")
# Anonymous bill fetch/search by (tenant, business service, consumer code), as DIGIT's quick pay does.
DIGIT_OPEN_ENDPOINTS = env.bool("DIGIT_OPEN_ENDPOINTS", default=DIGIT_MODE)
# A demand's payer given as an egov-user uuid we do not know yet is accepted and stored under that uuid.
DIGIT_PAYERS_BY_UUID = env.bool("DIGIT_PAYERS_BY_UUID", default=DIGIT_MODE)
# The kernel's token authentication asks this callable about tokens that are not ours (dotted path).
EXTERNAL_TOKEN_AUTHENTICATOR = "masters.digit.identity.authenticate_token" if DIGIT_USER_SERVICE_URL else ""

# Caches: "digit_identity" holds validated DIGIT users (Redis when a URL is set, shared by every web node).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "digit_identity": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": DIGIT_USER_CACHE_URL,
            "KEY_PREFIX": "billing-digit-user",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if DIGIT_USER_CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "digit-identity"}
    ),
}

# Kafka (payments.digit_events): DIGIT collection-services' payment topics, consumed by `manage.py
# consume_digit_payments`. Empty bootstrap servers: Kafka is off.
DIGIT_KAFKA_BOOTSTRAP_SERVERS = env.str("DIGIT_KAFKA_BOOTSTRAP_SERVERS", default="")
DIGIT_KAFKA_TOPIC_PAYMENT_CREATE = env.str("DIGIT_KAFKA_TOPIC_PAYMENT_CREATE", default="egov.collection.payment-create")
DIGIT_KAFKA_TOPIC_PAYMENT_CANCEL = env.str("DIGIT_KAFKA_TOPIC_PAYMENT_CANCEL", default="egov.collection.payment-cancel")
DIGIT_KAFKA_TOPIC_BILL_CANCEL = env.str("DIGIT_KAFKA_TOPIC_BILL_CANCEL", default="bill-cancel-topic-name")
# A central instance prefixes topics with the state (`pb-egov.collection.payment-create`): list the states here.
DIGIT_KAFKA_STATE_PREFIXES = env.list("DIGIT_KAFKA_STATE_PREFIXES", default=[])
# Also consume the unprefixed topics (true unless every state writes to its own prefixed topics).
DIGIT_KAFKA_CONSUME_UNPREFIXED = env.bool("DIGIT_KAFKA_CONSUME_UNPREFIXED", default=True)
DIGIT_KAFKA_CONSUMER_GROUP = env.str("DIGIT_KAFKA_CONSUMER_GROUP", default="billing-payment-writeback")
# Extra librdkafka settings for the consumer (JSON object), e.g. security.protocol, sasl.*, session.timeout.ms.
DIGIT_KAFKA_CONSUMER_CONFIG = env.json("DIGIT_KAFKA_CONSUMER_CONFIG", default={})
# Publishing DIGIT's topics (payment-create/-cancel for payments this service takes, bill-cancel-topic-name) through
# the outbox's kafka channel; on when Kafka is configured. Central instance: topics prefixed with the state.
DIGIT_KAFKA_PUBLISH = env.bool("DIGIT_KAFKA_PUBLISH", default=bool(DIGIT_KAFKA_BOOTSTRAP_SERVERS))
DIGIT_KAFKA_CENTRAL_INSTANCE = env.bool("DIGIT_KAFKA_CENTRAL_INSTANCE", default=False)
# The outbox's kafka channel: broker, producer settings (JSON object), and how long one attempt waits.
OUTBOX_KAFKA_BOOTSTRAP_SERVERS = env.str("OUTBOX_KAFKA_BOOTSTRAP_SERVERS", default=DIGIT_KAFKA_BOOTSTRAP_SERVERS)
OUTBOX_KAFKA_CONFIG = env.json("OUTBOX_KAFKA_CONFIG", default={})
OUTBOX_KAFKA_TIMEOUT_SECONDS = env.float("OUTBOX_KAFKA_TIMEOUT_SECONDS", default=10.0)
# Signed webhooks to the subscribers of the admin's WebhookSubscription (events of payments and bills).
WEBHOOKS_ENABLED = env.bool("WEBHOOKS_ENABLED", default=False)
# The outbox's webhook and http channels: the most one attempt may take.
OUTBOX_HTTP_TIMEOUT_SECONDS = env.float("OUTBOX_HTTP_TIMEOUT_SECONDS", default=10.0)
# egov-workflow-v2: with a URL, amendment transitions are mirrored as process instances (/egov-wf/process/_transition).
DIGIT_WORKFLOW_URL = env.str("DIGIT_WORKFLOW_URL", default="").rstrip("/")

# --- Security (production) ------------------------------------------------------------------
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Logging: JSON lines with the request id ------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "billing_project.logging.RequestIdFilter"},
        "redact_secrets": {"()": "billing_project.logging.RedactSecretsFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id", "redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's default config gives "django" and "django.server" (runserver's request lines) handlers of
        # their own, so every line came out twice (plain and JSON); here they only propagate to the one handler.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.server": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.db.backends": {"level": "WARNING"},
    },
}
