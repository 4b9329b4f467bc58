"""Flowbench settings, read from the environment with safe local defaults.

A fresh checkout runs on a SQLite file in `data/`, the in-memory channel layer and a thread-pool
executor. DATABASE_URL, REDIS_URL and FLOWBENCH_EXECUTOR=celery switch to the distributed mode.
"""

import json
import os
import tempfile
from datetime import timedelta
from pathlib import Path

from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from flowbench.env import (
    env_bool, env_int, env_list, env_secret, env_str, parse_database_url, parse_redis_url, private_dir,
    private_file,
)

BASE_DIR = Path(__file__).resolve().parent.parent
# The database (sessions included), the secret key and the rest of the data folder are the server's
# alone: 0700, and the SQLite files 0600, so no other user (a plain-sandbox worker) can read them.
DATA_DIR = private_dir(Path(env_str("FLOWBENCH_DATA_DIR", str(BASE_DIR / "data"))).resolve())

SECRET_KEY = env_secret("FLOWBENCH_SECRET_KEY", DATA_DIR / "secret_key")
DEBUG = env_bool("FLOWBENCH_DEBUG", False)
ALLOWED_HOSTS = env_list("FLOWBENCH_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("FLOWBENCH_CSRF_TRUSTED_ORIGINS", [])
# Where the one-time sign-in link printed by `manage.py prepare` points.
FLOWBENCH_BASE_URL = env_str("FLOWBENCH_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Serve /static/ from the ASGI app itself (local mode, no collectstatic step).
FLOWBENCH_SERVE_STATIC = env_bool("FLOWBENCH_SERVE_STATIC", True)
# The seed's three apps (editor/samples/apps) are loaded for the administrator by the first
# `manage.py prepare` unless this is off; anyone can still load them from the Samples page.
FLOWBENCH_SAMPLE_APPS = env_bool("FLOWBENCH_SAMPLE_APPS", True)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "csp",
    "axes",
    "health_check",
    "editor",
]

MIDDLEWARE = [
    # First: AWS API requests (signed, or shaped like one) are answered here, with AWS's errors,
    # before sessions, CSRF and the sign-in redirect; everything else goes on to the studio.
    "editor.aws.middleware.AwsApiMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "editor.middleware.LoginRequiredEverywhere",
    # Last, as django-axes asks: it turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "flowbench.urls"
ASGI_APPLICATION = "flowbench.asgi.application"
WSGI_APPLICATION = None

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

_database_url = env_str("DATABASE_URL")
if _database_url:
    # PostgreSQL connections per process (a pool shared by its threads).
    FLOWBENCH_DB_POOL = env_int("FLOWBENCH_DB_POOL", 16, minimum=2, maximum=500)
    DATABASES = {"default": parse_database_url("DATABASE_URL", _database_url, FLOWBENCH_DB_POOL)}
else:
    DATABASES = {
        "default": {
            # Django's SQLite backend, its writers taking turns without sleeping (flowbench/sqlite).
            "ENGINE": "flowbench.sqlite",
            "NAME": DATA_DIR / "flowbench.sqlite3",
            # Invocations finish on worker threads while pages read: wait for the lock.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
            # Tests use a file too (not shared-cache memory, where threads refuse each other),
            # in the temporary folder rather than among the user's data.
            "TEST": {"NAME": str(Path(tempfile.gettempdir()) / f"flowbench-test-{os.getpid()}.sqlite3")},
        }
    }

_redis_url = env_str("REDIS_URL")
if _redis_url:
    # A consumer waits for its next message with a blocking pop of 5 s (channels-redis'
    # brpop_timeout); redis-py's own socket timeout (5 s by default since redis-py 8) must be
    # longer, or an idle page's socket fails (1011) every few seconds. Keepalive still finds a
    # dead connection.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": parse_redis_url("REDIS_URL", _redis_url), "socket_timeout": 30,
                                  "socket_keepalive": True}]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

if DATABASES["default"]["ENGINE"] == "flowbench.sqlite":
    private_file(Path(DATABASES["default"]["NAME"]))

