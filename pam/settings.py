"""PAM settings: one file, everything read from the environment.

Two modes, chosen by what the environment provides (see docs/configuration.md):

- embedded (no DATABASE_URL): SQLite in `.data/`, the in-memory channel layer, Celery eager.
- served (DATABASE_URL, REDIS_URL): PostgreSQL, channels-redis, Redis cache and Celery broker.

`PAM_ENV=production` refuses to start without a real SECRET_KEY or with DEBUG on. Nothing in
`apps/` reads settings at import time.
"""

import hashlib
import hmac
import ipaddress
import secrets
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

import environ
import redis.exceptions
import structlog
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Real environment variables always win over the file: `make run` writes a dev SECRET_KEY into
# `.env`; a deployment passes its own environment. ENV_FILE lets tests point elsewhere.
ENV_FILE = Path(env.str("ENV_FILE", default=str(BASE_DIR / ".env")))
if ENV_FILE.is_file():
    environ.Env.read_env(str(ENV_FILE), overwrite=False)

# ------------------------------------------------------------------------------
# Core
# ------------------------------------------------------------------------------
PAM_ENV = env.str("PAM_ENV", default="dev")
if PAM_ENV not in ("dev", "production"):
    raise ImproperlyConfigured(f"PAM_ENV must be 'dev' or 'production', not {PAM_ENV!r}.")
PRODUCTION = PAM_ENV == "production"

DEBUG = env.bool("DEBUG", default=not PRODUCTION)
SECRET_KEY = env.str("SECRET_KEY", default="")

if PRODUCTION:
    if len(SECRET_KEY) < 32 or SECRET_KEY.startswith("django-insecure"):
        raise ImproperlyConfigured(
            "PAM_ENV=production needs a real SECRET_KEY (at least 32 random characters) in the "
            "environment. Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    if DEBUG:
        raise ImproperlyConfigured("PAM_ENV=production refuses to start with DEBUG on: unset DEBUG or set DEBUG=false.")
elif not SECRET_KEY:
    # A dev process without `.env` still runs; its sessions just don't outlive it.
    SECRET_KEY = secrets.token_urlsafe(50)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

ROOT_URLCONF = "pam.urls"
WSGI_APPLICATION = None  # served through pam.asgi (HTTP on thread pools, WebSockets on the loop)
# Threads per server process for the APIs (integrators', players', the health checks; pam/asgi.py),
# and for everything else served on threads (pages, the back office, the API docs, metrics): two
# pools, so a slow page never holds a bet. Each thread holds at most one pooled DB connection.
# Two API threads keep a process's core busy (a bet waits on PostgreSQL about half its time; with
# one, a quarter fewer bets); every thread more only queues for the interpreter's lock, which the
# event loop needs too for each answer and each socket frame it sends (docs/configuration.md).
HTTP_THREADS = env.int("HTTP_THREADS", default=2)
PAGE_THREADS = env.int("PAGE_THREADS", default=2)
ASGI_APPLICATION = "pam.asgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# ------------------------------------------------------------------------------
# Applications
# ------------------------------------------------------------------------------
INSTALLED_APPS = [
    # daphne's runserver serves ASGI (and so WebSockets) in `make run`.
    "daphne",
    # Django's admin, whose default site is the back office's (apps/backoffice/sites.py).
    "apps.backoffice.admin_config.BackOfficeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "apps.common",
    "apps.accounts",
    # Staff two-factor sign-in (docs/backoffice.md): authenticator apps (TOTP) and recovery codes.
    # After accounts, whose admin registers the devices first (read-only, no secrets shown).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "apps.wallet",
    "apps.games",
    "apps.studio",
    "apps.payments",
    "apps.bonuses",
    "apps.sportsbook",
    "apps.compliance",
    "apps.realtime",
    "apps.backoffice",
]

MIDDLEWARE = [
    # First, so that a request's time and status are the whole stack's (docs/metrics.md).
    "apps.common.middleware.RequestMetricsMiddleware",
    "apps.common.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Django's session, CSRF, authentication and message middleware, skipped on the signed
    # integrator APIs (/api/wallet/), which are authenticated by signature and carry no cookies.
    "apps.common.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "apps.common.middleware.CsrfViewMiddleware",
    "apps.common.middleware.AuthenticationMiddleware",
    # `request.user.is_verified()`: whether this session signed in with a one-time code.
    "django_otp.middleware.OTPMiddleware",
    "apps.common.middleware.MessageMiddleware",
    # Staff sessions end after STAFF_SESSION_IDLE_SECONDS without a back-office request.
    "apps.accounts.middleware.StaffIdleMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The login throttle's refusal as 429 with Retry-After, on any login page.
    "apps.accounts.middleware.LoginThrottleMiddleware",
    # The site's long-lived device cookie (`pam_device`), before the view: a login records it.
    "apps.accounts.device.DeviceCookieMiddleware",
]
# Every middleware above is async-capable, so under ASGI a request crosses into a thread once,
# for the view, instead of at each sync-only middleware (measured: a sync one in the chain cost
# more than the whole bet). Keep it so: check `async_capable` before adding one.

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
                # The player site's header: the live balance, read only when a page shows it.
                "apps.realtime.context_processors.site_wallet",
            ],
        },
    },
]

