"""The minimal Django project the bench serves django-oauth-toolkit (DOT) from.

Django's and DOT's defaults throughout (password hashers, so DOT hashes client secrets with
Django's default PBKDF2; the middleware of `startproject` minus admin and messages), except:

- DEBUG off, the loopback host only, SQLite in the file `DOT_BENCH_DB` with
  `transaction_mode = "IMMEDIATE"` (see DATABASES);
- the `introspection` scope beside DOT's default `read` and `write`, as DOT's docs ask for a
  client that introspects (a client authenticated by HTTP Basic does not need it);
- `ROTATE_REFRESH_TOKEN = False` when `DOT_BENCH_ROTATE_REFRESH_TOKEN=0` (the dot-unhashed
  server only: a refresh token that stays valid, so wrk can replay one);
- request errors (5xx) logged to stderr, which Django does only under DEBUG.
"""

import os

SECRET_KEY = os.environ["DOT_BENCH_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "benchsite.urls"
WSGI_APPLICATION = "benchsite.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["DOT_BENCH_DB"],
        # Django's advice against "database is locked": a transaction takes the write lock
        # when it begins (then waits for it), instead of failing at once when it upgrades a
        # read lock while the other worker writes (DOT's refresh grant did, ~10 % of them).
        "OPTIONS": {"transaction_mode": "IMMEDIATE"},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

OAUTH2_PROVIDER = {
    "SCOPES": {
        "read": "Reading scope",
        "write": "Writing scope",
        "introspection": "Introspect tokens",
    },
}
if os.environ.get("DOT_BENCH_ROTATE_REFRESH_TOKEN") == "0":
    OAUTH2_PROVIDER["ROTATE_REFRESH_TOKEN"] = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR"}},
}