FLOWBENCH_EXECUTOR = env_str("FLOWBENCH_EXECUTOR", "threads")
if FLOWBENCH_EXECUTOR not in {"threads", "celery"}:
    raise ImproperlyConfigured(f"FLOWBENCH_EXECUTOR must be 'threads' or 'celery', not {FLOWBENCH_EXECUTOR!r}")
if FLOWBENCH_EXECUTOR == "celery" and not _redis_url:
    raise ImproperlyConfigured("FLOWBENCH_EXECUTOR=celery needs REDIS_URL for the broker")
FLOWBENCH_REDIS_URL = _redis_url
CELERY_BROKER_URL = _redis_url or "memory://"
# Kombu's Redis transport, repaired for a job acknowledged across a Redis restart (flowbench.broker).
CELERY_BROKER_TRANSPORT = "flowbench.broker:Transport" if _redis_url else None
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = FLOWBENCH_EXECUTOR != "celery"
# A worker takes one job per free thread: queued executions stay in Redis, where any worker
# (a new one too) can take them, instead of waiting in one worker's memory.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Schedules (editor.services.schedule_firing): in the distributed mode Celery beat
# (`celery -A flowbench beat`, one process for the cluster) sends `flowbench.fire_schedules` every
# FLOWBENCH_SCHEDULE_TICK_SECONDS; each tick fires once whoever runs the job, so a second beat
# costs only queries. Embedded, the process's lease keeper calls the same function as often.
FLOWBENCH_SCHEDULE_TICK_SECONDS = env_int("FLOWBENCH_SCHEDULE_TICK_SECONDS", 1, minimum=1, maximum=60)
# A tick found overdue by more than this was missed while Flowbench was down: skipped, not replayed.
FLOWBENCH_SCHEDULE_LATE_SECONDS = env_int("FLOWBENCH_SCHEDULE_LATE_SECONDS", 60, minimum=5, maximum=86400)
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "fire-schedules": {"task": "flowbench.fire_schedules", "schedule": float(FLOWBENCH_SCHEDULE_TICK_SECONDS),
                       # a job older than a tick is superseded by the next one
                       "options": {"expires": float(FLOWBENCH_SCHEDULE_TICK_SECONDS) * 5}},
}
# A worker's lease on an execution it runs (seconds): a worker that dies (SIGKILL, machine gone)
# has its executions resumed by another this long after its last renewal, and a top-level Wait
# at least this long gives its thread back until it is due.
FLOWBENCH_LEASE_SECONDS = env_int("FLOWBENCH_LEASE_SECONDS", 30, minimum=2, maximum=3600)
FLOWBENCH_THREADS = env_int("FLOWBENCH_THREADS", 8, minimum=1, maximum=256)
# Asynchronous (Event) invocations (editor.services.event_queue): a function's error or timeout is
# retried after this many seconds, then twice as many (Lambda's one and two minutes), within the
# function's MaximumRetryAttempts and MaximumEventAgeInSeconds; a throttled event waits
# FLOWBENCH_EVENT_THROTTLE_SECONDS before it is tried again (later, half its age, at most 5 min).
FLOWBENCH_EVENT_RETRY_SECONDS = env_int("FLOWBENCH_EVENT_RETRY_SECONDS", 60, minimum=1, maximum=3600)
FLOWBENCH_EVENT_THROTTLE_SECONDS = env_int("FLOWBENCH_EVENT_THROTTLE_SECONDS", 1, minimum=1, maximum=300)
# Executions running at once in the web process (the embedded executor's thread pool).
FLOWBENCH_EXECUTION_THREADS = env_int("FLOWBENCH_EXECUTION_THREADS", 32, minimum=1, maximum=1024)
# Helper threads for Map iterations and Parallel branches, per execution and per user in one
# process, whatever the definitions ask: work beyond them waits for a thread, it never fails.
FLOWBENCH_THREADS_PER_EXECUTION = env_int("FLOWBENCH_THREADS_PER_EXECUTION", 40, minimum=0, maximum=1000)
FLOWBENCH_THREADS_PER_USER = env_int("FLOWBENCH_THREADS_PER_USER", 200, minimum=0, maximum=10000)
# On SIGTERM, how long a Task whose function is running may take to answer before its execution
# is handed back anyway (the next start retries it as after a crash).
FLOWBENCH_STOP_GRACE_SECONDS = env_int("FLOWBENCH_STOP_GRACE_SECONDS", 10, minimum=0, maximum=900)
# Lambda's limits, counted across every process (editor.services.concurrency): invocations one
# account (a person) runs at once, as AWS's default concurrency of 1,000 a Region.
FLOWBENCH_ACCOUNT_CONCURRENCY = env_int("FLOWBENCH_ACCOUNT_CONCURRENCY", 1000, minimum=1, maximum=1_000_000)
# What one process runs at once (each invocation is a process): its capacity, not a limit of the
# account. Invocations beyond it wait for a place; they never fail for it.
FLOWBENCH_FUNCTIONS_PER_PROCESS = env_int("FLOWBENCH_FUNCTIONS_PER_PROCESS", 64, minimum=1, maximum=10_000)
# Standby workers kept ready per shape of function (runtime, memory, /tmp, network) by every
# process that runs functions, so a cold start takes one instead of starting a sandbox
# (runtime/functions/standby.py); 0 keeps none.
FLOWBENCH_STANDBY_WORKERS = env_int("FLOWBENCH_STANDBY_WORKERS", 1, minimum=0, maximum=16)
# Execution pages one user may hold open at once in one web process: each socket's catch-up
# (up to every event of the execution, some 5 MB for 24,000 events) waits in the process's send
# buffers until its client reads (bench/socket_memory.py measures it).
FLOWBENCH_EXECUTION_SOCKETS_PER_USER = env_int("FLOWBENCH_EXECUTION_SOCKETS_PER_USER", 10, minimum=1, maximum=10000)
# Each person is an AWS account of their own (editor.services.accounts); the first administrator's
# account id is this one, so the ARNs an install showed before accounts were per person stay theirs.
# Every ARN names FLOWBENCH_REGION.
FLOWBENCH_ACCOUNT_ID = env_str("FLOWBENCH_ACCOUNT_ID", "123456789012")
if not (FLOWBENCH_ACCOUNT_ID.isdigit() and len(FLOWBENCH_ACCOUNT_ID) == 12):
    raise ImproperlyConfigured(
        f"FLOWBENCH_ACCOUNT_ID must be 12 digits, as an AWS account id is, not {FLOWBENCH_ACCOUNT_ID!r}")