# ------------------------------------------------------------------------------
# Database
# ------------------------------------------------------------------------------
DATA_DIR = Path(env.str("PAM_DATA_DIR", default=str(BASE_DIR / ".data")))
EMBEDDED = not env.str("DATABASE_URL", default="")

if EMBEDDED:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "pam.sqlite3",
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of one
                # failing with "database is locked" half-way through a money transaction.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
else:
    DATABASES = {"default": env.db("DATABASE_URL")}
    # Under ASGI every request runs its sync code in a thread of its own, so Django's persistent
    # connections (CONN_MAX_AGE) would open a connection per request and leave it idle. A psycopg
    # pool per process hands connections over instead (Django 5.1+; CONN_MAX_AGE must be 0).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    PREPARE_THRESHOLD = env.str("DB_PREPARE_THRESHOLD", default="5")
    DATABASES["default"]["OPTIONS"] = {
        "pool": {
            "min_size": env.int("DB_POOL_MIN", default=2),
            "max_size": env.int("DB_POOL_MAX", default=8),
            "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
        },
        # Only the statements of apps.common.db.prepared_cursor() are ever prepared (Django's
        # own cursors bind on the client); empty disables it (a transaction-mode pooler).
        "prepare_threshold": int(PREPARE_THRESHOLD) if PREPARE_THRESHOLD else None,
    }
    # PostgreSQL's JIT compiles a statement whose estimate passes jit_above_cost: a limited
    # player's usage read with a long history in its windows was estimated over it and spent
    # hundreds of milliseconds compiling for a few of running (docs/configuration.md). Empty:
    # no startup options (a pooler that refuses them; set `jit = off` on the role instead).
    DB_SESSION_OPTIONS = env.str("DB_SESSION_OPTIONS", default="-c jit=off")
    if DB_SESSION_OPTIONS:
        DATABASES["default"]["OPTIONS"]["options"] = DB_SESSION_OPTIONS
# Services open their own transactions (durable ones for money): see ARCHITECTURE.md.
DATABASES["default"]["ATOMIC_REQUESTS"] = False

# ------------------------------------------------------------------------------
# Redis: channel layer, cache, Celery broker
# ------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")

# Seconds between two heartbeats on a player socket; each one also re-joins the socket's groups,
# so live frames resume after a Redis that lost them comes back. The contract allows at most 25.
REALTIME_HEARTBEAT_SECONDS = env.float("REALTIME_HEARTBEAT_SECONDS", default=20.0)
if not 0 < REALTIME_HEARTBEAT_SECONDS <= 25:
    raise ImproperlyConfigured("REALTIME_HEARTBEAT_SECONDS must be above 0 and at most 25 (contracts/realtime.md).")

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # Timeouts set deliberately (redis-py 8 defaults both to 5 s): a Redis that does not
                # answer a connection fails a push in 2 s instead of hanging it. The read timeout
                # must stay above channels-redis's 5 s blocking BZPOPMIN, or every idle receive
                # loop times out (measured: a TimeoutError each 5 s with redis-py's default of 5).
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_connect_timeout": 2,
                        "socket_timeout": 10,
                        "socket_keepalive": True,
                        # redis-py's own default, written down: past it a command fails at once
                        # (the consumers bound their group calls below it, consumers.py).
                        "max_connections": 100,
                        # A pooled connection made before Redis restarted is dead; redis-py's async
                        # default is no retry, so its first command failed (a frame lost seconds
                        # after Redis was back). One retry on a fresh connection; a frame sent twice
                        # is harmless (clients drop versions they hold).
                        "retry_on_error": [redis.exceptions.ConnectionError],
                    }
                ],
                # The default of 100 drops bursts silently (measured: ARCHITECTURE.md).
                "capacity": env.int("CHANNEL_LAYER_CAPACITY", default=5000),
                "expiry": 60,
                "prefix": env.str("CHANNEL_LAYER_PREFIX", default="pam"),
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="pam"),
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True

CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE

# The reports (docs/reports.md): yesterday's final figures just after midnight UTC, today's so far
# every REPORTS_REFRESH_MINUTES. `make worker` runs the beat beside a worker.
REPORTS_REFRESH_MINUTES = env.int("REPORTS_REFRESH_MINUTES", default=15)
if REPORTS_REFRESH_MINUTES < 1:
    raise ImproperlyConfigured("REPORTS_REFRESH_MINUTES must be at least 1.")
CELERY_BEAT_SCHEDULE = {
    "reports-yesterday": {
        "task": "backoffice.run_reports",
        "schedule": crontab(minute=10, hour=0),
        "kwargs": {"days_ago": 1},
    },
    "reports-today": {
        "task": "backoffice.run_reports",
        "schedule": REPORTS_REFRESH_MINUTES * 60.0,
        "kwargs": {"days_ago": 0},
    },
}

# ------------------------------------------------------------------------------
# Authentication and passwords
# ------------------------------------------------------------------------------
# ModelBackend behind the login throttle (apps/accounts/throttling.py).
AUTHENTICATION_BACKENDS = ["apps.accounts.backends.ThrottledModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# The brand whose players sign up at the site's /register/ (`?brand=` picks another).
SITE_BRAND = env.str("SITE_BRAND", default="demo")

# Login throttling (apps/accounts/throttling.py, docs/configuration.md), in the cache: by the
# (username, address) pair, with growing waits, and a far higher ceiling per address.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_DELAY_SECONDS = env.int("LOGIN_DELAY_SECONDS", default=30)
LOGIN_MAX_DELAY_SECONDS = env.int("LOGIN_MAX_DELAY_SECONDS", default=15 * 60)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=60 * 60)
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=100)
LOGIN_ADDRESS_WINDOW_SECONDS = env.int("LOGIN_ADDRESS_WINDOW_SECONDS", default=10 * 60)
if "LOGIN_COOLOFF_MINUTES" in env.ENVIRON:
    raise ImproperlyConfigured(
        "LOGIN_COOLOFF_MINUTES is gone: logins wait LOGIN_DELAY_SECONDS after LOGIN_FAILURE_LIMIT "
        "failures, doubling up to LOGIN_MAX_DELAY_SECONDS (docs/configuration.md). Unset it."
    )
if min(LOGIN_FAILURE_LIMIT, LOGIN_DELAY_SECONDS, LOGIN_ADDRESS_FAILURE_LIMIT, LOGIN_ADDRESS_WINDOW_SECONDS) < 1:
    raise ImproperlyConfigured("The LOGIN_* limits, delays and windows must be at least 1.")
if not LOGIN_DELAY_SECONDS <= LOGIN_MAX_DELAY_SECONDS <= LOGIN_FAILURE_WINDOW_SECONDS:
    # Failures forgotten before the wait they caused is over would let the pair start afresh.
    raise ImproperlyConfigured(
        "Login throttle: LOGIN_DELAY_SECONDS <= LOGIN_MAX_DELAY_SECONDS <= LOGIN_FAILURE_WINDOW_SECONDS."
    )
# The proxies whose X-Forwarded-For is believed (IPs or CIDR networks, comma-separated); empty:
# none, the peer's address is the client's. Only list proxies that overwrite or append to it.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_proxy!r} is not an IP address or network.") from None