FLOWBENCH_REGION = env_str("FLOWBENCH_REGION", "us-east-1")
# The sandbox functions run in. bubblewrap, or nothing runs (each Test, Invoke and Task says how to
# install it); plain is the administrator's explicit choice of far weaker isolation, said at start and
# on every function page.
FLOWBENCH_SANDBOX = env_str("FLOWBENCH_SANDBOX", "bubblewrap")
if FLOWBENCH_SANDBOX not in {"bubblewrap", "plain"}:
    raise ImproperlyConfigured(f"FLOWBENCH_SANDBOX must be 'bubblewrap' or 'plain', not {FLOWBENCH_SANDBOX!r}")
# Where the AWS SDKs given to functions (boto3) are installed once, by `manage.py prepare`, from the
# pinned recipe in runtime/functions/sdk/; kept outside the data folder so that installs share it.
FLOWBENCH_SDK_CACHE = env_str("FLOWBENCH_SDK_CACHE", str(BASE_DIR / ".cache" / "sdk"))

# Functions' installed dependencies (requirements.txt, package.json), one folder per content hash,
# and how long one install may take (seconds). Workers run under uids of their own and mount their
# package from there, so it must be reachable by them: not inside the data folder (0700) but, as
# the runner's work folders, in the temporary folder by default (a cache: lost at reboot, remade).
FLOWBENCH_PACKAGES_DIR = Path(env_str(
    "FLOWBENCH_PACKAGES_DIR", os.path.join(tempfile.gettempdir(), f"flowbench-packages-{os.geteuid()}"))).resolve()
FLOWBENCH_INSTALL_TIMEOUT = env_int("FLOWBENCH_INSTALL_TIMEOUT", 300, minimum=1, maximum=3600)