# Staff sign-in (docs/backoffice.md, docs/configuration.md). Required: every back-office page
# refuses a session that did not sign in with a one-time code, and staff without an enrolled
# authenticator cannot sign in. Not required: only staff who have one are asked for a code.
STAFF_2FA_REQUIRED = env.bool("STAFF_2FA_REQUIRED", default=PRODUCTION)
# A staff session ends after this long without a back-office request; the activity stamp is
# written at most once a minute, so it must leave room for that.
STAFF_SESSION_IDLE_SECONDS = env.int("STAFF_SESSION_IDLE_SECONDS", default=30 * 60)
if STAFF_SESSION_IDLE_SECONDS < 120:
    raise ImproperlyConfigured(
        "STAFF_SESSION_IDLE_SECONDS must be at least 120 (the activity stamp moves once a minute)."
    )
# The name authenticator apps show beside the staff member's username.
OTP_TOTP_ISSUER = env.str("STAFF_OTP_ISSUER", default="PAM back office")

# The key of the identity hashes (a login's device, the marks compliance matches players by:
# apps/common/identity.py). Keep it stable: a new key makes every stored hash unmatched, so it is
# its own setting rather than SECRET_KEY, which is rotated. Empty: SECRET_KEY.
IDENTITY_HASH_KEY = env.str("IDENTITY_HASH_KEY", default="") or SECRET_KEY
# How long the site's device cookie (`pam_device`) lives, in days.
DEVICE_COOKIE_DAYS = env.int("DEVICE_COOKIE_DAYS", default=730)

# ------------------------------------------------------------------------------
# PAM's own game studio (apps/studio, docs/studio.md)
# ------------------------------------------------------------------------------
# The studio is a provider of the seamless wallet API like any other: these are its credentials
# (registered as a games provider at migrate) and the wallet it calls, this server's own unless the
# studio runs elsewhere. The secret defaults to one derived from SECRET_KEY.
STUDIO_PROVIDER_CODE = env.str("STUDIO_PROVIDER_CODE", default="pam-studio")
STUDIO_PROVIDER_SECRET = (
    env.str("STUDIO_PROVIDER_SECRET", default="")
    or hmac.new(SECRET_KEY.encode(), b"pam-studio provider secret", hashlib.sha256).hexdigest()
)
STUDIO_WALLET_URL = env.str("STUDIO_WALLET_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}")

# The crash room's timing (docs/crash-room.md): the betting window, the pause after a crash, the
# tick of the multiplier frames (ms), and the growth per ms of the multiplier (a decimal string; a
# benchmark runs it 1000x faster, with a 0 ms window and pause).
STUDIO_CRASH_BETTING_MS = env.int("STUDIO_CRASH_BETTING_MS", default=5000)
STUDIO_CRASH_PAUSE_MS = env.int("STUDIO_CRASH_PAUSE_MS", default=3000)
STUDIO_CRASH_TICK_MS = env.int("STUDIO_CRASH_TICK_MS", default=100)
STUDIO_CRASH_GROWTH = env.str("STUDIO_CRASH_GROWTH", default="0.00006")
# Rounds per hash chain (a new chain, with a new commitment, follows when one is used up), and the
# runner's leadership lease in Redis: a dead leader is replaced within about this long.
STUDIO_CRASH_CHAIN_LENGTH = env.int("STUDIO_CRASH_CHAIN_LENGTH", default=1_000_000)
STUDIO_CRASH_LEASE_MS = env.int("STUDIO_CRASH_LEASE_MS", default=3000)
try:
    if Decimal(STUDIO_CRASH_GROWTH) <= 0:
        raise InvalidOperation
except InvalidOperation:
    raise ImproperlyConfigured("STUDIO_CRASH_GROWTH must be a positive decimal, e.g. 0.00006.") from None
if min(STUDIO_CRASH_BETTING_MS, STUDIO_CRASH_PAUSE_MS) < 0 or STUDIO_CRASH_TICK_MS < 1:
    raise ImproperlyConfigured("STUDIO_CRASH_BETTING_MS and _PAUSE_MS must be >= 0, STUDIO_CRASH_TICK_MS >= 1.")
if STUDIO_CRASH_CHAIN_LENGTH < 1 or STUDIO_CRASH_LEASE_MS < 3 * STUDIO_CRASH_TICK_MS:
    raise ImproperlyConfigured("STUDIO_CRASH_CHAIN_LENGTH must be >= 1 and STUDIO_CRASH_LEASE_MS >= 3 ticks.")

# Player API bearer tokens.
AUTH_TOKEN_TTL = timedelta(days=env.int("AUTH_TOKEN_TTL_DAYS", default=30))