# Buckets (S3's API). Objects' bytes are kept by a Django storage: "filesystem" (default: files under
# the data folder's objects/), "database" (chunks in the database: every process of the distributed
# mode reaches it with no other service) or the dotted path of a Storage class (its options from
# FLOWBENCH_OBJECT_STORAGE_OPTIONS, a JSON object). The largest object (multipart uploads included;
# S3's own limit is 5 TB) and the largest body one request may carry (a PutObject, an UploadPart;
# S3's is 5 GB, read in full before it is stored, so kept smaller here) in bytes.
FLOWBENCH_OBJECT_STORAGE = env_str("FLOWBENCH_OBJECT_STORAGE", "filesystem")
if FLOWBENCH_OBJECT_STORAGE not in {"filesystem", "database"} and "." not in FLOWBENCH_OBJECT_STORAGE:
    raise ImproperlyConfigured(f"FLOWBENCH_OBJECT_STORAGE must be 'filesystem', 'database' or the dotted path of a "
                               f"Storage class, not {FLOWBENCH_OBJECT_STORAGE!r}")
FLOWBENCH_OBJECT_STORAGE_OPTIONS = env_str("FLOWBENCH_OBJECT_STORAGE_OPTIONS", "{}")
try:
    if not isinstance(json.loads(FLOWBENCH_OBJECT_STORAGE_OPTIONS), dict):
        raise ValueError
except ValueError:
    raise ImproperlyConfigured(f"FLOWBENCH_OBJECT_STORAGE_OPTIONS must be a JSON object, not "
                               f"{FLOWBENCH_OBJECT_STORAGE_OPTIONS[:80]!r}") from None
FLOWBENCH_OBJECT_MAX_BYTES = env_int("FLOWBENCH_OBJECT_MAX_BYTES", 5 * 1024 ** 3, minimum=1)
FLOWBENCH_OBJECT_MAX_REQUEST_BYTES = env_int("FLOWBENCH_OBJECT_MAX_REQUEST_BYTES", 256 * 1024 ** 2, minimum=1024,
                                             maximum=5 * 1024 ** 3)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "function-list"
LOGOUT_REDIRECT_URL = "login"
# Password sign-in is throttled by django-axes: after FLOWBENCH_SIGNIN_FAILURES failed attempts
# for one username from one address, that pair is refused (even with the right password) for
# FLOWBENCH_SIGNIN_COOLOFF_MINUTES. One-time sign-in links do not go through it.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("FLOWBENCH_SIGNIN_FAILURES", 5, minimum=1, maximum=1000)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("FLOWBENCH_SIGNIN_COOLOFF_MINUTES", 15, minimum=1, maximum=7 * 24 * 60))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "editor.views.signin_locked"
AXES_VERBOSE = False
# Lifetime of the one-time sign-in link printed by `prepare`.
FLOWBENCH_SIGNIN_LINK_SECONDS = env_int("FLOWBENCH_SIGNIN_LINK_SECONDS", 24 * 3600, minimum=60)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "editor.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Content-Security-Policy (django-csp) on every page: scripts, styles and connections from this
# origin only ('self' covers ws:/wss: to it), no inline script, no inline style but the <style>
# elements CodeMirror writes with the page's nonce (the pages set styles through the CSSOM and
# constructed style sheets), WebAssembly compiled by the vendored Graphviz
# ('wasm-unsafe-eval'), images drawn from blob:/data: URLs (PNG export), no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, "'wasm-unsafe-eval'"],
        "style-src": [SELF, NONCE],
        "connect-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# The Invoke API takes up to 6 MB of payload, as Lambda's synchronous Invoke does; the request
# body may be a little larger so the 413 comes from our own check with its error shape.
DATA_UPLOAD_MAX_MEMORY_SIZE = 7 * 1024 * 1024

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("FLOWBENCH_LOG_LEVEL", "WARNING")},
    # What an operator wants to read: a worker's start, takeovers of a dead worker's executions,
    # executions resumed or handed back at a restart.
    "loggers": {name: {"level": env_str("FLOWBENCH_LOG_LEVEL", "INFO")} for name in ("flowbench", "editor")},
}