# ------------------------------------------------------------------------------
# Sportsbook: the odds feeds' watchdog and the odds socket (docs/sportsbook.md)
# ------------------------------------------------------------------------------
# A feed silent this long (no price, heartbeat or message) is stale: PAM suspends its in-play
# markets itself and serves its other prices as cached (`delayed`). The contract's default is 10.
SPORTSBOOK_STALE_AFTER_SECONDS = env.float("SPORTSBOOK_STALE_AFTER_SECONDS", default=10.0)
# How often the watchdog looks: a stale feed's markets are suspended within this of the limit
# (the contract asks for 1 s). One indexed query on the feeds' table per look.
SPORTSBOOK_WATCHDOG_TICK_SECONDS = env.float("SPORTSBOOK_WATCHDOG_TICK_SECONDS", default=0.25)
if SPORTSBOOK_STALE_AFTER_SECONDS <= 0 or not 0 < SPORTSBOOK_WATCHDOG_TICK_SECONDS <= 0.5:
    raise ImproperlyConfigured(
        "SPORTSBOOK_STALE_AFTER_SECONDS must be above 0 and SPORTSBOOK_WATCHDOG_TICK_SECONDS above 0 and at most 0.5."
    )
# The circuit breakers' automatic triggers (docs/sportsbook.md, "Circuit breakers"); 0 turns one
# off. cached_prices: this many feeds stale at once (one quiet feed is its own problem, and the
# watchdog flags its prices; several at once point at PAM's side). pre_match_only and
# suspend_in_play: more than this many in-play markets suspended by the watchdog within the window.
SPORTSBOOK_BREAKER_STALE_FEEDS = env.int("SPORTSBOOK_BREAKER_STALE_FEEDS", default=2)
SPORTSBOOK_BREAKER_WINDOW_SECONDS = env.float("SPORTSBOOK_BREAKER_WINDOW_SECONDS", default=60.0)
SPORTSBOOK_BREAKER_PRE_MATCH_SUSPENSIONS = env.int("SPORTSBOOK_BREAKER_PRE_MATCH_SUSPENSIONS", default=10)
SPORTSBOOK_BREAKER_IN_PLAY_SUSPENSIONS = env.int("SPORTSBOOK_BREAKER_IN_PLAY_SUSPENSIONS", default=50)
# pre_match_only also trips when the liability throttle holds more than this many in-play markets
# that it suspended within the window: in-play liability racing up on several markets at once is
# the mark of bettors who see the match before the feed does.
SPORTSBOOK_BREAKER_THROTTLED_MARKETS = env.int("SPORTSBOOK_BREAKER_THROTTLED_MARKETS", default=3)
if min(SPORTSBOOK_BREAKER_STALE_FEEDS, SPORTSBOOK_BREAKER_PRE_MATCH_SUSPENSIONS,
       SPORTSBOOK_BREAKER_IN_PLAY_SUSPENSIONS, SPORTSBOOK_BREAKER_THROTTLED_MARKETS) < 0 \
        or SPORTSBOOK_BREAKER_WINDOW_SECONDS <= 0:  # fmt: skip
    raise ImproperlyConfigured("The SPORTSBOOK_BREAKER_* thresholds must be 0 or more, the window above 0.")
# Whether each server process runs the sub-second ticks (apps.common.sweeps: the watchdog) itself.
# Embedded `make run` has no outbox sweeper, so its server does; `make serve` leaves them to the
# sweeper process, one for the whole deployment's feeds rather than one per server process.
RUN_TICKS_IN_SERVER = env.bool("RUN_TICKS_IN_SERVER", default=EMBEDDED)
# A feed with no process behind it whose heartbeat the ticks send themselves, every half of the
# staleness limit: `make run` names its demo feed here, so the demo's live event is not suspended
# by the watchdog for want of a feed process. Empty (the default): none; never set it for a feed
# that really sends, whose own messages would then be skipped as resends (docs/sportsbook.md).
SPORTSBOOK_DEMO_FEED = env.str("SPORTSBOOK_DEMO_FEED", default="")
# The events one odds socket may follow (`/ws/odds/`), in one subscribe and in all.
ODDS_SOCKET_MAX_EVENTS = env.int("ODDS_SOCKET_MAX_EVENTS", default=100)

# ------------------------------------------------------------------------------
# Security
# ------------------------------------------------------------------------------
SECURE_COOKIES = env.bool("SECURE_COOKIES", default=PRODUCTION)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None

# Who may read /metrics (docs/metrics.md): IP addresses or CIDR networks, comma-separated, matched
# against the client's address as the login throttle sees it (TRUSTED_PROXIES); anyone else gets
# the 404 of an unknown page. Empty: nobody.
METRICS_ALLOWED_ADDRESSES = env.list("METRICS_ALLOWED_ADDRESSES", default=["127.0.0.1", "::1"])
for _allowed in METRICS_ALLOWED_ADDRESSES:
    try:
        ipaddress.ip_network(_allowed, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED_ADDRESSES: {_allowed!r} is not an IP address or network."
        ) from None

# ------------------------------------------------------------------------------
# Payments: the sandbox PSP (apps/payments/adapters/sandbox.py)
# ------------------------------------------------------------------------------
# Its hosted page takes test cards that credit real ledger money: off in production unless asked.
PSP_SANDBOX_ENABLED = env.bool("PSP_SANDBOX_ENABLED", default=not PRODUCTION)
# Where the sandbox sends its webhooks (`{provider}` is replaced by the provider's code); empty:
# the server that served the hosted page, or PSP_SANDBOX_PAM_BASE_URL for payouts.
PSP_SANDBOX_WEBHOOK_URL = env.str("PSP_SANDBOX_WEBHOOK_URL", default="")
PSP_SANDBOX_PAM_BASE_URL = (
    env.str("PSP_SANDBOX_PAM_BASE_URL", default="") or f"http://127.0.0.1:{env.int('PORT', default=8000)}"
)
# Where the hosted page sends the player back to: the site's cashier page.
PSP_SANDBOX_RETURN_URL = env.str("PSP_SANDBOX_RETURN_URL", default="") or "/cashier/?deposit={deposit_id}"
PSP_SANDBOX_AUTOPAY = env.bool("PSP_SANDBOX_AUTOPAY", default=True)
PSP_SANDBOX_LATE_SECONDS = env.float("PSP_SANDBOX_LATE_SECONDS", default=5.0)
PSP_SANDBOX_RETRY_BASE_SECONDS = env.float("PSP_SANDBOX_RETRY_BASE_SECONDS", default=1.0)
PSP_SANDBOX_MAX_ATTEMPTS = env.int("PSP_SANDBOX_MAX_ATTEMPTS", default=8)

# ------------------------------------------------------------------------------
# Back-office actions: balance adjustments' four eyes, KYC documents
# ------------------------------------------------------------------------------
# An adjustment whose size (either sign) reaches its currency's threshold, in minor units, waits
# for a second staff member's approval; below it, it posts at once. A currency not listed has no
# threshold of its own: every adjustment in it needs four eyes.
ADJUSTMENT_FOUR_EYES_THRESHOLDS = {
    code: int(minor)
    for code, minor in env.dict("ADJUSTMENT_FOUR_EYES_THRESHOLDS", default={"EUR": "10000", "USD": "10000",
                                                                          "GBP": "10000"}).items()
}  # fmt: skip
# The largest KYC document accepted (a scan or photo of an ID, a utility bill).
KYC_DOCUMENT_MAX_BYTES = env.int("KYC_DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)

# ------------------------------------------------------------------------------
# Static files
# ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

# ------------------------------------------------------------------------------
# Sportsbook: bet intake's limits
# ------------------------------------------------------------------------------
# In whole units of the bet's currency (times 10^exponent: EUR cents, JPY yen), the defaults of
# every target; a selection, market or event can have its own cap in the back office
# (Sportsbook, Exposure). `selection`, `market`, `event`, `platform`: the most the standing bets
# on one may cost the book (payouts minus stakes); `bet_liability`: the most one bet may cost it,
# times the player's stake factor; `max_payout`: the largest potential payout of one bet.
SPORTSBOOK_LIMITS = {
    name: env.int(f"SPORTSBOOK_{name.upper()}_LIMIT", default=default)
    for name, default in {
        "selection": 50_000, "market": 100_000, "event": 250_000, "platform": 10_000_000,
        "bet_liability": 25_000, "max_payout": 250_000,
    }.items()
}  # fmt: skip
# The most bets one pass of the release sweep decides (the sweeper's next pass does the rest).
SPORTSBOOK_RELEASE_BATCH = env.int("SPORTSBOOK_RELEASE_BATCH", default=200)
# Whether each process releases its own pending bets at their `release_at` (a timer thread,
# apps/sportsbook/timer.py); the sweep stays as the safety net either way.
SPORTSBOOK_RELEASE_TIMER = env.bool("SPORTSBOOK_RELEASE_TIMER", default=True)
# The liability throttle (docs/sportsbook.md, "Liability throttle"): a market whose exposure grows
# by more than its limit within `window_s` seconds is suspended. The limit is the lower of
# `limit` (whole units of the bet's currency; 0: not used) and `cap_share` of the market's cap
# (its own, else SPORTSBOOK_LIMITS["market"]; 0: not used); both 0 turn the throttle off.
SPORTSBOOK_THROTTLE = {
    "window_s": env.float("SPORTSBOOK_THROTTLE_WINDOW_SECONDS", default=60.0),
    "limit": env.int("SPORTSBOOK_THROTTLE_LIMIT", default=0),
    "cap_share": env.str("SPORTSBOOK_THROTTLE_CAP_SHARE", default="0.25"),
}
try:
    _share = Decimal(SPORTSBOOK_THROTTLE["cap_share"])
except InvalidOperation:
    _share = Decimal(-1)
if SPORTSBOOK_THROTTLE["window_s"] <= 0 or SPORTSBOOK_THROTTLE["limit"] < 0 or not 0 <= _share <= 1:
    raise ImproperlyConfigured(
        "SPORTSBOOK_THROTTLE_WINDOW_SECONDS must be above 0, SPORTSBOOK_THROTTLE_LIMIT 0 or more and "
        "SPORTSBOOK_THROTTLE_CAP_SHARE a decimal from 0 to 1."
    )
# Settlement (apps/sportsbook/settlement.py): after a feed batch with results commits, its markets
# go to SPORTSBOOK_SETTLEMENT_WORKERS background threads of the process (off: settled in the
# committing thread, as the tests do); each claims SPORTSBOOK_SETTLEMENT_BATCH bets at a time. The
# sweep tick settles what they left, every SPORTSBOOK_SETTLEMENT_TICK_SECONDS.
SPORTSBOOK_SETTLE_IN_BACKGROUND = env.bool("SPORTSBOOK_SETTLE_IN_BACKGROUND", default=True)
SPORTSBOOK_SETTLEMENT_WORKERS = env.int("SPORTSBOOK_SETTLEMENT_WORKERS", default=2)
SPORTSBOOK_SETTLEMENT_BATCH = env.int("SPORTSBOOK_SETTLEMENT_BATCH", default=500)
SPORTSBOOK_SETTLEMENT_TICK_SECONDS = env.float("SPORTSBOOK_SETTLEMENT_TICK_SECONDS", default=1.0)
if SPORTSBOOK_SETTLEMENT_WORKERS < 1 or SPORTSBOOK_SETTLEMENT_BATCH < 1 or SPORTSBOOK_SETTLEMENT_TICK_SECONDS <= 0:
    raise ImproperlyConfigured("The SPORTSBOOK_SETTLEMENT_* settings must be above 0.")

# Uploaded files (compliance cases' attachments): through Django's storage, under the data
# directory unless set. They are evidence staff read in the back office, never served by URL:
# no MEDIA_URL route exists, the admin streams each one to staff who may read cases.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "media")))

# ------------------------------------------------------------------------------
# REST framework and OpenAPI
# ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "apps.common.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "apps.common.schema.PamAutoSchema",
    "DEFAULT_THROTTLE_RATES": {"registration": env.str("REGISTRATION_RATE", default="30/hour")},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PAM API",
    "DESCRIPTION": (
        "Player Account Management: the player API (session or `Authorization: Bearer <token>`) "
        'and the integrator APIs. Errors are always `{"error": {"code", "message"}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Served from our own static files: the docs work offline and load nothing from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# ------------------------------------------------------------------------------
# Logging: structured JSON, one line per event, with the request id bound per request
# ------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
_shared_processors = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processors": [
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
            "foreign_pre_chain": _shared_processors,
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
    },
}
structlog.configure(
    processors=[*_shared_processors, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)
